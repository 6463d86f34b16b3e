"""Image grids as PNG files (written with Pillow: torchvision does not import beside the CPU
wheel this project pins, and a grid is a reshape)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from saddlepoint.errors import output_error

GAP = 6  # extra pixels (before scaling) of the separator column, a dark line in its middle


def grid_array(
    images: torch.Tensor,  # (N, C, H, W) in [0, 1]
    ncols: int | None = None,  # images per row; None = a square-ish grid
    padding: int = 2,  # pixels between images
    pad_value: float = 1.0,  # colour of the padding (1 = white)
    gap_before: int | None = None,  # a separator line before this column (e.g. neighbours)
) -> np.ndarray:
    """Tile images row by row into one (rows*H', cols*W', C) uint8 array."""
    images = images.detach().float().cpu().clamp(0, 1)
    n, c, h, w = images.shape
    ncols = ncols or math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    H, W = h + padding, w + padding
    gap = GAP if gap_before is not None and 0 < gap_before < ncols else 0
    canvas = np.full(
        (nrows * H + padding, ncols * W + padding + gap, c), pad_value, dtype=np.float32
    )
    if gap:  # a one-pixel dark line down the middle of the gap
        line = gap_before * W + padding // 2 + gap // 2
        canvas[:, line] = 0.35
    arr = images.permute(0, 2, 3, 1).numpy()  # (N, H, W, C)
    for i in range(n):
        r, col = divmod(i, ncols)
        y, x = padding + r * H, padding + col * W + (gap if gap and col >= gap_before else 0)
        canvas[y : y + h, x : x + w] = arr[i]
    return (canvas * 255 + 0.5).astype(np.uint8)


def _labelled(img: Image.Image, rows: int, cols: int, gap: int, row_labels, col_labels, corner):
    """`img` with a margin of row labels at the left and of column labels on top (black text
    in PIL's built-in font), each centred on its row or column; `corner` names the columns'
    quantity, at the top left."""
    font = ImageFont.load_default()
    measure = ImageDraw.Draw(img)

    def size(text: str) -> tuple[int, int]:
        left, top, right, bottom = measure.textbbox((0, 0), text, font=font)
        return right - left, bottom - top

    left = max((size(t)[0] for t in [*(row_labels or ()), corner or ""]), default=0) + 8
    top = max((size(t)[1] for t in col_labels or ()), default=-8) + 8
    mode = "RGB" if img.mode == "RGB" else "L"
    white = (255, 255, 255) if mode == "RGB" else 255
    out = Image.new(mode, (img.width + left, img.height + top), white)
    out.paste(img, (left, top))
    draw = ImageDraw.Draw(out)
    black = (0, 0, 0) if mode == "RGB" else 0
    cell_h = (img.height) / rows
    for r, text in enumerate(row_labels or ()):
        w, h = size(text)
        draw.text((left - 4 - w, top + (r + 0.5) * cell_h - h / 2), text, fill=black, font=font)
    cell_w = (img.width - gap) / cols
    for c, text in enumerate(col_labels or ()):
        w, h = size(text)
        x = left + (c + 0.5) * cell_w - w / 2
        draw.text((x, (top - h) / 2), text, fill=black, font=font)
    if corner and col_labels:
        w, h = size(corner)
        draw.text((left - 4 - w, (top - h) / 2), corner, fill=black, font=font)
    return out


def save_grid(
    images: torch.Tensor,
    path: str | os.PathLike,
    ncols: int | None = None,
    scale: int = 2,  # nearest-neighbour upscaling so small digits are visible
    padding: int = 2,
    *,
    row_labels: list[str] | None = None,  # text left of each row (e.g. the class)
    col_labels: list[str] | None = None,  # text above each column (e.g. a code's value)
    gap_before: int | None = None,  # a separator line before this column
    corner: str | None = None,  # with col_labels: what they are (e.g. the code's name)
) -> Path:
    """Write images (N, C, H, W) in [0, 1] as one PNG grid; returns the path."""
    arr = grid_array(images, ncols, padding, gap_before=gap_before)
    img = Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr)
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    ncols = ncols or math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / ncols)
    for what, labels, count in (("row", row_labels, rows), ("column", col_labels, ncols)):
        if labels is not None and len(labels) != count:
            raise ValueError(f"{len(labels)} {what} labels for a grid of {count} {what}s")
    if row_labels or col_labels:
        gap = (arr.shape[1] - ncols * (images.shape[3] + padding) - padding) * scale
        img = _labelled(img, rows, ncols, gap, row_labels, col_labels, corner)
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
