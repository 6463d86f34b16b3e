"""Run folders: what a trained run holds, and how to load one to sample and evaluate from.

runs/00003-demo-mnist5k-non_saturating/
    config.json             the resolved config
    log.jsonl               one JSON object of scalars every train.log_every iterations
    samples/                grids from a fixed noise batch, named by iteration
    checkpoint.pt           the full training state (resume with --resume)
    generator.safetensors   the latest generator snapshot (sample and evaluate from it)
    snapshots/              kept snapshots, every train.snapshot_every iterations
    train.lock              held (flock) by the process training the run: a second is refused

A LAPGAN run (Denton et al. 2015) is a folder of such runs, one per pyramid level, beside the
LAPGAN config and `lapgan.json` (the images' shape and the number of levels); it loads as one
coarse-to-fine generator (`saddlepoint.train.lapgan` trains it).

This module reads what training wrote and imports neither `saddlepoint.train` nor
`saddlepoint.evaluate`, so both can use it: training writes run folders
(`saddlepoint.train.run`), evaluation and the command line read them through `load`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from saddlepoint.checkpoint import load_snapshot, load_weights, parse_config
from saddlepoint.config import Config
from saddlepoint.errors import SaddlepointError
from saddlepoint.nets import build_generator, to_unit
from saddlepoint.nets.lapgan import LapganGenerator

CHECKPOINT = "checkpoint.pt"
SNAPSHOT = "generator.safetensors"
CONFIG = "config.json"
LOG = "log.jsonl"
LOCK = "train.lock"
LAPGAN_FILE = "lapgan.json"  # at the top of a LAPGAN run: levels and the images' shape


@dataclass
class Run:
    """A trained generator and where it came from."""

    path: Path  # the run folder (or the snapshot file's folder)
    config: Config  # the resolved config it was trained with
    generator: nn.Module  # in eval mode
    iteration: int  # generator steps it had taken
    last_grid: Path | None = None  # the sample grid written when training ended
    interrupted: bool = False  # training stopped on Ctrl-C or SIGTERM (checkpoint saved)
    stop_signal: int | None = None  # the signal that stopped it (SIGINT, SIGTERM), if one did

    def sample(self, n: int, seed: int | None = None) -> torch.Tensor:
        """n samples G(z), shape (n, *shape); images on the data's [0, 1] scale.

        Class-conditional generators draw uniform labels."""
        g = None if seed is None else torch.Generator().manual_seed(seed)
        return to_unit(self.generator.sample(n, generator=g), self.generator.output)


@dataclass
class LapganRun(Run):
    """A trained LAPGAN: `generator` samples coarse to fine; `levels[k]` is level k's Run."""

    levels: list[Run] = field(default_factory=list)  # index k = level k (0 finest)


def resolve_run_path(run: str | os.PathLike) -> Path:
    path = Path(run)
    if not path.exists():
        raise SaddlepointError(
            f"no run at {path}: pass a run folder (runs/NNNNN-...) or a .safetensors snapshot."
        )
    return path


def load(run: str | os.PathLike, device: str | torch.device = "cpu") -> Run:
    """Load a run folder's latest snapshot (or a snapshot file) for sampling and evaluation;
    a LAPGAN run folder loads as its coarse-to-fine generator (`load_lapgan`)."""
    path = resolve_run_path(run)
    if path.is_dir() and is_lapgan_run(path):  # one run per pyramid level
        return load_lapgan(path, device)
    file = path / SNAPSHOT if path.is_dir() else path
    if path.is_dir() and not file.is_file():
        raise SaddlepointError(
            f"{path} has no {SNAPSHOT} yet: the run saves one at its first checkpoint; "
            "train longer or pass a snapshot file."
        )
    generator, config, meta = load_generator(file)
    generator.to(device).eval()
    return Run(path if path.is_dir() else path.parent, config, generator, meta["iteration"])


def load_member(run: str | os.PathLike, member: int, device: str | torch.device = "cpu") -> Run:
    """Member `member` of an ensemble run (train.ensemble > 1) as an ordinary Run: its sampling
    generator (the EMA copy if the run keeps one) from the run's checkpoint, which holds every
    member; the run's snapshot is member 0's and supplies the network's shape."""
    path = resolve_run_path(run)
    base = load(path, device)  # member 0, the run of train.seed: the network and its metadata
    n = base.config.train.ensemble
    if not 0 <= member < n:
        raise SaddlepointError(
            f"{path} trained {n} member(s), 0 to {n - 1}: --member {member} is not one of them."
        )
    if member == 0:
        return base
    from saddlepoint.checkpoint import load_training_state

    state = load_training_state(path / CHECKPOINT)
    weights = state.get("generator_ema", state["generator"])
    prefix = f"members.{member}."
    mine = {k[len(prefix) :]: v for k, v in weights.items() if k.startswith(prefix)}
    load_weights(base.generator, mine, path / CHECKPOINT, f"member {member}'s generator")
    return Run(path, base.config, base.generator.eval(), state["iteration"])


