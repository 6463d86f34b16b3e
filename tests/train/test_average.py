"""Averaging snapshots' weights: the uniform mean, saved as a loadable snapshot."""

from __future__ import annotations

import pytest
import torch
from tiny import tiny_config

from saddlepoint.checkpoint import load_snapshot
from saddlepoint.cli import main
from saddlepoint.errors import SaddlepointError
from saddlepoint.train.average import average_snapshots
from saddlepoint.train.loop import train
from saddlepoint.train.run import load


def test_average_is_the_mean_of_the_snapshots_and_loads(tmp_path, capsys):
    run = train(
        tiny_config("train.iterations=6", "train.snapshot_every=2"), out=tmp_path, progress=False
    )
    paths = sorted((run.path / "snapshots").glob("*.safetensors"))
    assert len(paths) == 3
    out = tmp_path / "avg.safetensors"
    assert main(["average", *map(str, paths), "--out", str(out)]) == 0
    tensors, meta = load_snapshot(out)
    snaps = [load_snapshot(p)[0] for p in paths]
    for key, value in tensors.items():
        expected = sum(s[key].double() for s in snaps) / 3
        torch.testing.assert_close(value.double(), expected, rtol=1e-6, atol=1e-7)
        assert not torch.equal(snaps[0][key], snaps[2][key]) or "bias" in key  # weights moved
    assert meta["averaged_iterations"] == [2, 4, 6] and meta["iteration"] == 6
    x = load(out).sample(5, seed=0)
    assert x.shape == (5, 1, 28, 28)


def test_average_refuses_one_snapshot_or_two_models(tmp_path):
    a = train(tiny_config("train.iterations=2"), out=tmp_path / "a", progress=False)
    b = train(tiny_config("train.iterations=2", "model.g_hidden=16"), out=tmp_path / "b")
    with pytest.raises(SaddlepointError, match="at least two"):
        average_snapshots([a.path / "generator.safetensors"], tmp_path / "x.safetensors")
    with pytest.raises(SaddlepointError, match="another model"):
        average_snapshots(
            [a.path / "generator.safetensors", b.path / "generator.safetensors"],
            tmp_path / "x.safetensors",
        )
