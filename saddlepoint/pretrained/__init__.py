"""Pretrained generators shipped inside the package: samples before any training.

Each is two files in this folder (saddlepoint/pretrained/):

    NAME.safetensors   a generator snapshot as `saddlepoint train` writes it (its config in the
                       metadata); the weights may be stored in float16, half the size, and are
                       upcast to float32 when loaded
    NAME.json          how it was made: {"description", "preset", "command", "seed",
                       "iterations", "scores": {...}, "dtype"}

    saddlepoint pretrained                    list them
    saddlepoint sample --pretrained NAME      a grid of its samples
    saddlepoint.load_pretrained(NAME)         a Run, as saddlepoint.load gives for a run folder

A pretrained snapshot is checked like any other (its config, the weights' names, shapes and
finiteness). $SADDLEPOINT_PRETRAINED names another folder to read them from (tests, or a
collection of your own); `export` writes one from a run's snapshot.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from saddlepoint.errors import SaddlepointError, writing

SUFFIX = ".safetensors"
FIELDS = ("description", "preset", "command", "seed", "iterations", "scores")  # of NAME.json


def folder(where: str | os.PathLike | None = None) -> Path:
    """`where`, else $SADDLEPOINT_PRETRAINED, else this package folder."""
    if where is not None:
        return Path(where).expanduser()
    env = os.environ.get("SADDLEPOINT_PRETRAINED")
    return Path(env).expanduser() if env else Path(__file__).parent


def available(where: str | os.PathLike | None = None) -> dict[str, dict[str, Any]]:
    """{NAME: its NAME.json record} for every NAME.safetensors in the folder, sorted by name; a
    missing or unreadable record is {"problem": why}."""
    found = {}
    base = folder(where)
    for path in sorted(base.glob(f"*{SUFFIX}")) if base.is_dir() else []:
        name = path.name[: -len(SUFFIX)]
        record_path = path.with_suffix(".json")
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
        except FileNotFoundError:
            record = {"problem": f"{record_path.name} is missing"}
        except (OSError, UnicodeDecodeError, ValueError) as e:
            record = {"problem": f"{record_path.name} is unreadable ({e})"}
        found[name] = record
    return found


def path_of(name: str, where: str | os.PathLike | None = None) -> Path:
    """The snapshot file of pretrained generator `name`, or one sentence naming those there are."""
    names = list(available(where))
    if name not in names:
        known = (
            f"the installed ones are: {', '.join(names)}"
            if names
            else f"none are installed (in {folder(where)})"
        )
        raise SaddlepointError(
            f"no pretrained generator {name!r}: {known}. `saddlepoint pretrained` lists them."
        )
    return folder(where) / f"{name}{SUFFIX}"


def load_pretrained(name: str, device: str | torch.device = "cpu", *, where=None):
    """Pretrained generator `name` as a Run (float16 weights upcast), checked like any snapshot."""
    from saddlepoint.train.run import Run, load_generator  # (train imports much; only here)

    path = path_of(name, where)
    generator, config, meta = load_generator(path)
    generator.float().to(device).eval()
    return Run(path.parent, config, generator, meta["iteration"])


def export(
    snapshot: str | os.PathLike,
    name: str,
    record: dict[str, Any],
    *,
    where: str | os.PathLike | None = None,
    dtype: torch.dtype = torch.float16,
) -> Path:
    """Write a run's generator snapshot as pretrained generator `name`: its floating-point
    weights cast to `dtype` (float16 halves the file), its metadata kept but for the config's
    data.root (the training machine's folder: the dataset's default applies), and `record` (FIELDS:
    the command, preset, seed, iterations and scores that made it) as NAME.json."""
    from saddlepoint.checkpoint import load_snapshot, non_finite, save_tensors

    missing = [f for f in FIELDS if f not in record]
    if missing:
        raise SaddlepointError(f"the record of {name!r} lacks {', '.join(missing)}.")
    tensors, meta = load_snapshot(snapshot)
    cast = {k: v.to(dtype) if v.is_floating_point() else v for k, v in tensors.items()}
    bad = non_finite(cast)
    if bad is not None:
        raise SaddlepointError(
            f"{snapshot}'s {bad!r} does not fit in {dtype}: export it in float32."
        )
    out = folder(where) / f"{name}{SUFFIX}"
    if isinstance(meta.get("config"), dict) and "data" in meta["config"]:
        # the data folder of the machine that trained it means nothing on the user's
        meta["config"]["data"]["root"] = None
    metadata = {k: json.dumps(v) for k, v in meta.items()}
    with writing(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        save_tensors(out, cast, metadata)
        dtype_name = str(dtype).removeprefix("torch.")
        full = {"name": name, **record, "dtype": dtype_name}
        out.with_suffix(".json").write_text(json.dumps(full, indent=2) + "\n")
    return out


__all__ = ["available", "export", "folder", "load_pretrained", "path_of"]
