"""The generator's exponential moving average: the update rule, resume, what snapshots hold."""

from __future__ import annotations

import pytest
import torch
from tiny import tiny_config

from saddlepoint.checkpoint import load_training_state
from saddlepoint.train import load, train
from saddlepoint.train.ema import EMA


def test_update_rule_and_buffers():
    net = torch.nn.BatchNorm1d(2)  # a parameter (weight) and buffers (running stats)
    with torch.no_grad():
        net.weight.fill_(0.0)
    ema = EMA(net, beta=0.5)
    with torch.no_grad():
        net.weight.fill_(1.0)
        net.running_mean.fill_(3.0)
    ema.update(net)
    torch.testing.assert_close(ema.module.weight, torch.full((2,), 0.5))
    ema.update(net)
    torch.testing.assert_close(ema.module.weight, torch.full((2,), 0.75))  # 0.5 + 0.5 * 0.5
    torch.testing.assert_close(ema.module.running_mean, torch.full((2,), 3.0))
    assert not ema.module.training and not ema.module.weight.requires_grad
    with pytest.raises(ValueError):
        EMA(net, beta=1.0)


def test_resume_with_ema_and_snapshots_hold_the_average(tmp_path):
    sets = ("train.ema_beta=0.9",)
    straight = train(tiny_config("train.iterations=12", *sets), out=tmp_path / "a", progress=False)
    half = train(tiny_config("train.iterations=6", *sets), out=tmp_path / "b", progress=False)
    resumed = train(tiny_config("train.iterations=12", *sets), resume=half.path, progress=False)
    a = load_training_state(straight.path / "checkpoint.pt")
    b = load_training_state(resumed.path / "checkpoint.pt")
    for key in ("generator", "generator_ema"):
        for name in a[key]:
            assert torch.equal(a[key][name], b[key][name]), (key, name)
    snapshot = load(resumed.path).generator.state_dict()
    for name, value in snapshot.items():
        assert torch.equal(value, b["generator_ema"][name])
    assert any(not torch.equal(b["generator"][n], b["generator_ema"][n]) for n in snapshot)
