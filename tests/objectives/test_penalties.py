"""Gradient penalties against central finite differences and closed forms, for any input shape."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from saddlepoint.objectives.penalties import (
    batchnorm_in,
    dragan_penalty,
    gradient_penalty,
    r1_penalty,
)

F64 = torch.float64
SHAPES = [(5,), (1, 8, 8), (3, 8, 8), (2, 4, 4, 4)]  # per-example shapes; m is prepended
M = 3


class TinyD(nn.Module):
    """A 2-layer tanh MLP on the flattened input: (m, *shape) -> (m,), float64."""

    def __init__(self, shape: tuple[int, ...], seed: int = 0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        d = math.prod(shape)
        self.w1 = nn.Parameter(torch.randn(d, 4, generator=g, dtype=F64) / math.sqrt(d))
        self.b1 = nn.Parameter(torch.randn(4, generator=g, dtype=F64) * 0.1)
        self.w2 = nn.Parameter(torch.randn(4, generator=g, dtype=F64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x.flatten(1) @ self.w1 + self.b1) @ self.w2  # (m,)


class LinearD(nn.Module):
    """D(x) = w . flatten(x): its input gradient is w everywhere."""

    def __init__(self, w: torch.Tensor) -> None:
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) @ self.w


class QuadraticD(nn.Module):
    """D(x) = 1/2 ||x||^2 per example: its input gradient is x."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * x.flatten(1).square().sum(dim=1)


