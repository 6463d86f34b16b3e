"""The default thread count: the idle cores, measured from /proc/stat, at most torch's default."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from saddlepoint.train import threads as th


def _stat(tmp_path: Path, idle: int, total: int) -> Path:
    """A /proc/stat whose aggregate line has `idle` idle jiffies (iowait 0) of `total`."""
    busy = total - idle
    path = tmp_path / f"stat-{idle}-{total}"
    path.write_text(f"cpu  {busy} 0 0 {idle} 0 0 0 0 0 0\ncpu0 1 0 0 1 0 0 0 0 0 0\n")
    return path


def test_idle_cores_from_two_readings(tmp_path, monkeypatch) -> None:
    readings = iter([_stat(tmp_path, 1000, 4000), _stat(tmp_path, 1150, 4200)])
    real = th._cpu_times
    monkeypatch.setattr(th, "_cpu_times", lambda path: real(next(readings)))
    monkeypatch.setattr(th.time, "sleep", lambda s: None)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    # 150 of the 200 jiffies in the window were idle: 3 of 4 cores
    assert th.idle_cores() == pytest.approx(3.0, abs=1e-12)


def test_cpu_times_counts_iowait_as_idle(tmp_path) -> None:
    path = tmp_path / "stat"
    path.write_text("cpu  10 1 2 30 5 1 1 0 0 0\n")
    assert th._cpu_times(path) == (35.0, 50.0)
    path.write_text("intr 1 2 3\n")
    with pytest.raises(OSError):
        th._cpu_times(path)


@pytest.mark.parametrize(
    ("idle", "default", "expected"),
    [(2.0, 2, 2), (1.75, 2, 2), (1.6, 2, 1), (1.0, 2, 1), (0.1, 2, 1), (7.9, 4, 4), (3.2, 8, 3)],
)
def test_threads_are_the_idle_cores_capped_by_torch_default(
    monkeypatch, idle, default, expected
) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(th, "_last", None)
    monkeypatch.setattr(th, "idle_cores", lambda: idle)
    monkeypatch.setattr(th, "usable_cores", lambda: os.cpu_count() or 1)
    monkeypatch.setattr(th, "_torch_default", lambda: default)
    choice = th.choose_threads(None)
    assert (choice.threads, choice.reason) == (expected, "idle cores")
    assert choice.reduced == (expected < default)


def test_explicit_settings_win_and_are_not_probed(monkeypatch) -> None:
    def no_probe():
        raise AssertionError("probed /proc/stat although the count was given")

    monkeypatch.setattr(th, "idle_cores", no_probe)
    monkeypatch.setattr(th, "_last", None)
    assert th.choose_threads(3).threads == 3
    assert th.choose_threads(3).reason == "train.threads"
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    choice = th.choose_threads(None)
    assert choice.reason == "OMP_NUM_THREADS" and not choice.reduced


def test_unreadable_proc_stat_keeps_torch_default(monkeypatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(th, "_last", None)

    def unreadable():
        raise OSError("no /proc here")

    monkeypatch.setattr(th, "idle_cores", unreadable)
    choice = th.choose_threads(None)
    assert choice.reason == "torch default" and choice.threads == th._torch_default()


def test_a_count_set_for_an_earlier_run_is_not_taken_for_the_users(monkeypatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(th, "_INITIAL", 2)
    monkeypatch.setattr(th, "_applied", None)
    monkeypatch.setattr(th, "_last", (time.monotonic(), 1.0))  # one idle core of two
    assert th.apply_threads(None).threads == 1
    assert torch.get_num_threads() == 1
    monkeypatch.setattr(th, "_last", (time.monotonic(), 2.0))  # the machine is idle again
    assert th.apply_threads(None).threads == 2  # not capped by the 1 this module set
    torch.set_num_threads(1)  # the user's own choice caps the default
    monkeypatch.setattr(th, "_applied", None)
    assert th.apply_threads(None).threads == 1


@pytest.mark.skipif(not Path("/proc/stat").is_file(), reason="needs Linux /proc/stat")
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs 2 cores")
def test_a_busy_process_takes_a_core_from_the_measurement() -> None:
    """A spinning process keeps one core busy for the whole window: at most cpus - 1 + 0.3
    cores can be idle (the 0.3 allows for the spinner being descheduled briefly)."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)  # let it reach its core
        idle = th.idle_cores(window=0.5)
    finally:
        spinner.kill()
        spinner.wait()
    assert 0.0 <= idle <= (os.cpu_count() or 1) - 0.7
