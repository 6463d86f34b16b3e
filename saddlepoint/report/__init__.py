"""Pictures and reports: sample grids, scatter plots of toy data."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from saddlepoint.report.grid import grid_array, save_grid
from saddlepoint.report.scatter import save_scatter


def save_samples(samples: torch.Tensor, path: str | os.PathLike, **kwargs) -> Path:
    """Images (N, C, H, W) become a grid; points (N, D) become a scatter plot."""
    if samples.dim() == 4:
        return save_grid(samples, path, **kwargs)
    return save_scatter(samples, path, **kwargs)


__all__ = ["grid_array", "save_grid", "save_samples", "save_scatter"]
