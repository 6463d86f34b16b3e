"""The objective family against hand-computed values, sign conventions and the ML-gradient claim."""

from __future__ import annotations

import functools
import math

import numpy as np
import objective_scores as scores
import pytest
import torch
from torch import nn

from saddlepoint.objectives import (
    OBJECTIVES,
    hinge,
    least_squares,
    maximum_likelihood,
    minimax,
    non_saturating,
    wasserstein,
)

F64 = torch.float64
# Shared small batch: real logits (3,), fake logits (2,).
REAL = [2.0, -1.0, 0.5]
FAKE = [-3.0, 0.25]


def _t(values: list[float]) -> torch.Tensor:
    return torch.tensor(values, dtype=F64)


# ---------------------------------------------------------------- values computed by hand


def test_least_squares_pearson_by_hand():
    # D: 1/2 * 5.25/3 + 1/2 * ((-3+1)^2 + (0.25+1)^2)/2 = 0.875 + 1/2 * 5.5625/2 = 2.265625
    d = least_squares.pearson_discriminator_loss(real_logits=_t(REAL), fake_logits=_t(FAKE))
    assert d.item() == pytest.approx(2.265625, abs=1e-12)
    # G: 1/2 * ((-3)^2 + 0.25^2)/2 = 1/2 * 9.0625/2
    g = least_squares.pearson_generator_loss(fake_logits=_t(FAKE))
    assert g.item() == pytest.approx(2.265625, abs=1e-12)
    # The optimal D of eq. (9)'s coding, (b p_d + a p_g) / (p_d + p_g) with b = 1, a = -1, is
    # (p_d - p_g) / (p_d + p_g): brute force over outputs on a grid for p_d = 0.7, p_g = 0.3.
    grid = torch.linspace(-1.5, 1.5, 30_001, dtype=F64)
    pointwise = 0.7 * 0.5 * (grid - 1) ** 2 + 0.3 * 0.5 * (grid + 1) ** 2
    assert grid[pointwise.argmin()].item() == pytest.approx(0.4, abs=1e-4)
    assert "least_squares_pearson" in OBJECTIVES


def test_least_squares_by_hand():
    # D: 1/2 * ((2-1)^2 + (-1-1)^2 + (0.5-1)^2)/3 + 1/2 * ((-3)^2 + 0.25^2)/2
    #  = 1/2 * 5.25/3 + 1/2 * 9.0625/2 = 0.875 + 2.265625
    d = least_squares.discriminator_loss(real_logits=_t(REAL), fake_logits=_t(FAKE))
    assert d.item() == pytest.approx(3.140625, abs=1e-12)
    # G: 1/2 * ((-3-1)^2 + (0.25-1)^2)/2 = 1/2 * 16.5625/2
    g = least_squares.generator_loss(fake_logits=_t(FAKE))
    assert g.item() == pytest.approx(4.140625, abs=1e-12)
    # At the targets (real 1, fake 0) D's loss is exactly 0; G's is 0 at fake = 1.
    assert least_squares.discriminator_loss(
        real_logits=torch.ones(4, dtype=F64), fake_logits=torch.zeros(3, dtype=F64)
    ).item() == pytest.approx(0.0, abs=1e-15)
    assert least_squares.generator_loss(
        fake_logits=torch.ones(3, dtype=F64)
    ).item() == pytest.approx(0.0, abs=1e-15)


def test_wasserstein_by_hand():
    # critic: mean f(G(z)) - mean f(x) = (-3 + 0.25)/2 - (2 - 1 + 0.5)/3 = -1.375 - 0.5
    d = wasserstein.discriminator_loss(real_logits=_t(REAL), fake_logits=_t(FAKE))
    assert d.item() == pytest.approx(-1.875, abs=1e-12)
    # generator: -mean f(G(z)) = 1.375
    assert wasserstein.generator_loss(fake_logits=_t(FAKE)).item() == pytest.approx(
        1.375, abs=1e-12
    )


def test_hinge_by_hand():
    # D: relu(1 - [2, -1, 0.5]) = [0, 2, 0.5] -> mean 5/6; relu(1 + [-3, 0.25]) = [0, 1.25] -> 5/8
    d = hinge.discriminator_loss(real_logits=_t(REAL), fake_logits=_t(FAKE))
    assert d.item() == pytest.approx(5 / 6 + 5 / 8, abs=1e-12)
    assert hinge.generator_loss(fake_logits=_t(FAKE)).item() == pytest.approx(1.375, abs=1e-12)
    # Past both margins D's loss is exactly 0.
    assert hinge.discriminator_loss(
        real_logits=_t([1.0, 7.0]), fake_logits=_t([-1.0, -4.0])
    ).item() == pytest.approx(0.0, abs=1e-15)


def test_maximum_likelihood_by_hand():
    # -1/2 * (e^-3 + e^0.25)/2
    expected = -0.5 * (math.exp(-3.0) + math.exp(0.25)) / 2
    got = maximum_likelihood.generator_loss(fake_logits=_t(FAKE))
    assert got.item() == pytest.approx(expected, rel=1e-14, abs=1e-14)
    # At D = 1/2 (logit 0) the cost is -1/2.
    assert maximum_likelihood.generator_loss(
        fake_logits=torch.zeros(5, dtype=F64)
    ).item() == pytest.approx(-0.5, abs=1e-15)


