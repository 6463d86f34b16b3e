"""mode_coverage on point sets whose answers are known by construction or in closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import chi2

from saddlepoint.data import toy
from saddlepoint.errors import SaddlepointError
from saddlepoint.evaluate.modes import mode_coverage

RING = toy.modes("ring8")  # 8 centres on a circle of radius 2, std 0.02
GRID = toy.modes("grid25")  # 25 centres on {-4..4}^2, std 0.05


def test_samples_on_every_centre_cover_every_mode():
    x = RING.centres.repeat(10, 1)  # (80, 2): 10 exact copies of each centre
    cov = mode_coverage(x, RING.centres, RING.std)
    assert cov.modes_covered == 8 and cov.n_modes == 8 and cov.n_samples == 80
    assert cov.high_quality_share == 1.0
    assert cov.counts == (10,) * 8 and cov.covered == (True,) * 8
    assert cov.min_count == math.ceil(80 / 40) == 2


def test_collapse_onto_one_mode_covers_one():
    x = GRID.centres[7].repeat(2500, 1) + 0.01 * torch.randn(2500, 2, dtype=torch.float64)
    cov = mode_coverage(x, GRID.centres, GRID.std)
    assert cov.modes_covered == 1 and cov.counts[7] == 2500 and sum(cov.counts) == 2500
    assert cov.high_quality_share == 1.0


def test_the_threshold_counts_standard_deviations_of_distance():
    sigma = GRID.std
    centre = GRID.centres[12]  # (0, 0)
    inside = centre + torch.tensor([2.99 * sigma, 0.0], dtype=torch.float64)
    on_edge = centre + torch.tensor([0.0, 3.0 * sigma * (1 - 1e-12)], dtype=torch.float64)
    outside = centre + torch.tensor([3.01 * sigma / math.sqrt(2)] * 2, dtype=torch.float64)
    x = torch.stack([inside, on_edge, outside, outside])
    cov = mode_coverage(x, GRID.centres, sigma, min_count=1)
    assert cov.high_quality_share == 0.5
    assert cov.counts[12] == 2 and cov.modes_covered == 1
    wider = mode_coverage(x, GRID.centres, sigma, threshold=3.1, min_count=1)
    assert wider.high_quality_share == 1.0 and wider.counts[12] == 4


def test_points_between_modes_are_low_quality_and_cover_nothing():
    # midpoints of neighbouring ring modes: distance 2 sin(pi/8) = 0.765 from each, 38 sigma
    angles = 2 * math.pi * (torch.arange(8, dtype=torch.float64) + 0.5) / 8
    x = 2.0 * torch.stack([torch.cos(angles), torch.sin(angles)], 1).repeat(50, 1)
    cov = mode_coverage(x, RING.centres, RING.std)
    assert cov.high_quality_share == 0.0 and cov.modes_covered == 0 and sum(cov.counts) == 0


def test_default_min_count_is_a_fifth_of_the_fair_share():
    # 2,500 samples on 25 modes: a mode needs ceil(2500 / 125) = 20 high-quality samples
    counts = [100] * 23 + [20, 19]
    rows = [GRID.centres[m].repeat(c, 1) for m, c in enumerate(counts)]
    rest = 2500 - sum(counts)  # far from every mode
    x = torch.cat(rows + [torch.full((rest, 2), 100.0, dtype=torch.float64)])
    cov = mode_coverage(x, GRID.centres, GRID.std)
    assert cov.min_count == 20 and cov.modes_covered == 24
    assert cov.covered[23] and not cov.covered[24]
    assert cov.high_quality_share == pytest.approx(sum(counts) / 2500, abs=1e-12)
    veegan = mode_coverage(x, GRID.centres, GRID.std, min_count=1)  # at least one sample
    assert veegan.modes_covered == 25


@pytest.mark.parametrize("name", ["ring8", "grid25", "gaussian1d"])
def test_samples_of_the_mixture_match_the_chi_squared_share(name):
    centres, std = toy.modes(name)
    n = 40_000
    x, _ = toy.sample(name, n, torch.Generator().manual_seed(3), dtype=torch.float64)
    cov = mode_coverage(x, centres, std)
    expected = chi2.cdf(9.0, df=centres.shape[1])  # P(|x - mu|^2 / sigma^2 <= 3^2)
    binomial_std = math.sqrt(expected * (1 - expected) / n)  # 5e-4 (2-D), 2.6e-4 (1-D)
    assert abs(cov.high_quality_share - expected) < 5 * binomial_std
    assert cov.modes_covered == len(centres)
    fair = n / len(centres)
    assert all(abs(c - fair * expected) < 6 * math.sqrt(fair) for c in cov.counts)


def test_numpy_and_torch_inputs_agree():
    x, _ = toy.sample("ring8", 500, torch.Generator().manual_seed(0))
    a = mode_coverage(x, RING.centres, RING.std)
    b = mode_coverage(x.numpy(), RING.centres.numpy(), RING.std)
    assert a == b


def test_bad_inputs_are_one_sentence_errors():
    c = RING.centres
    with pytest.raises(SaddlepointError, match="dimensions"):
        mode_coverage(np.zeros((4, 3)), c, 0.02)
    with pytest.raises(SaddlepointError, match=r"2-D array \(N, D\)"):
        mode_coverage(np.zeros(4), c, 0.02)
    with pytest.raises(SaddlepointError, match="NaN"):
        mode_coverage(np.full((4, 2), np.nan), c, 0.02)
    with pytest.raises(SaddlepointError, match="positive"):
        mode_coverage(np.zeros((4, 2)), c, 0.0)
    with pytest.raises(SaddlepointError, match="min_count"):
        mode_coverage(np.zeros((4, 2)), c, 0.02, min_count=0)
