"""Class coverage: counts, covered classes and KL(generated || data), the KL checked against
scipy.stats.entropy and against values known in closed form."""

from __future__ import annotations

import math

import pytest
import scipy.stats
import torch

from saddlepoint.errors import SaddlepointError
from saddlepoint.evaluate.class_coverage import class_coverage, class_distribution, kl_divergence

UNIFORM = torch.full((10,), 0.1, dtype=torch.float64)


def test_balanced_samples_cover_everything_with_zero_kl() -> None:
    got = class_coverage(torch.arange(100) % 10, UNIFORM)
    assert got.counts == (10,) * 10 and got.covered == 10 and got.classes == 10
    assert abs(got.kl) < 1e-15


def test_total_collapse_gives_log_k() -> None:
    """Every sample in one class of ten equally likely ones: KL = 1 * log(1 / 0.1) = log 10."""
    got = class_coverage(torch.full((50,), 3), UNIFORM)
    assert got.covered == 1 and got.counts[3] == 50
    assert got.kl == pytest.approx(math.log(10), abs=1e-12)


def test_kl_matches_scipy_on_a_partial_collapse() -> None:
    predicted = torch.tensor([0] * 30 + [1] * 10 + [2] * 5 + [7] * 5)  # 4 of 10 classes
    data = torch.tensor([0.05, 0.15, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], dtype=torch.float64)
    got = class_coverage(predicted, data)
    q = [c / 50 for c in got.counts]
    assert got.covered == 4
    assert got.kl == pytest.approx(float(scipy.stats.entropy(q, data.numpy())), rel=1e-12)
    assert class_coverage(predicted, data, min_count=6).covered == 2  # classes 0 and 1


def test_data_distribution_from_labels_and_infinite_kl() -> None:
    labels = torch.tensor([0, 0, 1, 3])
    assert class_distribution(labels, 4).tolist() == [0.5, 0.25, 0.0, 0.25]
    # samples in a class the data never has: infinite divergence
    assert kl_divergence(torch.tensor([0.5, 0.5, 0.0]), torch.tensor([1.0, 0.0, 0.0])) == math.inf
    with pytest.raises(SaddlepointError, match="only 2 classes"):
        class_distribution(labels, 2)
    with pytest.raises(SaddlepointError, match="at least one"):
        class_coverage(torch.tensor([], dtype=torch.long), UNIFORM)
