"""A clean stop on Ctrl-C (SIGINT) or `kill` (SIGTERM): the loop finishes its iteration, saves a
checkpoint and returns; the command line then exits with 128 + the signal's number (130, 143)."""

from __future__ import annotations

import signal
import threading


class StopSignals:
    """Ctrl-C (SIGINT) and `kill` (SIGTERM) ask the loop to stop at the end of the iteration,
    so the checkpoint is written from a consistent state (never from inside a step or a log
    writer). A second signal stops at once (KeyboardInterrupt).

    with StopSignals() as stop:
        while ...:
            ...
            if stop.requested:
                break
    """

    def __init__(self) -> None:
        self.requested = False
        self.signum: int | None = None  # the first signal received
        self._previous: dict[int, object] = {}

    def _handler(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self.signum = signum

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
