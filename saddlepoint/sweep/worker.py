"""One cell of a sweep in its own process: `saddlepoint train`, then the spec's metrics.

    python -m saddlepoint.sweep.worker CELL_DIR

reads CELL_DIR/cell.json (the train command's arguments, the run folder to resume if any, the
metrics), trains through the `train` verb itself (the same options, run folder and messages as
`saddlepoint train`), scores the run folder by each metric and writes CELL_DIR/result.json.
An ensemble of a sweep (`sweep --ensemble`; the task's `members`: each cell's key, folder and
seed) trains in a folder of its own; each member is then exported into its cell's folder and
scored there (sweep/members.py), and a failure of the training is every member's, its reason
ending with the task's `together` hint. A result:

    status    "ok"; "failed" with the one-sentence reason; "diverged" when training or a
              metric found weights or samples that are not finite
    metrics   {metric name: {value name: number}}, as saddlepoint.sweep.metrics returns them

A worker stopped by Ctrl-C or SIGTERM (the scheduler passes the sweep's on) saves its training
checkpoint and exits with 128 + the signal's number, writing no result: the cell resumes from
that checkpoint next time. A worker whose sweep process has gone (killed with SIGKILL) stops
itself the same way within a second.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

from saddlepoint.errors import SaddlepointError
from saddlepoint.sweep.folder import RESULT, TASK, newest_run, read_json, write_json

DIVERGED = re.compile(r"\bdiverged\b")  # in a training or metric error: the run blew up


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m saddlepoint.sweep.worker CELL_DIR", file=sys.stderr)
        return 2
    cell_dir = Path(argv[0])
    task = read_json(cell_dir / TASK)
    if not isinstance(task, dict):
        print(f"saddlepoint: error: {cell_dir / TASK} is missing or damaged.", file=sys.stderr)
        return 2
    warnings.formatwarning = lambda message, *_a, **_k: f"saddlepoint: warning: {message}\n"
    _stop_when_orphaned()
    try:
        return _run(cell_dir, task)
    except KeyboardInterrupt:  # stopped while scoring: the cell is scored again next time
        return 130


def _run(cell_dir: Path, task: dict) -> int:
    members = task.get("members")
    try:
        status = _train([*task["argv"], "--quiet"])
    except SaddlepointError as e:
        if members:
            _fail_together(members, str(e), task["together"])
        else:
            write_json(cell_dir / RESULT, _failure(str(e)))
        return 0
    if status != 0:  # stopped by a signal, its checkpoint saved
        return status
    run_dir = Path(task["resume"]) if task.get("resume") else newest_run(cell_dir)
    if members:
        _score_members(run_dir, members, task)
    else:
        write_json(cell_dir / RESULT, score_run(run_dir, task["metrics"], task.get("device") or ""))
    return 0


def _score_members(run_dir: Path, members: list[dict], task: dict) -> None:
    """Each member of an ensemble run exported into its cell's folder and scored there, as the
    separate run of its seed is (sweep/members.py); a cell's result as soon as it is scored."""
    from saddlepoint.sweep.members import export_member

    for i, member in enumerate(members):
        cell_dir = Path(member["dir"])
        try:
            folder = export_member(run_dir, i, cell_dir)
        except SaddlepointError as e:
            write_json(cell_dir / RESULT, _failure(f"member {i} of {run_dir}: {e}"))
            continue
        write_json(cell_dir / RESULT, score_run(folder, task["metrics"], task.get("device") or ""))


def _fail_together(members: list[dict], reason: str, together: str) -> None:
    """The failure of an ensemble's training, as every member cell's result."""
    result = _failure(reason)
    result["reason"] = f"{reason.rstrip('.')}; {together}."
    for member in members:
        write_json(Path(member["dir"]) / RESULT, result)


def _train(argv: list[str]) -> int:
    """Run the `train` verb with these arguments, in this process."""
    from saddlepoint.commands import train

    parser = argparse.ArgumentParser(prog="saddlepoint")
    train.add_parser(parser.add_subparsers(dest="verb"))
    return train.run(parser.parse_args(argv))


def score_run(run_dir: Path, metrics: list[str], device: str) -> dict:
    """The result of a trained run folder: every metric's values, or the first failure."""
    from saddlepoint.runs import load
    from saddlepoint.sweep.machine import environment
    from saddlepoint.sweep.metrics import score

    result = {"status": "ok", "reason": None, "run": str(run_dir), "metrics": {}}
    result.update(environment(device))
    try:
        config = run_config(run_dir)
        result["iterations"] = load(run_dir).iteration
        for name in metrics:
            try:
                result["metrics"][name] = score(name, run_dir, config)
            except SaddlepointError as e:
                raise SaddlepointError(f"metric {name}: {e}") from None
    except SaddlepointError as e:
        result.update(_failure(str(e)))
    return result


def run_config(run_dir: Path):
    """The resolved config a run folder was trained with."""
    from saddlepoint.checkpoint import parse_config
    from saddlepoint.runs import CONFIG, is_lapgan_run, lapgan_config

    if is_lapgan_run(run_dir):
        return lapgan_config(run_dir)
    path = run_dir / CONFIG
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise SaddlepointError(f"{path} cannot be read: the run folder is damaged.") from None
    return parse_config(values, path)


def _failure(reason: str) -> dict:
    status = "diverged" if DIVERGED.search(reason) else "failed"
    return {"status": status, "reason": reason}


def _stop_when_orphaned() -> None:
    """A thread that sends this process SIGTERM once its parent (the sweep) has gone, so
    training stops at the end of its iteration with a checkpoint rather than running on."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
