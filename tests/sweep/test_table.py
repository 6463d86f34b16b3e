"""The table (mean ± sd over seeds) and the marked block of a markdown file that holds it."""

from __future__ import annotations

import re

import numpy as np
import pytest

from saddlepoint.errors import SaddlepointError
from saddlepoint.sweep.cells import expand
from saddlepoint.sweep.results import append_row, latest, read_rows
from saddlepoint.sweep.spec import load_spec
from saddlepoint.sweep.table import markers, mean_sd, read_block, render, write_block

RUNS = '[[runs]]\npresets = ["demo"]\n[runs.axes]\n"optim_d.lr" = [1e-4, 2e-4]\n'


def _rows(cells, covered, shares, status=None):
    rows = {}
    for i, cell in enumerate(cells):
        rows[cell.key] = {
            "key": cell.key,
            "seed": cell.seed,
            "status": (status or {}).get(i, "ok"),
            "reason": "training diverged at iteration 3." if (status or {}).get(i) else None,
            "metrics": {"modes": {"modes_covered": covered[i], "high_quality_share": shares[i]}},
            "cpu_seconds": 60.0 + i,
            "cpu": "Test CPU",
            "torch": "2.x",
            "threads": 1,
        }
    return rows


def _half_unit(text: str) -> float:
    """Half a unit of the last digit printed: the most rounding can move a value."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return 0.5 * 10.0**-decimals + 1e-12


def test_mean_sd_and_seed_values_match_numpy(write_spec):
    cells = expand(load_spec(write_spec(runs=RUNS, seeds='"0-3"')))
    covered = [8, 7, 8, 6, 3, 5, 4, 4]
    shares = [0.91, 0.87, 0.93, 0.5, 0.2, 0.25, 0.31, 0.27]
    text = render(cells, _rows(cells, covered, shares), "saddlepoint sweep x.toml")
    lines = [line for line in text.splitlines() if line.startswith("| demo")]
    assert len(lines) == 2
    for line, sl in zip(lines, (slice(0, 4), slice(4, 8))):
        cols = [c.strip() for c in line.strip("|").split("|")]
        assert cols[2] == "4/4"
        for col, values in ((cols[3], covered[sl]), (cols[4], shares[sl])):
            mean, sd, each = re.fullmatch(r"(\S+) ± (\S+) \[(.*)\]", col).groups()
            assert float(mean) == pytest.approx(np.mean(values), abs=_half_unit(mean))
            assert float(sd) == pytest.approx(np.std(values, ddof=1), abs=_half_unit(sd))
            assert [float(v) for v in each.split(", ")] == pytest.approx(values)
    assert "`optim_d.lr=0.0001`" in lines[0] and "`optim_d.lr=0.0002`" in lines[1]
    assert "Reproduce: `saddlepoint sweep x.toml`" in text and "Test CPU" in text
    assert "Every run: `data.name=ring8`" in text


def test_failed_seeds_are_counted_not_averaged(write_spec):
    cells = expand(load_spec(write_spec(runs=RUNS, seeds='"0-2"')))
    rows = _rows(cells, [8, 2, 6, 1, 1, 1], [0.9] * 6, status={1: "diverged"})
    del rows[cells[5].key]  # not run yet
    text = render(cells, rows, "c")
    first, second = (line for line in text.splitlines() if line.startswith("| demo"))
    assert "| 2/3 (1 diverged) | 7.0 ± 1.4 [8, 6] |" in first
    assert "| 2/3 | 1.0 ± 0.0 [1, 1] |" in second
    assert f"`{cells[1].key}` diverged: training diverged" in text


def test_mean_sd_forms():
    assert mean_sd([], 2) == "-"
    assert mean_sd([None], 2) == "-"
    assert mean_sd([0.5], 2) == "0.50"
    assert mean_sd([1.0, 3.0], 2) == "2.00 ± 1.41 [1.00, 3.00]"


def test_block_replaced_and_the_rest_of_the_file_byte_identical(tmp_path):
    begin, end = markers("zoo")
    head = f"# Zoo\r\n\r\nProse quoting `{begin}` and `{end}`, ünïcode ±, spaces   \r\n"
    tail = "\r\nMore text.\r\n<!-- sweep:other:begin -->\r\nkeep\r\n<!-- sweep:other:end -->\r\n"
    path = tmp_path / "zoo.md"
    path.write_bytes(f"{head}{begin}\r\nold table\r\n{end}{tail}".encode())
    write_block(path, "zoo", "| a |\n|---|\n| 1 |\n")
    data = path.read_bytes().decode()
    assert data.startswith(head + begin) and data.endswith(end + tail)
    assert data == f"{head}{begin}\r\n| a |\r\n|---|\r\n| 1 |\r\n{end}{tail}"
    write_block(path, "zoo", "| a |\n|---|\n| 1 |\n")  # idempotent
    assert path.read_bytes().decode() == data


def test_read_block_finds_what_write_block_wrote_not_a_quoted_marker(tmp_path):
    begin, end = markers("zoo")
    path = tmp_path / "zoo.md"
    path.write_text(f"Prose quoting `{begin}` and `{end}`.\n\n{begin}\nold\n{end}\nafter\n")
    write_block(path, "zoo", "| a |\n|---|\n| 1 |\n")
    text = path.read_text()
    assert read_block(text, "zoo") == "| a |\n|---|\n| 1 |"
    assert read_block(text, "other") is None
    assert read_block(f"{begin}\nno end\n", "zoo") is None


def test_block_added_at_the_end_when_absent(tmp_path):
    path = tmp_path / "doc.md"
    path.write_text("# Doc\nno newline at the end")
    write_block(path, "t", "table")
    begin, end = markers("t")
    assert path.read_text() == f"# Doc\nno newline at the end\n\n{begin}\ntable\n{end}\n"
    new = tmp_path / "new" / "fresh.md"
    write_block(new, "t", "table")
    assert new.read_text() == f"{begin}\ntable\n{end}\n"


def test_a_lone_marker_is_one_sentence(tmp_path):
    path = tmp_path / "doc.md"
    path.write_text(f"{markers('t')[0]}\nno end\n")
    with pytest.raises(SaddlepointError, match="only one of"):
        write_block(path, "t", "table")
    assert path.read_text() == f"{markers('t')[0]}\nno end\n"


def test_results_lines_survive_a_cut(tmp_path):
    path = tmp_path / "r.jsonl"
    append_row(path, {"key": "a", "status": "ok"})
    with open(path, "a") as f:
        f.write('{"key": "b", "sta')  # a crash in the middle of a line
    append_row(path, {"key": "a", "status": "failed"})
    with pytest.warns(UserWarning, match="line 2 is cut short"):
        rows = read_rows(path)
    assert [r["key"] for r in rows] == ["a", "a"]
    assert latest(rows)["a"]["status"] == "failed"
    assert path.read_text().endswith('"failed"}\n')
