"""Image grids as PNG files (written with Pillow: torchvision does not import beside the CPU
wheel this project pins, and a grid is a reshape)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from saddlepoint.errors import output_error


def grid_array(
    images: torch.Tensor,  # (N, C, H, W) in [0, 1]
    ncols: int | None = None,  # images per row; None = a square-ish grid
    padding: int = 2,  # pixels between images
    pad_value: float = 1.0,  # colour of the padding (1 = white)
) -> np.ndarray:
    """Tile images row by row into one (rows*H', cols*W', C) uint8 array."""
    images = images.detach().float().cpu().clamp(0, 1)
    n, c, h, w = images.shape
    ncols = ncols or math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    H, W = h + padding, w + padding
    canvas = np.full((nrows * H + padding, ncols * W + padding, c), pad_value, dtype=np.float32)
    arr = images.permute(0, 2, 3, 1).numpy()  # (N, H, W, C)
    for i in range(n):
        r, col = divmod(i, ncols)
        y, x = padding + r * H, padding + col * W
        canvas[y : y + h, x : x + w] = arr[i]
    return (canvas * 255 + 0.5).astype(np.uint8)


def save_grid(
    images: torch.Tensor,
    path: str | os.PathLike,
    ncols: int | None = None,
    scale: int = 2,  # nearest-neighbour upscaling so small digits are visible
    padding: int = 2,
) -> Path:
    """Write images (N, C, H, W) in [0, 1] as one PNG grid; returns the path."""
    arr = grid_array(images, ncols, padding)
    img = Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr)
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        img.save(tmp, format="PNG")
        os.replace(tmp, path)
    except OSError as e:  # a read-only folder, a full disk: one sentence, no partial file
        tmp.unlink(missing_ok=True)
        raise output_error(path, e) from None
    return path
