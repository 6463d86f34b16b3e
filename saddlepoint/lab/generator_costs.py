"""Lab `generator-costs`: three costs for G and the gradient each one passes back (seed 004).

Seed 004 (Goodfellow et al., "Deep Learning", section 20.10.4, and NIPS 2016 tutorial) lists three
generator costs as functions of D(G(z)) = sigmoid(l), l the discriminator's logit on a sample:

    minimax              J = log(1 - D)                    dJ/dl = -sigmoid(l) = -D
    non-saturating       J = -log D                        dJ/dl = sigmoid(l) - 1 = D - 1
    maximum likelihood   J = -1/2 exp(sigma^-1(D))         dJ/dl = -1/2 exp(l) = -1/2 D / (1 - D)
                           = -1/2 D / (1 - D)

(each per sample; G descends J). dJ/dl is what reaches G through the chain rule. Where D
confidently rejects the samples (D -> 0, early in training) the minimax derivative vanishes like D
and so does the maximum-likelihood one (like D / 2): both saturate; the non-saturating
derivative tends to -1 and keeps G learning. The non-saturating one vanishes instead as D -> 1,
where G is already winning; the maximum-likelihood one grows without bound there, so a few
samples that D believes dominate its gradient.

The minimax and non-saturating derivatives are taken by torch autograd through saddlepoint's own
objectives (objectives/minimax.py, objectives/non_saturating.py), in float64, and compared with
the closed forms above.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from saddlepoint.lab import output
from saddlepoint.objectives import maximum_likelihood, minimax, non_saturating

NAME = "generator-costs"
DESCRIPTION = "minimax, non-saturating, maximum-likelihood G costs: which saturate as D -> 0"

PROBE_D = (0.001, 0.5, 0.999)  # D(G(z)) at which derivatives are reported


# name -> (cost as a mean over the batch, its closed-form derivative in l, as a numpy function)
COSTS: dict[str, tuple[Callable[..., torch.Tensor], Callable[[np.ndarray], np.ndarray]]] = {
    "minimax": (minimax.generator_loss, lambda t: -_sigmoid(t)),  # d log(1 - s(l)) = -s(l)
    "non_saturating": (non_saturating.generator_loss, lambda t: -_sigmoid(-t)),  # s(l) - 1
    "maximum_likelihood": (
        maximum_likelihood.generator_loss,
        lambda t: -0.5 * np.exp(t),
    ),  # -exp(l)/2
}


def _sigmoid(t: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -t))  # 1 / (1 + e^-t), stable for either sign


def logit(d: np.ndarray) -> np.ndarray:
    """sigma^-1(D) = log D - log(1 - D)."""
    return np.log(d) - np.log1p(-d)


def per_sample(
    cost: Callable[..., torch.Tensor], logits: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(N,) logits -> (cost J(l_i), dJ/dl_i), each (N,), float64, by autograd.

    The objectives return the mean over the batch, so N * mean is the sum of per-sample costs
    and its gradient is each sample's own derivative. (torch's softplus is linear above l = 20,
    so beyond |l| = 20, D outside [2e-9, 1 - 2e-9], the objectives differ from the exact
    costs by up to e^-20 ~ 2e-9; the lab stays inside.)
    """
    x = torch.tensor(logits, dtype=torch.float64, requires_grad=True)  # (N,)
    total = cost(fake_logits=x) * x.numel()  # sum_i J(l_i)
    (grad,) = torch.autograd.grad(total, x)
    with torch.no_grad():
        values = torch.stack([cost(fake_logits=x[i : i + 1]) for i in range(x.numel())])
    return values.numpy(), grad.numpy()


def run(out_dir: str | os.PathLike, *, points: int = 999) -> dict:
    """Evaluate the costs and derivatives on a grid of D; write generator-costs.json + figure."""
    out = output.prepare(out_dir)
    d_grid = np.linspace(0.0, 1.0, points + 2)[1:-1]  # (points,) D in (0, 1)
    probes = np.array(PROBE_D)
    numbers: dict[str, Any] = {"D": list(PROBE_D), "costs": {}}
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    worst = 0.0
    for name, (cost, closed) in COSTS.items():
        # autograd against the closed form, on the grid and at the probes, relative to max(1, |.|)
        grid_values, grid_grads = per_sample(cost, logit(d_grid))
        probe_values, probe_grads = per_sample(cost, logit(probes))
        expected = closed(logit(np.concatenate([d_grid, probes])))
        got = np.concatenate([grid_grads, probe_grads])
        error = float(np.max(np.abs(got - expected) / np.maximum(1.0, np.abs(expected))))
        worst = max(worst, error)
        curves[name] = (grid_values, grid_grads)
        numbers["costs"][name] = {
            "cost_at_D": probe_values.tolist(),
            "dJ_dlogit_at_D": probe_grads.tolist(),
            "abs_dJ_dlogit_at_D": np.abs(probe_grads).tolist(),
            "max_rel_error_autograd_vs_closed_form": error,
        }
    numbers["max_rel_error_autograd_vs_closed_form"] = worst
    # The claim of seed 004: as D -> 0, minimax and ML saturate, non-saturating does not.
    small = 1e-6
    numbers["near_D_0"] = {
        "D": small,
        "dJ_dlogit": {
            name: float(closed(logit(np.array([small])))[0]) for name, (_, closed) in COSTS.items()
        },
    }
    output.write_numbers(numbers, out / f"{NAME}.json")
    _plot(d_grid, curves, out / "generator-costs.png")
    return numbers


def _plot(
    d: np.ndarray, curves: dict[str, tuple[np.ndarray, np.ndarray]], path: os.PathLike
) -> None:
    fig = output.new_figure(10.0, 3.8)
    styles = {
        "minimax": ("tab:blue", "minimax: log(1 - D)"),
        "non_saturating": ("tab:orange", "non-saturating: -log D"),
        "maximum_likelihood": ("tab:green", "maximum likelihood: -D / (2 (1 - D))"),
    }
    left = fig.add_subplot(1, 2, 1)
    right = fig.add_subplot(1, 2, 2)
    for name, (values, grads) in curves.items():
        color, label = styles[name]
        left.plot(d, values, color=color, label=label)
        right.plot(d, np.abs(grads), color=color, label=label)
    left.set_ylim(-10, 5)
    left.set_xlabel("D(G(z))")
    left.set_ylabel("generator cost J (G descends it)")
    left.set_title("The three generator costs", fontsize=9)
    left.legend(fontsize=8, loc="lower left")
    right.set_yscale("log")
    right.set_ylim(1e-4, 1e3)
    right.set_xlabel("D(G(z))")
    right.set_ylabel("|dJ / d logit|")
    right.set_title("What reaches G: minimax and ML vanish where D rejects (D -> 0)", fontsize=9)
    right.axvspan(0, 0.1, color="0.9", zorder=0)
    right.legend(fontsize=8, loc="lower right")
    output.save_figure(fig, path)


def summary(numbers: dict) -> list[str]:
    lines = ["|dJ/dlogit| at D = " + ", ".join(f"{d:g}" for d in numbers["D"]) + ":"]
    for name, c in numbers["costs"].items():
        lines.append(f"  {name:18s} " + "  ".join(f"{g:.6g}" for g in c["abs_dJ_dlogit_at_D"]))
    lines.append(
        "autograd vs closed form, max relative error: "
        f"{numbers['max_rel_error_autograd_vs_closed_form']:.1e}"
    )
    return lines
