"""Lab `ab-game`: v(a, b) = a b, where gradient play circles the equilibrium instead of reaching it.

Seed 004 (Goodfellow, Bengio & Courville, "Deep Learning", section 20.10.4): player 1 controls a
and incurs cost a b, player 2 controls b and incurs -a b. The only equilibrium is the saddle point
(0, 0). Each player's gradient step, step size eta:

    simultaneous   (a, b) <- (a - eta b, b + eta a)
                   |(a, b)|^2 grows by exactly 1 + eta^2 per step: an outward spiral.
    alternating    a <- a - eta b;  then  b <- b + eta a_new
                   the map [[1, -eta], [eta, 1 - eta^2]] has determinant 1 and, for eta < 2, its
                   orbits lie on the conserved ellipse a^2 + b^2 - eta a b = const: bounded,
                   never converging.
    continuous     da/dt = -b, db/dt = a  (the infinitesimal-step limit): the circle
                   a = r cos(t + phi), b = r sin(t + phi), d|(a, b)|/dt = 0, "a stable, circular
                   orbit rather than arriving at the equilibrium point".

On the ellipse a^2 + b^2 - eta a b = H the radius stays within
sqrt(H / (1 + eta/2)) <= r <= sqrt(H / (1 - eta/2)) (the quadratic form's eigenvalues 1 -+ eta/2).
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
from scipy.integrate import solve_ivp

from saddlepoint.errors import SaddlepointError
from saddlepoint.lab import output

NAME = "ab-game"
DESCRIPTION = "v(a, b) = ab: simultaneous steps spiral out, alternating orbit, the flow circles"

START = (1.0, 0.0)  # (a0, b0)
LONG_STEPS = 10_000  # steps over which the alternating orbit's boundedness is checked


def simultaneous(a: float, b: float, eta: float, steps: int) -> np.ndarray:
    """(steps + 1, 2): both players step on the current point, (a - eta b, b + eta a)."""
    path = np.empty((steps + 1, 2))
    path[0] = a, b
    for n in range(steps):
        a, b = a - eta * b, b + eta * a  # d(ab)/da = b (descended), d(ab)/db = a (ascended)
        path[n + 1] = a, b
    return path


def alternating(a: float, b: float, eta: float, steps: int) -> np.ndarray:
    """(steps + 1, 2): player 1 steps, then player 2 steps against the new a."""
    path = np.empty((steps + 1, 2))
    path[0] = a, b
    for n in range(steps):
        a = a - eta * b
        b = b + eta * a  # a is already the new a
        path[n + 1] = a, b
    return path


def continuous(a: float, b: float, times: np.ndarray) -> np.ndarray:
    """(T, 2): the gradient flow da/dt = -b, db/dt = a at the given times, by DOP853 at 1e-12."""
    sol = solve_ivp(
        lambda t, y: [-y[1], y[0]],
        (float(times[0]), float(times[-1])),
        [a, b],
        method="DOP853",
        t_eval=times,
        rtol=1e-12,
        atol=1e-12,
    )
    return sol.y.T


def invariant(path: np.ndarray, eta: float) -> np.ndarray:
    """H = a^2 + b^2 - eta a b, conserved exactly by the alternating map; (N,)."""
    a, b = path[:, 0], path[:, 1]
    return a**2 + b**2 - eta * a * b


def radius(path: np.ndarray) -> np.ndarray:
    return np.hypot(path[:, 0], path[:, 1])


def run(out_dir: str | os.PathLike, *, eta: float = 0.1, steps: int = 300) -> dict:
    """Play the three dynamics from (1, 0); write ab-game.json, two PNGs and the spiral's GIF."""
    if not 0 < eta < 2:
        raise SaddlepointError(
            f"eta must lie in (0, 2) (at 2 and above the alternating steps diverge too), got {eta}."
        )
    if steps < 1:
        raise SaddlepointError(f"steps must be at least 1, got {steps}.")
    out = output.prepare(out_dir)
    a0, b0 = START
    r0 = math.hypot(a0, b0)

    sim = simultaneous(a0, b0, eta, steps)
    growth = radius(sim)[1:] / radius(sim)[:-1]  # (steps,): each step's radius ratio
    expected_final = r0 * (1 + eta**2) ** (steps / 2)

    alt = alternating(a0, b0, eta, LONG_STEPS)
    h = invariant(alt, eta)
    r_alt = radius(alt)
    lo, hi = math.sqrt(h[0] / (1 + eta / 2)), math.sqrt(h[0] / (1 - eta / 2))

    times = eta * np.arange(steps + 1)  # one step of size eta ~ a time interval eta
    flow = continuous(a0, b0, times)
    r_flow = radius(flow)
    exact = np.stack([r0 * np.cos(times), r0 * np.sin(times)], axis=1)

    numbers: dict[str, Any] = {
        "eta": eta,
        "steps": steps,
        "start": [a0, b0],
        "simultaneous": {
            "final_radius": float(radius(sim)[-1]),
            "expected_final_radius": expected_final,  # r0 (1 + eta^2)^(steps/2)
            "final_radius_rel_error": float(radius(sim)[-1] / expected_final - 1),
            "growth_per_step": math.sqrt(1 + eta**2),
            "max_abs_growth_error": float(np.max(np.abs(growth - math.sqrt(1 + eta**2)))),
        },
        "alternating": {
            "steps": LONG_STEPS,
            "min_radius": float(r_alt.min()),
            "max_radius": float(r_alt.max()),
            "radius_bounds": [lo, hi],  # sqrt(H / (1 +- eta/2)) on the conserved ellipse
            "max_radius_first_1000": float(r_alt[:1001].max()),
            "max_radius_last_1000": float(r_alt[-1000:].max()),
            "invariant": float(h[0]),
            "max_rel_invariant_drift": float(np.max(np.abs(h / h[0] - 1))),
            "final_radius": float(r_alt[-1]),
        },
        "continuous": {
            "t_end": float(times[-1]),
            "max_abs_radius_change": float(np.max(np.abs(r_flow - r0))),
            "max_abs_error_vs_circle": float(np.max(np.abs(flow - exact))),
        },
    }
    output.write_numbers(numbers, out / f"{NAME}.json")
    _plot(sim, alt[: steps + 1], flow, eta, out / "ab-game.png")
    _spiral_gif(sim, eta, out / "ab-game-simultaneous.gif")
    return numbers


