"""Lab `lambda-divergence`: which single Gaussian Q best fits a bimodal P, divergence by divergence.

Seed 003 (after Huszar 2015, "How (not) to train your generative model"): the lambda-divergence

    D_lambda(P || Q) = lambda KL(P || M) + (1 - lambda) KL(Q || M),   M = lambda P + (1 - lambda) Q,

equals the Jensen-Shannon divergence at lambda = 1/2 (the divergence that the GAN criterion
C(G) = -log 4 + 2 JSD minimises, Goodfellow et al. 2014, Theorem 1). For small lambda,
D_lambda ~ lambda KL(P || Q) and for lambda near 1, D_lambda ~ (1 - lambda) KL(Q || P), so lambda
moves between the two directions of KL:

- KL(P || Q) (maximum likelihood) is mode covering: its minimiser over Gaussians matches P's mean
  and variance exactly (d/dmu and d/dsigma of E_P[-log q] vanish there), a closed form tested here;
- KL(Q || P) is mode seeking: its minimiser sits on one mode of P.

P = 0.5 N(-2, 0.5^2) + 0.5 N(2, 0.5^2) and Q = N(mu, sigma^2). Each divergence is minimised over
(mu, log sigma) by SLSQP within bounds from several starts, with the integral and its exact
gradient taken on a fine float64 grid (the trapezoid rule, spectrally accurate for these smooth,
fast-decaying integrands); the value at each minimiser is then recomputed by adaptive quadrature
(scipy.integrate.quad) as a check, and each stationary point is classified by its Hessian.

Which lambda gives a Q that covers both modes is read off the numbers, not assumed. For this P
the lab finds: JS_0.1 and JS_0.5 cover both modes (N(0, 2.06^2), N(0, 2.04^2)); JS_0.99 sits on
one (N(+-2.00, 0.50^2)); the switch happens at lambda ~ 0.565, where the covering and seeking
local minima have equal divergence.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import optimize

from saddlepoint.lab import output
from saddlepoint.lab.densities import Mixture, jsd, kl, lambda_divergence, normal

NAME = "lambda-divergence"
DESCRIPTION = "the best Gaussian for a bimodal P under JS_lambda and KL: covering or seeking"

P = Mixture((0.5, 0.5), (-2.0, 2.0), (0.5, 0.5))  # 0.5 N(-2, 0.5^2) + 0.5 N(2, 0.5^2)
LAMBDAS = (0.1, 0.5, 0.99)  # seed 003's panels B, C, D
SWEEP_LAMBDAS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)

GRID_STEP = 0.01  # x-grid spacing: 5 points per sigma at the smallest sigma allowed
GRID_HALF_WIDTH = 40.0  # grid on [-40, 40]: beyond 11 sigma of any allowed Q and 76 sigma of P
MEAN_BOUNDS = (-6.0, 6.0)  # mu searched here
STD_BOUNDS = (0.05, 3.0)  # sigma searched here (log sigma is the optimised coordinate)
STARTS = tuple((m, s) for m in (-3.0, -1.5, 0.0, 1.5, 3.0) for s in (0.5, 2.0))  # (mu, sigma)
COVER_MASS = 0.1  # Q "covers both modes" when it puts at least this mass on each side of 0

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)

# A divergence of Q = N(mu, sigma^2) from P as a function of theta = (mu, log sigma):
# theta -> (value, d value / d theta), both exact for the grid sum.
Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


def _weighted_sums(rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(2, X), (X,) -> (2,): sum_x rows[:, x] weights[x], without BLAS.

    Elementwise product and sum rather than a BLAS matrix-vector product, which would wake
    OpenBLAS's thread pool on every call of the objective.
    """
    return (rows * weights).sum(axis=1)


