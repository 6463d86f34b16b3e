"""A user's CSV of points, read and checked: one clear sentence for each way a file can be bad.

Accepted: UTF-8 text, one point per line, x or x,y (separated by a comma, a semicolon, a tab or
spaces), an optional header line of names, blank lines and lines starting with # ignored; at
least MIN_POINTS points and at most MAX_POINTS, every number finite, not all the same point.
Every message names the file and, where there is one, the line.
"""

from __future__ import annotations

import math
import re

import torch

from saddlepoint.errors import SaddlepointError

MAX_BYTES = 5_000_000  # the server refuses larger uploads before reading them
MAX_POINTS = 200_000
MIN_POINTS = 2
_SEPARATORS = re.compile(r"\s*[,;\t]\s*|\s+")
_SHAPE = "each line must hold one point: x,y (two numbers) or x (one)"


def _fields(line: str) -> list[str]:
    return [f for f in _SEPARATORS.split(line.strip()) if f != ""]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_csv(content: bytes, name: str = "the file") -> torch.Tensor:
    """(N, D) float32 points, D = 1 or 2, from a CSV file's bytes; SaddlepointError if bad."""
    if len(content) > MAX_BYTES:
        raise SaddlepointError(
            f"{name} is {len(content):,} bytes; the playground reads files up to "
            f"{MAX_BYTES:,} bytes."
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SaddlepointError(
            f"{name} is not a text file (not UTF-8): upload a CSV of points, {_SHAPE}."
        ) from None
    rows: list[tuple[int, list[str]]] = [
        (i, _fields(line))
        for i, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if rows and not any(_is_number(f) for f in rows[0][1]):
        rows = rows[1:]  # a header line of names
    if not rows:
        raise SaddlepointError(f"{name} holds no points: {_SHAPE}.")
    width = len(rows[0][1])
    points = []
    for line, fields in rows:
        if len(fields) != width or width not in (1, 2):
            raise SaddlepointError(
                f"{name}, line {line}: {len(fields)} values where the first point had "
                f"{width}; {_SHAPE}."
                if len(fields) != width
                else f"{name}, line {line}: {width} values; {_SHAPE}."
            )
        try:
            values = [float(f) for f in fields]
        except ValueError:
            bad = next(f for f in fields if not _is_number(f))
            raise SaddlepointError(
                f"{name}, line {line}: {bad[:40]!r} is not a number; {_SHAPE}."
            ) from None
        if not all(math.isfinite(v) for v in values):
            raise SaddlepointError(
                f"{name}, line {line}: {', '.join(fields)} is not finite; every coordinate "
                "must be a finite number."
            )
        points.append(values)
        if len(points) > MAX_POINTS:
            raise SaddlepointError(
                f"{name} has more than {MAX_POINTS:,} points: upload a sample of them."
            )
    if len(points) < MIN_POINTS:
        raise SaddlepointError(f"{name} has {len(points)} point; the playground needs at least 2.")
    x = torch.tensor(points, dtype=torch.float64)  # (N, D)
    if bool((x == x[0]).all()):
        raise SaddlepointError(
            f"all {len(x)} points of {name} are the same point: there is no shape to learn."
        )
    return x.float()
