"""The training loop: Algorithm 1 of Goodfellow et al. 2014.

    for number of training iterations:
        for k steps:
            sample m noise samples z and m examples x; update D by ascending its gradient of V
        sample m noise samples z; update G by descending its cost

`iteration` is one pass of that loop's body. `train` puts three things around it:

    set-up       saddlepoint.train.state.setup: a config (and a checkpoint on resume) made into
                 one TrainState: data, nets, optimisers, noise streams, EMA, scalers, counters
    iterations   while it < train.iterations: iteration(state), then the bookkeeping due
    bookkeeping  saddlepoint.train.schedule.ACTIONS: log lines, grids, snapshots, evaluation and
                 checkpoints, each a named action with its interval

and ends the run with a last checkpoint and grid, or stops cleanly on Ctrl-C or SIGTERM
(`signals`). One process trains a run folder at a time (`RunLock`); no weights that are not
finite are ever saved.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import torch
from tqdm.auto import tqdm

from saddlepoint.config import Config, validate
from saddlepoint.data import absolute_paths
from saddlepoint.progress import STATUS_EVERY
from saddlepoint.runs import CHECKPOINT, Run
from saddlepoint.train import distributed
from saddlepoint.train.diagnostics import short_run_warnings
from saddlepoint.train.optim import apply_schedule
from saddlepoint.train.resume import read_resume
from saddlepoint.train.run import RunLock
from saddlepoint.train.scalars import ScalarWriter, step_scalars
from saddlepoint.train.schedule import diverged, run_due, save_checkpoint, save_grid
from saddlepoint.train.session import Session, open_session
from saddlepoint.train.signals import StopSignals
from saddlepoint.train.state import TrainState, finite, setup
from saddlepoint.train.steps import DStats, GStats, d_step, g_step
from saddlepoint.train.threads import apply_threads


def iteration(s: TrainState) -> dict[str, torch.Tensor]:
    """One iteration of Algorithm 1: k steps on D, each on a fresh minibatch of m examples and
    m noise samples, then one step on G; returns its scalars as 0-d tensors (no host sync)."""
    t = s.config.train
    for j in range(t.k):  # ---- k steps on the discriminator
        real, y = s.minibatch()  # (m, *shape) examples x, with their labels or conditions
        z = s.sample_noise()  # (m, z_dim) noise samples z (and codes)
        keep_graph = t.reuse_fakes and j == t.k - 1  # the G step reuses this G(z)
        with torch.set_grad_enabled(keep_graph), s.autocast:
            fake = s.generate(z, y)  # G(z) given the minibatch's y
        d, objective_logs = update_discriminator(s, real, fake.detach(), y, z)
    if not t.reuse_fakes:  # ---- one step on the generator, on fresh noise
        z = s.sample_noise()
        with s.autocast:
            fake = s.generate(z, y)
    g = update_generator(s, fake, y, z)
    s.it += 1
    return step_scalars(s.objective, d, g, objective_logs)


def update_discriminator(
    s: TrainState,
    real: torch.Tensor,  # (m, *shape) examples
    fake: torch.Tensor,  # (m, *shape) G(z), detached
    y: torch.Tensor | None,  # their labels or conditions
    z: torch.Tensor,  # (m, z_dim) the fakes' noise (and codes)
) -> tuple[DStats, dict]:
    """Ascend V in theta_d: D's scheduled step on a real and a generated minibatch (and the
    penalty every objective.penalty_every steps); returns its stats and the objective state's
    logged values."""
    c = s.config
    apply_schedule(s.opt_d, c.optim_d, s.d_updates, s.sampler.epochs_done)
    d = d_step(
        s.D_train,
        s.opt_d,
        s.objective,
        real=real,
        fake=fake,
        autocast=s.autocast,
        y_real=y,
        y_fake=y,
        z=z,
        terms=s.terms,
        d_kwargs=s.d_kwargs(),
        separate=s.separate,
        scaler=s.scaler_d,
        critic=s.D,
        clip_weights=c.objective.clip_weights,
        penalty=s.penalty if s.d_updates % c.objective.penalty_every == 0 else None,
        members=c.train.ensemble,  # an ensemble: the sum of its members' mean losses
    )
    state = s.objective_state
    logs = state.update(d.real_scores, d.fake_scores) if state else {}
    s.d_updates += 1
    return d, logs


def update_generator(
    s: TrainState, fake: torch.Tensor, y: torch.Tensor | None, z: torch.Tensor
) -> GStats:
    """Descend G's cost in theta_g: G's scheduled step through the unwrapped D (frozen, so no
    gradient sync of D's weights; its recorded pass under train.cuda_graph), then the EMA of
    G's weights."""
    apply_schedule(s.opt_g, s.config.optim_g, s.g_updates, s.sampler.epochs_done)
    g = g_step(
        s.D if s.D_frozen is None else s.D_frozen,
        s.opt_g,
        s.objective,
        fake=fake,
        autocast=s.autocast,
        scaler=s.scaler_g,
        y_fake=y,
        z=z,
        terms=s.terms,
        g_kwargs=s.g_kwargs(),
        members=s.config.train.ensemble,
    )
    s.g_updates += 1
    if s.ema is not None:
        s.ema.update(s.G, s.g_updates)  # after G's g_updates-th step (the ramp-up counts them)
    return g


def train(
    config: Config | None = None,
    *,
    out: str | os.PathLike = "runs",
    resume: str | os.PathLike | None = None,
    progress: bool = True,
    resume_hint: str | os.PathLike | None = None,
    status_every: float = STATUS_EVERY,
) -> Run:
    """Train a GAN by Algorithm 1; returns the Run. `resume` continues a run folder exactly.

    A run folder is trained by one process at a time: a second `train` of it is refused while
    the first runs (`RunLock`). `resume_hint` is the folder that messages tell the user to
    resume (a LAPGAN level's run names its LAPGAN run); by default the run folder itself.
    `progress` shows a bar on a terminal and, when stderr is not one (a batch job's log), a
    plain status line every `status_every` seconds (saddlepoint.progress)."""
    lock = RunLock()
    try:
        return _train(config, out, resume, (progress, status_every), lock, resume_hint)
    finally:
        lock.release()


def _train(
    config: Config | None,
    out: str | os.PathLike,
    resume: str | os.PathLike | None,
    progress: tuple[bool, float],
    lock: RunLock,
    resume_hint: str | os.PathLike | None,
) -> Run:
    """train()'s body: set-up, the iterations and their bookkeeping, the end of the run. It
    takes `lock` on the run folder, which the caller releases."""
    resumed = read_resume(Path(resume), config) if resume is not None else None
    if resumed is not None:
        config = resumed.config
    else:  # data paths made absolute, so a resume from another folder finds the same files
        config = absolute_paths(config if config is not None else Config())
        validate(config)
    t = config.train
    threads = apply_threads(t.threads)  # the idle cores unless train.threads says otherwise
    on_gpu = t.device in ("cuda", "auto") and torch.cuda.is_available()
    ctx = distributed.setup("cuda" if on_gpu else "cpu")  # one process unless under torchrun
    if resumed is None:
        s = setup(config, ctx)
    else:  # restored from its checkpoint, so the next iteration is the one it would have taken
        s = setup(config, ctx, resumed.checkpoint, resumed.run_dir / CHECKPOINT)
    session = open_session(
        s,
        out=out,
        resumed=resumed,
        lock=lock,
        resume_hint=resume_hint,
        threads=threads,
        progress=progress,
    )
    s.G.train()
    s.D.train()
    stop, interrupted, hard_stop = StopSignals(), False, False
    try:
        with stop:
            while s.it < t.iterations:
                scalars = iteration(s)
                session.bar.update(1)
                session.stats.add(scalars)
                run_due(s, session)  # logs, grids, snapshots, evaluation, checkpoints
                if t.max_minutes and ctx.any(session.seconds() > 60 * t.max_minutes, s.device):
                    break
                # every rank stops at the same iteration, so the checkpoint stays collective
                if ctx.any(stop.requested, s.device) if ctx.enabled else stop.requested:
                    interrupted = True
                    break
    except KeyboardInterrupt:  # a second Ctrl-C: stop now
        interrupted = hard_stop = True
    finally:
        session.close()
    signum = (stop.signum or signal.SIGINT) if interrupted else None
    return _finish(s, session, interrupted, hard_stop, signum)


def _finish(
    s: TrainState, session: Session, interrupted: bool, hard_stop: bool, signum: int | None
) -> Run:
    """The end of a run: the last checkpoint and grid (or, after a second Ctrl-C under DDP,
    the last checkpoint as it was), the resume hint or the short run's warnings; the Run."""
    ctx, run_dir = s.ctx, session.run_dir
    if hard_stop and ctx.enabled:  # the other ranks may be gone: keep the last checkpoint
        print(f"interrupted at iteration {s.it}: continue from the last checkpoint with --resume")
        return Run(run_dir, s.config, s.G_eval.eval(), s.it, interrupted=True, stop_signal=signum)
    if ctx.any(not session.stats.finite() or not finite(*s.nets), s.device):  # keep the last good
        raise diverged(s, session, "a loss or a weight")
    save_checkpoint(s, session)
    grid = save_grid(s, session) if ctx.is_main else None
    if interrupted:
        print(
            f"interrupted at iteration {s.it}: checkpoint saved; continue with "
            f"`saddlepoint train --resume {session.resume_path}`"
        )
    elif ctx.is_main and session.last_record is not None:
        found = short_run_warnings(
            s.monitor, session.last_record, session.logged, session.raised, s.config
        )
        for warning in found:
            with ScalarWriter(run_dir, tensorboard=False) as end:
                end.warn(warning)
            tqdm.write(f"saddlepoint: warning: {warning}")
    distributed.teardown(ctx)
    s.G.eval()  # G_eval is G itself, or the EMA copy that is always in eval mode
    return Run(
        run_dir,
        s.config,
        s.G_eval,
        s.it,
        last_grid=grid,
        interrupted=interrupted,
        stop_signal=signum,
    )
