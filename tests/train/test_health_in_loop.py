"""The loop's diagnostics: logged health scalars, warnings, TensorBoard files, and a NaN stop
that keeps the last good checkpoint."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
import torch
from tiny import tiny_config

from saddlepoint.checkpoint import load_training_state
from saddlepoint.errors import SaddlepointError
from saddlepoint.objectives import OBJECTIVES
from saddlepoint.train.diagnostics import HealthWarning
from saddlepoint.train.loop import train
from saddlepoint.train.run import read_log


def test_health_scalars_are_logged_in_range(tmp_path):
    run = train(tiny_config("train.iterations=10"), out=tmp_path, progress=False)
    log = read_log(run.path)
    assert [r["iteration"] for r in log] == [5, 10]
    for r in log:
        for key in ("d_acc_real", "d_acc_fake", "d_real", "d_fake"):
            assert 0.0 <= r[key] <= 1.0
        assert r["grad_norm_d"] > 0 and r["grad_norm_g"] > 0
        assert 0.0 < r["diversity_ratio"] < 3.0
        # D(x) is sigmoid of the mean-logged real score's elements: same side of 1/2
        assert (r["d_real"] - 0.5) * r["real_score"] >= -1e-3
    assert list((run.path / "tensorboard").glob("events.out.tfevents.*"))


def test_critic_objectives_log_no_probabilities(tmp_path):
    run = train(
        tiny_config("objective.name=hinge", "train.iterations=5"), out=tmp_path, progress=False
    )
    (record,) = read_log(run.path)
    assert "d_real" not in record and "d_acc_real" not in record
    assert math.isfinite(record["real_score"]) and math.isfinite(record["fake_score"])


def test_warnings_are_written_once_to_warnings_jsonl(tmp_path, monkeypatch):
    from saddlepoint.train import diagnostics

    def always(self, record, *, objective):
        if "said" in self.__dict__:
            return []
        self.__dict__["said"] = True
        return [HealthWarning("mode_collapse", record["iteration"], "diversity collapsed")]

    monkeypatch.setattr(diagnostics.HealthMonitor, "check", always)
    run = train(tiny_config("train.iterations=10"), out=tmp_path, progress=False)
    lines = (run.path / "warnings.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["code"] == "mode_collapse"


def test_a_nan_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    ns = OBJECTIVES.get("non_saturating")
    calls = {"n": 0}

    def poisoned(*, fake_logits):
        calls["n"] += 1
        loss = ns.generator_loss(fake_logits=fake_logits)
        return loss * float("nan") if calls["n"] > 6 else loss  # G's step 7 goes NaN

    monkeypatch.setitem(
        OBJECTIVES._entries, "non_saturating", dataclasses.replace(ns, generator_loss=poisoned)
    )
    cfg = tiny_config("train.iterations=12", "train.checkpoint_every=4", "train.log_every=100")
    with pytest.raises(SaddlepointError, match="training diverged at iteration 8"):
        train(cfg, out=tmp_path, progress=False)
    (run_dir,) = tmp_path.iterdir()
    state = load_training_state(run_dir / "checkpoint.pt")
    assert state["iteration"] == 4  # the one written before the NaN, not overwritten
    for tensor in state["generator"].values():
        assert torch.isfinite(tensor).all()


def test_periodic_evaluation_keeps_the_best_generator(tmp_path):
    from saddlepoint.evaluate.parzen import select_sigma
    from saddlepoint.train.evaluation import read_best
    from saddlepoint.train.run import load

    cfg = tiny_config(
        "train.iterations=12", "train.eval_every=4", "train.eval_samples=200", "train.log_every=4"
    )
    run = train(cfg, out=tmp_path, progress=False)
    evals = [r for r in read_log(run.path) if "eval_parzen" in r]
    assert [r["iteration"] for r in evals] == [4, 8, 12]
    best = read_best(run.path)
    top = max(evals, key=lambda r: r["eval_parzen"])
    assert best["iteration"] == top["iteration"] and best["value"] == top["eval_parzen"]
    # the kept snapshot is that generator: re-scoring it gives the logged value again
    kept = load(run.path / "best.safetensors")
    assert kept.iteration == best["iteration"]
    from saddlepoint.data import load_dataset

    valid = load_dataset(run.config.data, "valid").x.flatten(1)[:1000]
    g = torch.Generator().manual_seed(run.config.train.seed + 3)
    again = select_sigma(kept.generator.sample(200, g).flatten(1), valid)
    assert abs(max(again.valid_ll) - best["value"]) < 1e-3
