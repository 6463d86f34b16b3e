"""The theory lab: the seed notes' claims, computed, checked and drawn (`saddlepoint lab NAME`).

Each lab is a function run(out_dir, **options) -> dict of numbers that writes `<name>.json` (the
same numbers) and its figures into out_dir. The analytic labs:

- `jsd`: C(G) = max_D V(D, G) = -log 4 + 2 JSD, minimum at p_g = p_data (Goodfellow et al.
  2014, Proposition 1 and Theorem 1; seeds 001 and 003).
- `lambda-divergence`: the best single Gaussian for a bimodal P under JS_lambda and both KLs
  (seed 003).
- `generator-costs`: minimax, non-saturating and maximum-likelihood generator costs and the
  gradients they pass to G (seed 004).
- `ab-game`: v(a, b) = ab under simultaneous, alternating and continuous gradient play (seed 004).

The labs that train networks:

- `optimal-discriminator`: with G fixed, a trained D reaches D* = p_data / (p_data + p_g)
  (Proposition 1); then G and D together, drawn as the paper's Figure 1 (a)-(d).
- `mode-collapse`: the ring of 8 and grid of 25 Gaussians, modes covered and high-quality share
  over training (--data, --objective, --k, --iterations, --seed, --frames).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from saddlepoint.lab import (
    ab_game,
    generator_costs,
    jsd,
    lambda_divergence,
    mode_collapse,
    optimal_discriminator,
)
from saddlepoint.registry import Registry


@dataclass(frozen=True)
class Lab:
    name: str  # the CLI name, e.g. "ab-game"
    description: str  # one line for `saddlepoint lab --list`
    run: Callable[..., dict[str, Any]]  # run(out_dir, **options) -> numbers; writes the files
    summary: Callable[[dict[str, Any]], list[str]] | None = None  # numbers -> lines to print


LABS: Registry[Lab] = Registry("lab")
for _module in (
    jsd,
    lambda_divergence,
    generator_costs,
    ab_game,
    optimal_discriminator,
    mode_collapse,
):
    LABS.register(
        _module.NAME, Lab(_module.NAME, _module.DESCRIPTION, _module.run, _module.summary)
    )


def run_lab(name: str, out_dir: str | os.PathLike, **options: Any) -> dict[str, Any]:
    """Run the lab called name, writing into out_dir; its numbers."""
    return LABS.get(name).run(out_dir, **options)


__all__ = ["LABS", "Lab", "run_lab"]
