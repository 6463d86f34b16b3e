"""Run folders: where a run's config, logs, samples and checkpoints live, and how to load one.

runs/00003-demo-mnist5k-non_saturating/
    config.json             the resolved config
    log.jsonl               one JSON object of scalars every train.log_every iterations
    samples/                grids from a fixed noise batch, named by iteration
    checkpoint.pt           the full training state (resume with --resume)
    generator.safetensors   the latest generator snapshot (sample and evaluate from it)
    snapshots/              kept snapshots, every train.snapshot_every iterations
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from saddlepoint.checkpoint import load_snapshot
from saddlepoint.config import Config, config_from_dict
from saddlepoint.errors import SaddlepointError
from saddlepoint.nets import build_generator, to_unit

CHECKPOINT = "checkpoint.pt"
SNAPSHOT = "generator.safetensors"
CONFIG = "config.json"
LOG = "log.jsonl"


def _slug(text: str) -> str:
    if text.startswith("folder:"):
        text = "folder-" + os.path.basename(os.path.normpath(text[len("folder:") :]))
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "run"


def new_run_dir(out: str | os.PathLike, config: Config) -> Path:
    """Create `out/NNNNN-preset-data-objective`, numbered after the runs already there."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    numbers = [int(p.name[:5]) for p in out.iterdir() if re.match(r"^\d{5}-", p.name)]
    n = max(numbers, default=0) + 1
    name = f"{n:05d}-{_slug(config.preset)}-{_slug(config.data.name)}-{config.objective.name}"
    path = out / name
    path.mkdir()
    return path


@dataclass
class Run:
    """A trained generator and where it came from."""

    path: Path  # the run folder (or the snapshot file's folder)
    config: Config  # the resolved config it was trained with
    generator: nn.Module  # in eval mode
    iteration: int  # generator steps it had taken
    last_grid: Path | None = None  # the sample grid written when training ended
    interrupted: bool = False  # training stopped on Ctrl-C or SIGTERM (checkpoint saved)

    def sample(self, n: int, seed: int | None = None) -> torch.Tensor:
        """n samples G(z), shape (n, *shape); images on the data's [0, 1] scale.

        Class-conditional generators draw uniform labels."""
        g = None if seed is None else torch.Generator().manual_seed(seed)
        return to_unit(self.generator.sample(n, generator=g), self.generator.output)


def resolve_run_path(run: str | os.PathLike) -> Path:
    path = Path(run)
    if not path.exists():
        raise SaddlepointError(
            f"no run at {path}: pass a run folder (runs/NNNNN-...) or a .safetensors snapshot."
        )
    return path


def load(run: str | os.PathLike, device: str | torch.device = "cpu") -> Run:
    """Load a run folder's latest snapshot (or a snapshot file) for sampling and evaluation."""
    path = resolve_run_path(run)
    if path.is_dir() and (path / "lapgan.json").is_file():  # one run per pyramid level
        from saddlepoint.train.lapgan import load_lapgan  # (imports this module)

        return load_lapgan(path, device)
    file = path / SNAPSHOT if path.is_dir() else path
    if path.is_dir() and not file.is_file():
        raise SaddlepointError(
            f"{path} has no {SNAPSHOT} yet: the run saves one at its first checkpoint; "
            "train longer or pass a snapshot file."
        )
    tensors, meta = load_snapshot(file)
    config = config_from_dict(meta["config"])
    spec = {}
    if meta.get("num_classes"):
        spec["num_classes"] = meta["num_classes"]
    if meta.get("condition_shape"):
        spec["condition_shape"] = tuple(meta["condition_shape"])
    generator = build_generator(config.model, tuple(meta["shape"]), None, meta["output"], **spec)
    try:
        generator.load_state_dict(tensors)
    except RuntimeError as e:
        raise SaddlepointError(
            f"{file} does not match its own config ({str(e).splitlines()[0]})."
        ) from None
    generator.to(device).eval()
    return Run(path if path.is_dir() else path.parent, config, generator, meta.get("iteration", 0))


def read_log(run: str | os.PathLike) -> list[dict]:
    """The JSON-lines scalars of a run, as a list of dicts."""
    path = resolve_run_path(run) / LOG
    if not path.is_file():
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]
