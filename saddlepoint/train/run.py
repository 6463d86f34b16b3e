"""Run folders: where a run's config, logs, samples and checkpoints live, and how to load one.

runs/00003-demo-mnist5k-non_saturating/
    config.json             the resolved config
    log.jsonl               one JSON object of scalars every train.log_every iterations
    samples/                grids from a fixed noise batch, named by iteration
    checkpoint.pt           the full training state (resume with --resume)
    generator.safetensors   the latest generator snapshot (sample and evaluate from it)
    snapshots/              kept snapshots, every train.snapshot_every iterations
    train.lock              held (flock) by the process training the run: a second is refused
"""

from __future__ import annotations

import errno
import json
import os
import re
import socket
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from saddlepoint.checkpoint import load_snapshot, load_weights, parse_config
from saddlepoint.config import Config
from saddlepoint.errors import SaddlepointError, output_error, writing
from saddlepoint.nets import build_generator, to_unit

try:
    import fcntl  # POSIX advisory locks
except ImportError:  # e.g. Windows: runs are not locked there
    fcntl = None

CHECKPOINT = "checkpoint.pt"
SNAPSHOT = "generator.safetensors"
CONFIG = "config.json"
LOG = "log.jsonl"
LOCK = "train.lock"


def _slug(text: str) -> str:
    if text.startswith("folder:"):  # a folder of images is named by its own name
        text = os.path.basename(os.path.normpath(os.path.expanduser(text[len("folder:") :])))
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "run"


def _data_words(name: str) -> set[str]:
    """The words by which a preset's name may name its dataset (fashion-mnist: fashion, mnist;
    mnist5k: mnist5k, mnist; cifar10: cifar10, cifar)."""
    words = set(name.split("-"))
    return words | {re.sub(r"\d+k?$", "", w) for w in words} - {""}


def run_name(config: Config) -> str:
    """preset-data-objective, named after the data the run trains on: a preset named after
    another dataset loses that word (dcgan-mnist on folder:~/faces: dcgan-faces-...)."""
    from saddlepoint.presets import PRESETS  # (presets imports config only)

    preset = config.preset
    if preset in PRESETS and PRESETS.get(preset).config.data.name != config.data.name:
        own = _data_words(PRESETS.get(preset).config.data.name)
        preset = "-".join(w for w in preset.split("-") if w not in own) or preset
    return f"{_slug(preset)}-{_slug(config.data.name)}-{config.objective.name}"


def new_run_dir(out: str | os.PathLike, config: Config) -> Path:
    """Create `out/NNNNN-preset-data-objective` (run_name), numbered after the runs there."""
    out = Path(out)
    with writing(out):
        out.mkdir(parents=True, exist_ok=True)
        for _ in range(100):  # another process may take a number between listing and mkdir
            numbers = [int(p.name[:5]) for p in out.iterdir() if re.match(r"^\d{5}-", p.name)]
            n = max(numbers, default=0) + 1
            path = out / f"{n:05d}-{run_name(config)}"
            try:
                path.mkdir()
                return path
            except FileExistsError:
                continue
    raise SaddlepointError(f"cannot make a new run folder in {out}: too many made at once.")


class RunLock:
    """An exclusive lock on a run folder while one process trains it.

    An OS advisory lock (flock) on RUN/train.lock: the kernel drops it when the holder exits,
    however it ends (kill -9 included), so it is never left stuck. Advisory: it stops other
    saddlepoint trainers, not other programs writing into the folder. Where flock does not
    exist (non-POSIX systems) or the file system refuses it (some network mounts), training
    goes on unlocked, with a warning in the second case.
    """

    def __init__(self) -> None:
        self._file = None

    def acquire(self, run_dir: Path) -> None:
        if fcntl is None:
            return
        path = run_dir / LOCK
        try:
            f = open(path, "a+")  # noqa: SIM115 - held open until release()
        except OSError as e:
            raise output_error(path, e) from None
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                f.close()
                warnings.warn(
                    f"cannot lock {path} ({e.strerror}): a second trainer on this run "
                    "would not be stopped.",
                    stacklevel=2,
                )
                return
            f.seek(0)
            holder = f.read().strip() or "another process"
            f.close()
            raise SaddlepointError(
                f"{run_dir} is being trained by {holder} (it holds {path}): wait for it to "
                "end or stop it first, since two trainers would interleave its log and "
                "checkpoints."
            ) from None
        self._file = f
        try:  # who holds it, for the message a second trainer gets
            f.seek(0)
            f.truncate()
            f.write(f"process {os.getpid()} on {socket.gethostname()}\n")
            f.flush()
        except OSError:  # (a full disk: the lock holds all the same)
            pass

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


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
    generator, config, meta = load_generator(file)
    generator.to(device).eval()
    return Run(path if path.is_dir() else path.parent, config, generator, meta["iteration"])


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
