"""A sweep's results: a JSON-lines file, one row per finished cell, appended as cells finish.

Each row is written with one append of the whole line, then flushed and synced to disk, so a
sweep killed at any moment leaves every finished cell's row whole; a line cut short by a
crash is skipped when the file is read (with a warning), and the next row starts on a line of
its own. When a cell has several rows (a --retry-failed or --force run), the last one counts.

A row: sweep, key, system, preset, data, overrides, seed, status ("ok", "failed",
"diverged"), reason, metrics ({metric: {value name: number}}), iterations, cpu_seconds (the
worker processes' user + system time, over every attempt), wall_seconds, attempts,
started_at / finished_at (Unix time of the last attempt), device, threads, cpu, gpu, torch,
python, saddlepoint (versions), run (the run folder); ensemble (only in a row of a cell trained
as one member of an ensemble, `sweep --ensemble`: the number of members, whose process's CPU time
is split evenly over their rows).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

from saddlepoint.errors import writing

FINISHED = ("ok", "failed", "diverged")  # a row with one of these ends its cell


def read_rows(path: Path) -> list[dict]:
    """Every readable row of a results file, in order ([] when it does not exist yet)."""
    if not path.is_file():
        return []
    rows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                warnings.warn(
                    f"{path} line {number} is cut short or damaged: skipped.", stacklevel=2
                )
                continue
            if isinstance(row, dict) and isinstance(row.get("key"), str):
                rows.append(row)
    return rows


def latest(rows: list[dict]) -> dict[str, dict]:
    """Key -> the last row of that cell."""
    return {row["key"]: row for row in rows}


def append_row(path: Path, row: dict) -> None:
    """Append one row as one write of a whole line, then flush and fsync."""
    line = json.dumps(row, sort_keys=False, allow_nan=False) + "\n"
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if _ends_mid_line(path):  # a line cut short by a crash: start a fresh one
                line = "\n" + line
            data = line.encode("utf-8")
            while data:
                data = data[os.write(fd, data) :]
            os.fsync(fd)
        finally:
            os.close(fd)


def _ends_mid_line(path: Path) -> bool:
    size = path.stat().st_size
    if size == 0:
        return False
    with open(path, "rb") as f:
        f.seek(size - 1)
        return f.read(1) != b"\n"