def ensemble_size(run: str | os.PathLike) -> int:
    """train.ensemble of a run folder (from its config.json); 1 for a snapshot file or a folder
    without a config, which hold one generator."""
    path = resolve_run_path(run)
    if not (path / CONFIG).is_file():
        return 1
    return parse_config(_read_json(path / CONFIG), path / CONFIG).train.ensemble


def load_generator(file: str | os.PathLike) -> tuple[nn.Module, Config, dict[str, Any]]:
    """(generator, config, metadata) of a snapshot file, every part checked: the metadata, the
    weights' names and shapes against the network its config builds, and their finiteness."""
    tensors, meta = load_snapshot(file)
    config = parse_config(meta["config"], file)
    shape, output = meta.get("shape"), meta.get("output")
    condition = meta.get("condition_shape")
    if (
        not _dims(shape)
        or output not in ("sigmoid", "tanh", "linear")
        or not isinstance(meta.get("iteration", 0), int)
        or not isinstance(meta.get("num_classes") or 0, int)
        or (condition and not _dims(condition))
    ):
        raise SaddlepointError(
            f"{file} lacks the data shape or output kind a saddlepoint snapshot records: use a "
            "snapshot that saddlepoint wrote."
        )
    spec = {}
    if meta.get("num_classes"):
        spec["num_classes"] = meta["num_classes"]
    if condition:
        spec["condition_shape"] = tuple(condition)
    try:
        generator = build_generator(config.model, tuple(shape), None, output, **spec)
    except (ValueError, RuntimeError, TypeError) as e:
        raise SaddlepointError(
            f"{file} records a network that cannot be built ({type(e).__name__}): use a "
            "snapshot that saddlepoint wrote."
        ) from None
    load_weights(generator, tensors, file, "generator")
    return generator, config, {**meta, "iteration": meta.get("iteration", 0)}


def _dims(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in value)
    )


def read_log(run: str | os.PathLike) -> list[dict]:
    """The JSON-lines scalars of a run, as a list of dicts."""
    path = resolve_run_path(run) / LOG
    if not path.is_file():
        return []
    records = []
    with open(path) as f:
        for line in f:
            try:
                record = json.loads(line) if line.strip() else None
            except json.JSONDecodeError:  # a crash mid-write leaves a partial last line
                continue
            if isinstance(record, dict):
                records.append(record)
    return records


# ------------------------------------------------------------------------------------- LAPGAN


def is_lapgan_run(path: str | os.PathLike) -> bool:
    """True for a run folder that `train_lapgan` wrote."""
    return (Path(path) / LAPGAN_FILE).is_file()


def lapgan_config(path: str | os.PathLike) -> Config:
    """The LAPGAN config saved at the top of a LAPGAN run folder."""
    return read_lapgan(Path(path))[0]


def read_lapgan(path: Path) -> tuple[Config, dict]:
    """(the LAPGAN config, lapgan.json) of a LAPGAN run folder, both checked."""
    if not is_lapgan_run(path):
        raise SaddlepointError(
            f"{path} is not a LAPGAN run folder (it has no {LAPGAN_FILE}): pass the folder "
            "that `saddlepoint train --preset lapgan-...` wrote."
        )
    config = parse_config(_read_json(path / CONFIG), path / CONFIG)
    info = _read_json(path / LAPGAN_FILE)
    if not (
        isinstance(info, dict)
        and isinstance(info.get("levels"), int)
        and isinstance(info.get("shape"), list)
    ):
        raise SaddlepointError(
            f"{path / LAPGAN_FILE} is damaged (it should hold the levels and the images' "
            "shape): restore it from a copy of the run."
        )
    return config, info


def level_runs(path: Path) -> dict[int, Path]:
    """Level -> its run folder inside a LAPGAN run (the latest one with a checkpoint)."""
    found: dict[int, Path] = {}
    for sub in sorted(p for p in path.iterdir() if re.match(r"^\d{5}-", p.name)):
        if (sub / CHECKPOINT).is_file() and (sub / CONFIG).is_file():
            level = parse_config(_read_json(sub / CONFIG), sub / CONFIG).data.pyramid_level
            if level is not None:
                found[int(level)] = sub  # sorted by number: a later run of a level wins
    return found


def _read_json(path: Path):
    """The JSON in a run folder's file, or one sentence saying it is damaged."""
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise SaddlepointError(
            f"{path} cannot be read as JSON: the run folder is damaged; restore the file from "
            "a copy of the run."
        ) from None


def load_lapgan(path: str | os.PathLike, device: str | torch.device = "cpu") -> LapganRun:
    """Load a LAPGAN run folder: every level's latest snapshot, chained coarse to fine."""
    path = Path(path)
    config, info = read_lapgan(path)
    found = level_runs(path)
    runs = []
    for level in range(info["levels"]):
        if level not in found:
            raise SaddlepointError(
                f"{path} has no trained level {level} yet: continue training with "
                f"`saddlepoint train --resume {path}`."
            )
        runs.append(load(found[level], device))
    generator = LapganGenerator([r.generator for r in runs], tuple(info["shape"])).to(device)
    generator.eval()
    iteration = min(r.iteration for r in runs)  # generator steps every level has taken
    return LapganRun(path, config, generator, iteration, levels=runs)
