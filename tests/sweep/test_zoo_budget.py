"""benchmarks/zoo_budget.py: a sweep's CPU-minutes and wall span from its results rows."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PATH = ROOT / "benchmarks" / "zoo_budget.py"


@pytest.fixture(scope="module")
def zoo_budget():
    spec = importlib.util.spec_from_file_location("zoo_budget", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["zoo_budget"] = module  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules["zoo_budget"]


def _row(start, end, cpu):
    return {"started_at": start, "finished_at": end, "cpu_seconds": cpu, "cpu": "Test CPU"}


def test_counts_the_spec_cells_only(zoo_budget):
    rows = {
        "a": _row(1000.0, 1600.0, 540.0),
        "b": _row(1060.0, 1900.0, 780.0),
        "old": _row(0.0, 5000.0, 9999.0),  # a superseded row the spec no longer expands to
    }
    s = zoo_budget.spent(rows, ["a", "b", "c"], "demo")
    assert (s.runs, s.cells) == (2, 3)
    assert s.cpu_minutes == pytest.approx((540 + 780) / 60)
    assert s.wall_minutes == pytest.approx((1900 - 1000) / 60)
    assert s.cpus == ("Test CPU",)


def test_no_rows_spend_nothing(zoo_budget):
    s = zoo_budget.spent({}, ["a"], "demo")
    assert (s.runs, s.cpu_minutes, s.wall_minutes) == (0, 0.0, 0.0)


def test_table_totals_and_marks_a_pause(zoo_budget):
    one_sitting = zoo_budget.Spent("quick", 4, 4, 120.0, 62.0, ("Test CPU",))
    resumed = zoo_budget.Spent("long", 2, 2, 20.0, 600.0, ("Test CPU",))
    text = zoo_budget.table([one_sitting, resumed], workers=2)
    lines = text.splitlines()
    assert lines[2] == "| quick | 4 of 4 | 120 | 62 |"
    assert lines[3] == "| long | 2 of 2 | 20 | 600 (includes a pause: resumed later) |"
    assert lines[4] == "| total | 6 | 140 | 662 |"
    assert "Test CPU; 2 workers" in text


def test_docs_budget_table_is_what_the_committed_results_give(zoo_budget):
    """docs/zoo.md's cost table of the 2-hour zoo is this script's, not typed by hand."""
    specs = [
        ROOT / "benchmarks" / "sweeps" / f"zoo-quick-{n}.toml" for n in ("images", "2014", "toys")
    ]
    text = zoo_budget.table([zoo_budget.spent_of_spec(p) for p in specs], workers=2)
    rows = text.split("\n\n")[0]
    assert rows.count("\n") == 5, rows
    assert rows in (ROOT / "docs" / "zoo.md").read_text(encoding="utf-8"), rows
