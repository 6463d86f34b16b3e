"""Per-class grids and InfoGAN code sweeps: which latent and label each tile was drawn from,
and `saddlepoint sample RUN --per-class / --sweep CODE` end to end."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from tiny import tiny_argv

import saddlepoint.report.conditional as conditional
from saddlepoint.cli import main
from saddlepoint.config import ModelConfig
from saddlepoint.errors import SaddlepointError
from saddlepoint.nets import Generator, LatentSpec, build_generator
from saddlepoint.report.conditional import code_names, code_sweep_grid, per_class_grid


class Echo(Generator):
    """A 'generator' whose image is its input: tile (1, 1, Z + 1) = [z | y], so a grid can be
    read back as the latents and labels it was drawn from."""

    def __init__(self, latent: LatentSpec, num_classes: int = 0) -> None:
        super().__init__()
        self.latent, self.num_classes = latent, num_classes
        self.shape, self.output = (1, 1, latent.dim + 1), "linear"
        self.weight = torch.nn.Parameter(torch.ones(()))  # something for `_device`

    def forward(self, z, y=None):
        label = torch.zeros(len(z), 1) if y is None else y.float().unsqueeze(1)
        return (self.weight * torch.cat([z, label], dim=1)).view(len(z), 1, 1, -1)


@pytest.fixture
def captured(monkeypatch):
    """The images and columns that a grid function hands to save_grid."""
    seen = {}

    def fake_save_grid(images, path, ncols=None, **_):
        seen["tiles"], seen["ncols"] = images[:, 0, 0], ncols  # (N, Z + 1)
        return path

    monkeypatch.setattr(conditional, "save_grid", fake_save_grid)
    return seen


def test_per_class_rows_are_classes_and_columns_share_noise(captured, tmp_path):
    G = Echo(LatentSpec(3), num_classes=4)
    per_class_grid(G, tmp_path / "g.png", per_row=5, seed=1)
    tiles, ncols = captured["tiles"], captured["ncols"]
    assert ncols == 5 and tiles.shape == (4 * 5, 4)
    grid = tiles.view(4, 5, 4)  # (rows = classes, columns, [z | y])
    assert torch.equal(grid[..., 3], torch.arange(4.0).unsqueeze(1).expand(4, 5))  # row c: y = c
    z = G.sample_z(5, torch.Generator().manual_seed(1))
    for c in range(4):
        assert torch.equal(grid[c, :, :3], z)  # column j: the same z_j in every row


def test_continuous_sweep_varies_one_code_from_minus_two_to_two(captured, tmp_path):
    latent = LatentSpec(3, categorical=(4,), continuous=2)  # z: 3 noise | 4 one-hot | 2 cont
    code_sweep_grid(Echo(latent), "cont1", tmp_path / "g.png", steps=5, rows=3)
    grid = captured["tiles"].view(3, 5, -1)[..., : latent.dim]  # (rows, steps, Z)
    assert captured["ncols"] == 5
    swept = 3 + 4 + 1
    for r in range(3):
        assert torch.allclose(grid[r, :, swept], torch.linspace(-2, 2, 5))
        others = torch.cat([grid[r, :, :swept], grid[r, :, swept + 1 :]], dim=1)
        assert torch.equal(others, others[:1].expand_as(others))  # everything else fixed
    assert not torch.equal(grid[0, 0], grid[1, 0])  # rows differ in their noise


def test_categorical_sweep_shows_each_value_once(captured, tmp_path):
    latent = LatentSpec(2, categorical=(3, 4), continuous=1)
    code_sweep_grid(Echo(latent, num_classes=2), "cat1", tmp_path / "g.png", rows=2)
    tiles = captured["tiles"]
    grid = tiles.view(2, 4, -1)
    assert captured["ncols"] == 4
    for r in range(2):
        assert torch.equal(grid[r, :, 5:9], torch.eye(4))  # cat1 takes its 4 values in turn
        for part in (slice(0, 5), slice(9, 11)):  # noise, cat0, cont0 and the label fixed
            assert torch.equal(grid[r, :, part], grid[r, :1, part].expand(4, -1))


def test_grid_errors_name_the_codes(tmp_path):
    assert code_names(LatentSpec(2, categorical=(3,), continuous=2)) == ["cat0", "cont0", "cont1"]
    with pytest.raises(SaddlepointError, match="its codes are: cat0, cont0, cont1"):
        code_sweep_grid(
            Echo(LatentSpec(2, categorical=(3,), continuous=2)), "cont2", tmp_path / "g.png"
        )
    with pytest.raises(SaddlepointError, match="no latent codes"):
        code_sweep_grid(Echo(LatentSpec(2)), "cat0", tmp_path / "g.png")
    with pytest.raises(SaddlepointError, match="takes no labels"):
        per_class_grid(Echo(LatentSpec(2)), tmp_path / "g.png")


def test_per_class_grid_of_a_dcgan_is_on_the_unit_scale(tmp_path):
    m = ModelConfig(generator="dcgan", conditional="concat", z_dim=4, g_channels=4)
    G = build_generator(m, (1, 28, 28), num_classes=3)
    path = per_class_grid(G, tmp_path / "g.png", per_row=4, class_names=("cat", "dog", "emu"))
    img = Image.open(path)
    margin = img.width - 2 * (4 * 30 + 2)  # the row labels, left of the grid
    assert img.height == 2 * (3 * 30 + 2) and 10 < margin < 60  # 4 columns, 3 rows, x2
    # tanh output mapped to [0, 1]: an untrained DCGAN draws mid-grey, not black
    pixels = np.asarray(img, dtype=np.float32) / 255  # (height, width), grey
    assert abs(pixels[4:60, margin + 4 : margin + 60].mean() - 0.5) < 0.1
    for row in range(3):  # each row's label is dark text in the margin beside it
        band = pixels[4 + row * 60 : (row + 1) * 60, : margin - 2]
        assert band.min() < 0.3
    default = Image.open(per_class_grid(G, tmp_path / "d.png", per_row=4))  # "class 0", ...
    assert default.width > 2 * (4 * 30 + 2)


def test_sweep_grid_labels_its_columns_with_the_code_values(tmp_path):
    m = ModelConfig(generator="dcgan", z_dim=4, g_channels=4, info_continuous=1)
    G = build_generator(m, (1, 28, 28))
    img = Image.open(code_sweep_grid(G, "cont0", tmp_path / "s.png", steps=5, rows=2))
    top = img.height - 2 * (2 * 30 + 2)  # the column labels, above the grid
    left = img.width - 2 * (5 * 30 + 2)  # the code's name, in the corner
    assert 8 < top < 40 and left > 10
    pixels = np.asarray(img, dtype=np.float32) / 255
    for col in range(5):  # a value above every column ("-2.0", "-1.0", ..., "2.0")
        x = left + 4 + col * 60
        assert pixels[: top - 1, x : x + 56].min() < 0.3


def test_sample_per_class_and_sweep_from_the_command_line(tmp_path, capsys):
    sets = ("train.iterations=2", "train.log_every=1", "train.grid_size=4", "model.z_dim=4")
    dcgan = ("model.generator=dcgan", "model.discriminator=dcgan", "model.g_channels=4")
    # the CLI starts from the demo preset, whose R1 penalty needs a D without batch norm
    dcgan += ("model.d_channels=4", "objective.penalty=none")
    argv = ["train", "--quiet", "--out", str(tmp_path / "cgan")]
    assert main([*argv, *tiny_argv(*sets, *dcgan, "model.conditional=concat")]) == 0
    run = next((tmp_path / "cgan").iterdir())
    capsys.readouterr()
    assert main(["sample", str(run), "--per-class", "--seed", "3"]) == 0
    png = capsys.readouterr().out.strip()
    assert png.endswith("per-class-seed3.png")
    assert Image.open(png).size[1] == 2 * (10 * 30 + 2)  # one row per digit class
    assert main(["sample", str(run), "--sweep", "cat0"]) == 2
    assert "no latent codes" in capsys.readouterr().err

    codes = ("model.info_categorical=10", "model.info_continuous=2")
    argv = ["train", "--quiet", "--out", str(tmp_path / "info")]
    assert main([*argv, *tiny_argv(*sets, *dcgan, *codes)]) == 0
    run = next((tmp_path / "info").iterdir())
    capsys.readouterr()
    assert main(["sample", str(run), "--sweep", "cont1"]) == 0
    assert capsys.readouterr().out.strip().endswith("sweep-cont1-seed0.png")
    assert main(["sample", str(run), "--sweep", "cont2"]) == 2
    assert "its codes are: cat0, cont0, cont1" in capsys.readouterr().err
    assert main(["sample", str(run), "--per-class"]) == 2
    assert main(["sample", str(run), "--per-class", "--sweep", "cat0"]) == 2
    assert "choose one of" in capsys.readouterr().err
