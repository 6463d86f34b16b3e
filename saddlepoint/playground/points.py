"""The playground's data: a toy density, a shape, points drawn with the mouse, or a CSV.

Whatever its source, the data becomes one `Points`: the training split as the library's
`Dataset` (which `train.state.setup` takes in place of config.data's), the box the page draws
(`extent`), the known mode centres where mode coverage can be counted (ring8, grid25), and the
exact log-density where there is one (the toy densities).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from saddlepoint.data import toy
from saddlepoint.data.dataset import Dataset
from saddlepoint.errors import SaddlepointError
from saddlepoint.playground.shapes import SHAPES

SIZE = 20_000  # points in a shape's or a drawing's training split
DRAWN_BLUR = 0.08  # drawn points: each stroke point stands for N(point, 0.08^2 I)
MAX_DRAWN = 10_000  # stroke points a drawing may send
MARGIN = 0.15  # a user's data: the box around it grows by this share on every side

# the toy densities' boxes: gaussian1d's holds G's start at 0 and the data at 4
TOY_EXTENTS: dict[str, tuple[tuple[float, float], ...]] = {
    "gaussian1d": ((-1.0, 7.0),),
    "ring8": ((-3.0, 3.0), (-3.0, 3.0)),
    "grid25": ((-5.5, 5.5), (-5.5, 5.5)),
}
SHAPE_EXTENT = ((-3.5, 3.5), (-3.5, 3.5))
NAMES = (*toy.NAMES, *SHAPES)  # what `named` knows; then "drawn" and "uploaded"


@dataclass(frozen=True)
class Points:
    name: str  # "ring8", "spiral", "drawn", "uploaded"
    description: str  # one line for the page
    dataset: Dataset  # the training split: x (N, D) float32, D = 1 or 2
    extent: tuple[tuple[float, float], ...]  # (D,) the (lo, hi) drawn on each axis
    modes: toy.Modes | None = None  # known mode centres and std: mode coverage is counted
    log_prob: Callable[[torch.Tensor], torch.Tensor] | None = None  # exact log p_data(x)

    @property
    def dim(self) -> int:
        return self.dataset.x.shape[1]


def named(name: str) -> Points:
    """A toy density of the library or one of the playground's shapes."""
    if name in toy.NAMES:
        return Points(
            name,
            toy.description(name),
            toy.load(name, "train"),
            TOY_EXTENTS[name],
            toy.modes(name) if name in ("ring8", "grid25") else None,
            lambda x, name=name: toy.log_prob(name, x),
        )
    if name in SHAPES:
        sampler, description = SHAPES[name]
        x = sampler(SIZE, torch.Generator().manual_seed(0))
        return Points(name, description, Dataset(name, "train", x), SHAPE_EXTENT)
    raise SaddlepointError(
        f"unknown data {name!r}; choose one of {', '.join(NAMES)}, draw points or upload a CSV."
    )


def describe(name: str) -> str:
    """The one line `named(name)` would describe its points with."""
    return toy.description(name) if name in toy.NAMES else SHAPES[name][1]


def drawn(strokes: object, extent: object) -> Points:
    """Points drawn with the mouse, [[x, y], ...] in data coordinates, inside the page's box
    `extent` [[x0, x1], [y0, y1]]: the density of N(point, DRAWN_BLUR^2 I) around each."""
    box = _extent(extent)
    x = _stroke_points(strokes)
    g = torch.Generator().manual_seed(0)
    pick = torch.randint(len(x), (SIZE,), generator=g)
    scale = DRAWN_BLUR * (box[0][1] - box[0][0]) / 6  # 0.08 in a box 6 wide, as ring8's
    data = x[pick] + scale * torch.randn(SIZE, 2, generator=g)
    return Points("drawn", f"{len(x)} points drawn by hand", Dataset("drawn", "train", data), box)


def uploaded(x: torch.Tensor, filename: str) -> Points:
    """A user's (N, D) points (upload.parse_csv), in a box around them."""
    return Points(
        "uploaded",
        f"{len(x):,} points from {filename}",
        Dataset("uploaded", "train", x),
        box_around(x),
    )


def box_around(x: torch.Tensor) -> tuple[tuple[float, float], ...]:
    """The bounding box of (N, D) points grown by MARGIN; square in 2-D (equal scales)."""
    lo, hi = x.min(0).values.double(), x.max(0).values.double()
    centre, half = (lo + hi) / 2, (hi - lo).max().clamp_min(1e-6) / 2 * (1 + 2 * MARGIN)
    if x.shape[1] == 1:
        half = ((hi - lo) / 2 * (1 + 2 * MARGIN)).clamp_min(1e-6)
    return tuple((float(c - h), float(c + h)) for c, h in zip(centre, half.expand_as(centre)))


def _extent(extent: object) -> tuple[tuple[float, float], tuple[float, float]]:
    try:
        (x0, x1), (y0, y1) = ((float(a), float(b)) for a, b in extent)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise SaddlepointError("a drawing needs its box as [[x0, x1], [y0, y1]].") from None
    if not (x0 < x1 and y0 < y1) or not all(map(_finite, (x0, x1, y0, y1))):
        raise SaddlepointError("a drawing's box must have finite bounds with x0 < x1, y0 < y1.")
    return (x0, x1), (y0, y1)


def _finite(v: float) -> bool:
    return v == v and abs(v) != float("inf")


def _stroke_points(strokes: object) -> torch.Tensor:
    if not isinstance(strokes, list) or not strokes:
        raise SaddlepointError("draw some points on the plane first (press and drag).")
    if len(strokes) > MAX_DRAWN:
        raise SaddlepointError(
            f"a drawing may hold {MAX_DRAWN:,} points; this one has {len(strokes):,}."
        )
    try:
        x = torch.tensor(strokes, dtype=torch.float32)
    except (TypeError, ValueError):
        raise SaddlepointError("drawn points must be sent as [[x, y], ...] numbers.") from None
    if x.dim() != 2 or x.shape[1] != 2 or not bool(torch.isfinite(x).all()):
        raise SaddlepointError("drawn points must be sent as [[x, y], ...] finite numbers.")
    return x
