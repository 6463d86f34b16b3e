"""Objectives against closed forms (values and gradients, pinned on both sides)."""

from __future__ import annotations

import math

import objective_scores as scores
import pytest
import torch

from saddlepoint.objectives import OBJECTIVES, minimax, non_saturating

LOG4 = math.log(4.0)


def test_value_at_chance_is_minus_log_4():
    # D = 1/2 everywhere (logit 0): V = log 1/2 + log 1/2 = -log 4 (Theorem 1).
    zeros = torch.zeros(7)
    assert minimax.value(real_logits=zeros, fake_logits=zeros).item() == pytest.approx(
        -LOG4, abs=1e-7
    )
    assert minimax.discriminator_loss(real_logits=zeros, fake_logits=zeros).item() == pytest.approx(
        LOG4, abs=1e-7
    )


def test_discriminator_loss_matches_closed_form():
    real = torch.tensor([2.0, -1.0, 0.5], dtype=torch.float64)
    fake = torch.tensor([-3.0, 0.25], dtype=torch.float64)
    sig = lambda t: 1 / (1 + math.exp(-t))  # noqa: E731
    expected = -(
        sum(math.log(sig(r)) for r in real.tolist()) / 3
        + sum(math.log(1 - sig(f)) for f in fake.tolist()) / 2
    )
    got = minimax.discriminator_loss(real_logits=real, fake_logits=fake).item()
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert minimax.value(real_logits=real, fake_logits=fake).item() == pytest.approx(
        -expected, abs=1e-12
    )


def test_generator_losses_match_closed_forms():
    fake = torch.tensor([-4.0, 0.0, 3.0], dtype=torch.float64)
    d = [1 / (1 + math.exp(-f)) for f in fake.tolist()]
    mm = sum(math.log(1 - di) for di in d) / 3
    ns = -sum(math.log(di) for di in d) / 3
    assert minimax.generator_loss(fake_logits=fake).item() == pytest.approx(mm, abs=1e-12)
    assert non_saturating.generator_loss(fake_logits=fake).item() == pytest.approx(ns, abs=1e-12)


def test_gradients_per_logit_are_the_textbook_ones():
    # d/dl log(1 - sigmoid(l)) = -sigmoid(l);  d/dl -log sigmoid(l) = sigmoid(l) - 1.
    fake = torch.tensor([-5.0, -1.0, 0.0, 2.0], dtype=torch.float64, requires_grad=True)
    n = fake.numel()
    (g_mm,) = torch.autograd.grad(minimax.generator_loss(fake_logits=fake), fake)
    (g_ns,) = torch.autograd.grad(non_saturating.generator_loss(fake_logits=fake), fake)
    s = torch.sigmoid(fake.detach())
    torch.testing.assert_close(g_mm, -s / n, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(g_ns, (s - 1) / n, rtol=1e-12, atol=1e-15)


def test_minimax_saturates_where_non_saturating_does_not():
    # Seed 004: when D confidently rejects samples (D(G(z)) -> 0, logit -> -inf), the minimax
    # generator gradient vanishes and the non-saturating one tends to -1 per sample.
    fake = torch.tensor([-20.0], dtype=torch.float64, requires_grad=True)
    (g_mm,) = torch.autograd.grad(minimax.generator_loss(fake_logits=fake), fake)
    (g_ns,) = torch.autograd.grad(non_saturating.generator_loss(fake_logits=fake), fake)
    assert abs(g_mm.item()) == pytest.approx(math.exp(-20), rel=1e-6)  # ~2e-9: no signal
    assert g_ns.item() == pytest.approx(-1.0, abs=1e-8)


def test_same_fixed_point_direction_near_chance():
    # At D = 1/2 both generator costs push logits up with the same magnitude (1/2 per sample).
    fake = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    (g_mm,) = torch.autograd.grad(minimax.generator_loss(fake_logits=fake), fake)
    (g_ns,) = torch.autograd.grad(non_saturating.generator_loss(fake_logits=fake), fake)
    torch.testing.assert_close(g_mm, g_ns)
    torch.testing.assert_close(g_mm, torch.full_like(g_mm, -0.5 / 4))


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_stable_for_extreme_logits(name):
    big = torch.tensor([-1e4, -80.0, 80.0, 1e4], requires_grad=True)
    for loss in (
        scores.d_loss(name, real_logits=big, fake_logits=big),
        scores.g_loss(name, fake_logits=big),
    ):
        (grad,) = torch.autograd.grad(loss, big)
        assert torch.isfinite(loss) and torch.isfinite(grad).all()


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_better_discriminator_has_lower_loss(name):
    obj = OBJECTIVES.get(name)
    good = scores.d_loss(
        name, real_logits=torch.full((5,), 3.0), fake_logits=torch.full((5,), -3.0)
    )
    bad = scores.d_loss(name, real_logits=torch.full((5,), -3.0), fake_logits=torch.full((5,), 3.0))
    assert good.item() < bad.item()
    if obj.discriminator_loss is minimax.discriminator_loss:  # the cross-entropy D loss
        assert good.item() == pytest.approx(2 * math.log1p(math.exp(-3)), abs=1e-6)
        assert bad.item() == pytest.approx(2 * math.log1p(math.exp(3)), abs=1e-5)


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_better_generator_has_lower_loss(name):
    # the Pearson coding's G aims at c = 0 (between the targets -1 and 1), not past the real one
    fooling = scores.g_loss(
        name, fake_logits=torch.full((5,), 0.0 if name == "least_squares_pearson" else 2.0)
    )
    caught = scores.g_loss(name, fake_logits=torch.full((5,), -2.0))
    assert fooling.item() < caught.item()


def test_objectives_are_keyword_only():
    with pytest.raises(TypeError):
        minimax.discriminator_loss(torch.zeros(2), torch.zeros(2))  # type: ignore[misc]
