"""The bookkeeping around Algorithm 1 as a schedule: named actions with their intervals as data
(StyleGAN2-ADA's ticks and snapshots, nanoGPT's eval_interval).

    log         train.log_every, and the last iteration   a line of scalars; health warnings
    grid        train.sample_every                        the fixed-noise sample grid
    snapshot    train.snapshot_every                      snapshots/generator-NNNNNNN.safetensors
    evaluate    train.eval_every                          a validation score; best.safetensors
    checkpoint  train.checkpoint_every                    checkpoint.pt and generator.safetensors

After every iteration the loop runs the actions that are due, in this order (`run_due`), on
every rank: the checks and collective calls run everywhere, the files are written by rank 0.
Each action takes the run's `TrainState` and the `Session`; adding one is adding an entry to
`ACTIONS`. Nothing that is not finite is ever saved: a snapshot, an evaluation and a checkpoint
first check the weights they would keep, and a log line its scalars, and stop the run with
`diverged`'s message when one is NaN or infinite.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from saddlepoint.checkpoint import save_snapshot, save_training_state
from saddlepoint.config import TrainConfig
from saddlepoint.errors import SaddlepointError
from saddlepoint.nets import to_unit
from saddlepoint.report import save_samples
from saddlepoint.runs import CHECKPOINT, SNAPSHOT
from saddlepoint.train.diagnostics import diversity, grad_norm
from saddlepoint.train.evaluation import BEST_SNAPSHOT, write_best
from saddlepoint.train.scalars import ScalarWriter
from saddlepoint.train.session import Session
from saddlepoint.train.state import TrainState, checkpoint_state, finite, rng_states


@dataclass(frozen=True)
class Action:
    """Periodic work: `run(state, session)` after every `interval(config.train)` iterations."""

    name: str
    interval: Callable[[TrainConfig], int]  # iterations between two runs (0: never)
    run: Callable[[TrainState, Session], None]
    at_last: bool = False  # also after the last iteration, whatever the interval

    def due(self, train: TrainConfig, it: int) -> bool:
        """Whether the action runs after iteration `it`."""
        every = self.interval(train)
        return bool(every and it % every == 0) or (self.at_last and it == train.iterations)


def run_due(s: TrainState, session: Session) -> None:
    """Run the actions due after the iteration just done, in ACTIONS order."""
    t = s.config.train
    for action in ACTIONS:
        if action.due(t, s.it):
            action.run(s, session)


def log_line(s: TrainState, session: Session) -> None:
    """One line of scalars (the means since the last line, with the health numbers), the
    health warnings it completes, the bar's numbers; a non-finite value stops the run."""
    record = session.stats.flush(s.ctx.mean)  # the one host sync per log line
    now = time.monotonic()  # after it, so queued GPU work is counted
    rate = (s.it - session.last_log_it) * s.global_m / max(now - session.last_log_time, 1e-9)
    record.update(
        grad_norm_d=grad_norm(s.D).item(),  # of the last D step's gradients
        grad_norm_g=grad_norm(s.G).item(),  # of the last G step's gradients
        # mean pairwise distance of G's fixed-noise samples over the data's
        diversity_ratio=diversity(fixed_samples(s)) / max(s.real_diversity, 1e-12),
        iteration=s.it,
        images_seen=s.d_updates * s.global_m,  # over all ranks
        epoch=round(s.sampler.epochs_done, 4),
        seconds=round(session.seconds(), 2),
        images_per_s=round(rate, 1),
        lr_d=s.opt_d.param_groups[0]["lr"],
        lr_g=s.opt_g.param_groups[0]["lr"],
        threads=session.threads.threads,
    )
    if s.ctx.is_main:
        session.scalars.write(record)
    session.last_record, session.logged = record, session.logged + 1
    for warning in s.monitor.check(record, objective=s.objective.name):
        session.raised.add(warning.code)
        if s.ctx.is_main:
            session.scalars.warn(warning)
            tqdm.write(f"saddlepoint: warning: {warning}")
    session.bar.show(shown(record))
    session.last_log_time, session.last_log_it = now, s.it
    bad = [key for key, v in record.items() if not math.isfinite(v)]
    if bad:
        raise diverged(s, session, bad[0])


def grid(s: TrainState, session: Session) -> None:
    """The sample grid of the fixed noise, samples/iter-NNNNNNN.png (rank 0)."""
    if s.ctx.is_main:
        save_grid(s, session)


def snapshot(s: TrainState, session: Session) -> None:
    """A kept snapshot of the sampling generator, snapshots/generator-NNNNNNN.safetensors."""
    if not finite(s.G_eval):  # same on every rank
        raise diverged(s, session, "a weight of the generator")  # before a snapshot holds it
    if s.ctx.is_main:
        name = f"generator-{s.it:07d}.safetensors"
        save_snapshot(
            session.run_dir / "snapshots" / name,
            s.G_eval,
            s.config.to_json(),
            iteration=s.it,
            **snapshot_info(s),
        )


