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


def test_rampup_bounds_the_horizon_by_the_steps_taken():
    """beta_t = 1 - 1 / max(1, min(1 / (1 - beta), r t)): a horizon of r t steps, capped."""
    ema = EMA(torch.nn.Linear(1, 1), beta=0.999, rampup=0.1)
    assert ema.beta_at(1) == 0.0  # horizon max(1, 0.1): the average is the current weights
    assert ema.beta_at(100) == pytest.approx(1 - 1 / 10, abs=1e-15)
    assert ema.beta_at(2000) == pytest.approx(1 - 1 / 200, abs=1e-15)
    assert ema.beta_at(10_000) == pytest.approx(0.999, abs=1e-15)  # r t = 1000: the cap
    assert ema.beta_at(10**6) == pytest.approx(0.999, abs=1e-15)
    assert EMA(torch.nn.Linear(1, 1), beta=0.999).beta_at(5) == 0.999  # no ramp-up
    with pytest.raises(ValueError):
        EMA(torch.nn.Linear(1, 1), beta=0.9, rampup=-1)


def test_rampup_average_forgets_the_initial_weights():
    """A weight that jumps from 0 to 1 at step 1 and stays: with a ramp-up the average is 1 at
    once (horizon 1), without it 1 - beta^t."""
    net = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        net.weight.fill_(0.0)
    ramped, plain = EMA(net, 0.99, rampup=0.5), EMA(net, 0.99)
    with torch.no_grad():
        net.weight.fill_(1.0)
    for step in range(1, 11):
        ramped.update(net, step)
        plain.update(net, step)
    assert float(ramped.module.weight) == pytest.approx(1.0, abs=1e-6)
    assert float(plain.module.weight) == pytest.approx(1 - 0.99**10, abs=1e-6)


@pytest.mark.parametrize("rampup", [0.0, 0.5])
def test_resume_with_ema_and_snapshots_hold_the_average(tmp_path, rampup):
    sets = ("train.ema_beta=0.9", f"train.ema_rampup={rampup}")
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
