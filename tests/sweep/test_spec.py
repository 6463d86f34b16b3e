"""Sweep specs: every key checked, each mistake one sentence that names the key."""

from __future__ import annotations

import pytest

from saddlepoint.cli import main
from saddlepoint.errors import SaddlepointError
from saddlepoint.sweep.cells import expand
from saddlepoint.sweep.spec import load_spec, parse_seeds


def test_defaults_and_paths_relative_to_the_spec_root(tmp_path, write_spec):
    (tmp_path / "pyproject.toml").write_text("")  # tmp_path is the project root
    spec = load_spec(write_spec(extra='docs = "docs/x.md"'))
    assert spec.root == tmp_path.resolve()
    assert spec.results == tmp_path.resolve() / "runs/sweeps/t/results.jsonl"
    assert spec.out == tmp_path.resolve() / "runs/sweeps/t"
    assert spec.docs == tmp_path.resolve() / "docs/x.md"
    assert spec.seeds == (0, 1) and spec.metrics == ("modes",)


def test_without_a_project_paths_are_relative_to_the_spec_folder(tmp_path, write_spec):
    spec = load_spec(write_spec(extra='results = "r.jsonl"'))
    if spec.root == (tmp_path / "specs").resolve():  # no pyproject.toml or .git above /tmp
        assert spec.results == spec.root / "r.jsonl"


@pytest.mark.parametrize(
    "text, seeds",
    [
        ("0-4", (0, 1, 2, 3, 4)),
        ("0,2,5", (0, 2, 5)),
        ([3, 1], (3, 1)),
        (7, (7,)),
        ("1-2,5", (1, 2, 5)),
    ],
)
def test_seed_forms(text, seeds):
    assert parse_seeds(text, "seeds") == seeds


@pytest.mark.parametrize("text", ["4-0", "a", [], [0, 0], [-1], "0-", True])
def test_bad_seeds(text):
    with pytest.raises(SaddlepointError, match="seeds"):
        parse_seeds(text, "seeds")


BAD = [
    (dict(extra="seed = [0]"), "unknown key 'seed'.*did you mean 'seeds'"),
    (dict(extra="workers = 2"), "unknown key 'workers'"),
    (dict(runs='[[runs]]\npreset = ["demo"]\n'), r"runs\[0\]: unknown key 'preset'.*'presets'"),
    (dict(runs='[[runs]]\npresets = ["dmeo"]\n'), r"runs\[0\].presets: unknown preset 'dmeo'"),
    (dict(metrics='["mode"]'), "unknown metric 'mode'.*did you mean 'modes'"),
    (dict(sets=("train.kk=2",)), "unknown setting 'train.kk'"),
    (dict(sets=("train.k=0",)), "train.k .*must be >= 1"),
    (dict(sets=("train.k",)), "not key=value"),
    (dict(sets=("train.seed=3",)), "train.seed.*seeds"),
    (dict(sets=("objective.name=nope",)), "unknown objective 'nope'"),
    (
        dict(runs='[[runs]]\npresets = ["demo"]\n[runs.axes]\n"optim_d.lrr" = [1e-4]\n'),
        r"runs\[0\] \(demo optim_d.lrr=0.0001\): unknown setting 'optim_d.lrr'",
    ),
    (dict(runs='[[runs]]\npresets = ["demo"]\n[runs.axes]\n"train.k" = []\n'), "non-empty list"),
    (dict(metrics='["health"]'), "health metric scores images.*ring8"),
    (dict(runs='[[runs]]\npresets = ["demo"]\n[[runs]]\npresets = ["demo"]\n'), "repeats the runs"),
    (dict(name="a b"), "name 'a b'"),
    (dict(runs=""), "runs is missing"),
    (dict(seeds='"x"'), "seeds must be"),
]


@pytest.mark.parametrize("kwargs, message", BAD)
def test_mistakes_are_one_sentence_naming_the_key(kwargs, message, write_spec):
    path = write_spec(**kwargs)
    with pytest.raises(SaddlepointError, match=message) as caught:
        expand(load_spec(path))
    text = str(caught.value)
    assert text.startswith("sweep.toml") and "\n" not in text and text.endswith((".", "?"))


def test_command_line_exits_2_with_one_line(write_spec, capsys):
    assert main(["sweep", str(write_spec(extra="seed = 1")), "--dry-run"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("saddlepoint: error: sweep.toml: unknown key 'seed'")
    assert len(err.splitlines()) == 1


def test_unreadable_specs(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "none.toml"), "--dry-run"]) == 2
    assert "no sweep spec at" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    assert main(["sweep", str(bad), "--dry-run"]) == 2
    assert "is not valid TOML" in capsys.readouterr().err
