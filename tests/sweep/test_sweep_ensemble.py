"""`saddlepoint sweep --ensemble`: which cells train together (consecutive seeds of a row, not
the finished ones, not what cannot run as an ensemble), and end to end that an ensemble's members
are scored as their separate runs are, and fail together."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from saddlepoint.cli import main
from saddlepoint.sweep.cells import expand
from saddlepoint.sweep.ensembles import ALONE, RESUMES, plan, why_separate
from saddlepoint.sweep.results import append_row, read_rows
from saddlepoint.sweep.spec import load_spec
from saddlepoint.sweep.worker import _fail_together, score_run

TWO_ROWS = '[[runs]]\npresets = ["demo"]\n[runs.axes]\n"optim_d.lr" = [1e-3, 2e-3]\n'


def _paths(tmp_path: Path) -> str:
    return f'results = "{tmp_path / "results.jsonl"}"\nout = "{tmp_path / "cells"}"\n'


def _seeds(batches) -> list[tuple[float, tuple[int, ...], str | None]]:
    """(the row's D learning rate, the batch's seeds, why alone) of each batch."""
    return [
        (b.first.group.config.optim_d.lr, tuple(c.seed for c in b.cells), b.reason) for b in batches
    ]


def test_consecutive_seeds_of_a_row_train_together(write_spec, tmp_path):
    spec = load_spec(write_spec(seeds='"0-2,5-6,9"', runs=TWO_ROWS, extra=_paths(tmp_path)))
    cells = expand(spec)
    batches = plan(cells, spec.metrics, spec.out)
    assert _seeds(batches) == [
        (1e-3, (0, 1, 2), None),
        (1e-3, (5, 6), None),
        (1e-3, (9,), ALONE),
        (2e-3, (0, 1, 2), None),
        (2e-3, (5, 6), None),
        (2e-3, (9,), ALONE),
    ]
    names = [b.name for b in batches]
    assert len(set(names)) == 6 and names[0].startswith("ensemble-demo-s0-2-")
    assert names[2] == batches[2].first.key  # a cell alone trains in its own folder
    assert names == [b.name for b in plan(expand(spec), spec.metrics, spec.out)]  # stable
    argv = batches[0].train_argv(tmp_path)
    assert "train.seed=0" in argv and "train.ensemble=3" in argv
    assert "train.ensemble=3" not in batches[2].train_argv(tmp_path)
    limited = plan(cells[:6], spec.metrics, spec.out, most=2)
    assert _seeds(limited) == [
        (1e-3, (0, 1), None),
        (1e-3, (2,), ALONE),
        (1e-3, (5, 6), None),
        (1e-3, (9,), ALONE),
    ]


def test_finished_cells_are_skipped_and_the_rest_batched_again(write_spec, tmp_path, capsys):
    spec_path = write_spec(seeds='"0-5"', metrics="[]", extra=_paths(tmp_path))
    spec = load_spec(spec_path)
    cells = expand(spec)
    append_row(spec.results, {"key": cells[0].key, "status": "ok"})
    append_row(spec.results, {"key": cells[3].key, "status": "failed"})
    own = spec.out / cells[5].key / "00001-demo-ring8-non_saturating"
    own.mkdir(parents=True)
    (own / "checkpoint.pt").write_bytes(b"")  # a cell stopped part-way resumes its own run
    assert main(["sweep", str(spec_path), "--dry-run", "--ensemble"]) == 0
    out = capsys.readouterr().out
    assert "--ensemble: 3 worker processes: 2 cells in 1 ensemble, 2 alone" in out
    assert "  ensemble  ensemble-demo-s1-2-" in out and "demo seeds 1-2" in out
    assert f"alone     {cells[4].key}  demo seed=4: {ALONE}" in out  # seed 3 failed: not again
    assert f"alone     {cells[5].key}  demo seed=5: {RESUMES}" in out
    assert main(["sweep", str(spec_path), "--dry-run", "--ensemble", "--retry-failed"]) == 0
    assert "demo seeds 1-4" in capsys.readouterr().out  # the failed seed joins its neighbours
    assert main(["sweep", str(spec_path), "--print-commands", "--ensemble", "--force"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and "--set train.seed=0 --set train.ensemble=6" in lines[0]
    assert "/ensemble-demo-s0-5-" in lines[0]


@pytest.mark.parametrize(
    "sets, metrics, reason",
    [
        ((), (), None),
        (("objective.name=began",), (), "training refuses an ensemble of these runs: BEGAN's k_t"),
        (("objective.name=ebgan", "model.discriminator=mlp_autoencoder"), (), "pulling-away"),
        (("train.compile=true",), (), "torch.compile"),
        (("train.eval_every=50",), ("parzen",), "train.eval_every evaluates"),
        ((), ("modes", "health", "parzen"), None),
        ((), ("modes", "critic_correlation"), "the critic_correlation metric reads more"),
    ],
)
def test_why_separate(write_spec, sets, metrics, reason):
    (cell,) = expand(load_spec(write_spec(seeds="[0]", metrics="[]", sets=sets)))
    why = why_separate(cell.group, metrics)
    if reason is None:
        assert why is None, why
    else:
        assert why is not None and reason in why, why


def _weights(run: Path) -> dict[str, torch.Tensor]:
    with safe_open(run / "generator.safetensors", framework="pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}


def test_an_ensemble_sweep_scores_each_seed_as_its_separate_run(write_spec, tmp_path, capsys):
    spec_path = write_spec(seeds='"0-2"', sets=("train.iterations=20",), extra=_paths(tmp_path))
    assert main(["sweep", str(spec_path), "--ensemble", "--workers", "2"]) == 0
    assert "(1 ensemble, 1 process) to run on 1 worker" in capsys.readouterr().err
    rows = read_rows(tmp_path / "results.jsonl")
    cells = expand(load_spec(spec_path))
    assert [r["key"] for r in rows] == [c.key for c in cells]
    for cell, row in zip(cells, rows):
        assert row["status"] == "ok" and row["ensemble"] == 3 and row["seed"] == cell.seed
        assert row["iterations"] == 20 and row["cpu_seconds"] == rows[0]["cpu_seconds"] > 0
        member = Path(row["run"])
        assert member.parent == tmp_path / "cells" / cell.key
        # the separate run of this seed, trained and scored as a sweep's worker does
        alone = tmp_path / "alone" / cell.key
        assert main([*cell.train_argv(alone), "--quiet"]) == 0
        (run,) = alone.iterdir()
        assert (member / "config.json").read_text() == (run / "config.json").read_text()
        ours, theirs = _weights(member), _weights(run)
        assert ours.keys() == theirs.keys()
        for key in ours:
            torch.testing.assert_close(ours[key], theirs[key], atol=1e-4, rtol=0, msg=key)
        separate = score_run(run, ["modes"], "cpu")["metrics"]["modes"]
        assert row["metrics"]["modes"] == pytest.approx(separate, abs=1e-4)
        attempt = json.loads((tmp_path / "cells" / cell.key / "attempts.jsonl").read_text())
        assert attempt["ensemble"] == 3 and Path(attempt["folder"]).name.startswith("ensemble-")
    assert main(["sweep", str(spec_path), "--ensemble"]) == 0  # all done: nothing trains
    assert len(read_rows(tmp_path / "results.jsonl")) == 3


def test_a_failing_ensemble_fails_every_cell_in_it(write_spec, tmp_path, capsys):
    spec_path = write_spec(
        metrics="[]",
        sets=("data.name=mnist", f"data.root={tmp_path / 'no-mnist'}"),
        extra=_paths(tmp_path),
    )
    assert main(["sweep", str(spec_path), "--ensemble"]) == 0
    rows = read_rows(tmp_path / "results.jsonl")
    assert [r["seed"] for r in rows] == [0, 1]
    for row in rows:
        assert row["status"] == "failed" and row["ensemble"] == 2 and "no-mnist" in row["reason"]
        assert "the ensemble of seeds 0-1 fails as one" in row["reason"]
        assert "--retry-failed` without --ensemble" in row["reason"] and "\n" not in row["reason"]


def test_a_diverged_ensemble_marks_every_cell_diverged(tmp_path):
    dirs = [tmp_path / "a", tmp_path / "b"]
    for d in dirs:
        d.mkdir()
    reason = "training diverged at iteration 3 (a loss or a weight is not finite): lower the rates."
    _fail_together([{"dir": str(d)} for d in dirs], reason, "the ensemble of seeds 0-1 fails")
    for d in dirs:
        result = json.loads((d / "result.json").read_text())
        assert result["status"] == "diverged"
        assert result["reason"] == reason.rstrip(".") + "; the ensemble of seeds 0-1 fails."


def test_ensemble_max_needs_ensemble_and_two_seeds(write_spec, capsys):
    spec_path = write_spec()
    assert main(["sweep", str(spec_path), "--dry-run", "--ensemble-max", "4"]) == 2
    assert main(["sweep", str(spec_path), "--dry-run", "--ensemble", "--ensemble-max", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("--ensemble-max" in line for line in err)
