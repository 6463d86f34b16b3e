"""The divergence each objective minimises when D is optimal, estimated from grid histograms.

For G fixed, the minimax game's optimal discriminator is D* = p_data / (p_data + p_g), and then
V(D*, G) = C(G) = -log 4 + 2 JSD(p_data || p_g) (Goodfellow et al. 2014, Theorem 1). The other
objectives' generators, at their own optimal D, minimise other divergences:

    minimax             JSD(p_data || p_g)              C(G) = -log 4 + 2 JSD (Theorem 1)
    non_saturating      KL(p_g || p_data) - 2 JSD       Arjovsky & Bottou 2017, Theorem 2.5
    maximum_likelihood  KL(p_data || p_g)               Goodfellow 2014, "On distinguishability
                                                        criteria"; NIPS tutorial section 3.2.3
    least_squares       1/2 sum p_g^2 / (p_data + p_g)  Mao et al. 2017 eq. (3)-(4) with the
                                                        0-1 coding (a=0, b=c=1): least 1/4
    least_squares_pearson  1/2 sum (p_data - p_g)^2 / (p_data + p_g)  Mao et al. 2017 eq. (9)
                        coding (a=-1, b=1, c=0): half Pearson chi^2(p_data + p_g || 2 p_g); least 0
    hinge, ebgan        TV = 1/2 sum |p_data - p_g|     Lim & Ye 2017; Arjovsky et al. 2017 s. 4
    wasserstein         W1(p_data, p_g)                 Arjovsky et al. 2017 (a 1-Lipschitz D)
    began               none in closed form; JSD shown for reference

Estimates: both densities as histograms on the page's box, GRID_2D x GRID_2D cells in 2-D or
GRID_1D cells on the line, plus one cell for everything outside the box (mass G puts off the
picture counts as mass where the data has none). JSD and TV use the raw histograms; the KLs,
which are infinite where one histogram has an empty cell the other has not, add SMOOTHING
counts to every cell (the Krichevsky-Trofimov estimate). W1 on the line is the exact W1 of the
two equal-size samples, mean |sorted x - sorted y|; in the plane it is the cost of the optimal
matching of W1_SAMPLES points of each (scipy's linear_sum_assignment). A histogram estimate of
divergence is biased by its finite samples: `floor` is the same estimate between two
independent samples of the data itself, what an ideal G would score.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

GRID_2D = 32  # cells per axis in the plane
GRID_1D = 128  # cells on the line
SMOOTHING = 0.5  # counts added to every cell for the KLs
W1_SAMPLES = 256  # points of each sample matched for W1 in the plane
LOG4 = math.log(4.0)


@dataclass(frozen=True)
class Histogram:
    counts: np.ndarray  # (cells + 1,) float64: the cells in C order, then everything outside
    shape: tuple[int, ...]  # the grid's shape, (GRID_2D, GRID_2D) or (GRID_1D,)

    @property
    def n(self) -> float:
        return float(self.counts.sum())

    def probs(self, smoothing: float = 0.0) -> np.ndarray:
        """(cells + 1,) probabilities, with `smoothing` counts added to every cell."""
        c = self.counts + smoothing
        return c / c.sum()


def histogram(x: np.ndarray, extent: tuple[tuple[float, float], ...]) -> Histogram:
    """(N, D) points counted in the grid over extent, plus the outside cell."""
    x = np.asarray(x, dtype=np.float64)
    bins = GRID_2D if x.shape[1] == 2 else GRID_1D
    shape = (bins,) * x.shape[1]
    inside_counts, _ = np.histogramdd(x, bins=shape, range=extent)  # (bins,) * D
    inside = inside_counts.sum()
    counts = np.append(inside_counts.reshape(-1), len(x) - inside)
    return Histogram(counts, shape)


def _xlogy_ratio(p: np.ndarray, q: np.ndarray) -> float:
    """sum p log(p / q) over the cells where p > 0 (0 log 0 = 0)."""
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] / q[mask])))


def jsd(p: np.ndarray, q: np.ndarray) -> float:
    """JSD(P || Q) = 1/2 KL(P || M) + 1/2 KL(Q || M), M = (P + Q) / 2; in [0, log 2]."""
    m = 0.5 * (p + q)
    return 0.5 * _xlogy_ratio(p, m) + 0.5 * _xlogy_ratio(q, m)


def kl(p: np.ndarray, q: np.ndarray) -> float:
    """KL(P || Q) = sum p log(p / q); infinite where q = 0 < p (smooth the histograms first)."""
    if np.any((q == 0) & (p > 0)):
        return math.inf
    return _xlogy_ratio(p, q)


def tv(p: np.ndarray, q: np.ndarray) -> float:
    """Total variation 1/2 sum |p - q|, in [0, 1]."""
    return 0.5 * float(np.abs(p - q).sum())


def lsgan(p: np.ndarray, q: np.ndarray) -> float:
    """LSGAN's C(G) with the 0-1 coding: 1/2 sum q^2 / (p + q); 1/4 exactly when q = p."""
    mask = (p + q) > 0
    return 0.5 * float(np.sum(q[mask] ** 2 / (p[mask] + q[mask])))


def lsgan_pearson(p: np.ndarray, q: np.ndarray) -> float:
    """LSGAN's C(G) with eq. (9)'s coding: 1/2 sum (p - q)^2 / (p + q); 0 exactly when q = p."""
    mask = (p + q) > 0
    return 0.5 * float(np.sum((p[mask] - q[mask]) ** 2 / (p[mask] + q[mask])))


