"""Gaussian mixtures on the line and the divergences between them, by adaptive quadrature.

The lab's 1-D distributions are mixtures p(x) = sum_k w_k N(x; mu_k, s_k^2), known exactly, so
every divergence the seed notes use (KL, the Jensen-Shannon divergence, the lambda-divergence of
seed 003) is a 1-D integral that `scipy.integrate.quad` evaluates to ~1e-12 in float64:

    KL(P || Q)        = int p log(p / q) dx
    JSD(P || Q)       = 1/2 KL(P || M) + 1/2 KL(Q || M),             M = (P + Q) / 2
    D_lambda(P || Q)  = lambda KL(P || M) + (1 - lambda) KL(Q || M),  M = lambda P + (1 - lambda) Q

Densities are handled as log-densities (logsumexp over components) so that tails far from
every mode neither underflow to log 0 nor lose digits.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import integrate
from scipy.special import logsumexp

from saddlepoint.errors import SaddlepointError

TAIL_STDS = 14.0  # integrate over [min(mu - 14 s), max(mu + 14 s)]: the rest has mass < 1e-44
QUAD_EPSABS = 1e-14  # absolute error asked of quad
QUAD_EPSREL = 1e-12  # relative error asked of quad
QUAD_LIMIT = 500  # subintervals quad may use
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


@dataclass(frozen=True)
class Mixture:
    """p(x) = sum_k weights[k] N(x; means[k], stds[k]^2), a density on the real line."""

    weights: tuple[float, ...]  # mixing weights, positive, summing to 1
    means: tuple[float, ...]  # component means
    stds: tuple[float, ...]  # component standard deviations, positive

    def __post_init__(self) -> None:
        k = len(self.weights)
        if k == 0 or len(self.means) != k or len(self.stds) != k:
            raise SaddlepointError(
                "a mixture needs the same positive number of weights, means and stds, "
                f"got {len(self.weights)}, {len(self.means)} and {len(self.stds)}."
            )
        if min(self.weights) <= 0 or abs(sum(self.weights) - 1.0) > 1e-12:
            raise SaddlepointError(
                f"mixture weights must be positive and sum to 1, got {self.weights}."
            )
        if min(self.stds) <= 0 or not all(map(math.isfinite, self.means + self.stds)):
            raise SaddlepointError(
                f"mixture stds must be positive and means finite, got means {self.means} "
                f"and stds {self.stds}."
            )

    def log_pdf(self, x: np.ndarray | float) -> np.ndarray | float:
        """log p(x), elementwise, float64; a Python float in, a Python float out (for quad)."""
        # log w_k + log N(x; mu_k, s_k^2) = log w_k - (x - mu_k)^2 / (2 s_k^2) - log(s_k sqrt(2 pi))
        if isinstance(x, float):  # quad's scalar calls: plain math is ~50x faster than numpy
            terms = [
                math.log(w) - 0.5 * ((x - m) / s) ** 2 - math.log(s) - _HALF_LOG_2PI
                for w, m, s in zip(self.weights, self.means, self.stds)
            ]
            top = max(terms)
            return top + math.log(math.fsum(math.exp(t - top) for t in terms))
        x = np.asarray(x, dtype=np.float64)[..., None]  # (..., 1) against (K,)
        mu, s = np.asarray(self.means), np.asarray(self.stds)
        terms = np.log(self.weights) - 0.5 * ((x - mu) / s) ** 2 - np.log(s) - _HALF_LOG_2PI
        return logsumexp(terms, axis=-1)

    def pdf(self, x: np.ndarray | float) -> np.ndarray | float:
        return np.exp(self.log_pdf(x)) if not isinstance(x, float) else math.exp(self.log_pdf(x))

    def mean(self) -> float:
        """E[x] = sum_k w_k mu_k."""
        return float(np.dot(self.weights, self.means))

    def variance(self) -> float:
        """Var[x] = sum_k w_k (s_k^2 + mu_k^2) - E[x]^2."""
        w, mu, s = (np.asarray(v) for v in (self.weights, self.means, self.stds))
        return float(np.dot(w, s**2 + mu**2) - self.mean() ** 2)

    def support(self) -> tuple[float, float]:
        """An interval outside which the density's mass is negligible (< 1e-44)."""
        mu, s = np.asarray(self.means), np.asarray(self.stds)
        return float(np.min(mu - TAIL_STDS * s)), float(np.max(mu + TAIL_STDS * s))

    def blend(self, other: Mixture, weight: float) -> Mixture:
        """The mixture weight * self + (1 - weight) * other (itself a Gaussian mixture)."""
        return Mixture(
            tuple(weight * w for w in self.weights)
            + tuple((1 - weight) * w for w in other.weights),
            self.means + other.means,
            self.stds + other.stds,
        )

    def label(self) -> str:
        """E.g. 'N(0, 1^2)' or '0.5 N(-2, 0.5^2) + 0.5 N(2, 0.5^2)'."""
        parts = [f"N({m:g}, {s:g}^2)" for m, s in zip(self.means, self.stds)]
        if len(parts) == 1:
            return parts[0]
        return " + ".join(f"{w:g} {p}" for w, p in zip(self.weights, parts))


def _logaddexp(a: float, b: float) -> float:
    """log(e^a + e^b) for floats, without overflow."""
    top = max(a, b)
    return top + math.log1p(math.exp(-abs(a - b)))


def normal(mean: float, std: float) -> Mixture:
    """N(mean, std^2) as a one-component mixture."""
    return Mixture((1.0,), (float(mean),), (float(std),))


def integrate_line(f: Callable[[float], float], *densities: Mixture) -> float:
    """int f(x) dx over the union of the densities' supports, with breakpoints at every mode.

    f must be negligible outside that interval (true of p * anything polynomial-or-log in x).
    """
    lo = min(d.support()[0] for d in densities)
    hi = max(d.support()[1] for d in densities)
    modes = sorted({m for d in densities for m in d.means})
    value, _ = integrate.quad(
        f, lo, hi, points=modes, epsabs=QUAD_EPSABS, epsrel=QUAD_EPSREL, limit=QUAD_LIMIT
    )
    return float(value)


def kl(p: Mixture, q: Mixture) -> float:
    """KL(P || Q) = int p(x) (log p(x) - log q(x)) dx, in nats."""

    def f(x: float) -> float:
        lp = p.log_pdf(x)
        return math.exp(lp) * (lp - q.log_pdf(x))

    return integrate_line(f, p, q)


def jsd(p: Mixture, q: Mixture) -> float:
    """JSD(P || Q) = 1/2 KL(P || M) + 1/2 KL(Q || M), M = (P + Q)/2; in [0, log 2] nats."""
    m = p.blend(q, 0.5)
    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


def lambda_divergence(p: Mixture, q: Mixture, lam: float) -> float:
    """D_lambda(P || Q) = lambda KL(P || M) + (1 - lambda) KL(Q || M), M = lambda P + (1-lambda) Q.

    Seed 003's normalisation: D_{1/2} is the Jensen-Shannon divergence itself (not twice it).
    """
    if not 0.0 < lam < 1.0:
        raise SaddlepointError(f"lambda must lie strictly between 0 and 1, got {lam}.")
    log_lam, log_rest = math.log(lam), math.log1p(-lam)

    def f(x: float) -> float:
        lp, lq = p.log_pdf(x), q.log_pdf(x)
        lm = _logaddexp(log_lam + lp, log_rest + lq)  # log(lambda p + (1 - lambda) q)
        return lam * math.exp(lp) * (lp - lm) + (1 - lam) * math.exp(lq) * (lq - lm)

    return integrate_line(f, p, q)
