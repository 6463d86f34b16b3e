"""Grids that show what a condition controls: one row per class for a class-conditional
generator (Mirza & Osindero 2014, Figure 2), and one latent code swept with the others fixed for
an InfoGAN generator (Chen et al. 2016, Figure 2: categorical codes over their K values,
continuous codes from -2 to 2, beyond the U(-1, 1) they were trained on).

Code names: `cat0`, `cat1`, ... for the categorical codes and `cont0`, `cont1`, ... for the
continuous ones, in the order of model.info_categorical and model.info_continuous.

Each grid labels itself: a per-class grid names the class left of each row, a sweep gives the
code's value above each column (and the code's name in the corner).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from saddlepoint.errors import SaddlepointError
from saddlepoint.nets.base import to_unit
from saddlepoint.nets.latent import LatentSpec
from saddlepoint.report.grid import save_grid


def code_names(latent: LatentSpec) -> list[str]:
    """The names of a latent layout's InfoGAN codes: cat0.. then cont0.."""
    cats = [f"cat{i}" for i in range(len(latent.categorical))]
    return cats + [f"cont{i}" for i in range(latent.continuous)]


def _generate(generator: nn.Module, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """G(z, y) in eval mode, on the data's [0, 1] scale, on the CPU."""
    was_training = generator.training
    generator.eval()
    try:
        with torch.no_grad():
            x = generator(z) if y is None else generator(z, y)
    finally:
        generator.train(was_training)
    return to_unit(x, generator.output).cpu().float()


def per_class_grid(
    generator: nn.Module,
    path: str | os.PathLike,
    per_row: int = 10,  # samples per class
    seed: int = 0,
    class_names: tuple[str, ...] | None = None,  # row labels; default "class 0", "class 1", ...
) -> Path:
    """One row per class, labelled with its name; column j uses the same noise z_j in every
    row, so a column shows one 'style' across the classes."""
    k = getattr(generator, "num_classes", 0)
    if not k:
        raise SaddlepointError(
            "--per-class needs a class-conditional run, and this generator takes no labels: "
            "train with model.conditional=concat, projection or acgan on labelled data."
        )
    g = torch.Generator().manual_seed(seed)
    z = generator.sample_z(per_row, g).repeat(k, 1)  # (K * per_row, Z): row c repeats z_1..z_n
    y = torch.arange(k, device=z.device).repeat_interleave(per_row)  # (K * per_row,) 0..0 1..1
    names = list(class_names) if class_names and len(class_names) == k else None
    labels = names or [f"class {c}" for c in range(k)]
    return save_grid(_generate(generator, z, y), path, ncols=per_row, row_labels=labels)


def code_sweep_grid(
    generator: nn.Module,
    code: str,  # "cat0", "cont1", ...
    path: str | os.PathLike,
    steps: int = 10,  # continuous codes: values from -2 to 2; categorical: its K values
    rows: int = 8,  # rows, each with its own noise and other codes
    seed: int = 0,
) -> Path:
    """Each row fixes the noise, the other codes (and the label of a class-conditional
    generator); the columns vary `code` alone."""
    latent: LatentSpec | None = getattr(generator, "latent", None)
    names = code_names(latent) if latent is not None else []
    if not names:
        raise SaddlepointError(
            "--sweep needs an InfoGAN run, and this generator has no latent codes: train "
            "with model.info_categorical and/or model.info_continuous set."
        )
    if code not in names:
        raise SaddlepointError(f"this run has no code {code!r}; its codes are: {', '.join(names)}.")
    g = torch.Generator().manual_seed(seed)
    z = generator.sample_z(rows, g)  # (rows, Z)
    y = generator.sample_y(rows, g) if getattr(generator, "num_classes", 0) else None
    index = int(code[3:] if code.startswith("cat") else code[4:])
    if code.startswith("cat"):
        width = latent.categorical[index]  # K columns, one per value
        start = latent.noise_dim + sum(latent.categorical[:index])
        values = torch.eye(width, device=z.device)  # (K, K) one-hot values
        labels = [str(j) for j in range(width)]
    else:
        width = steps
        start = latent.noise_dim + sum(latent.categorical) + index
        values = torch.linspace(-2.0, 2.0, steps, device=z.device).unsqueeze(1)  # (steps, 1)
        labels = [f"{float(v):.1f}" for v in values[:, 0]]
    z = z.repeat_interleave(width, dim=0)  # (rows * width, Z): each row's latent per column
    z[:, start : start + values.shape[1]] = values.repeat(rows, 1)
    if y is not None:
        y = y.repeat_interleave(width)
    return save_grid(
        _generate(generator, z, y), path, ncols=width, col_labels=labels, corner=f"{code}:"
    )
