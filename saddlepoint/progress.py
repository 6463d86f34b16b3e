"""Progress of long jobs (training, a feature network's one-off training): tqdm's bar on a
terminal, one plain status line every few seconds anywhere else.

A batch job's stderr is a file, where a bar writes one carriage-return update per refresh (56 KB
for 600 iterations) and `--quiet` writes nothing until the end. There, as StyleGAN2-ADA's tick
lines do, a line like this is printed every `status_every` seconds (30 by default), and once at
the end:

    iteration 1200/6000 (20%), 25.1 it/s, d_loss 1.21, g_loss 0.93, D(x) 0.61, D(G(z)) 0.38,
    eta 3m12s                                                      (one line in the log)

The rate is measured since the previous line (since the start for the first), the eta assumes
it holds.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from tqdm.auto import tqdm

STATUS_EVERY = 30.0  # seconds between status lines when stderr is not a terminal


def is_terminal(stream: TextIO) -> bool:
    """Whether `stream` is an interactive terminal (a captured or redirected one is not)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False


def duration(seconds: float) -> str:
    """A short duration: 45s, 3m12s, 1h02m."""
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def _value(value: float | str) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


class Progress:
    """progress = Progress(total, initial=done); progress.update(); progress.close().

    On a terminal: tqdm's bar (with the scalars of `show` as its postfix). Elsewhere: a status
    line every `status_every` seconds and one at close. `enabled=False` shows nothing."""

    def __init__(
        self,
        total: int,
        *,
        initial: int = 0,
        noun: str = "iteration",  # what is counted, as the status lines call it
        desc: str = "",  # the bar's label; the status lines' prefix when `prefix` is true
        prefix: bool = False,  # start each status line with "desc: "
        enabled: bool = True,
        status_every: float = STATUS_EVERY,
        stream: TextIO | None = None,  # default: sys.stderr at construction
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        terminal = is_terminal(self.stream)
        self.total, self.done, self.noun = total, initial, noun
        self.prefix = f"{desc}: " if prefix and desc else ""
        self.lines = enabled and not terminal  # plain status lines
        self.status_every = max(0.0, float(status_every))
        self.clock = clock
        self.scalars: dict[str, float | str] = {}
        self._last_time, self._last_done = clock(), initial
        self.bar = tqdm(
            total=total,
            initial=initial,
            disable=not (enabled and terminal),
            unit="it",
            dynamic_ncols=True,
            desc=desc[:40],
            file=self.stream,
        )

    def update(self, n: int = 1) -> None:
        self.done += n
        self.bar.update(n)
        if self.lines and self.clock() - self._last_time >= self.status_every:
            self.status()

    def show(self, scalars: dict[str, float | str]) -> None:
        """The latest scalars (e.g. losses), shown in the bar and in the next status line."""
        self.scalars = dict(scalars)
        if not self.bar.disable:
            self.bar.set_postfix({k: _value(v) for k, v in scalars.items()}, refresh=False)

    def status(self) -> None:
        """Print one status line now (and restart the interval)."""
        now = self.clock()
        rate = (self.done - self._last_done) / max(now - self._last_time, 1e-9)
        parts = [f"{self.noun} {self.done}/{self.total}"]
        if self.total:
            parts[0] += f" ({100 * self.done / self.total:.0f}%)"
        parts.append(f"{rate:.3g} it/s")
        parts += [f"{k} {_value(v)}" for k, v in self.scalars.items()]
        if rate > 0 and self.done < self.total:
            parts.append(f"eta {duration((self.total - self.done) / rate)}")
        print(self.prefix + ", ".join(parts), file=self.stream, flush=True)
        self._last_time, self._last_done = now, self.done

    def close(self) -> None:
        """Close the bar; a last status line when there is progress it has not reported."""
        self.bar.close()
        if self.lines and self.done > self._last_done:
            self.status()
        self.lines = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