def evaluate(s: TrainState, session: Session) -> None:
    """Score the sampling generator on the validation split (rank 0); log the score and keep
    the best generator so far as best.safetensors, with best.json."""
    if not finite(s.G_eval):  # same on every rank
        raise diverged(s, session, "a weight of the generator")  # before best.safetensors holds it
    if session.score is None:
        return
    result = session.score(lambda n: eval_sample(s, n))
    session.scalars.write({"iteration": s.it, f"eval_{result.metric}": result.value})
    if result.beats(session.best_value):  # keep the best generator so far
        session.best_value = result.value
        save_snapshot(
            session.run_dir / BEST_SNAPSHOT,
            s.G_eval,
            s.config.to_json(),
            iteration=s.it,
            **snapshot_info(s),
        )
        write_best(session.run_dir, result, s.it)


def checkpoint(s: TrainState, session: Session) -> None:
    """The whole training state, when every loss and weight is finite (on every rank)."""
    if s.ctx.any(not session.stats.finite() or not finite(*s.nets), s.device):
        raise diverged(s, session, "a loss or a weight")
    save_checkpoint(s, session)


# The periodic work, in the order it runs after an iteration.
ACTIONS: tuple[Action, ...] = (
    Action("log", lambda t: t.log_every, log_line, at_last=True),
    Action("grid", lambda t: t.sample_every, grid),
    Action("snapshot", lambda t: t.snapshot_every, snapshot),
    Action("evaluate", lambda t: t.eval_every, evaluate),
    Action("checkpoint", lambda t: t.checkpoint_every, checkpoint),
)


# ------------------------------------------------------------------ what the actions share


def save_checkpoint(s: TrainState, session: Session) -> None:
    """Rank 0 writes the whole state and the latest snapshot (a collective call: every rank
    must make it, for the ranks' random states)."""
    ranks = s.ctx.gather(rng_states(s)) if s.ctx.enabled else None
    session.last_checkpoint = s.it
    if not s.ctx.is_main:
        return
    save_training_state(session.run_dir / CHECKPOINT, checkpoint_state(s, session.seconds(), ranks))
    save_snapshot(
        session.run_dir / SNAPSHOT, s.G_eval, s.config.to_json(), iteration=s.it, **snapshot_info(s)
    )


def save_grid(s: TrainState, session: Session) -> Path:
    """Write the grid of the fixed noise's samples (also to TensorBoard); returns its path."""
    samples = fixed_samples(s)
    if s.is_image and s.fixed_y is not None and "num_classes" not in s.spec:
        samples = samples + s.fixed_y  # LAPGAN level: band-pass + its coarse image
    # a class-conditional grid shows the classes in turn along each row
    options = {"ncols": s.spec["num_classes"]} if "num_classes" in s.spec and s.is_image else {}
    path = save_samples(
        to_unit(samples, s.output), session.run_dir / "samples" / f"iter-{s.it:07d}.png", **options
    )
    if s.is_image:  # the grid in TensorBoard too (after the loop, in a writer of its own)
        if session.scalars is not None and session.scalars.tb is not None:
            session.scalars.image("grid", path, s.it)
        else:
            with ScalarWriter(session.run_dir) as end:
                end.image("grid", path, s.it)
    return path


def fixed_samples(s: TrainState) -> torch.Tensor:
    """The sampling generator's samples from the fixed noise (and conditions), in G's range."""
    with torch.no_grad():
        s.G_eval.eval()
        samples = s.G_eval(s.fixed_z) if s.fixed_y is None else s.G_eval(s.fixed_z, s.fixed_y)
        s.G.train()  # the EMA copy stays in eval mode; the trained G returns to training
    return samples


def eval_sample(s: TrainState, n: int) -> torch.Tensor:
    """n samples for evaluation on [0, 1], from the same noise at every evaluation."""
    same_z = torch.Generator(s.device).manual_seed(s.config.train.seed + 3)
    return to_unit(s.G_eval.sample(n, same_z), s.output)


def snapshot_info(s: TrainState) -> dict:
    """What a snapshot records beside the weights: the data's shape, G's output kind, and what
    G is conditioned on."""
    spec = {k: list(v) if isinstance(v, tuple) else v for k, v in s.spec.items()}
    return {"shape": list(s.shape), "output": s.output, **spec}


def diverged(s: TrainState, session: Session, what: str) -> SaddlepointError:
    """The stop message: what went non-finite, and a way on that works from here."""
    config = s.config
    lower = (
        f"--set optim_d.lr={config.optim_d.lr / 10:g} --set optim_g.lr={config.optim_g.lr / 10:g}"
    )
    if session.last_checkpoint is None:
        advice = (
            "no checkpoint was written before it, so start a new run with lower learning "
            f"rates (e.g. {lower})"
        )
    else:
        advice = (
            f"resume from its last checkpoint (iteration {session.last_checkpoint}, kept as it "
            f"was) with lower learning rates: `saddlepoint train --resume {session.resume_path} "
            f"{lower}`"
        )
    return SaddlepointError(
        f"training diverged at iteration {s.it} ({what} is not finite): {advice}."
    )


def shown(record: dict) -> dict[str, float]:
    """The scalars of a log record that the progress bar and status lines show."""
    names = {"d_loss": "d_loss", "g_loss": "g_loss", "d_real": "D(x)", "d_fake": "D(G(z))"}
    return {label: record[key] for key, label in names.items() if key in record}
