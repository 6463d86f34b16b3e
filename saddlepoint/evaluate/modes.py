"""Mode coverage of samples from a mixture of isotropic Gaussians: the mode-collapse benchmark.

The 2-D ring of 8 and grid of 25 Gaussians (Metz et al. 2017, "Unrolled GANs"; Srivastava et
al. 2017, "VEEGAN") are scored in two numbers. Each sample x_i is assigned to its nearest centre
m(i) = argmin_m |x_i - mu_m|; it is *high quality* when it lies within `threshold` standard
deviations of that centre, |x_i - mu_m(i)| <= threshold * sigma (VEEGAN: three standard
deviations). Then

    high_quality_share = #{i : x_i high quality} / N
    counts[m]          = #{i : x_i high quality and m(i) = m}
    modes_covered      = #{m : counts[m] >= min_count}

min_count defaults to a fifth of a mode's fair share, ceil(N / (5 M)): the rule of Lin et al.
2018 ("PacGAN": a mode is lost with fewer than 20 of 2,500 samples on the 25-mode grid, 1/5 of
the 100 it should receive), which a few stray samples cannot satisfy. min_count=1 is VEEGAN's
rule (a mode is captured when at least one high-quality sample lands on it).

For samples from the mixture itself, |x - mu|^2 / sigma^2 is chi-squared with D degrees of
freedom, so the expected high-quality share is P(chi2_D <= threshold^2): 0.9973 in 1-D and
1 - exp(-9/2) = 0.9889 in 2-D at three standard deviations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from saddlepoint.errors import SaddlepointError


@dataclass(frozen=True)
class ModeCoverage:
    """How many modes a sample covers, and how much of it lies on some mode."""

    modes_covered: int  # modes with at least min_count high-quality samples
    n_modes: int  # M, the number of centres
    high_quality_share: float  # share of samples within threshold * std of their nearest mode
    counts: tuple[int, ...]  # (M,) high-quality samples assigned to each mode
    min_count: int  # the high-quality samples a mode needed to count as covered
    threshold: float  # in standard deviations
    n_samples: int  # N

    @property
    def covered(self) -> tuple[bool, ...]:
        """(M,) whether each mode is covered."""
        return tuple(c >= self.min_count for c in self.counts)


def _as_points(value: np.ndarray | torch.Tensor, name: str) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().double().numpy()
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != 2:
        raise SaddlepointError(f"{name} must be a 2-D array (N, D), got shape {array.shape}.")
    return array


def mode_coverage(
    samples: np.ndarray | torch.Tensor,  # (N, D) generated points
    centres: np.ndarray | torch.Tensor,  # (M, D) the mixture's mode centres mu_m
    std: float,  # sigma, each mode's standard deviation along every axis
    *,
    threshold: float = 3.0,  # high quality: within threshold * std of the nearest centre
    min_count: int | None = None,  # None: ceil(N / (5 M)), a fifth of a mode's fair share
) -> ModeCoverage:
    """Modes covered and the share of high-quality samples (see the module docstring)."""
    x = _as_points(samples, "samples")
    mu = _as_points(centres, "centres")
    if x.shape[1] != mu.shape[1]:
        raise SaddlepointError(
            f"samples have {x.shape[1]} dimensions but the centres have {mu.shape[1]}: "
            "pass points of the mixture's dimension."
        )
    if len(x) == 0 or len(mu) == 0:
        raise SaddlepointError("mode_coverage needs at least one sample and one centre.")
    if not std > 0 or not threshold > 0:
        raise SaddlepointError(
            f"std and threshold must be positive, got std={std} and threshold={threshold}."
        )
    n, m = len(x), len(mu)
    if min_count is None:
        min_count = math.ceil(n / (5 * m))
    if min_count < 1:
        raise SaddlepointError(f"min_count must be at least 1, got {min_count}.")
    if not np.isfinite(x).all():
        raise SaddlepointError(
            "samples contain NaN or infinite values: the generator diverged; "
            "evaluate an earlier snapshot or retrain with lower learning rates."
        )

    nearest = np.empty(n, dtype=np.int64)  # (N,) index of the nearest centre
    distance = np.empty(n)  # (N,) Euclidean distance to it
    for start in range(0, n, 8192):  # (chunk, M) squared distances, bounded memory
        chunk = x[start : start + 8192]
        squared = ((chunk[:, None, :] - mu[None, :, :]) ** 2).sum(-1)
        nearest[start : start + len(chunk)] = squared.argmin(1)
        distance[start : start + len(chunk)] = np.sqrt(squared.min(1))
    good = distance <= threshold * std  # (N,) high-quality samples
    counts = np.bincount(nearest[good], minlength=m)  # (M,)
    return ModeCoverage(
        modes_covered=int((counts >= min_count).sum()),
        n_modes=m,
        high_quality_share=float(good.mean()),
        counts=tuple(int(c) for c in counts),
        min_count=int(min_count),
        threshold=float(threshold),
        n_samples=n,
    )


__all__ = ["ModeCoverage", "mode_coverage"]