class GridDivergences:
    """The divergences D(P || N(mu, sigma^2)) and their gradients as sums on a fine x-grid.

    The trapezoid rule is spectrally accurate for smooth integrands that vanish at both ends
    (here < 1e-100), where it is h * sum f. With log q = -(x - mu)^2 / (2 sigma^2) - log sigma - c,

        d log q / d mu = (x - mu) / sigma^2,   d log q / d log sigma = (x - mu)^2 / sigma^2 - 1.
    """

    def __init__(self, p: Mixture) -> None:
        self.x = np.arange(-GRID_HALF_WIDTH, GRID_HALF_WIDTH + GRID_STEP / 2, GRID_STEP)  # (X,)
        self.log_p = p.log_pdf(self.x)  # (X,)
        self.p = np.exp(self.log_p)

    def _q(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """log q (X,), q (X,) and d log q / d theta (2, X) at theta = (mu, log sigma)."""
        mu, log_sigma = float(theta[0]), float(theta[1])
        u = (self.x - mu) / math.exp(log_sigma)  # (X,) standardised
        log_q = -0.5 * u**2 - log_sigma - _HALF_LOG_2PI
        d_log_q = np.stack([u / math.exp(log_sigma), u**2 - 1])  # (2, X)
        return log_q, np.exp(log_q), d_log_q

    def kl_pq(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """KL(P || Q) = int p (log p - log q);  gradient -int p d log q."""
        log_q, _, d_log_q = self._q(theta)
        value = GRID_STEP * np.sum(self.p * (self.log_p - log_q))
        return float(value), -GRID_STEP * _weighted_sums(d_log_q, self.p)

    def kl_qp(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """KL(Q || P) = int q (log q - log p);  gradient int q d log q (log q - log p + 1)."""
        log_q, q, d_log_q = self._q(theta)
        value = GRID_STEP * np.sum(q * (log_q - self.log_p))
        return float(value), GRID_STEP * _weighted_sums(d_log_q, q * (log_q - self.log_p + 1))

    def js(self, lam: float) -> Objective:
        """theta -> D_lambda(P || Q) = lambda KL(P || M) + (1 - lambda) KL(Q || M) and gradient.

        With M = lambda P + (1 - lambda) Q the terms from d log M cancel, leaving
        d D_lambda / d theta = (1 - lambda) int q d log q (log q - log M).
        """
        log_lam, log_rest = math.log(lam), math.log1p(-lam)

        def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
            log_q, q, d_log_q = self._q(theta)
            log_m = np.logaddexp(log_lam + self.log_p, log_rest + log_q)  # log(lam p + (1-lam) q)
            value = GRID_STEP * np.sum(
                lam * self.p * (self.log_p - log_m) + (1 - lam) * q * (log_q - log_m)
            )
            return float(value), (1 - lam) * GRID_STEP * _weighted_sums(
                d_log_q, q * (log_q - log_m)
            )

        return f


def _kind(objective: Objective, theta: np.ndarray, at_bound: bool) -> str:
    """'minimum' or 'saddle', from the eigenvalues of a finite-difference Hessian in theta."""
    if at_bound:
        return "at bound"
    eps = 1e-5
    cols = [
        (objective(theta + eps * e)[1] - objective(theta - eps * e)[1]) / (2 * eps)
        for e in np.eye(2)
    ]
    hessian = np.array(cols)
    smallest = float(np.linalg.eigvalsh(0.5 * (hessian + hessian.T))[0])
    return "minimum" if smallest > 1e-9 else "saddle"


def minimise(
    objective: Objective, starts: tuple[tuple[float, float], ...] = STARTS
) -> list[dict[str, Any]]:
    """SLSQP within the bounds, on theta = (mu, log sigma), from each (mu, sigma) start.

    Returns the distinct stationary points reached, each with its kind ('minimum', 'saddle' or
    'at bound'); minima first, best first, and of two mirror-image minima the one with mu > 0.
    """
    bounds = [MEAN_BOUNDS, (math.log(STD_BOUNDS[0]), math.log(STD_BOUNDS[1]))]
    found: list[dict[str, Any]] = []
    for mu0, sigma0 in starts:
        res = optimize.minimize(
            objective,
            np.array([mu0, math.log(sigma0)]),
            jac=True,
            method="SLSQP",  # bounded, gradient-based; L-BFGS-B finds the same, ~10x slower here
            bounds=bounds,
            options={"ftol": 1e-15, "maxiter": 1000},
        )
        mu, sigma = float(res.x[0]), math.exp(float(res.x[1]))
        if any(abs(mu - f["mean"]) < 1e-4 and abs(sigma - f["std"]) < 1e-4 for f in found):
            continue
        at_bound = any(min(abs(v - lo), abs(v - hi)) < 1e-6 for v, (lo, hi) in zip(res.x, bounds))
        found.append(
            {
                "mean": mu,
                "std": sigma,
                "value": float(res.fun),
                "kind": _kind(objective, res.x, at_bound),
            }
        )
    found.sort(key=lambda f: (f["kind"] != "minimum", round(f["value"], 9), -f["mean"]))
    return found


def _normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2))


def describe(q_mean: float, q_std: float) -> dict[str, Any]:
    """Where Q = N(mean, std^2) puts its mass relative to P's two modes at -2 and +2."""
    left = _normal_cdf(-q_mean / q_std)  # Q(x < 0)
    return {
        "mass_left_of_0": left,
        "mass_right_of_0": 1 - left,
        "covers_both_modes": min(left, 1 - left) >= COVER_MASS,
    }


def moment_matching(p: Mixture) -> tuple[float, float]:
    """argmin_Q KL(P || Q) over Gaussians, in closed form: (E_P[x], sqrt(Var_P[x]))."""
    return p.mean(), math.sqrt(p.variance())


def _fit(
    name: str, objective: Objective, quad_divergence: Callable[[Mixture], float]
) -> dict[str, Any]:
    points = minimise(objective)
    best = points[0]
    if best["kind"] != "minimum":
        raise RuntimeError(f"no interior minimum of {name} found from {len(STARTS)} starts")
    q = normal(best["mean"], best["std"])
    by_quad = quad_divergence(q)
    return {
        "divergence": name,
        "mean": best["mean"],
        "std": best["std"],
        "value": best["value"],
        "value_by_quad": by_quad,
        "grid_minus_quad": best["value"] - by_quad,
        **describe(best["mean"], best["std"]),
        "stationary_points": points,  # every distinct point the starts reached, with its kind
    }


def run(out_dir: str | os.PathLike, *, sweep: bool = True) -> dict:
    """Fit Q under each divergence; write lambda-divergence.json and the figures."""
    out = output.prepare(out_dir)
    grid = GridDivergences(P)
    fits: dict[str, dict[str, Any]] = {
        "KL(P||Q)": _fit("KL(P||Q)", grid.kl_pq, lambda q: kl(P, q)),
        "KL(Q||P)": _fit("KL(Q||P)", grid.kl_qp, lambda q: kl(q, P)),
    }
    for lam in LAMBDAS:
        fits[f"JS_{lam:g}"] = _fit(
            f"JS_{lam:g}", grid.js(lam), lambda q, lam=lam: lambda_divergence(P, q, lam)
        )
    mm_mean, mm_std = moment_matching(P)
    kl_pq = fits["KL(P||Q)"]
    numbers: dict[str, Any] = {
        "P": P.label(),
        "P_mean": P.mean(),
        "P_std": math.sqrt(P.variance()),
        "fits": fits,
        "moment_matching": {
            "mean": mm_mean,
            "std": mm_std,
            "fit_mean_error": kl_pq["mean"] - mm_mean,
            "fit_std_error": kl_pq["std"] - mm_std,
        },
        "covers_both_modes": {name: f["covers_both_modes"] for name, f in fits.items()},
        "max_abs_grid_minus_quad": max(abs(f["grid_minus_quad"]) for f in fits.values()),
        # seed 003's normalisation: D_{1/2}(P || Q) is JSD(P || Q), not twice it
        "JS_0.5_is_JSD": {
            "Q": "N(0, 1^2)",
            "D_0.5": lambda_divergence(P, normal(0, 1), 0.5),
            "JSD": jsd(P, normal(0, 1)),
        },
    }
    if sweep:
        numbers["sweep"] = _sweep(grid)
        numbers["crossover_lambda"] = _crossover(grid, numbers["sweep"])
    output.write_numbers(numbers, out / f"{NAME}.json")
    _plot_panels(fits, out / "lambda-divergence.png")
    if sweep:
        _plot_sweep(
            numbers["sweep"], numbers["crossover_lambda"], out / "lambda-divergence-sweep.png"
        )
    return numbers


def _sweep(grid: GridDivergences) -> list[dict[str, Any]]:
    """For each lambda, the point reached from a covering start (mu=0, sigma=2) and from a
    seeking one (mu=2, sigma=0.5); the better of those that are minima is the best fit."""
    rows = []
    for lam in SWEEP_LAMBDAS:
        f = grid.js(lam)
        cover = minimise(f, ((0.0, 2.0),))[0]
        seek = minimise(f, ((2.0, 0.5),))[0]
        minima = [m for m in (cover, seek) if m["kind"] == "minimum"]
        best = min(minima, key=lambda m: m["value"])
        rows.append(
            {
                "lambda": lam,
                "from_covering_start": cover,
                "from_seeking_start": seek,
                "best": best,
                "covers_both_modes": describe(best["mean"], best["std"])["covers_both_modes"],
            }
        )
    return rows


def _branch_gap(grid: GridDivergences, lam: float) -> float:
    """min D_lambda on the covering branch minus min D_lambda on the seeking branch."""
    f = grid.js(lam)
    return minimise(f, ((0.0, 2.0),))[0]["value"] - minimise(f, ((2.0, 0.5),))[0]["value"]


def _crossover(grid: GridDivergences, rows: list[dict[str, Any]]) -> float | None:
    """The lambda where the best Gaussian jumps from covering both modes to seeking one (the
    two branches' minima are equal there), by Brent's method inside the sweep's bracket."""
    for lo, hi in zip(rows, rows[1:]):
        if lo["covers_both_modes"] and not hi["covers_both_modes"]:
            return float(
                optimize.brentq(
                    lambda lam: _branch_gap(grid, lam), lo["lambda"], hi["lambda"], xtol=1e-6
                )
            )
    return None


def _plot_panels(fits: dict[str, dict[str, Any]], path: os.PathLike) -> None:
    """Seed 003's panels A: P; B, C, D: argmin_Q JS_lambda; then E, F: the two KLs."""
    fig = output.new_figure(10.5, 5.6)
    x = np.linspace(-6, 6, 1201)
    p = P.pdf(x)
    names = ["JS_0.1[P||Q]", "JS_0.5[P||Q]", "JS_0.99[P||Q]", "KL(P||Q)", "KL(Q||P)"]
    panels = [("A: P", None)] + [
        (f"{letter}: argmin_Q {name}", fits[name.removesuffix("[P||Q]")])
        for letter, name in zip("BCDEF", names)
    ]
    for i, (title, fit) in enumerate(panels):
        ax = fig.add_subplot(2, 3, i + 1)
        ax.fill_between(x, p, color="0.8", label="P")
        ax.plot(x, p, color="black", linewidth=1)
        if fit is not None:
            q = normal(fit["mean"], fit["std"]).pdf(x)
            verdict = "covers both modes" if fit["covers_both_modes"] else "sits on one mode"
            ax.plot(x, q, color="tab:red", linewidth=2, label="Q")
            title += f"\nQ = N({round(fit['mean'], 3) + 0.0:.3f}, {fit['std']:.3f}^2): {verdict}"
        ax.set_title(title, fontsize=8)
        ax.set_ylim(0, 0.9)
        ax.set_yticks([])
        ax.set_xlabel("x")
    output.save_figure(fig, path)


def _plot_sweep(rows: list[dict[str, Any]], crossover: float | None, path: os.PathLike) -> None:
    fig = output.new_figure(9.0, 3.4)
    lam = [r["lambda"] for r in rows]
    ax = fig.add_subplot(1, 2, 1)
    ax.plot(lam, [r["from_covering_start"]["value"] for r in rows], "o-", label="covering branch")
    ax.plot(lam, [r["from_seeking_start"]["value"] for r in rows], "s--", label="seeking branch")
    ax.set_xlabel("lambda")
    ax.set_ylabel("min D_lambda(P || Q) (nats)")
    ax.set_title("Local minima from a covering and a seeking start", fontsize=9)
    ax = fig.add_subplot(1, 2, 2)
    ax.plot(lam, [abs(r["best"]["mean"]) for r in rows], "o-", label="|mean| of best Q")
    ax.plot(lam, [r["best"]["std"] for r in rows], "s-", label="std of best Q")
    ax.axhline(2.0, color="gray", linestyle=":", linewidth=1)
    ax.axhline(0.5, color="gray", linestyle=":", linewidth=1)
    for a in fig.axes:
        if crossover is not None:
            a.axvline(crossover, color="tab:red", linestyle="--", linewidth=1)
    if crossover is not None:
        fig.axes[0].plot([], [], "--", color="tab:red", label=f"crossover {crossover:.3f}")
    for a in fig.axes:
        a.legend(fontsize=8)
    ax.set_xlabel("lambda")
    ax.set_title("The best Gaussian as lambda goes from KL(P||Q) to KL(Q||P)", fontsize=9)
    output.save_figure(fig, path)


def summary(numbers: dict) -> list[str]:
    lines = [f"P = {numbers['P']}"]
    for name, f in numbers["fits"].items():
        verdict = "covers both modes" if f["covers_both_modes"] else "sits on one mode"
        lines.append(
            f"argmin {name:9s}: Q = N({round(f['mean'], 4) + 0.0:+.4f}, {f['std']:.4f}^2), "
            f"value {f['value_by_quad']:.6f}: {verdict}"
        )
    if numbers.get("crossover_lambda") is not None:
        lines.append(
            f"the best Gaussian covers both modes for lambda < {numbers['crossover_lambda']:.4f} "
            "and sits on one mode above it"
        )
    mm = numbers["moment_matching"]
    lines.append(
        f"moment matching (closed form for KL(P||Q)): N({mm['mean'] + 0.0:.4f}, {mm['std']:.4f}^2)"
    )
    return lines
