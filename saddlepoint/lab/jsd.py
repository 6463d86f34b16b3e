"""Lab `jsd`: the virtual training criterion C(G) is -log 4 + 2 JSD (Goodfellow et al. 2014).

Seed 001 (and 003): for G fixed, the optimal discriminator is (Proposition 1, eq. 2)

    D*(x) = p_data(x) / (p_data(x) + p_g(x)),   i.e. its logit is log p_data(x) - log p_g(x),

and C(G) = max_D V(D, G) = V(D*, G), where (eq. 1)

    V(D, G) = int p_data log D dx + int p_g log(1 - D) dx.

Theorem 1 (eqs. 5-6): C(G) = -log 4 + 2 JSD(p_data || p_g), so its global minimum -log 4 is
reached exactly when p_g = p_data.

Here both sides are computed independently by quadrature for pairs of 1-D densities: C(G) from
the discriminator's logits (V written with softplus, as the objectives are), JSD from its KL
definition with M = (p_data + p_g)/2 as a mixture in its own right. A scan of p_g = N(mu, 1)
against p_data = N(0, 1) shows the minimum at mu = 0. D* is also checked to beat perturbed
discriminators (V is strictly concave in D at every x).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from saddlepoint.errors import SaddlepointError
from saddlepoint.lab import output
from saddlepoint.lab.densities import Mixture, integrate_line, jsd, normal

NAME = "jsd"
DESCRIPTION = "C(G) = max_D V(D, G) = -log 4 + 2 JSD, least at p_g = p_data (Theorem 1)"
LOG4 = math.log(4.0)

BIMODAL = Mixture((0.5, 0.5), (-2.0, 2.0), (0.5, 0.5))  # 0.5 N(-2, 0.5^2) + 0.5 N(2, 0.5^2)

# (p_data, p_g) pairs: identical, shifted, rescaled, a mixture against a Gaussian, nearly disjoint.
PAIRS: tuple[tuple[Mixture, Mixture], ...] = (
    (normal(0, 1), normal(0, 1)),
    (normal(0, 1), normal(0.5, 1)),
    (normal(0, 1), normal(2, 1)),
    (normal(0, 1), normal(0, 3)),
    (normal(0, 1), normal(1, 0.5)),
    (BIMODAL, normal(0, 1)),
    (BIMODAL, normal(2, 0.5)),  # p_g on one of the two modes: mode collapse
    (normal(0, 1), normal(12, 1)),  # almost disjoint: JSD -> log 2, C -> 0
)

# Perturbations h(x) added to D*'s logit: each must give V(D, G) < C(G) (V is strictly concave
# in D at every x, and D* is its pointwise maximiser).
PERTURBATIONS: tuple[tuple[str, Callable[[float], float]], ...] = (
    ("+0.1", lambda x: 0.1),
    ("-0.5", lambda x: -0.5),
    ("+0.3 tanh(x)", lambda x: 0.3 * math.tanh(x)),
)


def _softplus(t: float) -> float:
    """softplus(t) = log(1 + e^t), stable for either sign."""
    return max(t, 0.0) + math.log1p(math.exp(-abs(t)))


def optimal_logit(p_data: Mixture, p_g: Mixture, x: float | np.ndarray) -> np.ndarray:
    """logit D*(x) = log p_data(x) - log p_g(x)  (Proposition 1, eq. 2, on the logit scale)."""
    return p_data.log_pdf(x) - p_g.log_pdf(x)


def value(p_data: Mixture, p_g: Mixture, logit: Callable[[float], float]) -> float:
    """V(D, G) = int p_data log D + int p_g log(1 - D), D = sigmoid(logit(x)), by quadrature.

    log sigmoid(l) = -softplus(-l) and log(1 - sigmoid(l)) = -softplus(l), as in objectives/.
    """
    real = integrate_line(lambda x: -p_data.pdf(x) * _softplus(-logit(x)), p_data, p_g)
    fake = integrate_line(lambda x: -p_g.pdf(x) * _softplus(logit(x)), p_data, p_g)
    return real + fake


def criterion(p_data: Mixture, p_g: Mixture) -> float:
    """C(G) = max_D V(D, G) = V(D*, G)  (eq. 4)."""
    return value(p_data, p_g, lambda x: optimal_logit(p_data, p_g, x))


def _pair_numbers(p_data: Mixture, p_g: Mixture) -> dict[str, Any]:
    c = criterion(p_data, p_g)
    j = jsd(p_data, p_g)
    perturbed = {
        name: value(p_data, p_g, lambda x, h=h: optimal_logit(p_data, p_g, x) + h(x))
        for name, h in PERTURBATIONS
    }
    return {
        "p_data": p_data.label(),
        "p_g": p_g.label(),
        "C": c,
        "JSD": j,
        "minus_log4_plus_2JSD": -LOG4 + 2 * j,
        "difference": c - (-LOG4 + 2 * j),  # Theorem 1, eq. (6): zero
        "V_perturbed": perturbed,  # logit D* + h(x): each below C, D* is the maximiser
        "C_minus_best_perturbed": c - max(perturbed.values()),
        "V_chance": value(p_data, p_g, lambda x: 0.0),  # D = 1/2: -log 4 whatever p_g is
    }


def run(out_dir: str | os.PathLike, *, scan_points: int = 81, scan_range: float = 4.0) -> dict:
    """Compute C(G) and JSD for PAIRS and a scan of mu; write jsd.json and two figures."""
    if scan_points < 3 or scan_points % 2 == 0:
        raise SaddlepointError(
            f"scan_points must be odd and at least 3 (so mu = 0 is scanned), got {scan_points}."
        )
    if not scan_range > 0:
        raise SaddlepointError(f"scan_range must be positive, got {scan_range}.")
    out = output.prepare(out_dir)
    pairs = [_pair_numbers(p, q) for p, q in PAIRS]

    # Theorem 1: scan p_g = N(mu, 1) against p_data = N(0, 1); minimum -log 4 at mu = 0 only.
    mus = np.linspace(-scan_range, scan_range, scan_points)
    mus[scan_points // 2] = 0.0  # exactly p_g = p_data in the middle
    scan_c = np.array([criterion(normal(0, 1), normal(mu, 1)) for mu in mus])
    best = int(np.argmin(scan_c))
    numbers: dict[str, Any] = {
        "minus_log4": -LOG4,
        "pairs": pairs,
        "max_abs_difference": max(abs(p["difference"]) for p in pairs),
        "min_C_minus_best_perturbed": min(p["C_minus_best_perturbed"] for p in pairs),
        "max_abs_V_chance_plus_log4": max(abs(p["V_chance"] + LOG4) for p in pairs),
        "scan": {
            "p_data": "N(0, 1^2)",
            "p_g": "N(mu, 1^2)",
            "mu": mus.tolist(),
            "C": scan_c.tolist(),
            "argmin_mu": float(mus[best]),
            "min_C": float(scan_c[best]),
            "min_C_plus_log4": float(scan_c[best] + LOG4),
        },
    }
    output.write_numbers(numbers, out / f"{NAME}.json")
    _plot_scan(mus, scan_c, out / "jsd-scan.png")
    _plot_optimal_discriminator(out / "jsd-optimal-discriminator.png")
    return numbers


def _plot_scan(mus: np.ndarray, c: np.ndarray, path: os.PathLike) -> None:
    fig = output.new_figure(5.5, 3.6)
    ax = fig.add_subplot()
    ax.plot(mus, c, color="tab:green", label="C(G) = max_D V(D, G), by quadrature")
    ax.axhline(-LOG4, color="black", linestyle="--", linewidth=1, label="-log 4 (Theorem 1)")
    ax.axhline(0.0, color="gray", linestyle=":", linewidth=1, label="0 = -log 4 + 2 log 2")
    ax.set_xlabel("mu, the mean of p_g = N(mu, 1)   (p_data = N(0, 1))")
    ax.set_ylabel("C(G) (nats)")
    ax.set_title("The minimum -log 4 is reached only at p_g = p_data")
    ax.legend(loc="center right", fontsize=8)
    output.save_figure(fig, path)


def _plot_optimal_discriminator(path: os.PathLike) -> None:
    """p_data dotted, p_g solid, D* dashed: the paper's Figure 1 (b), for two pairs."""
    fig = output.new_figure(9.0, 3.4)
    for i, (p_data, p_g) in enumerate(((normal(0, 1), normal(1, 0.5)), (BIMODAL, normal(0, 1)))):
        ax = fig.add_subplot(1, 2, i + 1)
        x = np.linspace(-5, 5, 1001)
        ax.plot(x, p_data.pdf(x), ":", color="black", linewidth=2, label="p_data")
        ax.plot(x, p_g.pdf(x), "-", color="tab:green", label="p_g")
        d_star = 1 / (1 + np.exp(-optimal_logit(p_data, p_g, x)))
        ax.plot(x, d_star, "--", color="tab:blue", label="D* = p_data / (p_data + p_g)")
        ax.set_ylim(-0.02, 1.05)
        ax.set_xlabel("x")
        ax.set_title(f"p_data = {p_data.label()}\np_g = {p_g.label()}", fontsize=8)
        ax.legend(loc="best", fontsize=7)
    output.save_figure(fig, path)


def summary(numbers: dict) -> list[str]:
    scan = numbers["scan"]
    tight = min(numbers["pairs"], key=lambda p: p["C_minus_best_perturbed"])
    return [
        f"max |C(G) - (-log 4 + 2 JSD)| over {len(numbers['pairs'])} pairs: "
        f"{numbers['max_abs_difference']:.2e}",
        f"scan of p_g = N(mu, 1): min C = {scan['min_C']:.12f} at mu = {scan['argmin_mu']:g} "
        f"(-log 4 = {-LOG4:.12f})",
        "every perturbed D scores below D* (V < C); smallest margin "
        f"{tight['C_minus_best_perturbed']:.2e} nats, for p_g = {tight['p_g']}",
    ]