def _data(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    return torch.randn((M, *shape), generator=torch.Generator().manual_seed(seed), dtype=F64)


def _fd_grad_norms(D: nn.Module, x: torch.Tensor, h: float = 1e-5) -> list[float]:
    """||grad_x D(x_i)||_2 per example by central differences on every input coordinate."""
    norms = []
    with torch.no_grad():
        for i in range(x.shape[0]):
            xi = x[i : i + 1].flatten()
            sq = 0.0
            for j in range(xi.numel()):
                e = torch.zeros_like(xi)
                e[j] = h
                up = D((xi + e).view(1, *x.shape[1:])).item()
                down = D((xi - e).view(1, *x.shape[1:])).item()
                sq += ((up - down) / (2 * h)) ** 2
            norms.append(math.sqrt(sq))
    return norms


def _uniform_per_example(m: int, rank: int, g: torch.Generator) -> torch.Tensor:
    return torch.rand((m,) + (1,) * (rank - 1), generator=g, dtype=F64)


# --------------------------------------------------------------------- finite differences


@pytest.mark.parametrize("shape", SHAPES)
def test_gradient_penalty_matches_finite_differences(shape):
    D = TinyD(shape)
    real, fake = _data(shape, 1), _data(shape, 2)
    got = gradient_penalty(D, real, fake, weight=3.0, generator=torch.Generator().manual_seed(7))
    eps = _uniform_per_example(M, real.dim(), torch.Generator().manual_seed(7))
    x_hat = eps * real + (1 - eps) * fake
    expected = 3.0 * sum((n - 1) ** 2 for n in _fd_grad_norms(D, x_hat)) / M
    assert got.item() == pytest.approx(expected, abs=1e-6)
    assert got.item() > 1e-3  # a tiny D's gradient norm is far from 1: not a vacuous match


@pytest.mark.parametrize("shape", SHAPES)
def test_dragan_penalty_matches_finite_differences(shape):
    D = TinyD(shape)
    real = _data(shape, 3)
    got = dragan_penalty(D, real, weight=2.0, generator=torch.Generator().manual_seed(5))
    g = torch.Generator().manual_seed(5)
    noise = torch.rand(real.shape, generator=g, dtype=F64)  # drawn first
    alpha = _uniform_per_example(M, real.dim(), g)  # then alpha
    std = float(real.numpy().std())  # population std over the whole batch (numpy's default)
    x_hat = real + alpha * (0.5 * std * noise)  # real + alpha (x_p - real)
    expected = 2.0 * sum((n - 1) ** 2 for n in _fd_grad_norms(D, x_hat)) / M
    assert got.item() == pytest.approx(expected, abs=1e-6)
    assert got.item() > 1e-3


@pytest.mark.parametrize("shape", SHAPES)
def test_r1_penalty_matches_finite_differences(shape):
    D = TinyD(shape)
    real = _data(shape, 4)
    got = r1_penalty(D, real, gamma=4.0)
    expected = 4.0 / 2 * sum(n**2 for n in _fd_grad_norms(D, real)) / M
    assert got.item() == pytest.approx(expected, abs=1e-6)
    assert got.item() > 1e-3


# ---------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("norm", [1.0, 2.0])
def test_linear_critic_closed_forms(shape, norm):
    # grad_x (w . x) = w at every x_hat: GP = weight (||w|| - 1)^2, R1 = gamma/2 ||w||^2.
    w = torch.randn(math.prod(shape), generator=torch.Generator().manual_seed(0), dtype=F64)
    D = LinearD(norm * w / w.norm())
    real, fake = _data(shape, 1), _data(shape, 2)
    gp = gradient_penalty(D, real, fake, weight=10.0).item()
    assert gp == pytest.approx(10.0 * (norm - 1) ** 2, abs=1e-12)
    assert dragan_penalty(D, real, weight=10.0).item() == pytest.approx(gp, abs=1e-12)
    assert r1_penalty(D, real, gamma=10.0).item() == pytest.approx(5.0 * norm**2, abs=1e-12)
    # target: the two-sided penalty aims at any Lipschitz constant
    assert gradient_penalty(D, real, fake, target=norm).item() == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_r1_on_a_quadratic(shape):
    # D(x) = 1/2 ||x||^2: grad = x, so R1 = gamma/2 * mean_i ||x_i||^2.
    real = _data(shape, 6)
    expected = 3.0 / 2 * sum(float((r**2).sum()) for r in real) / M
    assert r1_penalty(QuadraticD(), real, gamma=3.0).item() == pytest.approx(expected, abs=1e-12)


# ---------------------------------------------------------- gradients reach D, and only D


@pytest.mark.parametrize(
    "penalty",
    [
        lambda D, r, f, g: gradient_penalty(D, r, f, generator=g),
        lambda D, r, f, g: dragan_penalty(D, r, generator=g),
        lambda D, r, f, g: r1_penalty(D, r),
    ],
    ids=["wgan_gp", "dragan", "r1"],
)
def test_penalty_backpropagates_into_D(penalty):
    shape = (2, 3, 3)
    D = TinyD(shape)
    real = _data(shape, 1)
    fake = _data(shape, 2).requires_grad_(True)
    loss = penalty(D, real, fake, torch.Generator().manual_seed(3))
    loss.backward()
    assert fake.grad is None  # inputs are detached: nothing flows to G
    for p in D.parameters():
        assert p.grad is not None and p.grad.abs().max().item() > 1e-6
    # create_graph=True makes it the true gradient: compare one weight with central differences
    h = 1e-6
    with torch.no_grad():
        D.w1[0, 0] += h
    up = penalty(D, real, fake, torch.Generator().manual_seed(3)).item()
    with torch.no_grad():
        D.w1[0, 0] -= 2 * h
    down = penalty(D, real, fake, torch.Generator().manual_seed(3)).item()
    assert D.w1.grad[0, 0].item() == pytest.approx((up - down) / (2 * h), abs=1e-6)


def test_penalty_rejects_mismatched_inputs_and_outputs():
    D = TinyD((4,))
    with pytest.raises(ValueError, match="same shape"):
        gradient_penalty(D, _data((4,), 1), torch.zeros(2, 4, dtype=F64))

    class TwoOut(nn.Module):
        def forward(self, x):
            return x.flatten(1)[:, :2]  # (m, 2): not one logit per example

    with pytest.raises(ValueError, match="one logit per example"):
        r1_penalty(TwoOut(), _data((4,), 1))


def test_batchnorm_in():
    assert batchnorm_in(nn.Sequential(nn.Linear(3, 3), nn.Sequential(nn.BatchNorm1d(3))))
    assert batchnorm_in(nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)))
    assert batchnorm_in(nn.SyncBatchNorm(4))
    assert not batchnorm_in(nn.Sequential(nn.Linear(3, 3), nn.LayerNorm(3), nn.GroupNorm(1, 3)))
    assert not batchnorm_in(nn.InstanceNorm2d(3))  # per-example statistics: allowed
    assert not batchnorm_in(TinyD((5,)))
