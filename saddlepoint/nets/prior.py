"""The noise prior p_z(z) that a generator's input is drawn from."""

from __future__ import annotations

import math

import torch

PRIORS = ("uniform", "normal")


def sample_noise(
    prior: str,
    n: int,
    z_dim: int,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Draw n noise vectors, shape (n, z_dim), with zero mean and unit variance per dimension.

    "uniform" is U(-sqrt 3, sqrt 3), the 2014 MNIST configuration; "normal" is N(0, 1).
    """
    if prior == "uniform":
        z = torch.rand(n, z_dim, generator=generator, device=device)
        return (z * 2.0 - 1.0) * math.sqrt(3.0)
    if prior == "normal":
        return torch.randn(n, z_dim, generator=generator, device=device)
    raise ValueError(f"unknown prior {prior!r}; choose one of {PRIORS}")
