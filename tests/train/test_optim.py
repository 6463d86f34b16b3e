"""The 2014 schedules: lr divided by 1.000004 per update (floor), momentum ramp over epochs."""

from __future__ import annotations

import pytest
import torch

from saddlepoint.config import OptimConfig
from saddlepoint.train.batches import EpochSampler
from saddlepoint.train.optim import apply_schedule, build_optimizer, learning_rate, momentum


def test_learning_rate_decay_and_floor():
    cfg = OptimConfig()
    assert learning_rate(cfg, 0) == pytest.approx(0.1, rel=1e-12)
    assert learning_rate(cfg, 1) == pytest.approx(0.1 / 1.000004, rel=1e-12)
    # 500 updates per epoch for 100 epochs: 0.1 / 1.000004**50000 = 0.1 * exp(-0.2) approx
    assert learning_rate(cfg, 50_000) == pytest.approx(0.1 * 1.000004**-50_000, rel=1e-9)
    assert learning_rate(cfg, 50_000) == pytest.approx(0.08187, abs=1e-4)
    assert learning_rate(cfg, 10**8) == 1e-6  # the floor


def test_momentum_ramp():
    cfg = OptimConfig()
    assert momentum(cfg, 0) == pytest.approx(0.5)
    assert momentum(cfg, 125) == pytest.approx(0.6)
    assert momentum(cfg, 250) == pytest.approx(0.7)
    assert momentum(cfg, 1000) == pytest.approx(0.7)


def test_apply_schedule_sets_param_groups():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = build_optimizer([p], OptimConfig())
    lr, mom = apply_schedule(opt, OptimConfig(), 10, 50.0)
    assert opt.param_groups[0]["lr"] == lr == pytest.approx(0.1 / 1.000004**10)
    assert opt.param_groups[0]["momentum"] == mom == pytest.approx(0.54)
    adam_cfg = OptimConfig(name="adam", lr=2e-4, lr_decay=1.0)
    adam = build_optimizer([p], adam_cfg)
    assert isinstance(adam, torch.optim.Adam)
    assert apply_schedule(adam, adam_cfg, 1000, 3.0) == (2e-4, 0.5)


def test_sampler_visits_every_example_once_per_epoch_and_resumes():
    s = EpochSampler(10, 3, seed=4)
    first = torch.cat([s.next() for _ in range(3)])  # 9 of 10; the partial batch is dropped
    assert len(set(first.tolist())) == 9
    assert s.epochs_done == pytest.approx(0.9)
    s.next()
    assert s.epoch == 1
    state = s.state_dict()
    after = [s.next() for _ in range(5)]
    t = EpochSampler(10, 3, seed=4, **state)
    for a in after:
        assert torch.equal(a, t.next())
    with pytest.raises(ValueError):
        EpochSampler(2, 3, seed=0)


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_optimisers_are_fused_and_step_as_the_default_loop(name):
    torch.manual_seed(0)
    start = [torch.randn(7, 5), torch.randn(5)]
    grads = [[torch.randn_like(t) for t in start] for _ in range(4)]
    cfg = OptimConfig(name=name, lr=0.05, momentum=0.5)
    fused = [torch.nn.Parameter(t.clone()) for t in start]
    plain = [torch.nn.Parameter(t.clone()) for t in start]
    opt = build_optimizer(fused, cfg)
    assert opt.defaults["fused"] is True  # this PyTorch has CPU kernels for both
    ref = (
        torch.optim.SGD(plain, lr=0.05, momentum=0.5)
        if name == "sgd"
        else torch.optim.Adam(plain, lr=0.05, betas=cfg.betas)
    )
    for step in grads:
        for p, q, g in zip(fused, plain, step):
            p.grad, q.grad = g.clone(), g.clone()
        opt.step()
        ref.step()
    # The fused kernel orders Adam's arithmetic its own way (SGD's too, where it likes): each of
    # the 4 steps may round p differently by an ulp, 2^-23 |p|, so 4 eps |p| = 4.8e-7 |p| in all,
    # and an update of ~lr = 0.05 by a few of its ulps (4e-9 each) where p is near 0. (Measured
    # over seeds 0-199: at most 0.16 of this tolerance, 2.4e-7.)
    for p, q, t in zip(fused, plain, start):
        assert (p - t).abs().max() > 0.01  # they moved
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)


def test_rmsprop_is_torch_rmsprop_with_the_configured_rate_and_alpha():
    # WGAN's optimiser: one step from a known gradient matches the RMSProp formula by hand,
    # v = (1 - alpha) g^2, w -= lr g / (sqrt(v) + eps)
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
    opt = build_optimizer([w], OptimConfig(name="rmsprop", lr=5e-5, alpha=0.9))
    assert isinstance(opt, torch.optim.RMSprop)
    w.grad = torch.tensor([0.5, -3.0], dtype=torch.float64)
    opt.step()
    g = torch.tensor([0.5, -3.0], dtype=torch.float64)
    expected = torch.tensor([1.0, -2.0], dtype=torch.float64) - 5e-5 * g / (
        (0.1 * g**2).sqrt() + 1e-8
    )
    assert torch.allclose(w.detach(), expected, rtol=0, atol=1e-12)
