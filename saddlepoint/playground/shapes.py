"""More 2-D shapes to play with, beside the library's toy densities (data/toy.py).

GAN Lab's line and disjoint sets, and three classics of 2-D density estimation. Each is a
sampler (n, generator) -> (n, 2) float32 points; none has modes counted by mode coverage
(only ring8 and grid25 do), and the divergences are estimated from histograms for all alike.

    line      a segment from (-2, -1) to (2, 1), blurred by N(0, 0.05^2)
    disjoint  two discs of radius 0.75 centred at (-1.5, -1.5) and (1.5, 1.5), uniform
    circle    a ring of radius 2 (no gaps: one continuous mode), blurred by N(0, 0.05^2)
    spiral    two turns of an Archimedean spiral r = 0.5 + 2 t / (4 pi), blurred by 0.05
    moons     two interleaved half circles (scikit-learn's make_moons), blurred by 0.08
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

Sampler = Callable[[int, torch.Generator], torch.Tensor]


def _blur(x: torch.Tensor, std: float, g: torch.Generator) -> torch.Tensor:
    return (x + std * torch.randn(x.shape, generator=g, dtype=torch.float64)).float()


def line(n: int, g: torch.Generator) -> torch.Tensor:
    t = 4 * torch.rand(n, generator=g, dtype=torch.float64) - 2  # (n,) in [-2, 2]
    return _blur(torch.stack([t, 0.5 * t], 1), 0.05, g)


def disjoint(n: int, g: torch.Generator) -> torch.Tensor:
    side = torch.randint(2, (n,), generator=g).double() * 2 - 1  # (n,) -1 or +1
    r = 0.75 * torch.rand(n, generator=g, dtype=torch.float64).sqrt()  # uniform on the disc
    a = 2 * math.pi * torch.rand(n, generator=g, dtype=torch.float64)
    centre = 1.5 * side
    return torch.stack([centre + r * a.cos(), centre + r * a.sin()], 1).float()


def circle(n: int, g: torch.Generator) -> torch.Tensor:
    a = 2 * math.pi * torch.rand(n, generator=g, dtype=torch.float64)
    return _blur(2 * torch.stack([a.cos(), a.sin()], 1), 0.05, g)


def spiral(n: int, g: torch.Generator) -> torch.Tensor:
    t = 4 * math.pi * torch.rand(n, generator=g, dtype=torch.float64)  # two turns
    r = 0.5 + 2 * t / (4 * math.pi)
    return _blur(torch.stack([r * t.cos(), r * t.sin()], 1), 0.05, g)


def moons(n: int, g: torch.Generator) -> torch.Tensor:
    upper = torch.randint(2, (n,), generator=g).bool()  # (n,)
    a = math.pi * torch.rand(n, generator=g, dtype=torch.float64)
    top = torch.stack([a.cos(), a.sin()], 1)  # the upper moon
    bottom = torch.stack([1 - a.cos(), 0.5 - a.sin()], 1)  # the lower one, shifted
    x = torch.where(upper[:, None], top, bottom) - torch.tensor([0.5, 0.25], dtype=torch.float64)
    return _blur(1.5 * x, 0.08, g)


SHAPES: dict[str, tuple[Sampler, str]] = {  # name -> (sampler, one line for the page)
    "line": (line, "a blurred line segment"),
    "disjoint": (disjoint, "two disjoint discs, uniform"),
    "circle": (circle, "a continuous ring of radius 2"),
    "spiral": (spiral, "two turns of a spiral"),
    "moons": (moons, "two interleaved half circles"),
}
