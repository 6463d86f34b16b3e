"""Running a sweep's cells, N worker processes at a time, each finished cell a results row.

Every batch of cells (sweep/ensembles.py: one cell, or with --ensemble consecutive seeds trained
as one ensemble) runs in a process of its own (`python -m saddlepoint.sweep.worker DIR`, in a
session of its own, so a terminal's Ctrl-C reaches the sweep alone and the sweep passes it on
once). As each worker ends, its CPU time (user + system, from wait4's rusage; an ensemble's
split evenly over its members) and wall time are added to each of its cells' attempts.jsonl,
and each finished cell (ok, failed or diverged) becomes a row of the results file with one
status line on stderr.

Ctrl-C (or SIGTERM) stops the sweep cleanly: no new cell starts, each worker gets the signal,
stops at the end of its iteration with its checkpoint saved, and the sweep exits with 130
(143) once all have. A second Ctrl-C kills the workers at once; their cells resume from their
last periodic checkpoint.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO

from saddlepoint.sweep.cells import Cell
from saddlepoint.sweep.ensembles import Batch
from saddlepoint.sweep.folder import (
    ATTEMPTS,
    LOG,
    RESULT,
    TASK,
    append_attempt,
    attempts,
    read_json,
    train_argv,
    wait_unlocked,
    write_json,
)
from saddlepoint.sweep.machine import cpu_model
from saddlepoint.sweep.results import FINISHED, append_row
from saddlepoint.sweep.spec import Spec
from saddlepoint.train.signals import StopSignals

POLL = 0.2  # seconds between looks at the workers


@dataclass
class Job:
    """A worker process training and scoring a batch: one cell, or an ensemble's."""

    batch: Batch
    folder: Path  # where it trains: the cell's folder, or the ensemble's
    process: subprocess.Popen
    log: IO[bytes]
    started_at: float = field(default_factory=time.time)  # Unix time
    started: float = field(default_factory=time.monotonic)
    signalled: bool = False  # the sweep's stop signal has been passed on to it


@dataclass
class Sweep:
    """The state the scheduler's steps share: what is left, what runs, what is done."""

    spec: Spec
    pending: list[Batch]  # batches of cells to run, in order
    workers: int
    total: int  # cells in the spec
    done: int  # cells with a row before this run
    fresh: set[str] = field(default_factory=set)  # keys to train afresh (--force)
    running: list[Job] = field(default_factory=list)
    finished: int = 0  # cells finished by this run
    clock: float = field(default_factory=time.monotonic)

    def run(self) -> int:
        """Run every pending cell; 0, or 128 + the signal that stopped the sweep."""
        stop = StopSignals()
        try:
            with stop:
                while (self.pending and not stop.requested) or self.running:
                    if stop.requested:
                        self._pass_on(stop.signum or signal.SIGINT)
                    while self.pending and len(self.running) < self.workers and not stop.requested:
                        self._launch(self.pending.pop(0))
                    self._reap()
                    time.sleep(POLL)
        except KeyboardInterrupt:  # a second Ctrl-C: kill the workers now
            for job in self.running:
                job.process.kill()
            while self.running:
                self._reap(stopping=True)
                time.sleep(POLL)
            return 130
        if stop.requested:
            left = self.total - self.done - self.finished
            print(
                f"sweep {self.spec.name}: stopped with {left} cells to go; the same command "
                "continues it (cells resume from their checkpoints)",
                file=sys.stderr,
            )
            return 128 + int(stop.signum or signal.SIGINT)
        return 0

    def _pass_on(self, signum: int) -> None:
        for job in self.running:
            if not job.signalled:
                job.signalled = True
                try:
                    job.process.send_signal(signum)
                except ProcessLookupError:
                    pass

    def _launch(self, batch: Batch) -> None:
        """Start a worker on `batch`: resumed from its run folder's checkpoint if it has one."""
        folder = self.spec.out / batch.name
        for cell in batch.cells:
            (self.spec.out / cell.key).mkdir(parents=True, exist_ok=True)
            (self.spec.out / cell.key / RESULT).unlink(missing_ok=True)
        folder.mkdir(parents=True, exist_ok=True)
        task = self._task(batch, folder)
        write_json(folder / TASK, task)
        log = open(folder / LOG, "ab")  # noqa: SIM115 - closed when the worker is reaped
        log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')}: {' '.join(task['argv'])}\n".encode())
        log.flush()
        process = subprocess.Popen(
            [sys.executable, "-m", "saddlepoint.sweep.worker", str(folder)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "OMP_NUM_THREADS": str(batch.first.group.threads)},
            start_new_session=True,  # Ctrl-C reaches the sweep, which passes it on once
        )
        self.running.append(Job(batch, folder, process, log))

    def _task(self, batch: Batch, folder: Path) -> dict:
        """What the worker of `batch` is to do (folder.TASK; worker.py)."""
        fresh = batch.first.key in self.fresh
        if fresh:  # --force: a new run folder, earlier attempts forgotten
            for cell in batch.cells:
                (self.spec.out / cell.key / ATTEMPTS).unlink(missing_ok=True)
        argv = train_argv(batch, folder, fresh=fresh)
        resume = argv[2] if argv[1] == "--resume" else None
        if resume is not None:
            wait_unlocked(Path(resume))  # a worker of a killed sweep may still be saving it
        task = {
            "key": batch.name,
            "argv": argv,
            "resume": resume,
            "metrics": list(self.spec.metrics),
            "device": batch.first.group.config.train.device,
        }
        if batch.is_ensemble:
            task["members"] = [
                {"key": c.key, "dir": str(self.spec.out / c.key), "seed": c.seed}
                for c in batch.cells
            ]
            task["together"] = batch.together(self.spec.shown_path())
        return task

    def _reap(self, stopping: bool = False) -> None:
        """Record every worker that has ended."""
        for job in list(self.running):
            ended = _wait(job.process)
            if ended is None:
                continue
            self.running.remove(job)
            job.log.close()
            code, cpu = ended
            attempt = {
                "exit": code,
                "cpu_seconds": None if cpu is None else round(cpu / job.batch.size, 2),
                "wall_seconds": round(time.monotonic() - job.started, 2),
                "started_at": round(job.started_at, 2),
                "finished_at": round(time.time(), 2),
            }
            if job.batch.is_ensemble:  # the process's CPU time split evenly over its members
                attempt.update(ensemble=job.batch.size, folder=str(job.folder))
            for cell in job.batch.cells:
                append_attempt(self.spec.out / cell.key, attempt)
                self._record(job, cell, code, stopping or job.signalled)

    def _record(self, job: Job, cell: Cell, code: int, stopped: bool) -> None:
        """Write the row of a cell whose worker ended (unless it was stopped part-way)."""
        cell_dir = self.spec.out / cell.key
        result = read_json(cell_dir / RESULT)
        if not (isinstance(result, dict) and result.get("status") in FINISHED):
            if stopped or code in (128 + signal.SIGINT, 128 + signal.SIGTERM):
                print(f"{cell.key}: stopped; it resumes on the next run", file=sys.stderr)
                return
            reason = _crash_reason(code, job.folder / LOG)
            if job.batch.is_ensemble:
                reason = f"{reason.rstrip('.')}; {job.batch.together(self.spec.shown_path())}."
            result = {"status": "failed", "reason": reason}
        row = make_row(self.spec, cell, result, attempts(cell_dir), job.batch.size)
        append_row(self.spec.results, row)
        self.finished += 1
        print(self._status_line(row), file=sys.stderr, flush=True)

    def _status_line(self, row: dict) -> str:
        """[i/N] key status: values; seconds, CPU-minutes; ETA."""
        values = [f"{name} {_short(v)}" for m in row["metrics"].values() for name, v in m.items()]
        outcome = ", ".join(values) if row["status"] == "ok" else row.get("reason") or ""
        elapsed = time.monotonic() - self.clock
        left = self.total - self.done - self.finished
        eta = f"; ETA {_duration(elapsed / self.finished * left)}" if left else ""
        return (
            f"[{self.done + self.finished}/{self.total}] {row['key']} {row['status']}: {outcome} "
            f"({row['wall_seconds']:.0f} s, {row['cpu_seconds'] / 60:.2f} CPU-min){eta}"
        )


