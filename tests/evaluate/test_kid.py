"""The kernel distance against a brute-force MMD written from the formula (Gretton et al. 2012,
eq. 3; Binkowski et al. 2018), one pair at a time in float64."""

from __future__ import annotations

import math

import pytest
import torch

from saddlepoint.errors import SaddlepointError
from saddlepoint.evaluate.kid import kernel_distance, polynomial_mmd2


def brute_force_mmd2(x: list[list[float]], y: list[list[float]]) -> float:
    """Unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3, every pair summed with math.fsum."""
    d, m = len(x[0]), len(x)

    def k(a: list[float], b: list[float]) -> float:
        return (math.fsum(p * q for p, q in zip(a, b, strict=True)) / d + 1.0) ** 3

    xx = math.fsum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j)
    yy = math.fsum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    xy = math.fsum(k(x[i], y[j]) for i in range(m) for j in range(m))
    return xx / (m * (m - 1)) + yy / (m * (m - 1)) - 2 * xy / (m * m)


def randn(*shape: int, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize(("m", "d", "shift"), [(7, 3, 0.0), (12, 5, 0.7), (20, 64, 0.2)])
def test_mmd_matches_brute_force(m: int, d: int, shift: float) -> None:
    x, y = randn(m, d, seed=1), randn(m, d, seed=2) + shift
    expected = brute_force_mmd2(x.double().tolist(), y.double().tolist())
    assert polynomial_mmd2(x, y) == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_subsets_are_brute_force_mmds_of_seeded_draws() -> None:
    """Each subset draws subset_size rows without replacement from each set, by randperm from
    a generator seeded with `seed` (real first, then fake); mean and population std of those."""
    real, fake = randn(15, 4, seed=3), randn(11, 4, seed=4) + 0.5
    got = kernel_distance(real, fake, subsets=5, subset_size=6, seed=7)
    g = torch.Generator().manual_seed(7)
    values = []
    for _ in range(5):
        r = real[torch.randperm(15, generator=g)[:6]]
        f = fake[torch.randperm(11, generator=g)[:6]]
        values.append(brute_force_mmd2(r.double().tolist(), f.double().tolist()))
    mean = math.fsum(values) / 5
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / 5)
    assert (got.subsets, got.subset_size) == (5, 6)
    assert got.mean == pytest.approx(mean, rel=1e-10)
    assert got.std == pytest.approx(std, rel=1e-8)


def test_whole_sets_give_one_value_and_subset_size_is_capped() -> None:
    real, fake = randn(9, 3, seed=5), randn(9, 3, seed=6)
    got = kernel_distance(real, fake, subsets=4, subset_size=1000)
    expected = brute_force_mmd2(real.double().tolist(), fake.double().tolist())
    assert got.subset_size == 9
    assert got.mean == pytest.approx(expected, rel=1e-10)
    assert got.std < 1e-12 * abs(expected) + 1e-15  # every subset is a permutation of the sets


def test_unbiased_near_zero_for_one_distribution_and_grows_with_a_shift() -> None:
    """Same distribution: the mean over 50 subsets is within 3 standard errors of 0 (the
    estimator is unbiased and may be negative). A mean shift makes it clearly positive."""
    real = randn(2000, 8, seed=8)
    same = kernel_distance(real, randn(2000, 8, seed=9), subsets=50, subset_size=200)
    assert abs(same.mean) < 3 * same.std / math.sqrt(50)
    small = kernel_distance(real, randn(2000, 8, seed=9) + 0.3, subsets=50, subset_size=200)
    large = kernel_distance(real, randn(2000, 8, seed=9) + 0.6, subsets=50, subset_size=200)
    assert small.mean > 5 * small.std / math.sqrt(50)
    assert large.mean > 2 * small.mean


def test_errors_are_one_sentence() -> None:
    with pytest.raises(SaddlepointError, match="one extractor"):
        kernel_distance(randn(5, 3, seed=1), randn(5, 4, seed=1))
    with pytest.raises(SaddlepointError, match="draw more samples"):
        kernel_distance(randn(1, 3, seed=1), randn(5, 3, seed=1))