def _plot(
    sim: np.ndarray, alt: np.ndarray, flow: np.ndarray, eta: float, path: os.PathLike
) -> None:
    fig = output.new_figure(10.0, 4.4)
    plane = fig.add_subplot(1, 2, 1)
    plane.plot(sim[:, 0], sim[:, 1], color="tab:red", linewidth=1, label="simultaneous")
    plane.plot(alt[:, 0], alt[:, 1], color="tab:blue", linewidth=1.5, label="alternating")
    plane.plot(flow[:, 0], flow[:, 1], "--", color="black", linewidth=1, label="continuous")
    plane.plot([0], [0], "k*", markersize=10)
    plane.plot([sim[0, 0]], [sim[0, 1]], "o", color="gray")
    plane.set_aspect("equal")
    plane.set_xlabel("a (player 1 minimises ab)")
    plane.set_ylabel("b (player 2 maximises ab)")
    plane.set_title(
        f"Trajectories, eta = {eta:g}, {len(sim) - 1} steps\n"
        "(star: the equilibrium (0, 0); dot: the start)",
        fontsize=9,
    )
    dist = fig.add_subplot(1, 2, 2)
    steps = np.arange(len(sim))
    dist.plot(steps, radius(sim), color="tab:red", label="simultaneous: (1 + eta^2)^(n/2)")
    dist.plot(steps, radius(alt), color="tab:blue", label="alternating: bounded")
    dist.plot(steps, radius(flow), "--", color="black", label="continuous: constant")
    dist.set_xlabel("step n (time n eta for the flow)")
    dist.set_ylabel("distance from the equilibrium")
    dist.set_title("Nobody reaches the saddle point", fontsize=9)
    dist.legend(fontsize=8)
    output.save_figure(fig, path)


def _spiral_gif(sim: np.ndarray, eta: float, path: os.PathLike, frames: int = 40) -> None:
    """An animated GIF of the simultaneous spiral, drawn up to step k in each frame."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.2, 3.2), dpi=80)  # 256 x 256 pixels; fixed layout, drawn 40 times
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0.17, 0.14, 0.78, 0.76))
    extent = 1.05 * float(radius(sim).max())
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")
    ax.plot([0], [0], "k*", markersize=8)
    ax.set_xlabel("a")
    ax.set_ylabel("b")
    (line,) = ax.plot([], [], color="tab:red", linewidth=1)
    (head,) = ax.plot([], [], "o", color="tab:red", markersize=4)
    images = []
    for k in np.linspace(1, len(sim) - 1, frames).round().astype(int):
        line.set_data(sim[: k + 1, 0], sim[: k + 1, 1])
        head.set_data([sim[k, 0]], [sim[k, 1]])
        ax.set_title(f"simultaneous steps, eta = {eta:g}: n = {k}", fontsize=8)
        canvas.draw()
        images.append(output.gif_frame(canvas))
    durations = [80] * (len(images) - 1) + [1500]  # ms per frame; hold the last one
    output.save_gif(images, path, durations)


def summary(numbers: dict) -> list[str]:
    sim, alt, flow = numbers["simultaneous"], numbers["alternating"], numbers["continuous"]
    eta, steps = numbers["eta"], numbers["steps"]
    return [
        f"simultaneous, eta = {eta:g}: radius 1 -> {sim['final_radius']:.6f} after {steps} steps "
        f"(exactly (1 + eta^2)^(n/2) = {sim['expected_final_radius']:.6f})",
        f"alternating: radius within [{alt['min_radius']:.6f}, {alt['max_radius']:.6f}] over "
        f"{alt['steps']} steps (ellipse bounds [{alt['radius_bounds'][0]:.6f}, "
        f"{alt['radius_bounds'][1]:.6f}]); invariant drift {alt['max_rel_invariant_drift']:.1e}",
        f"continuous: radius constant to {flow['max_abs_radius_change']:.1e} up to "
        f"t = {flow['t_end']:g}",
    ]