def w1(real: np.ndarray, fake: np.ndarray) -> float:
    """W1 between two equal-size samples: on the line exactly, in the plane by optimal matching
    of their first W1_SAMPLES points."""
    if real.shape[1] == 1:
        n = min(len(real), len(fake))
        return float(np.abs(np.sort(real[:n, 0]) - np.sort(fake[:n, 0])).mean())
    a, b = real[:W1_SAMPLES], fake[:W1_SAMPLES]
    cost = cdist(a, b)  # (n, n) Euclidean distances
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


@dataclass(frozen=True)
class Criterion:
    """What an objective's generator minimises at the optimal D, and how it is estimated."""

    label: str  # as the page shows it
    least: float | None  # its value at p_g = p_data, or None when there is no closed form
    estimate: Callable[[Histogram, Histogram, np.ndarray, np.ndarray], float]


def _smoothed(f: Callable[[np.ndarray, np.ndarray], float]) -> Callable[..., float]:
    return lambda hp, hq, real, fake: f(hp.probs(SMOOTHING), hq.probs(SMOOTHING))


def _raw(f: Callable[[np.ndarray, np.ndarray], float]) -> Callable[..., float]:
    return lambda hp, hq, real, fake: f(hp.probs(), hq.probs())


def _ns(hp: Histogram, hq: Histogram, real: np.ndarray, fake: np.ndarray) -> float:
    p, q = hp.probs(SMOOTHING), hq.probs(SMOOTHING)
    return kl(q, p) - 2 * jsd(p, q)


_JSD = Criterion("JSD(p_data ‖ p_g)", 0.0, _raw(jsd))
_TV = Criterion("TV(p_data, p_g)", 0.0, _raw(tv))
CRITERIA: dict[str, Criterion] = {  # objective name -> its criterion (others: JSD, no claim)
    "minimax": _JSD,
    "non_saturating": Criterion("KL(p_g ‖ p_data) − 2 JSD", 0.0, _ns),
    "maximum_likelihood": Criterion("KL(p_data ‖ p_g)", 0.0, _smoothed(kl)),
    "least_squares": Criterion("½ Σ p_g² / (p_data + p_g)", 0.25, _raw(lsgan)),
    "least_squares_pearson": Criterion(
        "½ Σ (p_data − p_g)² / (p_data + p_g)", 0.0, _raw(lsgan_pearson)
    ),
    "hinge": _TV,
    "ebgan": _TV,
    "wasserstein": Criterion("W1(p_data, p_g)", 0.0, lambda hp, hq, real, fake: w1(real, fake)),
}
REFERENCE = Criterion("JSD(p_data ‖ p_g) (no closed form for this objective)", None, _raw(jsd))


def criterion(objective: str) -> Criterion:
    return CRITERIA.get(objective, REFERENCE)


@dataclass(frozen=True)
class Divergences:
    """One frame's estimates."""

    objective_label: str  # what the objective minimises at the optimal D
    objective_value: float
    objective_least: float | None  # its value at p_g = p_data
    floor: float  # the same estimate between two samples of the data: its bias
    jsd: float  # JSD(p_data || p_g) from the histograms
    c_g: float  # -log 4 + 2 JSD: V(D*, G), the minimax game's value at the optimal D
    jsd_floor: float  # JSD between two samples of the data

    def to_dict(self) -> dict:
        return {
            "label": self.objective_label,
            "value": self.objective_value,
            "least": self.objective_least,
            "floor": self.floor,
            "jsd": self.jsd,
            "c_g": self.c_g,
            "jsd_floor": self.jsd_floor,
        }


@dataclass(frozen=True)
class Sample:
    """Points and their histogram on the page's box."""

    x: np.ndarray  # (N, D)
    hist: Histogram

    @classmethod
    def of(cls, x: np.ndarray, extent: tuple[tuple[float, float], ...]) -> Sample:
        return cls(x, histogram(x, extent))


def floors(real: Sample, other: Sample) -> dict[str, float]:
    """Each criterion's estimate between two samples of the data, by label, and JSD's."""
    found = {c.label: c.estimate(real.hist, other.hist, real.x, other.x) for c in CRITERIA.values()}
    found[REFERENCE.label] = found["jsd"] = jsd(real.hist.probs(), other.hist.probs())
    return found


def estimate(objective: str, real: Sample, fake: Sample, floor: dict[str, float]) -> Divergences:
    """The objective's criterion and JSD between the data (real) and G's samples (fake), with
    their floors (from `floors`)."""
    c = criterion(objective)
    j = jsd(real.hist.probs(), fake.hist.probs())
    value = c.estimate(real.hist, fake.hist, real.x, fake.x)
    return Divergences(c.label, value, c.least, floor[c.label], j, -LOG4 + 2 * j, floor["jsd"])


def optimal_discriminator(real: Histogram, fake: Histogram) -> np.ndarray:
    """D* = p_data / (p_data + p_g) on the grid's cells, shape `real.shape`; NaN where both
    histograms are empty (D* is not defined where neither density puts mass)."""
    p, q = real.probs()[:-1], fake.probs()[:-1]
    total = p + q
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.where(total > 0, p / total, np.nan)
    return d.reshape(real.shape)
