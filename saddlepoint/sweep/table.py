"""A sweep's table: mean +/- sd over seeds, one row per (preset, overrides) group, and the block
of a markdown file that holds it.

    | preset | overrides | seeds | modes_covered | ... | CPU-min/run |
    | ring8-lsgan | `optim_d.lr=0.0001` | 5/5 | 7.6 ± 0.5 [8, 7, 8, 8, 7] | ... | 1.2 |

The mean and the sample standard deviation (n - 1) are over the seeds that finished "ok",
each seed's value in brackets in seed order; "seeds" is finished/total, with the failed and
diverged ones counted beside. Overrides that every group shares are listed once under the
table, with the command that reproduces it and the CPU it was measured on.

In a markdown file the table lives between the lines `<!-- sweep:NAME:begin -->` and
`<!-- sweep:NAME:end -->` (each alone on its line); `write_block` replaces what lies between
them (or adds the block at the end of the file) and leaves every other byte as it was.
"""

from __future__ import annotations

import math
import os
import re
import statistics
from pathlib import Path

from saddlepoint.errors import SaddlepointError, writing
from saddlepoint.sweep.cells import Cell, Group


def render(cells: list[Cell], rows: dict[str, dict], command: str) -> str:
    """The markdown table of `cells` from their latest results `rows` (key -> row)."""
    groups = _groups(cells)
    ok = [rows[c.key] for c in cells if rows.get(c.key, {}).get("status") == "ok"]
    columns = _columns(ok)
    common = set.intersection(*(set(g.overrides) for g in groups)) if groups else set()
    varying = any(set(g.overrides) - common for g in groups)
    head = ["preset", *(["overrides"] if varying else []), "seeds", *columns, "CPU-min/run"]
    digits = {c: _decimals([r["metrics_flat"].get(c) for r in map(_flat, ok)]) for c in columns}
    cpu = [r["cpu_seconds"] / 60 for r in ok if r.get("cpu_seconds") is not None]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for group, members in groups.items():
        found = [_flat(rows[c.key]) for c in members if c.key in rows]
        good = sorted((r for r in found if r["status"] == "ok"), key=lambda r: r["seed"])
        cells_text = [group.preset]
        if varying:
            cells_text.append(" ".join(f"`{o}`" for o in group.overrides if o not in common))
        cells_text.append(_seeds(found, len(members)))
        for c in columns:
            cells_text.append(mean_sd([r["metrics_flat"].get(c) for r in good], digits[c]))
        minutes = [r["cpu_seconds"] / 60 for r in good if r.get("cpu_seconds") is not None]
        cells_text.append(_number(statistics.mean(minutes), _decimals(cpu)) if minutes else "-")
        lines.append("| " + " | ".join(cells_text) + " |")
    return "\n".join([*lines, "", *_notes(cells, rows, common, command)]) + "\n"


def _groups(cells: list[Cell]) -> dict[Group, list[Cell]]:
    out: dict[Group, list[Cell]] = {}
    for cell in cells:
        out.setdefault(cell.group, []).append(cell)
    return out


def _flat(row: dict) -> dict:
    """The row with its metric values in one dict, value name -> number."""
    flat = {k: v for values in row.get("metrics", {}).values() for k, v in values.items()}
    return {**row, "metrics_flat": flat}


def _columns(rows: list[dict]) -> list[str]:
    """Value names in the order the metrics gave them, over all rows."""
    names: dict[str, None] = {}
    for row in rows:
        for values in row.get("metrics", {}).values():
            names.update(dict.fromkeys(values))
    return list(names)


def _seeds(found: list[dict], total: int) -> str:
    ok = sum(r["status"] == "ok" for r in found)
    other = [
        f"{n} {status}"
        for status in ("failed", "diverged")
        if (n := sum(r["status"] == status for r in found))
    ]
    return f"{ok}/{total}" + (f" ({', '.join(other)})" if other else "")


def _decimals(values: list[float | None]) -> int:
    """Decimals that give the column's largest value three significant digits (0 to 4);
    0 for a column of whole numbers (counts)."""
    present = [abs(v) for v in values if v is not None]
    if not present or all(float(v).is_integer() for v in present):
        return 0
    biggest = max(present)
    if biggest == 0:
        return 2
    return min(4, max(0, 2 - math.floor(math.log10(biggest))))


