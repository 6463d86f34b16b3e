"""Figure 2 (samples with nearest neighbours), Figure 3 (interpolations), grids."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from saddlepoint.errors import SaddlepointError
from saddlepoint.nets import MLPGenerator
from saddlepoint.report import grid_array, save_grid
from saddlepoint.report.figures import interpolate_z, interpolation_figure, neighbours_figure


def test_grid_layout_and_values():
    imgs = torch.zeros(5, 1, 2, 3)
    imgs[4] = 1.0
    arr = grid_array(imgs, ncols=2, padding=1, pad_value=0.5)
    assert arr.shape == (3 * 3 + 1, 2 * 4 + 1, 1)
    # image 4 sits at row 2, column 0: pixels (1 + 2*3 .. +2, 1 .. 1+3)
    assert (arr[7:9, 1:4] == 255).all() and (arr[1:3, 1:4] == 0).all()
    assert arr[0, 0, 0] == 128  # padding


def test_save_grid_writes_png(tmp_path):
    path = save_grid(torch.rand(4, 3, 8, 8), tmp_path / "g.png", scale=1, padding=0)
    img = Image.open(path)
    assert img.mode == "RGB" and img.size == (16, 16)


def test_interpolate_z_endpoints_and_linearity():
    z0, z1 = torch.randn(3, 4), torch.randn(3, 4)
    z = interpolate_z(z0, z1, 5)
    assert z.shape == (3, 5, 4)
    torch.testing.assert_close(z[:, 0], z0)
    torch.testing.assert_close(z[:, -1], z1)
    torch.testing.assert_close(z[:, 2], (z0 + z1) / 2)


def test_interpolation_figure_rows_start_and_end_at_samples(tmp_path):
    torch.manual_seed(0)
    G = MLPGenerator((1, 4, 4), z_dim=3, hidden=(8,), init=0.5)
    path = interpolation_figure(G, tmp_path / "i.png", rows=2, steps=4, seed=1)
    arr = np.asarray(Image.open(path))
    assert arr.shape[:2] == ((2 * 6 + 2) * 2, (4 * 6 + 2) * 2)
    g = torch.Generator().manual_seed(1)
    z0 = G.sample_z(2, g)
    levels = G(z0)[0, 0].detach().numpy() * 255 + 0.5  # grey levels before truncation
    first = levels.astype(np.uint8)
    # The figure runs G on a batch of 8, here on 2: the matrix products may round the last bit
    # differently (an ulp or two, 1.5e-5 grey levels each), so exact pixels are owed only as no
    # pixel sits that near a grey-level edge (0.14 of a level is the nearest here)
    assert np.abs(levels - np.round(levels)).min() > 1e-3
    # top-left tile (scale 2, padding 2): pixels [4:12:2, 4:12:2]
    np.testing.assert_array_equal(arr[4:12:2, 4:12:2], first)


def test_neighbours_figure_last_column_is_the_nearest_training_image(tmp_path):
    torch.manual_seed(0)
    G = MLPGenerator((1, 4, 4), z_dim=3, hidden=(8,), init=0.5)
    train_x = torch.rand(50, 1, 4, 4)
    rows, cols = 3, 2
    path = neighbours_figure(G, train_x, tmp_path / "n.png", n=rows * cols, cols=cols, seed=2)
    arr = np.asarray(Image.open(path)).astype(np.float64) / 255
    samples = G.sample(rows * cols, generator=torch.Generator().manual_seed(2))
    gap = 6  # the separator's extra pixels before the neighbour column
    assert arr.shape == ((rows * 6 + 2) * 2, ((cols + 1) * 6 + 2 + gap) * 2)
    line = (cols * 6 + 1 + gap // 2) * 2  # the separator: a dark line down the gap
    assert (arr[:, line] < 0.5).all() and (arr[:, line - 4] == 1).all()
    for r in range(rows):
        beside = samples[r * cols + cols - 1, 0].numpy()
        tile = arr[
            (2 + r * 6) * 2 : (2 + r * 6 + 4) * 2 : 2,
            (2 + cols * 6 + gap) * 2 : (2 + cols * 6 + gap + 4) * 2 : 2,
        ]
        nearest = train_x[
            ((train_x[:, 0] - torch.from_numpy(beside)) ** 2).flatten(1).sum(1).argmin(), 0
        ].numpy()
        np.testing.assert_allclose(tile, nearest, atol=1 / 255)
    with pytest.raises(SaddlepointError, match="cannot be compared"):
        neighbours_figure(G, torch.rand(5, 1, 3, 3), tmp_path / "bad.png")


def test_neighbours_figure_draws_n_samples_with_a_short_last_row(tmp_path):
    """-n 5 in rows of 2: rows of 2, 2 and 1 samples (the rest white), each row's neighbour
    that of its last sample."""
    torch.manual_seed(0)
    G = MLPGenerator((1, 4, 4), z_dim=3, hidden=(8,), init=0.5)
    train_x = torch.rand(50, 1, 4, 4)
    path = neighbours_figure(G, train_x, tmp_path / "n.png", n=5, cols=2, seed=2)
    arr = np.asarray(Image.open(path)).astype(np.float64) / 255
    assert arr.shape == ((3 * 6 + 2) * 2, (3 * 6 + 2 + 6) * 2)  # 3 rows; 2 + 1 columns
    empty = arr[(2 + 2 * 6) * 2 : (2 + 2 * 6 + 4) * 2, (2 + 6) * 2 : (2 + 6 + 4) * 2]
    assert (empty == 1).all()  # row 3 holds one sample: its second tile is blank
    samples = G.sample(5, generator=torch.Generator().manual_seed(2))
    nearest = ((train_x - samples[4]) ** 2).flatten(1).sum(1).argmin()
    tile = arr[
        (2 + 2 * 6) * 2 : (2 + 2 * 6 + 4) * 2 : 2, (2 + 2 * 6 + 6) * 2 : (2 + 2 * 6 + 6 + 4) * 2 : 2
    ]
    np.testing.assert_allclose(tile, train_x[nearest, 0].numpy(), atol=1 / 255)
