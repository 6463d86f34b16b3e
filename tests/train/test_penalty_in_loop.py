"""Gradient penalties inside Algorithm 1's D step: value, lazy interval, batch-norm refusal."""

from __future__ import annotations

import contextlib

import pytest
import torch
from tiny import tiny_config

from saddlepoint.config import PENALTY_NAMES
from saddlepoint.errors import SaddlepointError
from saddlepoint.objectives import OBJECTIVES
from saddlepoint.objectives.penalties import PENALTIES, gradient_penalty
from saddlepoint.train import state, train
from saddlepoint.train.steps import d_step


def test_config_names_match_the_penalty_table():
    assert set(PENALTY_NAMES) == {"none", *PENALTIES}


def test_d_step_adds_the_penalty_to_the_loss():
    # A linear critic f(x) = w.x has gradient norm ||w|| everywhere: WGAN-GP adds 10 (||w|| - 1)^2.
    D = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(6, 1, bias=False), torch.nn.Flatten(0)
    )
    with torch.no_grad():
        D[1].weight.copy_(torch.tensor([[2.0, 0, 0, 0, 0, 0]]))  # ||w|| = 2
    real, fake = torch.rand(4, 1, 2, 3), torch.rand(4, 1, 2, 3)
    objective = OBJECTIVES.get("wasserstein")
    base = objective.discriminator_loss(real_logits=D(real), fake_logits=D(fake)).item()
    opt = torch.optim.SGD(D.parameters(), lr=0.0)
    stats = d_step(
        D,
        opt,
        objective,
        real=real,
        fake=fake,
        autocast=contextlib.nullcontext(),
        penalty=lambda D, r, f, y: gradient_penalty(D, r, f, weight=10.0),
    )
    assert stats.loss.item() == pytest.approx(base + 10.0, abs=1e-5)
    # the penalty's gradient reaches D: d/dw1 of 10 (|w1| - 1)^2 = 20 at w1 = 2, plus the
    # Wasserstein term's mean(fake) - mean(real) in that coordinate
    expected = 20.0 + (fake[:, 0, 0, 0].mean() - real[:, 0, 0, 0].mean()).item()
    assert D[1].weight.grad[0, 0].item() == pytest.approx(expected, abs=1e-4)


def test_lazy_penalty_runs_every_n_d_steps_with_weight_times_n(tmp_path, monkeypatch):
    calls = []

    def fake_r1(D, real, fake, weight):
        calls.append(weight)
        return torch.zeros((), requires_grad=True)

    monkeypatch.setitem(PENALTIES, "r1", fake_r1)
    train(
        tiny_config(
            "objective.penalty=r1",
            "objective.penalty_weight=5",
            "objective.penalty_every=4",
            "train.k=2",
            "train.iterations=6",
        ),
        out=tmp_path,
        progress=False,
    )
    assert calls == [20.0] * 3  # 12 D updates (0..11): updates 0, 4, 8


@pytest.mark.parametrize("penalty", ["gradient", "dragan", "r1"])
def test_training_with_each_penalty(tmp_path, penalty):
    plain = train(tiny_config("train.iterations=6"), out=tmp_path / "plain", progress=False)
    run = train(
        tiny_config(f"objective.penalty={penalty}", "train.iterations=6"),
        out=tmp_path / "pen",
        progress=False,
    )
    assert run.iteration == 6
    assert all(torch.isfinite(p).all() for p in run.generator.parameters())
    # the penalty changed D's updates and, through D, the generator's (same seed otherwise)
    pairs = zip(plain.generator.parameters(), run.generator.parameters(), strict=True)
    assert any(not torch.equal(a, b) for a, b in pairs)


def test_wgan_gp_is_accepted_and_bad_names_refused(tmp_path):
    train(
        tiny_config(
            "objective.name=wasserstein", "objective.penalty=gradient", "train.iterations=3"
        ),
        out=tmp_path,
        progress=False,
    )
    with pytest.raises(SaddlepointError, match="objective.penalty must be one of none, gradient"):
        tiny_config("objective.penalty=gp")


def test_batch_norm_critic_with_a_penalty_is_refused(tmp_path, monkeypatch):
    def bn_critic(model, shape, **spec):
        return torch.nn.Sequential(
            torch.nn.Flatten(),
            torch.nn.Linear(784, 8),
            torch.nn.BatchNorm1d(8),
            torch.nn.Linear(8, 1),
            torch.nn.Flatten(0),
        )

    monkeypatch.setattr(state, "build_discriminator", bn_critic)
    with pytest.raises(SaddlepointError, match="without batch normalisation"):
        train(tiny_config("objective.penalty=gradient"), out=tmp_path, progress=False)
    train(tiny_config("train.iterations=2"), out=tmp_path, progress=False)  # fine without one
