"""The Inception Score against a direct computation from its definition (Salimans et al. 2016)
and against the values it must take at its two ends."""

from __future__ import annotations

import math

import pytest
import torch

from saddlepoint.errors import SaddlepointError
from saddlepoint.evaluate.inception_score import inception_score


def direct_is(logits: list[list[float]], splits: int) -> tuple[float, float]:
    """exp(mean_x sum_y p(y|x) log(p(y|x) / p(y))) per contiguous split, in plain float math."""
    per = len(logits) // splits
    scores = []
    for k in range(splits):
        probs = []
        for row in logits[k * per : (k + 1) * per]:
            top = max(row)
            e = [math.exp(v - top) for v in row]
            total = math.fsum(e)
            probs.append([v / total for v in e])
        marginal = [math.fsum(p[y] for p in probs) / per for y in range(len(logits[0]))]
        kls = [
            math.fsum(p[y] * math.log(p[y] / marginal[y]) for y in range(len(p)) if p[y] > 0)
            for p in probs
        ]
        scores.append(math.exp(math.fsum(kls) / per))
    mean = math.fsum(scores) / splits
    return mean, math.sqrt(math.fsum((s - mean) ** 2 for s in scores) / splits)


@pytest.mark.parametrize(("n", "k", "splits", "scale"), [(31, 5, 3, 2.0), (100, 10, 10, 4.0)])
def test_matches_direct_computation(n: int, k: int, splits: int, scale: float) -> None:
    logits = torch.randn(n, k, generator=torch.Generator().manual_seed(n)) * scale
    mean, std = direct_is(logits.double().tolist(), splits)
    got = inception_score(logits, splits=splits)
    assert got.per_split == n // splits  # the remainder (31 = 3 x 10 + 1) is dropped
    assert got.mean == pytest.approx(mean, rel=1e-12)
    assert got.std == pytest.approx(std, rel=1e-9, abs=1e-12)
    assert 1.0 <= got.mean <= k


def test_the_two_ends_of_its_range() -> None:
    """Confident and balanced over K classes: IS = K. One distribution for all samples: 1."""
    confident = torch.full((40, 8), -60.0)
    confident[torch.arange(40), torch.arange(40) % 8] = 60.0
    assert inception_score(confident, splits=5).mean == pytest.approx(8.0, abs=1e-9)
    same = torch.randn(1, 8).expand(40, 8)
    result = inception_score(same, splits=4)
    assert result.mean == pytest.approx(1.0, abs=1e-12) and result.std < 1e-12
    # half the samples on class 0, half on class 1, each certain: exp(log 2) = 2
    two = torch.full((20, 6), -50.0)
    two[:10, 0] = two[10:, 1] = 50.0
    assert inception_score(two[torch.randperm(20)], splits=1).mean == pytest.approx(2.0, abs=1e-9)


def test_too_few_samples_is_one_clear_error() -> None:
    with pytest.raises(SaddlepointError, match="draw at least 10 samples"):
        inception_score(torch.randn(9, 4), splits=10)
    with pytest.raises(SaddlepointError, match="class logits"):
        inception_score(torch.randn(9), splits=1)
