"""LAPGAN's driver (Denton et al. 2015): one Algorithm 1 per pyramid level, in one run folder,
and the coarse-to-fine figure of the trained levels. Loading a LAPGAN run folder (`load_lapgan`,
`LapganRun`) lives in `saddlepoint.runs`, beside the loading of every run; it is re-exported here.

The paper trains the levels independently: level k < L-1 is a conditional GAN on the band-pass
images h_k given the upsampled coarser image u(l_{k+1}), and the top level an ordinary GAN on
the coarsest low-pass images (`saddlepoint.data.pyramid`). So a LAPGAN run is L ordinary runs
of `saddlepoint.train.loop.train`, one per level, each with its own config (the LAPGAN config
with data.pyramid_level=k and the level's networks), log, grids and checkpoints:

    runs/00007-lapgan-mnist-mnist-non_saturating/
        config.json     the LAPGAN config (model.generator = model.discriminator = "lapgan")
        lapgan.json     the images' shape before padding, and the number of levels
        00001-lapgan-mnist-level2-...    the coarsest level: `dcgan` G and D on 8x8
        00002-lapgan-mnist-level1-...    band-pass 16x16: `lapgan-level` G and D
        00003-lapgan-mnist-level0-...    band-pass 32x32
        samples/        the coarse-to-fine grids written when training ends

Every level trains for train.iterations generator steps (and at most train.max_minutes), with
the same optimisers, objective and seed. Levels are trained coarsest first; an interrupted
LAPGAN run resumes with `saddlepoint train --resume RUN`, which continues the level it stopped
in and then trains the rest.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import torch

from saddlepoint.config import Config, validate
from saddlepoint.data import load_dataset, pyramid
from saddlepoint.errors import SaddlepointError, writing
from saddlepoint.report import save_grid
from saddlepoint.runs import (  # reading LAPGAN runs (re-exported: they were defined here)
    CONFIG,
    LAPGAN_FILE,
    LapganRun,
    is_lapgan_run,
    lapgan_config,
    level_runs,
    load_lapgan,
    read_lapgan,
)
from saddlepoint.train.cuda_graph import check_cuda_graph
from saddlepoint.train.loop import train
from saddlepoint.train.resume import check_resume_config
from saddlepoint.train.run import RunLock, new_run_dir

LAPGAN = "lapgan"  # model.generator and model.discriminator of a LAPGAN config
# The coarsest level: the paper uses MLPs, but on 8x8 MNIST every MLP pair tried here (the 2014
# mlp/maxout nets with three learning-rate and initialisation variants, and a plain LeakyReLU MLP
# pair) collapsed to one or two images within 600-1,500 iterations, while DCGAN's nets (batch
# norm in G) drew varied digits after 1,500 (docs/lapgan.md).
TOP_NETS = ("dcgan", "dcgan")
LEVEL_NETS = ("lapgan-level", "lapgan-level")  # band-pass levels: the conditional convnets

__all__ = [
    "LAPGAN_FILE",
    "LapganRun",
    "is_lapgan",
    "is_lapgan_run",
    "lapgan_config",
    "level_config",
    "load_lapgan",
    "save_pyramid_figure",
    "train_lapgan",
]


def is_lapgan(config: Config) -> bool:
    return config.model.generator == LAPGAN


def level_config(config: Config, level: int) -> Config:
    """The ordinary config that trains pyramid level `level` of the LAPGAN config `config`."""
    top = level == config.data.pyramid_levels - 1
    g, d = TOP_NETS if top else LEVEL_NETS
    return dataclasses.replace(
        config,
        preset=f"{config.preset}-level{level}",
        data=dataclasses.replace(config.data, pyramid_level=level),
        model=dataclasses.replace(config.model, generator=g, discriminator=d),
    )


def _check(config: Config) -> None:
    validate(config)
    check_cuda_graph(config)  # refused before the LAPGAN run folder is made
    m = config.model
    if not is_lapgan(config):
        raise SaddlepointError(
            "train_lapgan needs model.generator=lapgan and model.discriminator=lapgan: start "
            "from a lapgan preset (saddlepoint presets)."
        )
    if m.conditional != "none":
        raise SaddlepointError(
            "this LAPGAN is unconditional (the paper's class-conditional variant is not "
            "implemented): set model.conditional=none."
        )
    if m.info_categorical or m.info_continuous:
        raise SaddlepointError(
            "LAPGAN levels take plain noise, not InfoGAN codes: remove model.info_categorical "
            "and model.info_continuous."
        )


def train_lapgan(
    config: Config | None = None,
    *,
    out: str | os.PathLike = "runs",
    resume: str | os.PathLike | None = None,
    progress: bool = True,
) -> LapganRun:
    """Train every level of a LAPGAN, coarsest first, in one run folder; returns the LapganRun.

    `resume` continues a LAPGAN run folder: the level that was stopped resumes exactly, levels
    not started yet start; only train.* durations and intervals may differ from the saved config.
    If a level is interrupted (Ctrl-C, SIGTERM) the returned run has interrupted=True and that
    level's generator. Like every run folder, a LAPGAN run is trained by one process at a time.
    """
    with RunLock() as lock:
        if resume is not None:
            path = Path(resume)
            saved, _ = read_lapgan(path)
            config = check_resume_config(saved, config)
            check_cuda_graph(config)
            lock.acquire(path)
        else:
            if config is None:
                raise SaddlepointError("train_lapgan needs a config: start from a lapgan preset.")
            _check(config)
            data = load_dataset(config.data, "train")
            padded = pyramid.padded_shape(data, config.data.pyramid_levels)  # fails early
            path = new_run_dir(out, config)
            lock.acquire(path)
            info = {
                "levels": config.data.pyramid_levels,
                "shape": list(data.shape),  # (C, H, W) of the images before padding
                "padded_shape": list(padded),
            }
            with writing(path / LAPGAN_FILE):
                (path / LAPGAN_FILE).write_text(json.dumps(info, indent=2))
            del data
        with writing(path / CONFIG):
            (path / CONFIG).write_text(config.to_json())
        return _train_levels(config, path, progress)


def _train_levels(config: Config, path: Path, progress: bool) -> LapganRun:
    """Train (or resume) every level of the LAPGAN run at `path`, coarsest first."""
    levels = config.data.pyramid_levels
    for level in reversed(range(levels)):  # coarsest first
        existing = level_runs(path).get(level)
        wanted = level_config(config, level)
        if existing is not None:
            run = train(wanted, resume=existing, progress=progress, resume_hint=path)
        else:
            run = train(wanted, out=path, progress=progress, resume_hint=path)
        if run.interrupted:
            print(
                f"LAPGAN interrupted in level {level}: continue with "
                f"`saddlepoint train --resume {path}`"
            )
            return LapganRun(
                path,
                config,
                run.generator,
                run.iteration,
                run.last_grid,
                interrupted=True,
                stop_signal=run.stop_signal,
            )

    lapgan = load_lapgan(path)
    t = config.train
    lapgan.last_grid = save_grid(
        lapgan.sample(t.grid_size, seed=t.seed + 2), path / "samples" / "lapgan.png"
    )
    save_pyramid_figure(lapgan, path / "samples" / "coarse-to-fine.png", seed=t.seed + 2)
    return lapgan


@torch.no_grad()
def save_pyramid_figure(run: LapganRun, out: str | os.PathLike, n: int = 8, seed: int = 0) -> Path:
    """n rows, one per sample: the images l~_{L-1}, ..., l~_0 that sampling made, coarsest
    on the left, each enlarged (nearest neighbour) to the finest level's padded size."""
    g = torch.Generator().manual_seed(seed)
    images = run.generator.pyramid(run.generator.sample_z(n, g))  # coarsest first
    full = images[-1].shape[-1]
    columns = [
        torch.nn.functional.interpolate(x, scale_factor=full // x.shape[-1], mode="nearest")
        for x in images
    ]
    grid = torch.stack(columns, dim=1).flatten(0, 1)  # (n * L, C, H, W), row by row
    return save_grid(grid, out, ncols=len(columns))
