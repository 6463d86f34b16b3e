"""The playground's data: toy densities, shapes, drawings, and a user's CSV checked line by line."""

from __future__ import annotations

import math

import pytest
import torch

from saddlepoint.data import toy
from saddlepoint.errors import SaddlepointError
from saddlepoint.playground import points, upload
from saddlepoint.playground.shapes import SHAPES


def test_toy_densities_keep_their_modes_and_exact_density():
    ring = points.named("ring8")
    assert ring.dim == 2 and len(ring.dataset) == 50_000
    assert torch.equal(ring.dataset.x, toy.load("ring8", "train").x)  # the library's own split
    assert ring.modes is not None and len(ring.modes.centres) == 8
    x = torch.tensor([[2.0, 0.0]])
    assert torch.allclose(ring.log_prob(x), toy.log_prob("ring8", x))
    line = points.named("gaussian1d")
    assert line.dim == 1 and line.modes is None and line.extent == ((-1.0, 7.0),)
    assert points.named("grid25").modes.centres.shape == (25, 2)


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_shapes_are_seeded_2d_point_clouds_inside_their_box(name):
    a, b = points.named(name), points.named(name)
    x = a.dataset.x
    assert x.shape == (points.SIZE, 2) and x.dtype == torch.float32
    assert torch.equal(x, b.dataset.x)  # the same points every time
    (x0, x1), (y0, y1) = a.extent
    inside = (x[:, 0] > x0) & (x[:, 0] < x1) & (x[:, 1] > y0) & (x[:, 1] < y1)
    assert inside.float().mean() > 0.999
    assert a.modes is None and points.describe(name) == a.description


def test_unknown_data():
    with pytest.raises(SaddlepointError, match="unknown data 'ring9'; choose one of gaussian1d"):
        points.named("ring9")


def test_a_drawing_is_a_blurred_density_around_its_points():
    strokes = [[-1.0, 0.0], [1.0, 0.0], [0.0, 1.5]]
    p = points.drawn(strokes, [[-3, 3], [-3, 3]])
    x = p.dataset.x
    assert p.name == "drawn" and x.shape == (points.SIZE, 2) and p.extent == ((-3, 3), (-3, 3))
    nearest = torch.cdist(x, torch.tensor(strokes)).min(1).values  # (N,)
    std = points.DRAWN_BLUR  # in a box 6 wide the blur is DRAWN_BLUR
    assert nearest.max() < 6 * std  # every point stays near a stroke
    # each coordinate is N(0, std^2) around its stroke point: E|d|^2 = 2 std^2
    assert float((nearest**2).mean()) == pytest.approx(2 * std**2, rel=0.05)


@pytest.mark.parametrize(
    "strokes, extent, message",
    [
        ([], [[-3, 3], [-3, 3]], "draw some points"),
        ([[0, 0]] * (points.MAX_DRAWN + 1), [[-3, 3], [-3, 3]], "may hold 10,000 points"),
        ([[0, "a"]], [[-3, 3], [-3, 3]], r"\[\[x, y\], ...\] numbers"),
        ([[0, 1, 2]], [[-3, 3], [-3, 3]], "finite numbers"),
        ([[0, math.nan]], [[-3, 3], [-3, 3]], "finite numbers"),
        ([[0, 0]], [[3, -3], [-3, 3]], "x0 < x1"),
        ([[0, 0]], None, r"box as \[\[x0, x1\], \[y0, y1\]\]"),
    ],
)
def test_a_bad_drawing(strokes, extent, message):
    with pytest.raises(SaddlepointError, match=message):
        points.drawn(strokes, extent)


def test_a_good_csv_with_header_comments_and_any_separator():
    text = b"x,y\n# a comment\n1,2\n\n3;4\n5\t6\n 7  8 \n"
    x = upload.parse_csv(text, "p.csv")
    assert x.tolist() == [[1, 2], [3, 4], [5, 6], [7, 8]] and x.dtype == torch.float32
    assert upload.parse_csv(b"\xef\xbb\xbfv\n1\n2.5e1\n").tolist() == [[1.0], [25.0]]  # BOM, 1-D
    p = points.uploaded(x, "p.csv")
    assert p.name == "uploaded" and p.description == "4 points from p.csv"
    (x0, x1), (y0, y1) = p.extent
    assert x1 - x0 == pytest.approx(y1 - y0)  # square: equal scales on both axes
    assert x0 < 1 and x1 > 7 and y0 < 2 and y1 > 8


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\xff\xfe\x00\x01", "p.csv is not a text file"),
        (b"", "p.csv holds no points"),
        (b"x,y\n", "p.csv holds no points"),
        (b"1,2\n3\n", "p.csv, line 2: 1 values where the first point had 2"),
        (b"1,2,3\n4,5,6\n", "p.csv, line 1: 3 values; each line must hold one point"),
        (b"1,2\n3,abc\n", "p.csv, line 2: 'abc' is not a number"),
        (b"1,2\n3,nan\n", "p.csv, line 2: 3, nan is not finite"),
        (b"1,2\ninf,3\n", "line 2: inf, 3 is not finite"),
        (b"1,2\n", "p.csv has 1 point; the playground needs at least 2"),
        (b"1,2\n1,2\n1,2\n", "all 3 points of p.csv are the same point"),
        (b"0" * (upload.MAX_BYTES + 1), "p.csv is 5,000,001 bytes"),
    ],
)
def test_a_bad_csv_gets_one_clear_sentence(content, message):
    with pytest.raises(SaddlepointError, match=message):
        upload.parse_csv(content, "p.csv")


def test_too_many_points(monkeypatch):
    monkeypatch.setattr(upload, "MAX_POINTS", 3)
    with pytest.raises(SaddlepointError, match="more than 3 points"):
        upload.parse_csv(b"1,1\n2,2\n3,3\n4,4\n", "p.csv")
