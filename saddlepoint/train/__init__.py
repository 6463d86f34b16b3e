"""Training (Algorithm 1), its steps and schedules, and run folders."""

from saddlepoint.train.loop import train
from saddlepoint.train.run import Run, load, read_log

__all__ = ["Run", "load", "read_log", "train"]
