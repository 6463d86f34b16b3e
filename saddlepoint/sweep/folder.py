"""A cell's folder: what its worker is asked to do, what it wrote, and the run it trained.

    <out>/<cell key>/
        cell.json        the worker's task: the train command and the metrics (scheduler.py)
        worker.log       every attempt's output, appended
        attempts.jsonl   one line per worker process that ended: exit status, CPU and wall time
        result.json      the worker's outcome: status, metric values, environment (worker.py)
        00001-.../       the run folder `saddlepoint train --out <out>/<cell key>` made

A cell whose run folder holds a training checkpoint resumes from it (`saddlepoint train
--resume`) rather than starting again. An ensemble of a sweep (`--ensemble`, ensembles.py) has a
folder of the same layout, <out>/ensemble-.../, holding its task, log and run folder; each of its
cells' folders gets its attempts, result and member run folder (members.py).
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any, Protocol

from saddlepoint.runs import CHECKPOINT, LOCK, is_lapgan_run

TASK = "cell.json"
LOG = "worker.log"
ATTEMPTS = "attempts.jsonl"
RESULT = "result.json"

try:
    import fcntl
except ImportError:  # not POSIX: run folders are not locked there
    fcntl = None


def run_folder(cell_dir: Path) -> Path | None:
    """The newest run folder in `cell_dir` that can be resumed (it holds a training checkpoint,
    or is a LAPGAN run), else None."""
    if not cell_dir.is_dir():
        return None
    found = sorted(p for p in cell_dir.iterdir() if re.match(r"^\d{5}-", p.name) and p.is_dir())
    for path in reversed(found):
        if (path / CHECKPOINT).is_file() or is_lapgan_run(path):
            return path
    return None


class Trainable(Protocol):
    """What trains in a folder: a Cell (cells.py), or a Batch of them (ensembles.py)."""

    def train_argv(self, out: Path) -> list[str]: ...


def train_argv(what: Trainable, cell_dir: Path, *, fresh: bool = False) -> list[str]:
    """The `saddlepoint train` arguments that carry `what` on: resume its run folder when it
    has one (unless `fresh`), else train it afresh into `cell_dir`."""
    resume = None if fresh else run_folder(cell_dir)
    return ["train", "--resume", str(resume)] if resume else what.train_argv(cell_dir)


def newest_run(cell_dir: Path) -> Path | None:
    """The newest run folder in `cell_dir` (the one a fresh `train --out` just made)."""
    found = sorted(p for p in cell_dir.iterdir() if re.match(r"^\d{5}-", p.name) and p.is_dir())
    return found[-1] if found else None


def write_json(path: Path, value: Any) -> None:
    """Write JSON atomically: a temporary file, flushed and synced, then renamed."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    """The JSON in `path`, or None when it is missing or damaged."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def append_attempt(cell_dir: Path, attempt: dict) -> None:
    with open(cell_dir / ATTEMPTS, "a", encoding="utf-8") as f:
        f.write(json.dumps(attempt) + "\n")
        f.flush()
        os.fsync(f.fileno())


def attempts(cell_dir: Path) -> list[dict]:
    """The attempts recorded for this cell (damaged lines skipped)."""
    path = cell_dir / ATTEMPTS
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            out.append(record)
    return out


def wait_unlocked(run_dir: Path, timeout: float = 120.0) -> bool:
    """Wait until no process trains `run_dir` (its train.lock is free), at most `timeout`
    seconds: a worker left behind by a killed sweep stops within seconds, saving a checkpoint.
    True when it is free."""
    path = run_dir / LOCK
    if fcntl is None or not path.is_file():
        return True
    deadline = time.monotonic() + timeout
    with open(path, "a+") as f:
        while True:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)
                return True
            except OSError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.5)
