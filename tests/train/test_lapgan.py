"""LAPGAN end to end: one ordinary Algorithm 1 run per pyramid level inside one run folder,
coarse-to-fine samples, load, resume and the command line, on 200 digits in seconds."""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from saddlepoint.cli import main
from saddlepoint.config import override
from saddlepoint.data import load_dataset
from saddlepoint.errors import SaddlepointError
from saddlepoint.nets import build_generator
from saddlepoint.nets.base import to_unit
from saddlepoint.presets import preset
from saddlepoint.train.lapgan import is_lapgan_run, level_config, load_lapgan, train_lapgan

TINY = (
    "data.name=mnist5k",
    "data.root=none",
    "data.limit=200",
    "data.pyramid_levels=3",  # the paper's layout (the preset has 2): two band-pass levels
    "model.z_dim=8",
    "model.g_channels=8",
    "model.d_channels=8",
    "train.batch_size=20",
    "train.iterations=30",
    "train.log_every=10",
    "train.sample_every=0",
    "train.checkpoint_every=0",
    "train.grid_size=16",
    "train.threads=1",
)


def tiny_lapgan(*sets: str):
    return override(preset("lapgan-mnist"), [*TINY, *sets])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("runs")
    return train_lapgan(tiny_lapgan(), out=out, progress=False)


def _level_dirs(path: Path) -> dict[int, Path]:
    dirs = {}
    for sub in path.iterdir():
        if (sub / "config.json").is_file() and sub.name[:5].isdigit():
            dirs[json.loads((sub / "config.json").read_text())["data"]["pyramid_level"]] = sub
    return dirs


def test_every_level_is_an_ordinary_run_inside_the_lapgan_run(trained):
    assert is_lapgan_run(trained.path)
    assert json.loads((trained.path / "lapgan.json").read_text())["shape"] == [1, 28, 28]
    dirs = _level_dirs(trained.path)
    assert sorted(dirs) == [0, 1, 2]
    for level, folder in dirs.items():
        config = json.loads((folder / "config.json").read_text())
        nets = ("dcgan", "dcgan") if level == 2 else ("lapgan-level", "lapgan-level")
        assert (config["model"]["generator"], config["model"]["discriminator"]) == nets
        assert (folder / "checkpoint.pt").is_file() and (folder / "generator.safetensors").is_file()
        log = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
        assert log[-1]["iteration"] == 30
    assert (trained.path / "samples" / "lapgan.png").is_file()
    assert (trained.path / "samples" / "coarse-to-fine.png").is_file()
    assert trained.iteration == 30 and len(trained.levels) == 3


def test_coarse_to_fine_samples_are_digit_sized_and_reproducible(trained):
    x = trained.sample(6, seed=0)
    assert x.shape == (6, 1, 28, 28) and 0 <= x.min() and x.max() <= 1
    assert torch.equal(x, trained.sample(6, seed=0))
    assert (x[0] - x[1]).abs().max() > 0.05  # different z, different images
    again = load_lapgan(trained.path)
    assert torch.equal(again.sample(6, seed=0), x)


def test_something_real_moved(trained):
    """Every level's generator was trained and is the one loaded: on the same noise and
    conditions its output moved away from the untrained G's (rebuilt with the loop's seed) by a
    good part of the level data's spread (untrained or not saved: exactly 0). Measured over
    seeds 0-15, 22, 24, 25, 27: rms move / data std 0.49-3.4 (level 0, band-pass 32x32),
    0.38-3.2 (level 1, 16x16), 0.19-0.41 (level 2, the 8x8 low-pass).

    The top level, an ordinary GAN, also moved towards the data: |log(std of G / std of data)|
    fell from 4.4-4.9 to 0.35-0.45 of that over seeds 0-31. The band-pass levels' spread is still
    swinging at 30 iterations (over those seeds level 1's ended further from the data's than it
    began in one run and at 0.99 of that in another, level 0's at 0.60 in a third), so for them
    the move itself is the check."""
    for level in range(3):
        config = level_config(trained.config, level)
        data = load_dataset(config.data)
        spec = {"condition_shape": data.shape} if level < 2 else {}
        torch.manual_seed(config.train.seed)  # as the loop does before building G
        start = build_generator(config.model, data.shape, None, None, **spec).eval()
        outputs = []
        for G in (start, trained.levels[level].generator):
            with torch.no_grad():
                z = G.sample_z(200, torch.Generator().manual_seed(2))
                x = G(z, data.y[:200]) if spec else G(z)
            outputs.append(to_unit(x, G.output))
        move = float((outputs[1] - outputs[0]).square().mean().sqrt() / data.x.std())
        assert move > 0.1, (level, move)
        if level == 2:
            spread = [abs(math.log(x.std() / data.x.std())) for x in outputs]
            assert spread[1] < 0.6 * spread[0], spread