def test_maximum_likelihood_gradient_per_logit():
    # d/dl of -1/2 mean exp(l) is -1/2 exp(l)/m.
    logits = _t([-5.0, -1.0, 0.0, 2.0, 10.0]).requires_grad_(True)
    (grad,) = torch.autograd.grad(maximum_likelihood.generator_loss(fake_logits=logits), logits)
    expected = _t([-0.5 * math.exp(v) / 5 for v in [-5.0, -1.0, 0.0, 2.0, 10.0]])
    torch.testing.assert_close(grad, expected, rtol=1e-13, atol=0)


def test_maximum_likelihood_overflow_guard():
    c = maximum_likelihood.EXP_LINEAR_ABOVE
    # Exact up to c; beyond it the tangent line exp(c) (1 + l - c), continuous at c.
    at = maximum_likelihood.generator_loss(fake_logits=_t([c])).item()
    assert at == pytest.approx(-0.5 * math.exp(c), rel=1e-14)
    above = maximum_likelihood.generator_loss(fake_logits=_t([c + 3.0])).item()
    assert above == pytest.approx(-0.5 * math.exp(c) * 4.0, rel=1e-14)
    # Finite value and gradient in float32 where exp itself overflows (l > 88.7).
    big = torch.tensor([1e4, 100.0, -1e4], requires_grad=True)
    loss = maximum_likelihood.generator_loss(fake_logits=big)
    (grad,) = torch.autograd.grad(loss, big)
    assert torch.isfinite(loss) and torch.isfinite(grad).all()
    assert (grad[:2] < 0).all()  # still pushes the logit up


# ----------------------------------- seed 004: at the optimal D, half the max-likelihood gradient

P_DATA = [0.1, 0.3, 0.2, 0.25, 0.15]


def _per_sample(loss_fn, logits: torch.Tensor) -> torch.Tensor:
    """The generator cost of each logit alone: (n,) -> (n,)."""
    return torch.stack([loss_fn(fake_logits=logits[i : i + 1]) for i in range(len(logits))])


