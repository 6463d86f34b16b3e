"""Precision and recall (Kynkaanniemi et al. 2019) on point sets whose answers are known by hand,
and against a brute-force transcription of eq. 1 in plain float math."""

from __future__ import annotations

import math

import pytest
import torch

from saddlepoint.errors import SaddlepointError
from saddlepoint.evaluate import precision_recall as pr_module
from saddlepoint.evaluate.precision_recall import knn_radii, precision_recall

LINE = torch.tensor([[float(i), 0.0] for i in range(10)], dtype=torch.float64)  # 0..9 on a line


def brute_force(real: list[list[float]], fake: list[list[float]], k: int) -> tuple[float, float]:
    def radius(points: list[list[float]], i: int) -> float:
        return sorted(math.dist(points[i], q) for j, q in enumerate(points) if j != i)[k - 1]

    def share(queries: list[list[float]], centres: list[list[float]]) -> float:
        radii = [radius(centres, j) for j in range(len(centres))]
        hits = [any(math.dist(q, c) <= r for c, r in zip(centres, radii)) for q in queries]
        return sum(hits) / len(queries)

    return share(fake, real), share(real, fake)


def closest_call(real: torch.Tensor, fake: torch.Tensor, k: int) -> float:
    """How near, relative to the float32 rounding of ||a||^2 + ||b||^2 - 2 a.b, any point comes
    to the edge of another set's ball: smallest |d^2(q, c) - r_c^2| over every query q and
    centre c, both ways, in float64, over 2 (d + 3) u max ||x||^2 (one such error in the
    distance and one in the radius; u = 2^-24). Above 1 no float32 summation order can move a
    point across an edge, so exact agreement of the counts is owed on every CPU."""
    real, fake = real.double(), fake.double()
    closest = math.inf
    for queries, centres in ((fake, real), (real, fake)):
        d_cc = torch.cdist(centres, centres).square()
        radii = d_cc.topk(k + 1, dim=1, largest=False).values[:, k]  # (m,) itself excluded
        gap = (torch.cdist(queries, centres).square() - radii[None, :]).abs().min()
        closest = min(closest, float(gap))
    norms = max(float(x.square().sum(1).max()) for x in (real, fake))
    return closest / (2 * (real.shape[1] + 3) * 2**-24 * norms)


def test_radii_on_a_line() -> None:
    """Points 0..9: the k-th nearest other point is k away at the ends, less inside."""
    assert knn_radii(LINE, 1).sqrt().tolist() == pytest.approx([1.0] * 10)
    # k = 3: point 0 -> {1, 2, 3} so 3; point 1 -> {0, 2, 3} so 2; point 4 -> {3, 5, 2 or 6} so 2
    assert knn_radii(LINE, 3).sqrt().tolist() == pytest.approx([3, 2, 2, 2, 2, 2, 2, 2, 2, 3])


def test_hand_computed_precision() -> None:
    """k = 1, every real ball has radius 1: (0.5, 0) and (4, 0.5) are inside, (20, 0) and (4, 5)
    are not, so precision = 2/4. The outlier (20, 0) has the largest generated ball (radius
    16.0) and covers real points 4..9, (0.5, 0) covers 0..4: recall = 10/10, the known
    weakness of k-NN balls that an outlier inflates."""
    fake = torch.tensor([[0.5, 0.0], [4.0, 0.5], [20.0, 0.0], [4.0, 5.0]], dtype=torch.float64)
    got = precision_recall(LINE, fake, k=1)
    assert got.precision == 0.5 and got.recall == 1.0
    assert got.f1 == pytest.approx(2 * 0.5 * 1.0 / 1.5)


def test_identical_far_and_half_covered_sets() -> None:
    shifted = LINE + torch.tensor([0.1, 0.1], dtype=torch.float64)
    got = precision_recall(LINE, shifted, k=3)
    assert (got.precision, got.recall) == (1.0, 1.0)
    far = precision_recall(LINE, LINE + 100.0, k=3)
    assert (far.precision, far.recall, far.f1) == (0.0, 0.0, 0.0)
    # the generator reproduces points 0..4 only (mode dropping): every sample is realistic,
    # and the generated balls (k = 2: radius 2 at 0, 1 and 4, radius 1 at 2 and 3) reach
    # real points 0..6 only: recall = 7/10
    half = precision_recall(LINE, LINE[:5].clone(), k=2)
    assert half.precision == 1.0 and half.recall == pytest.approx(0.7)


@pytest.mark.parametrize(
    ("n", "m", "k", "dtype"), [(40, 30, 3, torch.float64), (50, 60, 5, torch.float32)]
)
def test_matches_brute_force_on_random_clouds(n, m, k, dtype) -> None:
    g = torch.Generator().manual_seed(n + m)
    real = torch.randn(n, 6, generator=g, dtype=torch.float64)
    fake = torch.randn(m, 6, generator=g, dtype=torch.float64) + 1.5
    expected = brute_force(real.tolist(), fake.tolist(), k)
    got = precision_recall(real.to(dtype), fake.to(dtype), k=k)
    assert 0 < expected[0] < 1 and 0 < expected[1] < 1  # a non-trivial case
    assert closest_call(real.to(dtype), fake.to(dtype), k) > 10  # 180 and 120 here
    assert (got.precision, got.recall) == pytest.approx(expected, abs=1e-12)


def test_blocking_gives_the_same_answer(monkeypatch) -> None:
    g = torch.Generator().manual_seed(3)
    real, fake = torch.randn(70, 5, generator=g), torch.randn(80, 5, generator=g) + 0.3
    whole = precision_recall(real, fake)
    # a block of one row takes another matrix-product path, which may round differently; no
    # point lies within that rounding of a ball's edge (36 times it here), so the counts agree
    assert closest_call(real, fake, pr_module.K) > 10
    monkeypatch.setattr(pr_module, "BLOCK_ELEMENTS", 100)  # one or two rows per block
    assert precision_recall(real, fake) == whole


def test_errors_are_one_sentence() -> None:
    with pytest.raises(SaddlepointError, match="more than k"):
        precision_recall(LINE[:3], LINE, k=3)
    with pytest.raises(SaddlepointError, match="one extractor"):
        precision_recall(LINE, torch.zeros(4, 3), k=1)
