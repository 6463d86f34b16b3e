"""Training (Algorithm 1): set-up, the iteration, the scheduled bookkeeping, and run folders.

state.py      set-up: a config (and a checkpoint) made into one TrainState
loop.py       `iteration` (Algorithm 1) and `train`, which runs it with its bookkeeping
schedule.py   the periodic actions (log, grid, snapshot, evaluate, checkpoint) and intervals
session.py    the bookkeeping's shared state: run folder, writers, clock
"""

from saddlepoint.runs import Run, load, read_log
from saddlepoint.train.loop import train

__all__ = ["Run", "load", "read_log", "train"]