def _number(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def mean_sd(values: list[float | None], decimals: int) -> str:
    """'mean ± sd [v1, v2, ...]' (sample sd, n - 1); one value alone; '-' for none. The
    mean and sd of a column of whole numbers get one decimal."""
    present = [v for v in values if v is not None]
    if not present:
        return "-"
    if len(present) == 1:
        return _number(present[0], decimals)
    spread = decimals if decimals else 1
    each = ", ".join(_number(v, decimals) if v is not None else "-" for v in values)
    mean, sd = statistics.mean(present), statistics.stdev(present)
    return f"{_number(mean, spread)} ± {_number(sd, spread)} [{each}]"


def _notes(cells: list[Cell], rows: dict[str, dict], common: set[str], command: str) -> list[str]:
    """The lines under the table: shared overrides, failures, the command, the machine."""
    found = [rows[c.key] for c in cells if c.key in rows]
    notes = []
    if common:
        notes.append("Every run: " + " ".join(f"`{o}`" for o in sorted(common)) + ".")
        notes.append("")
    for row in found:
        if row["status"] != "ok":
            notes.append(f"- `{row['key']}` {row['status']}: {row.get('reason') or ''}")
    if notes and notes[-1] != "":
        notes.append("")
    notes.append(
        "Mean ± sample standard deviation (n - 1) over the seeds that finished, each seed's "
        "value in brackets; seeds: finished/total; CPU-min/run: user + system CPU minutes of "
        "a run's worker process (training and scoring)."
    )
    notes.append(f"Reproduce: `{command}` ({len(found)} of {len(cells)} runs finished).")
    notes.append(f"Measured on: {_machine(found)}.")
    return notes


def _machine(rows: list[dict]) -> str:
    """The CPUs (and GPUs), torch versions and thread counts the rows were measured with."""
    if not rows:
        return "nothing yet"

    def distinct(key: str) -> list[str]:
        return sorted({str(r[key]) for r in rows if r.get(key) is not None})

    parts = ["; ".join(distinct("cpu"))]
    if distinct("gpu"):
        parts.append("GPU " + "; ".join(distinct("gpu")))
    parts.append("torch " + ", ".join(distinct("torch")))
    threads = distinct("threads")
    if threads:
        parts.append(f"{' or '.join(threads)} thread{'s' if threads != ['1'] else ''} per run")
    return ", ".join(parts)


def markers(name: str) -> tuple[str, str]:
    return f"<!-- sweep:{name}:begin -->", f"<!-- sweep:{name}:end -->"


def _marker_line(text: str, marker: str, start: int = 0) -> re.Match | None:
    """The first line from `start` that holds `marker` alone (a marker quoted inside a line
    of prose does not count)."""
    return re.compile(rf"^[ \t]*{re.escape(marker)}[ \t]*(?=\r?\n|\Z)", re.M).search(text, start)


def read_block(text: str, name: str) -> str | None:
    """What lies between the sweep's marker lines in `text` (the markers `write_block` finds),
    without the newlines at either end; None when the text has no such block."""
    begin, end = markers(name)
    first = _marker_line(text, begin)
    last = _marker_line(text, end, first.end()) if first else None
    return text[first.end() : last.start()].strip("\r\n") if first and last else None


def write_block(path: Path, name: str, block: str) -> None:
    """Put `block` between the sweep's markers in `path` (appending the marked block when the
    file has none, creating the file when there is none), every other byte unchanged."""
    begin, end = markers(name)
    try:
        text = path.read_bytes().decode("utf-8") if path.exists() else ""
    except UnicodeDecodeError:
        raise SaddlepointError(f"{path} is not UTF-8 text: give a markdown file.") from None
    except OSError as e:
        raise SaddlepointError(
            f"cannot read {path} ({e.strerror}): give a markdown file."
        ) from None
    newline = "\r\n" if "\r\n" in text else "\n"
    body = block.strip("\n").replace("\n", newline)
    first = _marker_line(text, begin)
    last = _marker_line(text, end, first.end()) if first else None
    if first and last:
        new = f"{text[: first.end()]}{newline}{body}{newline}{text[last.start() :]}"
    elif first or _marker_line(text, end):
        raise SaddlepointError(
            f"{path} has only one of the lines {begin} and {end} (or the end before the "
            "begin): mend the markers, or remove them to have the block added at the end."
        )
    else:
        gap = "" if not text else ("" if text.endswith("\n") else newline) + newline
        new = f"{text}{gap}{begin}{newline}{body}{newline}{end}{newline}"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(new.encode("utf-8"))
        os.replace(tmp, path)
