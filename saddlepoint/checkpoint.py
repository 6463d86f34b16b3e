"""Two kinds of checkpoint, both whole or absent (written to a temporary file, then renamed).

- The *training state* (`checkpoint.pt`): both networks, both optimisers, the RNG states, the
  data sampler's position, the iteration count and the resolved config: enough to resume a run
  exactly. Saved with torch.save and loaded with `weights_only=True`, which refuses to execute
  code; the config travels as JSON text.
- The *snapshot* (`generator.safetensors`): the generator's weights and the config in the
  safetensors metadata, for sampling and evaluation. safetensors cannot execute code either.

Modules are saved unwrapped (never a DDP- or compile-wrapped state_dict). Weights that are not
finite (a run that diverged) are never written, and a file that holds them is refused on load.
Everything read is checked before use: a damaged or foreign file gives one sentence naming it
(`load_training_state`, `load_snapshot`, and `load_weights` for keys and shapes against the
network the config builds), never a traceback. A process killed mid-write leaves its temporary
`.NAME.tmp-PID` behind; `remove_stale_temporaries` clears those of processes no longer running.
"""

from __future__ import annotations

import json
import os
import pickle
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from saddlepoint.errors import SaddlepointError, output_error

# The entries of a training state that hold network weights (dicts of tensors).
WEIGHTS = ("generator", "generator_ema", "discriminator")
# What every training state holds, and of which type (other entries are optional).
REQUIRED = {
    "generator": dict,
    "discriminator": dict,
    "optim_g": dict,
    "optim_d": dict,
    "sampler": dict,
    "rng_cpu": torch.Tensor,
    "rng_noise": torch.Tensor,
    "iteration": int,
    "d_updates": int,
    "g_updates": int,
    "elapsed": (int, float),
    "config": str,
}
_TEMPORARY = re.compile(r"^\..+\.tmp-(\d+)$")  # .NAME.tmp-PID, as _atomic_target names them


def _atomic_target(path: Path) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise output_error(path.parent, e) from None
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def _read_umask() -> int:
    mask = os.umask(0o022)  # (the only way to read it: set it and put it back)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once, at import, before any writer thread runs


def _commit(tmp: Path, path: Path) -> None:
    os.chmod(tmp, 0o666 & ~_UMASK)  # what open() gives (safetensors writes 0600)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _is_write_failure(error: BaseException) -> bool:
    """An OSError, or a writer library's report of a failed write (a full disk)."""
    if isinstance(error, OSError):
        return True
    text = str(error)
    return any(
        s in text for s in ("inline_container", "PytorchStreamWriter", "iostream error")
    ) or (isinstance(error, SafetensorError) and "I/O error" in text)


def _write_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    """write(tmp), then rename tmp to path: path is whole or as it was before."""
    tmp = _atomic_target(path)
    try:
        write(tmp)
        _commit(tmp, path)
    except (OSError, RuntimeError, SafetensorError) as e:
        if not _is_write_failure(e):
            raise
        raise output_error(path, e) from None
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:  # a read-only folder holds no temporary file to remove
            pass
    return path


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporary files under `folder` that processes killed mid-write left behind
    (.NAME.tmp-PID whose PID no longer runs); returns the paths removed."""
    removed = []
    for path in Path(folder).rglob(".*.tmp-*"):
        match = _TEMPORARY.match(path.name)
        if match and path.is_file() and not _running(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _running(pid: int) -> bool:
    """Whether another process with this id is running (ours counts as not: a file of ours
    from before is not being written now)."""
    if pid == os.getpid() or os.name != "posix":  # (os.kill(pid, 0) would end it on Windows)
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True


def unwrap(module: torch.nn.Module) -> torch.nn.Module:
    """The plain module inside DistributedDataParallel or torch.compile wrappers."""
    while True:
        if hasattr(module, "module") and isinstance(module.module, torch.nn.Module):
            module = module.module
        elif hasattr(module, "_orig_mod"):
            module = module._orig_mod
        else:
            return module


def non_finite(tensors: dict[str, Any]) -> str | None:
    """The name of the first floating-point tensor holding a NaN or an infinity, else None."""
    for key, value in tensors.items():
        if (
            isinstance(value, torch.Tensor)
            and value.is_floating_point()
            and not bool(torch.isfinite(value).all())
        ):
            return key
    return None


def save_training_state(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write the full training state atomically; refuses weights that are not finite."""
    path = Path(path)
    for entry in WEIGHTS:
        bad = non_finite(state.get(entry, {}))
        if bad is not None:
            raise SaddlepointError(
                f"refusing to write {path}: the {entry}'s {bad!r} is not finite (training "
                "diverged); the previous checkpoint stays as it was."
            )
    return _write_atomically(path, lambda tmp: torch.save(state, tmp))