def _discrete_grad(loss_fn) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradient wrt softmax parameters theta of E_{x~p_g}[J(l*(x))], D held at D* (detached)."""
    theta = _t([0.3, -0.2, 0.5, 0.0, -0.4]).requires_grad_(True)
    p_data = _t(P_DATA)
    p_g = torch.softmax(theta, dim=0)  # (5,)
    logit_star = torch.log(p_data) - torch.log(p_g.detach())  # sigma^-1(p_data / (p_data + p_g))
    expected_cost = (p_g * _per_sample(loss_fn, logit_star)).sum()
    (grad,) = torch.autograd.grad(expected_cost, theta)
    return grad, p_g.detach()


def test_logit_star_is_the_optimal_discriminator():
    # The minimax D loss, in expectation (sum_x p_data softplus(-l) + p_g softplus(l)), is
    # stationary at l* = log p_data - log p_g: sigmoid(l*) = p_data / (p_data + p_g).
    p_data = _t(P_DATA)
    p_g = torch.softmax(_t([0.3, -0.2, 0.5, 0.0, -0.4]), dim=0)
    logit = (torch.log(p_data) - torch.log(p_g)).requires_grad_(True)
    sp = torch.nn.functional.softplus
    loss = (p_data * sp(-logit)).sum() + (p_g * sp(logit)).sum()
    (grad,) = torch.autograd.grad(loss, logit)
    torch.testing.assert_close(grad, torch.zeros_like(grad), rtol=0, atol=1e-15)


def test_maximum_likelihood_cost_follows_half_the_kl_gradient_discrete():
    # grad_theta sum_x p_g(x) (-1/2 p_data(x)/p_g(x)) = -1/2 sum_x p_data grad log p_g(x)
    #   = +1/2 grad_theta KL(p_data || p_g)   (exactly, no additive constant; the sign is +:
    # descending J descends the KL). For a softmax, grad_theta KL(p_data || p_g) = p_g - p_data.
    grad, p_g = _discrete_grad(maximum_likelihood.generator_loss)
    p_data = _t(P_DATA)
    torch.testing.assert_close(grad, 0.5 * (p_g - p_data), rtol=1e-12, atol=1e-15)
    # The same through autograd on the KL itself.
    theta = _t([0.3, -0.2, 0.5, 0.0, -0.4]).requires_grad_(True)
    kl = (p_data * (torch.log(p_data) - torch.log_softmax(theta, dim=0))).sum()
    (grad_kl,) = torch.autograd.grad(kl, theta)
    torch.testing.assert_close(grad, 0.5 * grad_kl, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("loss_fn", [minimax.generator_loss, non_saturating.generator_loss])
def test_other_generator_costs_do_not_follow_the_kl_gradient(loss_fn):
    # The check above can fail: the minimax and non-saturating costs at D* give other directions.
    grad, p_g = _discrete_grad(loss_fn)
    target = 0.5 * (p_g - _t(P_DATA))
    best_scale = (grad @ target) / (target @ target)  # not even a multiple of it
    assert (grad - best_scale * target).abs().max().item() > 1e-3


def test_maximum_likelihood_cost_follows_half_the_kl_gradient_through_samples():
    # As G is trained: x = mu + sigma z (z ~ N(0, 1)) flows through D* = the density ratio of
    # p_data = N(0, 1) to p_g = N(mu, sigma), held fixed. E_z is by Gauss-Hermite quadrature.
    # KL(N(0,1) || N(mu, sigma)) = log sigma + (1 + mu^2)/(2 sigma^2) - 1/2.
    mu = torch.tensor(0.5, dtype=F64, requires_grad=True)
    sigma = torch.tensor(1.5, dtype=F64, requires_grad=True)
    nodes, weights = np.polynomial.hermite.hermgauss(80)
    z = math.sqrt(2) * torch.from_numpy(nodes)  # (80,)
    w = torch.from_numpy(weights) / math.sqrt(math.pi)  # (80,), sums to 1
    x = mu + sigma * z

    def log_normal(v, m, s):
        return -0.5 * ((v - m) / s) ** 2 - torch.log(s) - 0.5 * math.log(2 * math.pi)

    one = torch.tensor(1.0, dtype=F64)
    logit_star = log_normal(x, 0.0, one) - log_normal(x, mu.detach(), sigma.detach())
    cost = (w * _per_sample(maximum_likelihood.generator_loss, logit_star)).sum()
    d_mu, d_sigma = torch.autograd.grad(cost, (mu, sigma))
    m, s = 0.5, 1.5
    assert d_mu.item() == pytest.approx(0.5 * m / s**2, abs=1e-12)
    assert d_sigma.item() == pytest.approx(0.5 * (1 / s - (1 + m**2) / s**3), abs=1e-12)


# ------------------------------------------- sign conventions, for every registered objective

# 0.2 / 0.6 sit where every objective can still improve: below LSGAN's real target 1 and above
# its fake target 0, inside both hinge margins.
BASE_REAL, BASE_FAKE = 0.2, 0.6


def _full(v: float) -> torch.Tensor:
    return torch.full((5,), v, dtype=F64)


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_better_discriminator_lowers_its_loss(name):
    d_loss = functools.partial(scores.d_loss, name)
    base = d_loss(real_logits=_full(BASE_REAL), fake_logits=_full(BASE_FAKE)).item()
    real_up = d_loss(real_logits=_full(BASE_REAL + 0.5), fake_logits=_full(BASE_FAKE)).item()
    fake_down = d_loss(real_logits=_full(BASE_REAL), fake_logits=_full(BASE_FAKE - 0.5)).item()
    assert real_up < base - 1e-3
    assert fake_down < base - 1e-3
    # and locally: d loss / d real logit < 0, d loss / d fake logit > 0, per example
    real = _full(BASE_REAL).requires_grad_(True)
    fake = _full(BASE_FAKE).requires_grad_(True)
    g_real, g_fake = torch.autograd.grad(d_loss(real_logits=real, fake_logits=fake), (real, fake))
    assert (g_real < 0).all() and (g_fake > 0).all()


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_better_generator_lowers_its_loss(name):
    g_loss = functools.partial(scores.g_loss, name)
    # the Pearson coding's G aims at c = 0, halfway between the targets: improve below it
    at = -0.2 if name == "least_squares_pearson" else BASE_FAKE
    base = g_loss(fake_logits=_full(at - 0.4)).item()
    fooling = g_loss(fake_logits=_full(at)).item()
    assert fooling < base - 1e-3
    fake = _full(at - 0.4).requires_grad_(True)
    (grad,) = torch.autograd.grad(g_loss(fake_logits=fake), fake)
    assert (grad < 0).all()


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_keyword_only_and_scalar(name):
    obj = OBJECTIVES.get(name)
    x = torch.zeros(3)
    assert scores.d_loss(name, real_logits=x, fake_logits=x).shape == ()
    assert scores.g_loss(name, fake_logits=x).shape == ()
    with pytest.raises(TypeError):
        obj.discriminator_loss(x, x)  # type: ignore[misc]
    with pytest.raises(TypeError):
        obj.generator_loss(x)  # type: ignore[misc]
    assert obj.name == name and "\n" not in obj.description


# ------------------------------------------------------------------------ weight clipping


def test_clip_weights_clamps_every_parameter():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 1))
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(0).add_(torch.linspace(-3, 3, p.numel()).view_as(p))
    before = [p.detach().clone() for p in net.parameters()]
    assert wasserstein.clip_weights_(net, 0.01) is None
    for old, p in zip(before, net.parameters(), strict=True):
        torch.testing.assert_close(p.detach(), old.clamp(-0.01, 0.01), rtol=0, atol=0)
        assert p.abs().max().item() <= 0.01
    # every tensor had entries outside the bound, so every one was changed
    assert all((old.abs() > 0.01).any() for old in before)
    with pytest.raises(ValueError, match="positive"):
        wasserstein.clip_weights_(net, 0.0)
