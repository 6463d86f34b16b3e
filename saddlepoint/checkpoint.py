"""Two kinds of checkpoint, both whole or absent (written to a temporary file, then renamed).

- The *training state* (`checkpoint.pt`): both networks, both optimisers, the RNG states, the
  data sampler's position, the iteration count and the resolved config: enough to resume a run
  exactly. Saved with torch.save and loaded with `weights_only=True`, which refuses to execute
  code; the config travels as JSON text.
- The *snapshot* (`generator.safetensors`): the generator's weights and the config in the
  safetensors metadata, for sampling and evaluation. safetensors cannot execute code either.

Modules are saved unwrapped (never a DDP- or compile-wrapped state_dict).
"""

from __future__ import annotations

import json
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from saddlepoint.errors import SaddlepointError


def _atomic_target(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def _commit(tmp: Path, path: Path) -> None:
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def unwrap(module: torch.nn.Module) -> torch.nn.Module:
    """The plain module inside DistributedDataParallel or torch.compile wrappers."""
    while True:
        if hasattr(module, "module") and isinstance(module.module, torch.nn.Module):
            module = module.module
        elif hasattr(module, "_orig_mod"):
            module = module._orig_mod
        else:
            return module


def save_training_state(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write the full training state atomically."""
    path = Path(path)
    tmp = _atomic_target(path)
    try:
        torch.save(state, tmp)
        _commit(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_training_state(path: str | os.PathLike) -> dict[str, Any]:
    """Read a training state without executing code (weights_only=True)."""
    path = Path(path)
    if not path.is_file():
        raise SaddlepointError(
            f"no checkpoint at {path}: pass a run folder that has checkpoint.pt."
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile) as e:
        raise SaddlepointError(
            f"{path} is not a readable saddlepoint checkpoint ({str(e).splitlines()[0][:120]}); "
            "it may be from another program: resume from a run folder this version wrote."
        ) from None


def save_snapshot(
    path: str | os.PathLike, generator: torch.nn.Module, config_json: str, **info: Any
) -> Path:
    """Write the generator's weights with the config (and `info`, e.g. iteration) as metadata."""
    path = Path(path)
    tensors = {k: v.detach().cpu().contiguous() for k, v in unwrap(generator).state_dict().items()}
    metadata = {"config": config_json, **{k: json.dumps(v) for k, v in info.items()}}
    tmp = _atomic_target(path)
    try:
        save_file(tensors, str(tmp), metadata=metadata)
        _commit(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_snapshot(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read (state_dict, metadata) of a snapshot; metadata["config"] is the config as a dict."""
    path = Path(path)
    if not path.is_file():
        raise SaddlepointError(f"no generator snapshot at {path}: train a run first.")
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), framework="pt") as f:
            raw = f.metadata() or {}
    except (SafetensorError, OSError) as e:
        raise SaddlepointError(f"{path} is not a readable safetensors snapshot ({e}).") from None
    if "config" not in raw:
        raise SaddlepointError(f"{path} has no saddlepoint config in its metadata.")
    meta: dict[str, Any] = {k: json.loads(v) for k, v in raw.items()}
    return tensors, meta
