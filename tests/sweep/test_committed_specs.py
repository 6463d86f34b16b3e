"""The sweep specs committed in benchmarks/sweeps/: each still expands against today's presets,
and each table in the docs is what the spec renders from its committed results, so no number in
docs/zoo.md was typed by hand or outlived a change to a preset or to the results."""

from __future__ import annotations

from pathlib import Path

import pytest

from saddlepoint.sweep.cells import expand
from saddlepoint.sweep.results import latest, read_rows
from saddlepoint.sweep.spec import load_spec
from saddlepoint.sweep.table import read_block, render

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "benchmarks" / "sweeps").glob("*.toml"))


def test_the_zoo_specs_are_found():
    assert len(SPECS) >= 5, SPECS


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_spec_expands_with_one_key_per_cell(path):
    spec = load_spec(path)
    cells = expand(spec)
    assert cells, f"{path.name} has no runs"
    keys = [cell.key for cell in cells]
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_docs_table_is_the_one_its_results_render(path):
    spec = load_spec(path)
    if spec.docs is None or not spec.results.is_file():
        pytest.skip(f"{path.name} names no docs file or has no results yet")
    block = read_block(spec.docs.read_text(encoding="utf-8"), spec.name)
    assert block is not None, f"{spec.docs.name} has no sweep:{spec.name} block"
    rows = latest(read_rows(spec.results))
    rendered = render(expand(spec), rows, f"saddlepoint sweep {spec.shown_path()}")
    assert block == rendered.strip("\n"), (
        f"the {spec.name} table in {spec.docs.name} differs from its results: run "
        f"`saddlepoint sweep {spec.shown_path()} --table`"
    )


def test_make_zoo_quick_names_committed_specs():
    """`make zoo-quick` (the 2-hour zoo) runs specs that exist and load."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    line = next(x for x in makefile.splitlines() if x.startswith("ZOO_QUICK :="))
    names = line.split(":=", 1)[1].split()
    assert names, line
    for name in names:
        spec = load_spec(ROOT / "benchmarks" / "sweeps" / f"{name}.toml")
        assert spec.name == name
        assert spec.docs is not None and spec.docs.name == "zoo.md"
