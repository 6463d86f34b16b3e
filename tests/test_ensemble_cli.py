"""`saddlepoint train --seeds A-B`: the runs of seeds A..B as one ensemble."""

from __future__ import annotations

import json

import pytest
from tiny import tiny_argv

from saddlepoint.cli import main
from saddlepoint.train import load


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


def test_an_ensemble_trains_from_the_command_line(tmp_path, capsys):
    argv = tiny_argv("train.iterations=2", "train.grid_size=4")
    assert main(["train", "--quiet", "--out", str(tmp_path), "--seeds", "0-1", *argv]) == 0
    run = load(next(tmp_path.iterdir()))
    assert run.config.train.ensemble == 2 and run.iteration == 2
