"""Making run folders: their names and numbers, and the lock one trainer holds on each.

    runs/00003-demo-mnist5k-non_saturating/     NNNNN-preset-data-objective (`run_name`)
        train.lock                              held (flock) by the process training the run

What a run folder holds, and loading one (`Run`, `load`, `read_log`), live in
`saddlepoint.runs`, which evaluation uses too; they are re-exported here.
"""

from __future__ import annotations

import errno
import os
import re
import socket
import warnings
from pathlib import Path

from saddlepoint.config import Config
from saddlepoint.errors import SaddlepointError, output_error, writing
from saddlepoint.presets import PRESETS
from saddlepoint.runs import (  # re-exported: the names this module had before saddlepoint.runs
    CHECKPOINT,
    CONFIG,
    LOCK,
    LOG,
    SNAPSHOT,
    Run,
    load,
    load_generator,
    read_log,
    resolve_run_path,
)

try:
    import fcntl  # POSIX advisory locks
except ImportError:  # e.g. Windows: runs are not locked there
    fcntl = None

__all__ = [
    "CHECKPOINT",
    "CONFIG",
    "LOCK",
    "LOG",
    "SNAPSHOT",
    "Run",
    "RunLock",
    "load",
    "load_generator",
    "new_run_dir",
    "read_log",
    "resolve_run_path",
    "run_name",
]


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
    another dataset loses that word (dcgan-mnist on folder:~/faces: dcgan-faces-...); an
    ensemble ends in its seeds (-seeds0-7)."""
    preset = config.preset
    if preset in PRESETS and PRESETS.get(preset).config.data.name != config.data.name:
        own = _data_words(PRESETS.get(preset).config.data.name)
        preset = "-".join(w for w in preset.split("-") if w not in own) or preset
    t = config.train
    seeds = f"-seeds{t.seed}-{t.seed + t.ensemble - 1}" if t.ensemble > 1 else ""
    return f"{_slug(preset)}-{_slug(config.data.name)}-{config.objective.name}{seeds}"


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
