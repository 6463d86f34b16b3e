"""Toy densities for the theory work: equal-weight mixtures of isotropic Gaussians, exactly known.

- `gaussian1d`: one Gaussian N(4, 0.5^2) on the line (D = 1), away from 0 so that a generator
  must move its mass to match it (the 1-D picture of Goodfellow et al., 2014, Figure 1).
- `ring8`: 8 Gaussians of std 0.02 at angles 2 pi k / 8 on a circle of radius 2 (D = 2); the
  standard mode-collapse benchmark (Metz et al., 2017, "Unrolled GANs").
- `grid25`: 25 Gaussians of std 0.05 on the grid {-4, -2, 0, 2, 4}^2 (D = 2).

Every mixture has M modes with centres mu_m, a shared std sigma and weights 1/M:
    p(x) = (1/M) sum_m N(x; mu_m, sigma^2 I_D)
    log p(x) = logsumexp_m(-|x - mu_m|^2 / (2 sigma^2)) - log M - (D/2) log(2 pi sigma^2)

As datasets, x is (N, D) float32 and y is the index of the mode each point was drawn from;
train has 50,000 points, valid and test 10,000 each, each split drawn with its own seed.
The pure functions `modes`, `sample` and `log_prob` are for the theory code (lab/).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch

from saddlepoint.config import DataConfig
from saddlepoint.data.dataset import Dataset
from saddlepoint.errors import SaddlepointError

SPLIT_SIZES = {"train": 50_000, "valid": 10_000, "test": 10_000}
SPLIT_SEEDS = {"train": 0, "valid": 1, "test": 2}  # each split is its own independent draw


class Modes(NamedTuple):
    centres: torch.Tensor  # (M, D) float64 mode centres mu_m
    std: float  # sigma, the standard deviation of every mode along every axis


def _ring(count: int, radius: float) -> torch.Tensor:
    angles = 2 * math.pi * torch.arange(count, dtype=torch.float64) / count  # (M,)
    return radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)  # (M, 2)


def _grid(values: tuple[float, ...]) -> torch.Tensor:
    axis = torch.tensor(values, dtype=torch.float64)
    return torch.cartesian_prod(axis, axis)  # (len^2, 2), row-major: (-4,-4), (-4,-2), ...


_TOYS = {  # name -> (centres (M, D), std, one-line description)
    "gaussian1d": (
        torch.tensor([[4.0]], dtype=torch.float64),
        0.5,
        "toy density: 1-D Gaussian N(4, 0.5^2)",
    ),
    "ring8": (_ring(8, 2.0), 0.02, "toy density: 8 Gaussians (std 0.02) on a circle of radius 2"),
    "grid25": (
        _grid((-4.0, -2.0, 0.0, 2.0, 4.0)),
        0.05,
        "toy density: 25 Gaussians (std 0.05) on the grid {-4,-2,0,2,4}^2",
    ),
}
NAMES = tuple(_TOYS)


def _entry(name: str) -> tuple[torch.Tensor, float, str]:
    try:
        return _TOYS[name]
    except KeyError:
        raise SaddlepointError(
            f"unknown toy density {name!r}; choose one of: {', '.join(NAMES)}."
        ) from None


def description(name: str) -> str:
    return _entry(name)[2]


def modes(name: str) -> Modes:
    """The mixture's (M, D) float64 centres and its std; every mode has weight 1/M."""
    centres, std, _ = _entry(name)
    return Modes(centres.clone(), std)


def sample(
    name: str,
    n: int,
    generator: torch.Generator | None = None,
    *,
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """n points from the mixture: x (n, D) in `dtype` and y (n,) int64, the mode of each point.

    Drawn in float64 from `generator` (torch's default generator when None): first the mode
    uniformly, then Gaussian noise, so the same generator state gives the same points.
    """
    centres, std, _ = _entry(name)
    y = torch.randint(len(centres), (n,), generator=generator)  # (n,)
    noise = torch.randn(n, centres.shape[1], generator=generator, dtype=torch.float64)  # (n, D)
    x = centres[y] + std * noise  # (n, D)
    return x.to(dtype), y


def log_prob(name: str, x: torch.Tensor) -> torch.Tensor:
    """Exact log-density log p(x) in float64, for x of shape (..., D); returns shape (...).

    For the 1-D density, x may also be a plain (N,) tensor of scalars. The sum over modes is a
    logsumexp, so points far from every mode give large negative values, never -inf or NaN.
    """
    centres, std, _ = _entry(name)
    dim = centres.shape[1]
    x = torch.as_tensor(x, dtype=torch.float64)
    if dim == 1 and (x.dim() == 0 or x.shape[-1] != 1):
        x = x.unsqueeze(-1)  # (...,) scalars -> (..., 1)
    if x.dim() == 0 or x.shape[-1] != dim:
        raise SaddlepointError(
            f"log_prob({name!r}) needs points of shape (..., {dim}), got {tuple(x.shape)}."
        )
    squared = ((x.unsqueeze(-2) - centres) ** 2).sum(-1)  # (..., M): |x - mu_m|^2
    log_kernel = -squared / (2 * std**2)  # (..., M)
    log_norm = math.log(len(centres)) + 0.5 * dim * math.log(2 * math.pi * std**2)
    return torch.logsumexp(log_kernel, dim=-1) - log_norm  # (...,)


def load(name: str, split: str) -> Dataset:
    """One split of a toy density as a Dataset: x (N, D) float32, y (N,) the mode indices."""
    generator = torch.Generator().manual_seed(SPLIT_SEEDS[split])
    x, y = sample(name, SPLIT_SIZES[split], generator)
    classes = tuple(str(m) for m in range(len(_entry(name)[0])))
    return Dataset(name, split, x, y, classes)


def loader(name: str) -> Callable[[DataConfig, str], Dataset]:
    """The Source.load function of one toy density (data.root and the rest are not used)."""

    def load_split(config: DataConfig, split: str) -> Dataset:
        return load(name, split)

    return load_split