def _wait(process: subprocess.Popen) -> tuple[int, float | None] | None:
    """(exit status, CPU seconds) of a worker that has ended, else None: wait4 reports the
    child's own rusage; elsewhere poll, without the CPU time."""
    if not hasattr(os, "wait4"):
        code = process.poll()
        return None if code is None else (code, None)
    try:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
    except ChildProcessError:  # already reaped
        return (process.returncode or 0, None)
    if pid == 0:
        return None
    process.returncode = os.waitstatus_to_exitcode(status)  # so Popen never waits for it
    return process.returncode, round(usage.ru_utime + usage.ru_stime, 2)


def make_row(spec: Spec, cell: Cell, result: dict, tries: list[dict], ensemble: int = 1) -> dict:
    """The results row of a finished cell, trained alone or as one of an `ensemble` of that many
    members (results.py lists the fields)."""
    config = cell.group.config
    last = tries[-1] if tries else {}
    row = {
        "sweep": spec.name,
        "key": cell.key,
        "system": "saddlepoint",
        "preset": cell.preset,
        "data": config.data.name,
        "overrides": list(cell.overrides),
        "seed": cell.seed,
        "status": result["status"],
        "reason": result.get("reason"),
        "metrics": result.get("metrics") or {},
        "iterations": result.get("iterations"),
        "cpu_seconds": round(sum(t.get("cpu_seconds") or 0.0 for t in tries), 2),
        "wall_seconds": round(sum(t.get("wall_seconds") or 0.0 for t in tries), 2),
        "attempts": len(tries),
        "started_at": last.get("started_at"),
        "finished_at": last.get("finished_at"),
        "device": config.train.device,
        "threads": cell.group.threads,
        "cpu": result.get("cpu") or cpu_model(),
        "gpu": result.get("gpu"),
        "torch": result.get("torch") or _version("torch"),
        "python": result.get("python") or sys.version.split()[0],
        "saddlepoint": result.get("saddlepoint") or _version("saddlepoint"),
        "run": result.get("run"),
    }
    if ensemble > 1:
        row["ensemble"] = ensemble
    return row


def _crash_reason(code: int, log: Path) -> str:
    """One sentence for a worker that ended without a result (a crash, a kill)."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (out of memory?)" if -code == signal.SIGKILL else ""
        return f"the worker was killed by {name}{hint}; its output is in {log}."
    last = ""
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines()]
        last = next((line for line in reversed(lines) if line), "")
    except OSError:
        pass
    last = last.removeprefix("saddlepoint: error: ").rstrip(".")
    return f"the worker exited with status {code} ({last or 'no output'}); see {log}."


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _short(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:g}" if float(value).is_integer() else f"{value:.3g}"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