def _unreadable(path: Path, error: BaseException) -> str:
    """Why a file could not be read, in plain words."""
    if isinstance(error, OSError):
        return f"it cannot be read ({error.strerror or 'input/output error'})"
    if path.stat().st_size == 0:
        return "it is empty (0 bytes)"
    if isinstance(error, pickle.UnpicklingError) and "weights_only" in str(error).lower():
        return "it holds Python objects that would run code when loaded, so it was not loaded"
    return "it is truncated or damaged, or not a file saddlepoint wrote"


def load_training_state(path: str | os.PathLike) -> dict[str, Any]:
    """Read a training state without executing code (weights_only=True) and check that it
    holds every entry a resume needs, of the right type, with a config that parses."""
    path = Path(path)
    if not path.is_file():
        raise SaddlepointError(
            f"no checkpoint at {path}: pass a run folder that has checkpoint.pt."
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # arbitrary bytes can fail to unpickle in any way
        raise SaddlepointError(
            f"{path} is not a readable saddlepoint checkpoint: {_unreadable(path, e)}; resume "
            "from a run folder this version wrote, or start a new run."
        ) from None
    problem = _training_state_problem(state)
    if problem is not None:
        raise SaddlepointError(
            f"{path} is not a usable saddlepoint checkpoint: {problem}; resume from an intact "
            "copy, or start a new run."
        )
    parse_config(json.loads(state["config"]), path)
    return state


def _training_state_problem(state: Any) -> str | None:
    """What is wrong with the structure of a loaded training state, or None."""
    if not isinstance(state, dict):
        return f"it holds a {type(state).__name__}, not a training state"
    for key, kind in REQUIRED.items():
        if key not in state:
            return f"it has no {key!r} entry"
        value = state[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            return f"its {key!r} entry is a {type(value).__name__}"
    for entry in WEIGHTS:
        for name, value in state.get(entry, {}).items():
            if not isinstance(value, torch.Tensor):
                return f"the {entry}'s {name!r} is a {type(value).__name__}, not a tensor"
    try:
        config = json.loads(state["config"])
    except json.JSONDecodeError:
        return "its config is not JSON"
    if not isinstance(config, dict):
        return "its config is not a group of settings"
    if state["iteration"] < 0 or state["d_updates"] < 0 or state["g_updates"] < 0:
        return "its iteration counts are negative"
    sampler = state["sampler"]
    if set(sampler) != {"epoch", "position"} or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in sampler.values()
    ):
        return "its data position is not an epoch and a position"
    return None


def parse_config(values: Any, path: str | os.PathLike):
    """The Config that a checkpoint or snapshot at `path` was written with, or one sentence."""
    from saddlepoint.config import config_from_dict  # (config does not import this module)

    if not isinstance(values, dict):
        raise SaddlepointError(f"{path} holds no saddlepoint config: it is not from this program.")
    try:
        return config_from_dict(values)
    except SaddlepointError as e:
        raise SaddlepointError(f"{path} holds a config this version cannot use: {e}") from None
    except (TypeError, ValueError, AttributeError, KeyError):
        raise SaddlepointError(
            f"{path} holds a damaged config: it is not one saddlepoint wrote."
        ) from None


def load_weights(
    module: torch.nn.Module, tensors: dict[str, Any], path: str | os.PathLike, what: str
) -> None:
    """Load `tensors` into `module` (the network the file's config builds) after checking
    their names, shapes and kinds against it and that every value is finite."""
    expected = module.state_dict()
    if not isinstance(tensors, dict):
        raise SaddlepointError(f"{path} is damaged: its {what} is not a set of named tensors.")
    missing = [k for k in expected if k not in tensors]
    extra = [k for k in tensors if k not in expected]
    if missing or extra:
        which = f"lacks {missing[0]!r}" if missing else f"has an unexpected {extra[0]!r}"
        raise SaddlepointError(
            f"{path} does not match its own config: its {what} {which}; it was damaged or "
            "edited: use another checkpoint or snapshot of the run."
        )
    for key, want in expected.items():
        have = tensors[key]
        if not isinstance(have, torch.Tensor):
            raise SaddlepointError(f"{path} is damaged: its {what}'s {key!r} is not a tensor.")
        if have.shape != want.shape or have.is_floating_point() != want.is_floating_point():
            raise SaddlepointError(
                f"{path} does not match its own config: its {what}'s {key!r} is "
                f"{_kind(have)} where the config's network has {_kind(want)}; use another "
                "checkpoint or snapshot of the run."
            )
    bad = non_finite(tensors)
    if bad is not None:
        raise SaddlepointError(
            f"{path} holds non-finite weights (NaN or infinity in the {what}'s {bad!r}): it "
            "was written after training diverged; use an earlier checkpoint or snapshot."
        )
    module.load_state_dict(tensors)


def _kind(t: torch.Tensor) -> str:
    return f"shape {tuple(t.shape)} ({'float' if t.is_floating_point() else 'integer'})"


def save_snapshot(
    path: str | os.PathLike, generator: torch.nn.Module, config_json: str, **info: Any
) -> Path:
    """Write the generator's weights with the config (and `info`, e.g. iteration) as metadata;
    refuses weights that are not finite."""
    path = Path(path)
    tensors = {k: v.detach().cpu() for k, v in unwrap(generator).state_dict().items()}
    bad = non_finite(tensors)
    if bad is not None:
        raise SaddlepointError(
            f"refusing to write {path}: the generator's {bad!r} is not finite (training diverged)."
        )
    metadata = {"config": config_json, **{k: json.dumps(v) for k, v in info.items()}}
    return save_tensors(path, tensors, metadata)


def save_tensors(
    path: str | os.PathLike, tensors: dict[str, torch.Tensor], metadata: dict[str, str]
) -> Path:
    """Write `tensors` and string `metadata` as safetensors, atomically, readable as open() makes
    files (save_snapshot's writer; also a pretrained export's)."""
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    return _write_atomically(
        Path(path), lambda tmp: save_file(tensors, str(tmp), metadata=metadata)
    )


def load_snapshot(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read (state_dict, metadata) of a snapshot; metadata["config"] is the config as a dict.

    Every weight must be finite; the names and shapes are checked against the config by
    `load_weights` (saddlepoint.train.run.load_generator)."""
    path = Path(path)
    if not path.is_file():
        raise SaddlepointError(f"no generator snapshot at {path}: train a run first.")
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), framework="pt") as f:
            raw = f.metadata() or {}
    except Exception as e:  # arbitrary bytes can fail to parse in any way
        raise SaddlepointError(
            f"{path} is not a readable safetensors snapshot: {_unreadable(path, e)}."
        ) from None
    if "config" not in raw:
        raise SaddlepointError(f"{path} has no saddlepoint config in its metadata.")
    try:
        meta: dict[str, Any] = {k: json.loads(v) for k, v in raw.items()}
    except json.JSONDecodeError:
        raise SaddlepointError(
            f"{path} has metadata that is not saddlepoint's (not JSON): use a snapshot that "
            "saddlepoint wrote."
        ) from None
    bad = non_finite(tensors)
    if bad is not None:
        raise SaddlepointError(
            f"{path} holds non-finite weights (NaN or infinity in {bad!r}): it was written "
            "after training diverged; use an earlier snapshot."
        )
    return tensors, meta
