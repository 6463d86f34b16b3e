"""Where a lab puts what it finds: one JSON file of numbers and its figures, in one folder.

A lab's folder holds `<name>.json` (the numbers its `run()` returns) beside its PNG figures
(and a GIF where something moves). Figures are drawn on matplotlib's Agg canvas through
`matplotlib.figure.Figure`, so no pyplot state or display is involved.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from saddlepoint.errors import SaddlepointError

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def prepare(out_dir: str | os.PathLike) -> Path:
    """Create the lab's output folder (and its parents); a clear error when that fails."""
    path = Path(out_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise SaddlepointError(
            f"could not create the lab folder {path} ({err.strerror}); choose another --out."
        ) from None
    return path


def _plain(value: Any) -> Any:
    """numpy scalars and tuples -> plain JSON values; non-finite floats -> null (valid JSON)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_numbers(numbers: dict[str, Any], path: Path) -> Path:
    """Write a lab's numbers as indented JSON."""
    try:
        path.write_text(json.dumps(_plain(numbers), indent=2) + "\n")
    except OSError as err:
        raise SaddlepointError(
            f"could not write {path} ({err.strerror}); choose a writable --out."
        ) from None
    return path


def new_figure(width: float, height: float) -> Figure:
    """A figure of the given size in inches on the Agg canvas (no pyplot)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def save_figure(fig: Figure, path: Path, dpi: int = 110) -> Path:
    """Save a figure as PNG."""
    try:
        fig.savefig(path, dpi=dpi)
    except OSError as err:
        raise SaddlepointError(
            f"could not write {path} ({err.strerror}); choose a writable --out."
        ) from None
    return path


def gif_frame(canvas) -> Image.Image:
    """The drawn Agg canvas as one palette GIF frame (32 colours keep the file small)."""
    rgb = Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3])  # (H, W, 3) uint8
    return rgb.convert("P", palette=Image.ADAPTIVE, colors=32)


def save_gif(images: list[Image.Image], path: str | os.PathLike, durations: list[int]) -> None:
    """Write frames as a looping GIF (`durations` in ms per frame), or one clear error."""
    try:
        images[0].save(path, save_all=True, append_images=images[1:], duration=durations, loop=0)
    except OSError as err:
        raise SaddlepointError(
            f"could not write {path} ({err.strerror}); choose a writable --out."
        ) from None
