"""How many CPU threads a run uses when train.threads is not set: the cores that are idle now.

PyTorch's default is one thread per core. On a machine where another process keeps a core
busy, a thread that shares that core makes every parallel region wait for it, and GNU OpenMP's
waiting threads spin rather than yield: the demo loop on 2 threads beside one busy process ran
several times slower than on 1 thread (benchmarks/results/load-cpu.md). So the default is the
number of cores that are idle when the run starts, measured from /proc/stat over a short
window, and never more than PyTorch's own default:

    idle cores = (idle + iowait time of all usable cores in the window) / window length
    threads    = clamp(floor(idle cores + SLACK), 1, torch's default)

A core counts as idle when it was at least 1 - SLACK idle. An explicit train.threads, or
OMP_NUM_THREADS in the environment (torchrun sets it to 1 per process), is used as given.
Where /proc/stat cannot be read (macOS, Windows) PyTorch's default stands.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch

WINDOW = 0.2  # seconds of /proc/stat sampling
SLACK = 0.3  # a core 70% idle or more counts as idle
REUSE = 30.0  # seconds a measurement is reused within one process (tests train many runs)

_last: tuple[float, float] | None = None  # (monotonic time, idle cores) of the last probe
_INITIAL = torch.get_num_threads()  # PyTorch's default, before any run changed it
_applied: int | None = None  # the count the last run set, to tell it from a user's own choice


@dataclass(frozen=True)
class ThreadChoice:
    threads: int  # torch CPU threads to use
    reason: str  # "train.threads", "OMP_NUM_THREADS", "idle cores" or "torch default"
    idle_cores: float | None = None  # measured idle cores, when they were measured
    default: int = 0  # PyTorch's default (what it would use unasked)

    @property
    def reduced(self) -> bool:
        """Fewer threads than PyTorch would use, because other work keeps cores busy."""
        return self.reason == "idle cores" and self.threads < self.default


def _cpu_times(path: Path = Path("/proc/stat")) -> tuple[float, float]:
    """(idle + iowait, total) jiffies summed over all CPUs, from the aggregate 'cpu' line."""
    with open(path) as f:
        fields = f.readline().split()
    if not fields or fields[0] != "cpu":
        raise OSError(f"unexpected first line in {path}")
    values = [float(v) for v in fields[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0.0)  # idle, iowait
    return idle, sum(values[:8])  # user nice system idle iowait irq softirq steal


def idle_cores(window: float = WINDOW, path: Path = Path("/proc/stat")) -> float:
    """Cores idle over the next `window` seconds (0 .. the machine's CPU count)."""
    idle0, total0 = _cpu_times(path)
    time.sleep(window)
    idle1, total1 = _cpu_times(path)
    cpus = os.cpu_count() or 1
    if total1 <= total0:
        return float(cpus)
    return cpus * (idle1 - idle0) / (total1 - total0)


def usable_cores() -> int:
    """Cores this process may run on (its affinity mask, e.g. a container's CPU set)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def choose_threads(requested: int | None) -> ThreadChoice:
    """The thread count for a run: `requested` if set, else OMP_NUM_THREADS, else the idle
    cores (at most PyTorch's default); see the module docstring."""
    global _last
    default = _torch_default()
    if requested:
        return ThreadChoice(requested, "train.threads", default=default)
    if os.environ.get("OMP_NUM_THREADS"):
        return ThreadChoice(default, "OMP_NUM_THREADS", default=default)
    now = time.monotonic()
    if _last is not None and now - _last[0] < REUSE:
        idle = _last[1]
    else:
        try:
            idle = idle_cores()
        except (OSError, ValueError, IndexError):
            return ThreadChoice(default, "torch default", default=default)
        idle *= usable_cores() / (os.cpu_count() or 1)  # this process's share of the machine
        _last = (now, idle)
    threads = max(1, min(default, math.floor(idle + SLACK)))
    return ThreadChoice(threads, "idle cores", round(idle, 2), default)


def _torch_default() -> int:
    """The thread count PyTorch would use now: its own default, or what the user set (a count
    this module set for an earlier run does not count as the user's)."""
    current = torch.get_num_threads()
    return _INITIAL if current == _applied else current


def apply_threads(requested: int | None) -> ThreadChoice:
    """Choose the thread count for a run and set it (torch.set_num_threads)."""
    global _applied
    choice = choose_threads(requested)
    if choice.threads != torch.get_num_threads():
        torch.set_num_threads(choice.threads)
    _applied = choice.threads
    return choice
