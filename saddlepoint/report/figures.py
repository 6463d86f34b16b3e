"""The 2014 paper's figures: samples beside their nearest training images (Figure 2) and
straight lines in z-space (Figure 3)."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from saddlepoint.evaluate.neighbours import nearest_neighbours
from saddlepoint.nets.base import to_unit
from saddlepoint.report.grid import save_grid

NEIGHBOUR_COLUMNS = 6  # samples per row of Figure 2; one more column holds the neighbour


@torch.no_grad()
def neighbours_figure(
    generator: nn.Module,
    train_x: torch.Tensor,  # (N, C, H, W) training images in [0, 1]
    path: str | os.PathLike,
    n: int = 48,  # samples drawn, in rows of `cols` (the last row may be shorter)
    cols: int = NEIGHBOUR_COLUMNS,  # samples per row
    seed: int = 0,
) -> Path:
    """The 2014 paper's Figure 2: rows of samples, a separator line, then the nearest training
    image of each row's last sample (Euclidean, on pixels)."""
    cols = min(cols, n)
    rows = -(-n // cols)  # ceil
    g = torch.Generator().manual_seed(seed)
    samples = generator.sample(n, generator=g).cpu().float()  # (n, C, H, W)
    samples = to_unit(samples, getattr(generator, "output", "sigmoid"))  # on the data's [0, 1]
    last = torch.tensor([min((r + 1) * cols, n) - 1 for r in range(rows)])  # each row's last
    index, _ = nearest_neighbours(samples[last], train_x)
    tiles = torch.ones(rows, cols + 1, *samples.shape[1:])  # white: an empty tile
    for i in range(n):
        tiles[i // cols, i % cols] = samples[i]
    tiles[:, cols] = train_x[index].cpu().float()
    return save_grid(tiles.flatten(0, 1), path, ncols=cols + 1, gap_before=cols)


def interpolate_z(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """(R, Z), (R, Z) -> (R, steps, Z): points (1 - t) z0 + t z1 for t = 0, 1/(steps-1), ..., 1.

    Straight lines between points of the prior's support stay inside it for the uniform prior
    (a box is convex), as in the paper's Figure 3.
    """
    t = torch.linspace(0, 1, steps, dtype=z0.dtype, device=z0.device).view(1, steps, 1)
    return (1 - t) * z0.unsqueeze(1) + t * z1.unsqueeze(1)


@torch.no_grad()
def interpolation_figure(
    generator: nn.Module,
    path: str | os.PathLike,
    rows: int = 8,  # lines drawn, one per row
    steps: int = 10,  # samples along each line, ends included
    seed: int = 0,
) -> Path:
    """Rows of G(z) along straight lines between random pairs of noise vectors."""
    g = torch.Generator().manual_seed(seed)
    z0, z1 = generator.sample_z(rows, g), generator.sample_z(rows, g)
    z = interpolate_z(z0, z1, steps).flatten(0, 1)  # (rows*steps, Z)
    y = generator.sample_y(rows, g) if getattr(generator, "num_classes", 0) else None
    was_training = generator.training
    generator.eval()
    try:
        if y is None:
            images = generator(z).cpu().float()
        else:  # one class per row, held along the line
            images = generator(z, y.repeat_interleave(steps)).cpu().float()
        images = to_unit(images, getattr(generator, "output", "sigmoid"))
    finally:
        generator.train(was_training)
    return save_grid(images, path, ncols=steps)
