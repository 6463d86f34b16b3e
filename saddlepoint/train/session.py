"""One process's session of training a run folder: what the bookkeeping around Algorithm 1 shares.

`open_session` makes (or, on resume, locks and tidies) the run folder, writes its config, opens
the writers (log.jsonl, warnings.jsonl and TensorBoard, on rank 0), the progress bar and the
periodic evaluator, and starts the clock. The `Session` it returns is what the scheduled actions
(`saddlepoint.train.schedule`) read and update between iterations: the scalars summed since the
last log line, that line's time, the best score, the iteration of the checkpoint on disk.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from saddlepoint.checkpoint import remove_stale_temporaries
from saddlepoint.errors import writing
from saddlepoint.progress import Progress
from saddlepoint.runs import CONFIG
from saddlepoint.train.evaluation import Score, evaluator, read_best
from saddlepoint.train.resume import Resumed
from saddlepoint.train.run import RunLock, new_run_dir
from saddlepoint.train.scalars import Accumulator, ScalarWriter, truncate_logs
from saddlepoint.train.state import TrainState
from saddlepoint.train.threads import ThreadChoice


@dataclass(eq=False)
class Session:
    """The bookkeeping's shared state for one process training one run folder."""

    run_dir: Path
    resume_path: Path  # the folder that messages tell the user to resume
    scalars: ScalarWriter | None  # log.jsonl, warnings.jsonl, TensorBoard: rank 0 only
    bar: Progress  # a bar on a terminal, plain status lines in a batch job's log
    threads: ThreadChoice  # the CPU threads training uses (logged with every line)
    score: Callable[[Callable], Score] | None  # periodic evaluation: rank 0, train.eval_every
    best_value: float | None  # the best score so far (best.json)
    last_checkpoint: int | None  # iteration of the checkpoint on disk, None before the first
    elapsed: float  # seconds of training before this session (across resumes)
    started: float = field(default_factory=time.monotonic)  # this session's clock
    stats: Accumulator = field(default_factory=Accumulator)  # scalars since the last log line
    last_log_time: float = 0.0  # when the last log line was written (or the session began)
    last_log_it: int = 0  # ... at which iteration
    last_record: dict | None = None  # this session's last log record
    logged: int = 0  # log lines this session wrote
    raised: set[str] = field(default_factory=set)  # the warnings' codes raised in this run

    def seconds(self) -> float:
        """Training time so far, across resumes."""
        return self.elapsed + time.monotonic() - self.started

    def start_clock(self, it: int) -> None:
        """(Re)set the clock just before the loop: seconds() counts training only."""
        self.started = time.monotonic()
        self.last_log_time, self.last_log_it = self.started, it

    def close(self) -> None:
        """Close the bar and the writers (a later grid opens a writer of its own)."""
        self.bar.close()
        if self.scalars is not None:
            self.scalars.close()


def open_session(
    s: TrainState,
    *,
    out: str | os.PathLike,
    resumed: Resumed | None,
    lock: RunLock,
    resume_hint: str | os.PathLike | None,
    threads: ThreadChoice,
    progress: tuple[bool, float],  # (show progress, seconds between status lines)
) -> Session:
    """The run folder made (or locked and tidied on resume), its config written, the writers,
    bar and evaluator opened, the clock started; messages about the session printed."""
    ctx, config, t = s.ctx, s.config, s.config.train
    run_dir = _run_folder(s, out, resumed, lock)
    if ctx.is_main:
        with writing(run_dir / CONFIG):
            (run_dir / CONFIG).write_text(config.to_json())
        if threads.reduced and s.device.type == "cpu":
            print(
                f"saddlepoint: {threads.default - threads.threads} of {threads.default} cores "
                f"busy with other work: training on {threads.threads} thread(s), since threads "
                f"sharing a busy core slow every step (set train.threads={threads.default} to "
                "use them anyway)",
                file=sys.stderr,
            )
    score = evaluator(config) if t.eval_every and ctx.is_main else None
    best = read_best(run_dir) if resumed is not None else None
    scalars = (  # log.jsonl, warnings.jsonl and TensorBoard event files, on rank 0
        ScalarWriter(run_dir, purge_step=s.it + 1 if resumed is not None else None)
        if ctx.is_main
        else None
    )
    if scalars is not None and resumed is not None and resumed.rate_changes:
        changes = resumed.rate_changes  # the new rates apply from here on
        scalars.write({"iteration": s.it, "event": "resume", "changed": changes})
        changed = ", ".join(f"{k} {v['from']:g} -> {v['to']:g}" for k, v in changes.items())
        print(f"saddlepoint: resuming at iteration {s.it} with {changed}", file=sys.stderr)
    if resumed is not None and s.it >= t.iterations and ctx.is_main:
        print(
            f"saddlepoint: {run_dir} has already trained train.iterations={t.iterations}; "
            "nothing to train (resume with a larger --set train.iterations=N to go on)",
            file=sys.stderr,
        )
    session = Session(
        run_dir=run_dir,
        resume_path=Path(resume_hint) if resume_hint is not None else run_dir,
        scalars=scalars,
        bar=Progress(
            t.iterations,
            initial=s.it,
            desc=run_dir.name,
            enabled=progress[0] and ctx.is_main,
            status_every=progress[1],
        ),
        threads=threads,
        score=score,
        best_value=best["value"] if best else None,
        last_checkpoint=s.it if resumed is not None else None,
        elapsed=s.elapsed,
        raised=set(s.monitor.raised),
    )
    session.start_clock(s.it)
    return session


def _run_folder(
    s: TrainState, out: str | os.PathLike, resumed: Resumed | None, lock: RunLock
) -> Path:
    """A new numbered run folder under `out`, or the resumed one; locked by rank 0."""
    ctx = s.ctx
    if resumed is None:
        run_dir = Path(ctx.broadcast(str(new_run_dir(out, s.config)) if ctx.is_main else None))
        if ctx.is_main:
            lock.acquire(run_dir)
        return run_dir
    if ctx.is_main:  # the checkpoint is whole: lock the folder, then tidy it
        lock.acquire(resumed.run_dir)  # one trainer per run folder
        remove_stale_temporaries(resumed.run_dir)  # left by processes killed while writing
        truncate_logs(resumed.run_dir, s.it)
    return resumed.run_dir