def test_resume_continues_each_level(trained, tmp_path):
    import shutil

    copy = tmp_path / trained.path.name
    shutil.copytree(trained.path, copy)
    more = override(load_lapgan(copy).config, ["train.iterations=40"])
    resumed = train_lapgan(more, resume=copy, progress=False)
    assert resumed.iteration == 40
    dirs = _level_dirs(copy)
    assert sorted(dirs) == [0, 1, 2]  # no new level runs: the same three continued
    for folder in dirs.values():
        log = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
        assert [r["iteration"] for r in log] == [10, 20, 30, 40]
    with pytest.raises(SaddlepointError, match="keeps its model settings"):
        train_lapgan(override(more, ["model.z_dim=9"]), resume=copy, progress=False)


def test_command_line_samples_a_lapgan_run(trained, tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert main(["sample", str(trained.path), "-n", "4", "--out", str(out)]) == 0
    assert out.is_file()
    assert main(["train", "--preset", "lapgan-mnist", "--dry-run"]) == 0
    assert '"generator": "lapgan"' in capsys.readouterr().out


def _fake_cifar(folder: Path, per_batch: int = 12) -> Path:
    """The six batch files and batches.meta of cifar-10-batches-py, with random colour images
    (pickled by Python 3, which the loader also reads)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        batch = {b"data": data, b"labels": [int(i) % 10 for i in range(per_batch)]}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    meta = {b"label_names": [f"class{i}".encode() for i in range(10)]}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return folder


def test_colour_lapgan_on_cifar_files(tmp_path):
    folder = _fake_cifar(tmp_path / "cifar-10-batches-py")
    config = override(
        preset("lapgan-cifar10"),
        [f"data.root={folder}", *TINY[4:], "train.iterations=3", "train.batch_size=10"],
    )
    run = train_lapgan(config, out=tmp_path / "runs", progress=False)
    assert len(run.levels) == 2  # the preset: a 16x16 top and the 32x32 band-pass
    x = run.sample(4, seed=1)
    assert x.shape == (4, 3, 32, 32) and 0 <= x.min() and x.max() <= 1


def test_misuse_is_refused(tmp_path):
    with pytest.raises(SaddlepointError, match="model.generator=lapgan"):
        train_lapgan(override(preset("demo"), ["train.iterations=1"]), out=tmp_path)
    with pytest.raises(SaddlepointError, match="model.conditional=none"):
        train_lapgan(tiny_lapgan("model.conditional=concat"), out=tmp_path)
    with pytest.raises(SaddlepointError, match="needs images"):
        train_lapgan(tiny_lapgan("data.name=ring8", "data.limit=none"), out=tmp_path)
    with pytest.raises(SaddlepointError, match="not a LAPGAN run folder"):
        load_lapgan(tmp_path)
    assert not any(tmp_path.iterdir())  # nothing was written before the refusals


def test_lapgan_folders_open_everywhere_a_run_does(trained, tmp_path):
    from saddlepoint.cli import main
    from saddlepoint.train.run import load

    run = load(trained.path)  # the ordinary loader recognises the LAPGAN folder
    assert len(run.levels) == len(trained.levels)
    x = run.sample(6, seed=1)
    assert x.shape == (6, 1, 28, 28) and float(x.min()) >= 0 and float(x.max()) <= 1
    out = tmp_path / "lines.png"
    assert (
        main(["interpolate", str(trained.path), "--rows", "2", "--steps", "3", "--out", str(out)])
        == 0
    )
    assert out.stat().st_size > 0
