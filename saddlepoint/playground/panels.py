"""The theory lab's two games as interactive panels: the numbers each request asks for.

    ab_game            v(a, b) = a b played from a chosen start with step eta: the lab's
                       simultaneous (spirals out), alternating (orbits) and continuous (circles)
                       dynamics, with the distance from the saddle point and the alternating
                       map's conserved quantity (lab/ab_game.py)
    lambda_divergence  P = 0.5 N(-2, 0.5^2) + 0.5 N(2, 0.5^2) against a Gaussian Q: the best Q
                       under D_lambda, the minima reached from a covering and from a seeking
                       start, and the value of every divergence at the page's own Q
                       (lab/lambda_divergence.py)

Arguments come from the page's query string; each is checked, with one sentence when it is
out of range.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from saddlepoint.errors import SaddlepointError
from saddlepoint.lab import ab_game as ab
from saddlepoint.lab import lambda_divergence as ld
from saddlepoint.lab.densities import normal

CURVE = np.linspace(-6.0, 6.0, 241)  # where P and Q are drawn


def number(query: dict[str, str], name: str, default: float, lo: float, hi: float) -> float:
    """A query-string number within [lo, hi], or one sentence why not."""
    raw = query.get(name, default)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise SaddlepointError(f"{name} must be a number, not {raw!r}.") from None
    if not (math.isfinite(value) and lo <= value <= hi):
        raise SaddlepointError(f"{name} must lie between {lo:g} and {hi:g}, got {raw!r}.")
    return value


def _rounded(a: np.ndarray) -> list:
    return np.round(a, 5).tolist()


def ab_game(query: dict[str, str]) -> dict[str, Any]:
    """The three dynamics of v(a, b) = a b from (a, b) with step eta (ab.run's, interactive)."""
    eta = number(query, "eta", 0.1, 0.001, 1.99)  # in (0, 2): alternating steps stay bounded
    steps = int(number(query, "steps", 300, 1, 5000))
    a = number(query, "a", ab.START[0], -5, 5)
    b = number(query, "b", ab.START[1], -5, 5)
    if a == 0 and b == 0:
        raise SaddlepointError("(0, 0) is the saddle point itself: start anywhere else.")
    sim = ab.simultaneous(a, b, eta, steps)
    alt = ab.alternating(a, b, eta, steps)
    flow = ab.continuous(a, b, eta * np.arange(steps + 1))
    return {
        "eta": eta,
        "steps": steps,
        "start": [a, b],
        "simultaneous": _rounded(sim),
        "alternating": _rounded(alt),
        "continuous": _rounded(flow),
        "radius": {
            "simultaneous": float(ab.radius(sim)[-1]),
            "alternating_max": float(ab.radius(alt).max()),
            "continuous": float(ab.radius(flow)[-1]),
            "start": math.hypot(a, b),
        },
        "invariant": float(ab.invariant(alt, eta)[0]),  # a^2 + b^2 - eta a b, conserved
        "invariant_drift": float(
            np.abs(ab.invariant(alt, eta) / ab.invariant(alt, eta)[0] - 1).max()
        ),
    }


@lru_cache(maxsize=1)
def _grid() -> ld.GridDivergences:
    return ld.GridDivergences(ld.P)


def _fit(point: dict[str, Any]) -> dict[str, Any]:
    return {
        "mean": point["mean"],
        "std": point["std"],
        "value": point["value"],
        "kind": point["kind"],
        "covers_both_modes": ld.describe(point["mean"], point["std"])["covers_both_modes"],
        "curve": _rounded(normal(point["mean"], point["std"]).pdf(CURVE)),
    }


def lambda_divergence(query: dict[str, str]) -> dict[str, Any]:
    """The best Gaussian Q for P under D_lambda, and every divergence at the page's Q."""
    lam = number(query, "lambda", 0.5, 0.01, 0.99)
    mu = number(query, "mu", 0.0, *ld.MEAN_BOUNDS)
    sigma = number(query, "sigma", 1.0, *ld.STD_BOUNDS)
    grid = _grid()
    js = grid.js(lam)
    theta = np.array([mu, math.log(sigma)])
    return {
        "lambda": lam,
        "x": _rounded(CURVE),
        "p": _rounded(ld.P.pdf(CURVE)),
        "best": _fit(ld.minimise(js)[0]),
        "from_covering_start": _fit(ld.minimise(js, ((0.0, 2.0),))[0]),
        "from_seeking_start": _fit(ld.minimise(js, ((2.0, 0.5),))[0]),
        "kl_pq_best": _fit(ld.minimise(grid.kl_pq)[0]),
        "kl_qp_best": _fit(ld.minimise(grid.kl_qp)[0]),
        "yours": {
            "mean": mu,
            "std": sigma,
            "curve": _rounded(normal(mu, sigma).pdf(CURVE)),
            "d_lambda": js(theta)[0],
            "jsd": grid.js(0.5)(theta)[0],
            "kl_pq": grid.kl_pq(theta)[0],
            "kl_qp": grid.kl_qp(theta)[0],
        },
    }
