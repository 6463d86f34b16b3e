"""Benchmark record: what each sweep of the zoo cost, from its committed results.

    .venv/bin/python benchmarks/zoo_budget.py benchmarks/sweeps/zoo-quick-*.toml

For each spec, over the cells it expands to today (rows of superseded settings left in a
results file are not counted): the runs finished, their CPU-minutes (user + system time of
the worker processes, training and scoring) and the wall-clock span from the first run's start
to the last run's end. The span is the sweep's wall time only when it ran in one sitting; a
sweep resumed later counts the pause too, so the table marks spans longer than the CPU time
of its runs could explain on the workers it had (2 by default). Prints a markdown table with a
total line and the CPU the rows were measured on.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from saddlepoint.sweep.cells import expand
from saddlepoint.sweep.results import latest, read_rows
from saddlepoint.sweep.spec import load_spec


@dataclass(frozen=True)
class Spent:
    """What one sweep's current cells cost."""

    name: str
    runs: int  # cells with a finished row (any status)
    cells: int  # cells the spec expands to
    cpu_minutes: float
    wall_minutes: float  # first start to last finish
    cpus: tuple[str, ...]  # the CPUs the rows name


def spent(rows: dict[str, dict], keys: list[str], name: str) -> Spent:
    """The cost of the cells `keys` from their latest result `rows` (key -> row)."""
    found = [rows[k] for k in keys if k in rows]
    cpu = sum(r.get("cpu_seconds") or 0.0 for r in found) / 60
    starts = [r["started_at"] for r in found if r.get("started_at") is not None]
    ends = [r["finished_at"] for r in found if r.get("finished_at") is not None]
    wall = (max(ends) - min(starts)) / 60 if starts and ends else 0.0
    cpus = tuple(sorted({r["cpu"] for r in found if r.get("cpu")}))
    return Spent(name, len(found), len(keys), cpu, wall, cpus)


def spent_of_spec(path: Path) -> Spent:
    """The cost of the cells the spec at `path` expands to today, from its results file."""
    spec = load_spec(path)
    rows = latest(read_rows(spec.results)) if spec.results.is_file() else {}
    return spent(rows, [c.key for c in expand(spec)], spec.name)


def table(spents: list[Spent], workers: int) -> str:
    """Markdown: a row per sweep and the total; spans that include a pause are marked."""
    lines = [
        "| sweep | runs | CPU-minutes | wall minutes, first start to last end |",
        "|---|---:|---:|---:|",
    ]
    for s in spents:
        paused = s.wall_minutes > 1.25 * s.cpu_minutes / workers + 15
        mark = " (includes a pause: resumed later)" if paused else ""
        lines.append(
            f"| {s.name} | {s.runs} of {s.cells} | {s.cpu_minutes:.0f} | "
            f"{s.wall_minutes:.0f}{mark} |"
        )
    cpu = sum(s.cpu_minutes for s in spents)
    wall = sum(s.wall_minutes for s in spents)
    runs = sum(s.runs for s in spents)
    lines.append(f"| total | {runs} | {cpu:.0f} | {wall:.0f} |")
    cpus = sorted({c for s in spents for c in s.cpus})
    lines.append("")
    lines.append(f"Measured on: {', '.join(cpus) or 'unknown'}; {workers} workers.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("specs", nargs="+", metavar="SPEC", help="sweep spec files")
    parser.add_argument("--workers", type=int, default=2, help="workers the sweeps ran on")
    args = parser.parse_args(argv)
    print(table([spent_of_spec(Path(p)) for p in args.specs], args.workers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
