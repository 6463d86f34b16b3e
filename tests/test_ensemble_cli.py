"""`saddlepoint train --seeds A-B`: the runs of seeds A..B as one ensemble."""

from __future__ import annotations

import json

import pytest
import torch
from tiny import tiny_argv

from saddlepoint.checkpoint import load_training_state
from saddlepoint.cli import main
from saddlepoint.runs import load, load_member


def test_seeds_set_the_first_seed_and_the_ensemble_size(capsys):
    assert main(["train", "--dry-run", "--seeds", "3-5", *tiny_argv()]) == 0
    train = json.loads(capsys.readouterr().out)["train"]
    assert (train["seed"], train["ensemble"]) == (3, 3)
    assert main(["train", "--dry-run", "--seeds", "4", *tiny_argv()]) == 0
    train = json.loads(capsys.readouterr().out)["train"]
    assert (train["seed"], train["ensemble"]) == (4, 1)


@pytest.mark.parametrize("seeds", ["5-3", "a-b", "-1", "0-"])
def test_a_bad_range_is_one_line(seeds, capsys):
    assert main(["train", "--dry-run", "--seeds", seeds, *tiny_argv()]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"saddlepoint: error: --seeds takes a range of seeds A-B with 0 <= A <= B, such as "
        f"0-7, not {seeds!r}."
    )


def test_an_ensemble_trains_and_samples_each_member_from_the_command_line(tmp_path, capsys):
    argv = tiny_argv("train.iterations=2", "train.grid_size=4")
    assert main(["train", "--quiet", "--out", str(tmp_path), "--seeds", "0-1", *argv]) == 0
    path = next(tmp_path.iterdir())
    assert path.name.endswith("-seeds0-1")  # the folder says which seeds it holds
    run = load(path)
    assert run.config.train.ensemble == 2 and run.iteration == 2
    capsys.readouterr()
    assert main(["sample", str(path), "--member", "1", "-n", "4"]) == 0
    assert capsys.readouterr().out.strip().endswith("sample-member1-seed0.png")
    # member 1's sampling generator is the EMA copy's member 1 in the checkpoint
    ema = load_training_state(path / "checkpoint.pt")["generator_ema"]
    member = load_member(path, 1).generator.state_dict()
    for key, value in member.items():
        assert torch.equal(value, ema[f"members.1.{key}"]), key
    assert not torch.equal(member["out.weight"], run.generator.state_dict()["out.weight"])
    assert main(["sample", str(path), "--member", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("trained 2 member(s), 0 to 1: --member 2 is not one of them.")
