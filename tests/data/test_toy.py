"""Toy densities: exact log-densities that integrate to 1, samples centred on the modes."""

from __future__ import annotations

import math

import pytest
import torch
from scipy import stats

from saddlepoint.config import DataConfig
from saddlepoint.data import load_dataset, toy
from saddlepoint.errors import SaddlepointError


def riemann_integral(name: str, lo: float, hi: float) -> float:
    """Sum of p over a grid with spacing sigma / 2: for Gaussians that is exact to ~1e-30
    (the error of the Riemann sum is about 2 exp(-2 pi^2 sigma^2 / step^2))."""
    centres, std = toy.modes(name)
    step = std / 2
    axis = torch.arange(lo, hi, step, dtype=torch.float64)  # (K,)
    if centres.shape[1] == 1:
        points = axis[:, None]  # (K, 1)
    else:
        points = torch.cartesian_prod(axis, axis)  # (K^2, 2)
    total = sum(float(toy.log_prob(name, chunk).exp().sum()) for chunk in points.split(200_000))
    return total * step ** centres.shape[1]


@pytest.mark.parametrize(
    "name, lo, hi",
    [
        ("gaussian1d", -2.0, 10.0),
        ("ring8", -2.5, 2.5),
        ("grid25", -4.6, 4.6),
    ],
)
def test_log_prob_integrates_to_one(name, lo, hi):
    assert riemann_integral(name, lo, hi) == pytest.approx(1.0, abs=1e-6)


def test_gaussian1d_matches_scipy():
    x = torch.tensor([-30.0, 0.0, 3.2, 4.0, 4.5, 100.0], dtype=torch.float64)
    expected = torch.from_numpy(stats.norm(loc=4.0, scale=0.5).logpdf(x.numpy()))
    assert torch.allclose(toy.log_prob("gaussian1d", x), expected, rtol=1e-12, atol=0)
    assert torch.allclose(toy.log_prob("gaussian1d", x[:, None]), expected, rtol=1e-12, atol=0)


def test_mixture_matches_scipy_and_stays_finite_far_away():
    centres, std = toy.modes("ring8")
    x = torch.tensor([[2.0, 0.0], [0.01, 1.99], [0.3, -0.2], [50.0, 50.0]], dtype=torch.float64)
    densities = sum(
        stats.multivariate_normal(mean=c.numpy(), cov=std**2).pdf(x.numpy()) for c in centres
    ) / len(centres)
    got = toy.log_prob("ring8", x)
    assert torch.allclose(got[:2].exp(), torch.from_numpy(densities[:2]), rtol=1e-10, atol=0)
    # far from every mode the density underflows, but its log is exact and finite
    far = -((x[3] - centres) ** 2).sum(-1).min() / (2 * std**2)
    expected = far - math.log(8) - math.log(2 * math.pi * std**2)  # only the nearest mode counts
    assert torch.isfinite(got[3]) and float(got[3]) == pytest.approx(float(expected), rel=1e-9)
    assert toy.log_prob("ring8", x.float()).dtype == torch.float64


def test_modes_are_as_documented():
    centres, std = toy.modes("ring8")
    assert centres.shape == (8, 2) and std == 0.02
    assert torch.allclose(centres.norm(dim=1), torch.full((8,), 2.0, dtype=torch.float64))
    assert torch.allclose(centres[2], torch.tensor([0.0, 2.0], dtype=torch.float64), atol=1e-12)
    grid, grid_std = toy.modes("grid25")
    assert grid.shape == (25, 2) and grid_std == 0.05
    assert sorted(set(grid[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    line, line_std = toy.modes("gaussian1d")
    assert line.tolist() == [[4.0]] and line_std == 0.5


@pytest.mark.parametrize("name", toy.NAMES)
def test_samples_sit_on_their_modes(name):
    data = load_dataset(DataConfig(name=name), "train")
    centres, std = toy.modes(name)
    assert data.x.shape == (50_000, centres.shape[1]) and data.x.dtype == torch.float32
    counts = torch.bincount(data.y, minlength=len(centres))
    expected = 50_000 / len(centres)
    assert torch.all((counts - expected).abs() < 5 * math.sqrt(expected))  # equal weights
    for m, centre in enumerate(centres):
        points = data.x[data.y == m].double()  # (n_m, D)
        standard_error = std / math.sqrt(len(points))
        assert torch.all((points.mean(0) - centre).abs() < 5 * standard_error)
        assert float(points.std(0).mean()) == pytest.approx(std, rel=0.05)


def test_splits_are_fixed_and_independent():
    config = DataConfig(name="ring8")
    train, valid, test = (load_dataset(config, s) for s in ("train", "valid", "test"))
    assert (len(valid), len(test)) == (10_000, 10_000)
    assert torch.equal(load_dataset(config, "valid").x, valid.x)
    assert not torch.equal(valid.x, test.x) and not torch.equal(train.x[:10_000], valid.x)


def test_sample_is_reproducible_with_a_generator():
    first = toy.sample("grid25", 100, torch.Generator().manual_seed(3), dtype=torch.float64)
    second = toy.sample("grid25", 100, torch.Generator().manual_seed(3), dtype=torch.float64)
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
    assert first[0].dtype == torch.float64 and first[1].dtype == torch.int64


def test_bad_names_and_shapes():
    with pytest.raises(SaddlepointError, match="ring8"):
        toy.modes("ring9")
    with pytest.raises(SaddlepointError, match=r"\(\.\.\., 2\)"):
        toy.log_prob("ring8", torch.zeros(5, 3))
