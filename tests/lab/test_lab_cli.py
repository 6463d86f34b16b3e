"""The lab registry and `saddlepoint lab`."""

from __future__ import annotations

import json

from saddlepoint.cli import main
from saddlepoint.lab import LABS

ALL_LABS = [
    "ab-game",
    "generator-costs",
    "jsd",
    "lambda-divergence",
    "mode-collapse",
    "optimal-discriminator",
]


def test_registry_holds_every_lab():
    assert list(LABS) == ALL_LABS
    for name, lab in LABS.items():
        assert lab.name == name and lab.description and callable(lab.run)


def test_lab_without_a_name_lists_them(capsys):
    assert main(["lab"]) == 0
    listed = capsys.readouterr().out
    assert main(["lab", "--list"]) == 0
    assert capsys.readouterr().out == listed
    assert [line.split()[0] for line in listed.splitlines()] == ALL_LABS


def test_unknown_lab_is_one_line_with_a_suggestion(capsys):
    assert main(["lab", "jds"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("saddlepoint: error: unknown lab 'jds'") and "'jsd'" in err
    assert len(err.strip().splitlines()) == 1


def test_lab_runs_into_out(tmp_path, capsys):
    out = tmp_path / "costs"
    assert main(["lab", "generator-costs", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out / 'generator-costs.json'}" in printed
    assert "maximum_likelihood" in printed
    numbers = json.loads((out / "generator-costs.json").read_text())
    assert set(numbers["costs"]) == {"minimax", "non_saturating", "maximum_likelihood"}


def test_unwritable_out_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["lab", "ab-game", "--out", str(blocker / "sub")]) == 2
    assert capsys.readouterr().err.startswith("saddlepoint: error: could not create the lab folder")


def test_default_out_is_runs_lab_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["lab", "generator-costs"]) == 0
    assert (tmp_path / "runs" / "lab" / "generator-costs" / "generator-costs.json").exists()
