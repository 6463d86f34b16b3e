"""`saddlepoint eval` of an ensemble run: every member scored, each member's value equal to the
plain eval of that member's generator exported alone as a snapshot file, and their mean and
sample sd equal to numpy's; `--member I` scores one; mistakes are one sentence."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from tiny import tiny_argv

from saddlepoint.checkpoint import load_training_state
from saddlepoint.cli import main
from saddlepoint.evaluate import classifier as classifier_module
from saddlepoint.evaluate.classifier import ClassifierRecipe
from saddlepoint.evaluate.members import member_scores

MEMBERS = 3
PARZEN = ["--samples", "100", "--valid", "50", "--test", "100"]


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory):
    """A tiny 3-member ensemble run (seeds 4-6, EMA kept) and each member's generator exported
    alone as a snapshot file, straight from the checkpoint's tensors."""
    root = tmp_path_factory.mktemp("ensemble-eval")
    argv = tiny_argv("train.iterations=3", "train.grid_size=4", "train.ema_beta=0.9")
    assert main(["train", "--quiet", "--out", str(root / "runs"), "--seeds", "4-6", *argv]) == 0
    (run,) = (root / "runs").iterdir()
    with safe_open(run / "generator.safetensors", framework="pt") as f:
        metadata, snapshot = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}
    ema = load_training_state(run / "checkpoint.pt")["generator_ema"]
    exported = []
    for i in range(MEMBERS):
        prefix = f"members.{i}."
        mine = {k[len(prefix) :]: v.contiguous() for k, v in ema.items() if k.startswith(prefix)}
        if i == 0:  # the run's own snapshot is member 0's sampling generator
            assert mine.keys() == snapshot.keys()
            assert all(torch.equal(mine[k], snapshot[k]) for k in mine)
        save_file(mine, str(root / f"member{i}.safetensors"), metadata=metadata)
        exported.append(root / f"member{i}.safetensors")
    return run, exported


def _json(path) -> dict:
    return json.loads(path.read_text())


def _check_summary(saved: dict, alone: list[float]) -> None:
    """One row per member, each equal to its generator scored alone; numpy's mean and sd."""
    assert [m["member"] for m in saved["members"]] == list(range(MEMBERS))
    assert [m["seed"] for m in saved["members"]] == [4, 5, 6]
    values = [m["value"] for m in saved["members"]]
    assert values == pytest.approx(alone, abs=1e-6)
    assert len(set(values)) == MEMBERS  # the members differ: the check can fail
    assert saved["mean"] == pytest.approx(np.mean(alone), abs=1e-6)
    assert saved["sd"] == pytest.approx(np.std(alone, ddof=1), abs=1e-6)
    assert saved["sd"] > 0


def test_parzen_scores_every_member_as_each_alone(ensemble, tmp_path, capsys):
    run, exported = ensemble
    assert main(["eval", "parzen", str(run), *PARZEN, "--out", str(tmp_path / "all")]) == 0
    out = capsys.readouterr().out
    assert "under 3 ensemble members (seeds 4-6)" in out
    assert "mean +/- sd over 3 members" in out and "(sample sd, n - 1)" in out
    saved = _json(tmp_path / "all" / "parzen-members-it3.json")
    assert saved["metric"] == "parzen"
    alone = []
    for i, file in enumerate(exported):  # the plain eval of a snapshot file, one per member
        folder = tmp_path / f"alone{i}"
        assert main(["eval", "parzen", str(file), *PARZEN, "--out", str(folder)]) == 0
        alone.append(_json(folder / "parzen-it3.json")["test_mean"])
    capsys.readouterr()
    _check_summary(saved, alone)
    for m in saved["members"]:  # each printed row holds that member's value
        assert f"{m['member']:>6}  {m['seed']:>6}  {m['value']:.6g}" in out
    # --member 1 scores that member alone, as its row
    assert main(["eval", "parzen", str(run), *PARZEN, "--member", "1", "--out", str(tmp_path)]) == 0
    assert "of member 1 (seed 5)" in capsys.readouterr().out
    one = _json(tmp_path / "parzen-member1-it3.json")["test_mean"]
    assert one == pytest.approx(saved["members"][1]["value"], abs=1e-9)


def test_a_metric_scores_every_member_as_each_alone(ensemble, tmp_path, capsys, monkeypatch):
    run, exported = ensemble
    torch.set_num_threads(1)
    monkeypatch.setenv("SADDLEPOINT_CACHE", str(tmp_path / "cache"))
    recipe = ClassifierRecipe(limit=1000, epochs=1, batch_size=32)
    monkeypatch.setattr(classifier_module, "DEFAULT_RECIPE", recipe)
    fid = ["eval", "fid", "--samples", "100", "--reference", "200"]
    assert main([*fid, str(run), "--out", str(tmp_path / "all.json")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("classifier-feature Frechet distance of 3 ensemble members:")
    assert "100 samples of each member of" in out
    saved = _json(tmp_path / "all.json")
    assert saved["metric"] == "fid"
    alone = []
    for i, file in enumerate(exported):
        assert main([*fid, str(file), "--out", str(tmp_path / f"alone{i}.json")]) == 0
        alone.append(_json(tmp_path / f"alone{i}.json")["value"])
    _check_summary(saved, alone)
    capsys.readouterr()
    assert main([*fid, str(run), "--member", "2", "--out", str(tmp_path / "two.json")]) == 0
    assert "100 samples of member 2 (seed 6) of" in capsys.readouterr().out
    two = _json(tmp_path / "two.json")
    assert two["value"] == pytest.approx(saved["members"][2]["value"], abs=1e-9)
    assert (two["settings"]["member"], two["settings"]["member_seed"]) == (2, 6)


@pytest.mark.parametrize(
    "verb, real",
    [
        (
            ["parzen"],
            "--member scores one member's generator: drop --real and --snapshots (the "
            "snapshots are member 0's).",
        ),
        (
            ["fid", "--samples", "100"],
            "--member scores one member of an ensemble run folder: name the folder, without "
            "--real or --input1.",
        ),
    ],
)
def test_member_mistakes_are_one_sentence(ensemble, verb, real, capsys):
    run, exported = ensemble
    cases = [
        ([str(run), "--real", "--member", "0"], real),
        (
            [str(run), "--member", "3"],
            f"{run} trained 3 member(s), 0 to 2: --member 3 is not one of them.",
        ),
        (
            [str(exported[1]), "--member", "1"],
            "--member reads a run folder's checkpoint: name the folder.",
        ),
    ]
    for argv, message in cases:
        assert main(["eval", *verb, *argv]) == 2
        assert capsys.readouterr().err.strip() == f"saddlepoint: error: {message}"


def test_the_summary_is_numpys_mean_and_sample_sd():
    values = [-3.5, 1.25, 7.0, 2.0]
    scores = member_scores("fid", "x", [{"value": v} for v in values])
    assert scores.mean == pytest.approx(np.mean(values), abs=1e-12)
    assert scores.sd == pytest.approx(np.std(values, ddof=1), abs=1e-12)
    assert np.isnan(member_scores("fid", "x", [{"value": 1.0}]).sd)
