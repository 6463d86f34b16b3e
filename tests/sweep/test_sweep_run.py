"""`saddlepoint sweep` end to end on tiny toy runs: workers side by side, rows and tables,
failures, and a sweep stopped part-way that continues where it stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from saddlepoint.cli import main
from saddlepoint.sweep.cells import expand
from saddlepoint.sweep.folder import ATTEMPTS, run_folder
from saddlepoint.sweep.results import read_rows
from saddlepoint.sweep.spec import load_spec
from saddlepoint.sweep.table import markers


def _paths(tmp_path: Path) -> str:
    return f'results = "{tmp_path / "results.jsonl"}"\nout = "{tmp_path / "cells"}"\n'


def test_two_workers_run_side_by_side_and_write_rows_and_the_table(tmp_path, write_spec, capsys):
    docs = tmp_path / "doc.md"
    docs.write_text("# Results\n\nProse.\n")
    spec = write_spec(sets=("train.iterations=300",), extra=_paths(tmp_path) + f'docs = "{docs}"')
    assert main(["sweep", str(spec), "--workers", "2"]) == 0
    captured = capsys.readouterr()
    rows = read_rows(tmp_path / "results.jsonl")
    cells = expand(load_spec(spec))
    assert [r["key"] for r in sorted(rows, key=lambda r: r["seed"])] == [c.key for c in cells]
    for row in rows:
        assert row["status"] == "ok" and row["reason"] is None, row
        modes = row["metrics"]["modes"]
        assert 0 <= modes["modes_covered"] <= 8 and 0 <= modes["high_quality_share"] <= 1
        assert row["cpu_seconds"] > 0 and row["wall_seconds"] > 0 and row["iterations"] == 300
        assert row["cpu"] and row["torch"] and row["threads"] == 1 and row["data"] == "ring8"
        assert row["system"] == "saddlepoint" and row["preset"] == "demo"
        run = Path(row["run"])
        assert run.parent == tmp_path / "cells" / row["key"]  # train --out CELL's layout
        assert (run / "checkpoint.pt").is_file() and (run / "generator.safetensors").is_file()
    a, b = rows
    assert a["started_at"] < b["finished_at"] and b["started_at"] < a["finished_at"]  # overlap
    assert "[2/2]" in captured.err and "modes_covered" in captured.err
    table = captured.out
    assert table.startswith("| preset | seeds | modes_covered | high_quality_share |")
    begin, end = markers("t")
    text = docs.read_text()
    assert text.startswith("# Results\n\nProse.\n\n" + begin) and text.endswith(end + "\n")
    assert table.strip() in text
    # everything done: a second run trains nothing, --table re-renders the same table
    assert main(["sweep", str(spec)]) == 0
    assert len(read_rows(tmp_path / "results.jsonl")) == 2
    assert main(["sweep", str(spec), "--table"]) == 0
    assert capsys.readouterr().out.count(table.strip()) == 2
    assert docs.read_text() == text
    assert main(["sweep", str(spec), "--dry-run"]) == 0
    assert "2 cells: 2 done, 0 to run" in capsys.readouterr().out


def test_a_failed_cell_is_one_row_with_its_reason_and_can_be_retried(tmp_path, write_spec, capsys):
    spec = write_spec(
        seeds="[0]",
        metrics="[]",
        sets=("data.name=mnist", f"data.root={tmp_path / 'no-mnist'}"),
        extra=_paths(tmp_path),
    )
    assert main(["sweep", str(spec)]) == 0
    (row,) = read_rows(tmp_path / "results.jsonl")
    assert row["status"] == "failed" and "no-mnist" in row["reason"]
    assert "\n" not in row["reason"] and row["data"] == "mnist"
    assert "| demo | 0/1 (1 failed) | - |" in capsys.readouterr().out
    assert main(["sweep", str(spec), "--dry-run"]) == 0
    assert f"failed    {row['key']}" in capsys.readouterr().out
    assert main(["sweep", str(spec), "--dry-run", "--retry-failed"]) == 0
    assert f"retry     {row['key']}" in capsys.readouterr().out
    assert main(["sweep", str(spec), "--print-commands", "--retry-failed"]) == 0
    assert capsys.readouterr().out.startswith("saddlepoint train --preset demo")


def _wait_for(condition, seconds: float, what: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, f"the sweep ended before {what}"
        assert time.monotonic() < deadline, f"no {what} after {seconds} s"
        time.sleep(0.05)


def test_a_stopped_sweep_continues_where_it_stopped(tmp_path, write_spec):
    spec = write_spec(seeds="[0, 1, 2]", sets=("train.iterations=2000",), extra=_paths(tmp_path))
    first, second, third = expand(load_spec(spec))
    results = tmp_path / "results.jsonl"
    log = open(tmp_path / "sweep.log", "w")
    sweep = subprocess.Popen(
        [sys.executable, "-m", "saddlepoint", "sweep", str(spec), "--workers", "1"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        _wait_for(lambda: results.is_file() and results.read_text().count("\n"), 60, "row", sweep)
        logs = tmp_path / "cells" / second.key
        _wait_for(lambda: any(p.stat().st_size for p in logs.glob("*/log.jsonl")), 60, "log", sweep)
        sweep.send_signal(signal.SIGINT)  # Ctrl-C, while the second cell trains
        assert sweep.wait(60) == 130, (tmp_path / "sweep.log").read_text()
    finally:
        if sweep.poll() is None:
            sweep.kill()
        log.close()
    assert "stopped with 2 cells to go" in (tmp_path / "sweep.log").read_text()
    assert [r["key"] for r in read_rows(results)] == [first.key]
    stopped = run_folder(tmp_path / "cells" / second.key)
    assert (stopped / "checkpoint.pt").is_file()  # saved when the worker was stopped
    assert main(["sweep", str(spec), "--workers", "1"]) == 0
    rows = read_rows(results)
    assert sorted(r["key"] for r in rows) == sorted([first.key, second.key, third.key])
    assert all(r["status"] == "ok" and r["iterations"] == 2000 for r in rows)
    attempts = [
        (tmp_path / "cells" / c.key / ATTEMPTS).read_text().count("\n")
        for c in (first, second, third)
    ]
    assert attempts == [1, 2, 1]  # the finished cell never ran again; the stopped one resumed
    assert [p.name for p in (tmp_path / "cells" / second.key).glob("0*")] == [stopped.name]
    lines = [json.loads(line) for line in (stopped / "log.jsonl").read_text().splitlines()]
    iterations = [r["iteration"] for r in lines if "d_loss" in r]
    assert iterations == list(range(50, 2001, 50))  # one history, resumed without a gap
    assert [r["attempts"] for r in rows] == [1, 2, 1]
