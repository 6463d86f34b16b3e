"""The training loop: Algorithm 1 of Goodfellow et al. 2014.

    for number of training iterations:
        for k steps:
            sample m noise samples z and m examples x; update D by ascending its gradient of V
        sample m noise samples z; update G by descending its cost

Everything else here is bookkeeping around those two lines: schedules, logs, sample grids,
checkpoints (whole or absent), exact resume, and a clean stop on Ctrl-C or SIGTERM. One process
trains a run folder at a time (`RunLock`); no weights that are not finite are ever saved.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from tqdm.auto import tqdm

from saddlepoint.checkpoint import (
    load_training_state,
    load_weights,
    remove_stale_temporaries,
    save_snapshot,
    save_training_state,
)
from saddlepoint.config import Config, config_from_dict, validate
from saddlepoint.data import absolute_paths, load_dataset
from saddlepoint.data.dataset import Dataset
from saddlepoint.errors import SaddlepointError, writing
from saddlepoint.nets import (
    DISCRIMINATORS,
    build_discriminator,
    build_generator,
    from_unit,
    generator_output,
    to_unit,
)
from saddlepoint.objectives import OBJECTIVES, Objective
from saddlepoint.objectives.compatibility import check_discriminator
from saddlepoint.objectives.penalties import PENALTIES, batchnorm_in
from saddlepoint.objectives.terms import build_terms
from saddlepoint.progress import STATUS_EVERY, Progress
from saddlepoint.report import save_samples
from saddlepoint.train import distributed
from saddlepoint.train.batches import EpochSampler
from saddlepoint.train.device import autocast as autocast_for
from saddlepoint.train.device import grad_scaler, resolve_device, resolve_precision
from saddlepoint.train.diagnostics import HealthMonitor, HealthWarning, diversity, grad_norm
from saddlepoint.train.ema import EMA
from saddlepoint.train.evaluation import BEST_SNAPSHOT, evaluator, read_best, write_best
from saddlepoint.train.optim import apply_schedule, build_optimizer
from saddlepoint.train.run import CHECKPOINT, CONFIG, SNAPSHOT, Run, RunLock, new_run_dir
from saddlepoint.train.scalars import ScalarWriter, truncate_logs
from saddlepoint.train.steps import d_step, g_step
from saddlepoint.train.threads import apply_threads

# Settings a resumed run may change: how long and how often, not what is trained.
RESUMABLE_KEYS = (
    "iterations",
    "max_minutes",
    "log_every",
    "sample_every",
    "checkpoint_every",
    "snapshot_every",
    "threads",
    "eval_every",
    "eval_samples",
)
# ... and of optim_d and optim_g: the learning rate and its decay (e.g. lower after divergence).
RESUMABLE_OPTIM_KEYS = ("lr", "lr_decay", "lr_min")


def _penalty(config: Config, D: torch.nn.Module):
    """The configured gradient penalty as (D, real, fake) -> scalar, weight x interval baked in."""
    o = config.objective
    if o.penalty == "none":
        return None
    if batchnorm_in(D):
        raise SaddlepointError(
            f"objective.penalty={o.penalty} needs a discriminator without batch normalisation "
            "(it couples the examples whose gradients are penalised): choose another "
            "model.discriminator or objective.penalty=none."
        )
    fn, weight = PENALTIES[o.penalty], o.penalty_weight * o.penalty_every
    return lambda D, real, fake: fn(D, real, fake, weight)


def _conditions(config: Config, data: Dataset) -> tuple[dict, torch.Tensor | None]:
    """What G and D are conditioned on: ({num_classes} or {condition_shape} or {}, y or None).

    Class labels when model.conditional asks for them; condition images when the dataset
    carries them (a LAPGAN pyramid level: y is the upsampled coarser image).
    """
    m = config.model
    if data.y is not None and data.y.is_floating_point():  # image conditions
        return {"condition_shape": tuple(data.y.shape[1:])}, data.y
    if m.conditional == "none":
        return {}, None
    if data.y is None:
        raise SaddlepointError(
            f"model.conditional={m.conditional} needs class labels, but {data.name} has none: "
            "use a labelled dataset (mnist, fashion-mnist, cifar10, a folder with one "
            "sub-folder per class) or model.conditional=none."
        )
    classes = len(data.classes) if data.classes else int(data.y.max()) + 1
    return {"num_classes": classes}, data.y


def _check_resume_config(saved: Config, wanted: Config | None) -> Config:
    """A resumed run keeps its saved config except for RESUMABLE_KEYS of `wanted` and the
    RESUMABLE_OPTIM_KEYS of its optimisers."""
    if wanted is None:
        return saved
    saved_d, wanted_d = saved.to_dict(), wanted.to_dict()
    for section in ("optim_d", "optim_g"):
        for key in RESUMABLE_OPTIM_KEYS:
            saved_d[section][key] = wanted_d[section][key]
    for section, values in wanted_d.items():
        if section in ("train", "preset"):
            continue
        if values != saved_d[section]:
            raise SaddlepointError(
                f"a resumed run keeps its {section} settings; start a new run to change them "
                f"(only train.{', train.'.join(RESUMABLE_KEYS)} and the optimisers' "
                f"{', '.join(RESUMABLE_OPTIM_KEYS)} may change on resume)."
            )
    train = dict(saved_d["train"])
    for key, value in wanted_d["train"].items():
        if value != train[key] and key not in RESUMABLE_KEYS:
            raise SaddlepointError(
                f"train.{key} cannot change on resume; start a new run to change it."
            )
        train[key] = value
    saved_d["train"] = train
    return config_from_dict(saved_d)


def _rate_changes(saved: Config, config: Config) -> dict[str, dict[str, float]]:
    """The optimiser settings a resume changes: {"optim_d.lr": {"from": 0.1, "to": 0.01}}."""
    changes = {}
    for section in ("optim_d", "optim_g"):
        for key in RESUMABLE_OPTIM_KEYS:
            old, new = getattr(getattr(saved, section), key), getattr(getattr(config, section), key)
            if old != new:
                changes[f"{section}.{key}"] = {"from": old, "to": new}
    return changes


class _StopSignals:
    """Ctrl-C (SIGINT) and `kill` (SIGTERM) ask the loop to stop at the end of the iteration,
    so the checkpoint is written from a consistent state (never from inside a step or a log
    writer). A second signal stops at once (KeyboardInterrupt)."""

    def __init__(self) -> None:
        self.requested = False
        self.signum: int | None = None  # the first signal received
        self._previous: dict[int, object] = {}

    def _handler(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self.signum = signum

    def __enter__(self) -> _StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)


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
    """train()'s body; it takes `lock` on the run folder, which the caller releases."""
    rate_changes = {}
    if resume is not None:
        run_dir = Path(resume)
        if not (run_dir / CHECKPOINT).is_file():
            raise SaddlepointError(
                f"cannot resume {run_dir}: it has no {CHECKPOINT} (pass a run folder that "
                "saddlepoint train wrote)."
            )
        resume_state = load_training_state(run_dir / CHECKPOINT)
        saved = config_from_dict(json.loads(resume_state["config"]))
        config = _check_resume_config(saved, config)
        rate_changes = _rate_changes(saved, config)
        done = resume_state["iteration"]
        if config.train.iterations < done:
            raise SaddlepointError(
                f"{run_dir} has already trained {done} iterations, more than "
                f"train.iterations={config.train.iterations}: to train on, resume with a "
                f"larger one (--set train.iterations={2 * done})."
            )
    else:
        # data paths made absolute, so a resume from another folder finds the same files
        config = absolute_paths(config if config is not None else Config())
        validate(config)
        resume_state = None

    t = config.train
    threads = apply_threads(t.threads)  # the idle cores unless train.threads says otherwise
    on_gpu = t.device in ("cuda", "auto") and torch.cuda.is_available()
    ctx = distributed.setup("cuda" if on_gpu else "cpu")  # one process unless under torchrun
    device = resolve_device(t.device, ctx.local_rank)
    precision = resolve_precision(t.precision, device)
    objective = OBJECTIVES.get(config.objective.name)
    name = config.model.discriminator
    check_discriminator(objective, DISCRIMINATORS.get(name).kind, name)  # energies vs logits
    data = load_dataset(config.data, "train")
    if len(data) < t.batch_size:
        raise SaddlepointError(
            f"the {data.name} training split has {len(data)} examples, fewer than "
            f"train.batch_size={t.batch_size}: lower the batch size."
        )
    output = generator_output(config.model, data.is_image)
    spec, y_data = _conditions(config, data)
    x = from_unit(data.x, output).to(device)  # the whole training split in G's range, (N, *shape)
    y_all = None if y_data is None else y_data.to(device)  # (N,) labels or (N, *cshape) images

    torch.manual_seed(t.seed)
    G = build_generator(config.model, data.shape, x.mean(0), output, **spec).to(device)
    D = build_discriminator(config.model, data.shape, **spec).to(device)
    if ctx.enabled:  # same initial weights everywhere; own dropout masks per rank
        torch.manual_seed(t.seed + 1_000_003 * ctx.rank)
    if t.channels_last and data.is_image and _convolutional(G, D):  # NHWC convolutions
        G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    G_train = distributed.wrap_generator(ctx, G, device)  # what the loop calls; saves use G
    D_train = distributed.wrap_discriminator(ctx, D, device)
    if t.compile:  # the training copies only: checkpoints and samples use the plain modules
        G_train, D_train = torch.compile(G_train), _compiled_discriminator(D_train)
    penalty = _penalty(config, D)
    terms = build_terms(config, G)
    state = objective.state(config.objective) if objective.state else None
    separate = batchnorm_in(D)  # batch-norm D: real and fake minibatches in separate passes
    ema = EMA(G, t.ema_beta, t.ema_rampup) if t.ema_beta > 0 else None
    G_eval = ema.module if ema else G  # what samples, grids and snapshots come from
    opt_g = build_optimizer(G.parameters(), config.optim_g)
    opt_d = build_optimizer(D.parameters(), config.optim_d)
    global_m = t.batch_size * ctx.world_size  # every rank draws the global batch, keeps its slice
    if len(x) < global_m:
        raise SaddlepointError(
            f"{ctx.world_size} processes x train.batch_size={t.batch_size} exceeds the "
            f"{len(x)} training examples: lower the batch size."
        )
    sampler = EpochSampler(len(x), global_m, t.seed)
    noise = torch.Generator(device).manual_seed(t.seed + 1)  # z for training
    fixed_z = G.sample_z(t.grid_size, torch.Generator(device).manual_seed(t.seed + 2))
    fixed_y = None  # grids: classes in turn along each row, or the first condition images
    if "num_classes" in spec:
        fixed_y = torch.arange(t.grid_size, device=device) % spec["num_classes"]
    elif y_all is not None:
        fixed_y = y_all[torch.arange(t.grid_size, device=device) % len(y_all)]
    it = d_updates = g_updates = 0
    elapsed = 0.0
    monitor = HealthMonitor()  # plain-words warnings: D overpowering G, mode collapse
    # diversity of real data: the yardstick for the generator's (mean pairwise distance)
    real_diversity = diversity(
        x[torch.randperm(len(x), generator=torch.Generator().manual_seed(t.seed))[:256]]
    )

    if resume_state is not None:
        path = run_dir / CHECKPOINT
        load_weights(G, resume_state["generator"], path, "generator")
        if ema is not None:
            load_weights(ema.module, resume_state.get("generator_ema"), path, "EMA generator")
        load_weights(D, resume_state["discriminator"], path, "discriminator")
        saved_world = resume_state.get("world_size", 1)
        if saved_world != ctx.world_size:
            raise SaddlepointError(
                f"{run_dir} was trained by {saved_world} process(es); resume it with the same "
                f"number (torchrun --nproc_per_node={saved_world}), not {ctx.world_size}."
            )
        with _restoring(path, "optimiser states"):
            opt_g.load_state_dict(resume_state["optim_g"])
            opt_d.load_state_dict(resume_state["optim_d"])
        if state is not None:
            with _restoring(path, "objective state"):
                state.load_state_dict(resume_state["objective_state"])
        with _restoring(path, "data position"):
            sampler = EpochSampler(len(x), global_m, t.seed, **resume_state["sampler"])
        with _restoring(path, "random number generator states"):
            rng = resume_state["rng_ranks"][ctx.rank] if ctx.enabled else resume_state
            torch.set_rng_state(rng["rng_cpu"])
            noise.set_state(rng["rng_noise"])
            if device.type == "cuda" and "rng_cuda" in rng:
                torch.cuda.set_rng_state(rng["rng_cuda"], device)
        it, d_updates, g_updates = (
            resume_state["iteration"],
            resume_state["d_updates"],
            resume_state["g_updates"],
        )
        elapsed = resume_state["elapsed"]
        if "health" in resume_state:
            with _restoring(path, "health monitor state"):
                monitor.load_state_dict(resume_state["health"])
        if ctx.is_main:  # the checkpoint is whole: lock the folder, then tidy it
            lock.acquire(run_dir)  # one trainer per run folder
            remove_stale_temporaries(run_dir)  # left by processes killed while writing
            truncate_logs(run_dir, it)
    else:
        run_dir = Path(ctx.broadcast(str(new_run_dir(out, config)) if ctx.is_main else None))
        if ctx.is_main:
            lock.acquire(run_dir)
    last_checkpoint = it if resume_state is not None else None  # iteration of the one on disk
    resume_path = Path(resume_hint) if resume_hint is not None else run_dir
    if ctx.is_main:
        with writing(run_dir / CONFIG):
            (run_dir / CONFIG).write_text(config.to_json())
        if threads.reduced and device.type == "cpu":
            print(
                f"saddlepoint: {threads.default - threads.threads} of {threads.default} cores "
                f"busy with other work: training on {threads.threads} thread(s), since threads "
                f"sharing a busy core slow every step (set train.threads={threads.default} to "
                "use them anyway)",
                file=sys.stderr,
            )
    score = evaluator(config) if t.eval_every and ctx.is_main else None
    best = read_best(run_dir) if resume_state is not None else None
    best_value = best["value"] if best else None
    scalars = (  # log.jsonl, warnings.jsonl and TensorBoard event files, on rank 0
        ScalarWriter(run_dir, purge_step=it + 1 if resume_state is not None else None)
        if ctx.is_main
        else None
    )
    if scalars is not None and rate_changes:  # the new rates apply from here on
        scalars.write({"iteration": it, "event": "resume", "changed": rate_changes})
        changed = ", ".join(f"{k} {v['from']:g} -> {v['to']:g}" for k, v in rate_changes.items())
        print(f"saddlepoint: resuming at iteration {it} with {changed}", file=sys.stderr)
    if resume_state is not None and it >= t.iterations and ctx.is_main:
        print(
            f"saddlepoint: {run_dir} has already trained train.iterations={t.iterations}; "
            "nothing to train (resume with a larger --set train.iterations=N to go on)",
            file=sys.stderr,
        )
    config_json = config.to_json()
    shape_info = {"shape": list(data.shape), "output": output, **_jsonable(spec)}

    def seconds() -> float:
        """Training time so far, across resumes."""
        return elapsed + time.monotonic() - started

    def rng_states() -> dict:
        return {
            "rng_cpu": torch.get_rng_state(),
            "rng_noise": noise.get_state(),
            **({"rng_cuda": torch.cuda.get_rng_state(device)} if device.type == "cuda" else {}),
        }

    def save_checkpoint() -> None:
        """Rank 0 writes the whole state (a collective call: every rank must make it)."""
        nonlocal last_checkpoint
        ranks = ctx.gather(rng_states()) if ctx.enabled else None
        last_checkpoint = it
        if not ctx.is_main:
            return
        save_training_state(
            run_dir / CHECKPOINT,
            {
                "generator": G.state_dict(),
                **({"generator_ema": ema.module.state_dict()} if ema else {}),
                "discriminator": D.state_dict(),
                "optim_g": opt_g.state_dict(),
                "optim_d": opt_d.state_dict(),
                **({"objective_state": state.state_dict()} if state is not None else {}),
                # float16: the loss scales reached, so a resumed run steps the same
                **(
                    {"scaler_d": scaler_d.state_dict(), "scaler_g": scaler_g.state_dict()}
                    if scaler_d is not None
                    else {}
                ),
                "sampler": sampler.state_dict(),
                **rng_states(),
                **({"rng_ranks": ranks, "world_size": ctx.world_size} if ranks else {}),
                "iteration": it,
                "d_updates": d_updates,
                "g_updates": g_updates,
                "elapsed": seconds(),
                "health": monitor.state_dict(),
                "config": config_json,
            },
        )
        save_snapshot(run_dir / SNAPSHOT, G_eval, config_json, iteration=it, **shape_info)

    def fixed_samples() -> torch.Tensor:
        """G_eval's samples from the fixed noise (and conditions), in G's range."""
        with torch.no_grad():
            G_eval.eval()
            samples = G_eval(fixed_z) if fixed_y is None else G_eval(fixed_z, fixed_y)
            G.train()  # the EMA copy stays in eval mode; the trained G returns to training
        return samples

    def save_grid_now() -> Path:
        samples = fixed_samples()
        if data.is_image and fixed_y is not None and "num_classes" not in spec:
            samples = samples + fixed_y  # LAPGAN level: band-pass + its coarse image
        path = save_samples(
            to_unit(samples, output), run_dir / "samples" / f"iter-{it:07d}.png", **grid_options
        )
        if data.is_image:  # the grid in TensorBoard too (after the loop, in a writer of its own)
            if scalars is not None and scalars.tb is not None:
                scalars.image("grid", path, it)
            else:
                with ScalarWriter(run_dir) as end:
                    end.image("grid", path, it)
        return path

    def eval_sample(n: int) -> torch.Tensor:
        """n samples for evaluation on [0, 1], from the same noise at every evaluation."""
        same_z = torch.Generator(device).manual_seed(t.seed + 3)
        return to_unit(G_eval.sample(n, same_z), output)

    def diverged(what: str) -> SaddlepointError:
        """The stop message: what went non-finite, and a way on that works from here."""
        lower = (
            f"--set optim_d.lr={config.optim_d.lr / 10:g} "
            f"--set optim_g.lr={config.optim_g.lr / 10:g}"
        )
        if last_checkpoint is None:
            advice = (
                "no checkpoint was written before it, so start a new run with lower learning "
                f"rates (e.g. {lower})"
            )
        else:
            advice = (
                f"resume from its last checkpoint (iteration {last_checkpoint}, kept as it was) "
                f"with lower learning rates: `saddlepoint train --resume {resume_path} {lower}`"
            )
        return SaddlepointError(
            f"training diverged at iteration {it} ({what} is not finite): {advice}."
        )

    nets = (G, D) if ema is None else (G, D, ema.module)  # all that a checkpoint keeps

    # a class-conditional grid shows the classes in turn along each row
    grid_options = {"ncols": spec["num_classes"]} if "num_classes" in spec and data.is_image else {}
    autocast = autocast_for(precision, device)
    scaler_d, scaler_g = grad_scaler(precision, device), grad_scaler(precision, device)
    if scaler_d is not None and resume_state is not None and "scaler_d" in resume_state:
        scaler_d.load_state_dict(resume_state["scaler_d"])
        scaler_g.load_state_dict(resume_state["scaler_g"])
    k = t.k  # discriminator steps per generator step
    stats = _Accumulator()
    bar = Progress(  # a bar on a terminal, plain status lines in a batch job's log
        t.iterations,
        initial=it,
        desc=run_dir.name,
        enabled=progress[0] and ctx.is_main,
        status_every=progress[1],
    )
    started = time.monotonic()  # (re)set just before the loop: seconds() counts training only
    last_log_time, last_log_it = started, it
    interrupted = hard_stop = False
    last_record, logged = None, 0  # this session's last log record, and how many it wrote
    raised = set(monitor.raised)  # the warnings' codes raised in this run
    G.train()
    D.train()
    stop = _StopSignals()
    try:
        with stop:
            while it < t.iterations:
                # ---- k steps on the discriminator (Algorithm 1, inner loop)
                for j in range(k):
                    batch = ctx.shard(sampler.next())  # this rank's m of the global batch
                    real = x[batch]  # (m, *shape) minibatch of data
                    y = None if y_all is None else y_all[batch]  # its labels or conditions
                    z = ctx.shard(G.sample_z(global_m, noise))  # (m, z_dim) noise (and codes)
                    keep_graph = t.reuse_fakes and j == k - 1  # the G step reuses this G(z)
                    with torch.set_grad_enabled(keep_graph), autocast:
                        fake = G_train(z) if y is None else G_train(z, y)  # batch's y
                    apply_schedule(opt_d, config.optim_d, d_updates, sampler.epochs_done)
                    d = d_step(
                        D_train,
                        opt_d,
                        objective,
                        real=real,
                        fake=fake.detach(),
                        autocast=autocast,
                        y_real=y,
                        y_fake=y,
                        z=z,
                        terms=terms,
                        d_kwargs=state.d_kwargs() if state is not None else None,
                        separate=separate,
                        scaler=scaler_d,
                        critic=D,
                        clip_weights=config.objective.clip_weights,
                        penalty=penalty
                        if d_updates % config.objective.penalty_every == 0
                        else None,
                    )
                    objective_logs = state.update(d.real_scores, d.fake_scores) if state else {}
                    d_updates += 1
                # ---- one step on the generator
                if not t.reuse_fakes:
                    z = ctx.shard(G.sample_z(global_m, noise))
                    with autocast:
                        fake = G_train(z) if y is None else G_train(z, y)
                apply_schedule(opt_g, config.optim_g, g_updates, sampler.epochs_done)
                g = g_step(
                    D,  # unwrapped: D is frozen here, so no gradient sync of D's weights
                    opt_g,
                    objective,
                    fake=fake,
                    autocast=autocast,
                    scaler=scaler_g,
                    y_fake=y,
                    z=z,
                    terms=terms,
                    g_kwargs=state.g_kwargs() if state is not None else None,
                )
                if ema is not None:
                    ema.update(G, g_updates + 1)  # after G's (g_updates + 1)-th step
                g_updates += 1
                it += 1
                bar.update(1)

                stats.add(_step_scalars(objective, d, g, objective_logs))
                if it % t.log_every == 0 or it == t.iterations:
                    record = stats.flush(ctx.mean)  # the one host sync per log line
                    now = time.monotonic()  # after it, so queued GPU work is counted
                    rate = (it - last_log_it) * global_m / max(now - last_log_time, 1e-9)
                    record.update(
                        grad_norm_d=grad_norm(D).item(),  # of the last D step's gradients
                        grad_norm_g=grad_norm(G).item(),  # of the last G step's gradients
                        # mean pairwise distance of G's fixed-noise samples over the data's
                        diversity_ratio=diversity(fixed_samples()) / max(real_diversity, 1e-12),
                        iteration=it,
                        images_seen=d_updates * global_m,  # over all ranks
                        epoch=round(sampler.epochs_done, 4),
                        seconds=round(seconds(), 2),
                        images_per_s=round(rate, 1),
                        lr_d=opt_d.param_groups[0]["lr"],
                        lr_g=opt_g.param_groups[0]["lr"],
                        threads=threads.threads,
                    )
                    if ctx.is_main:
                        scalars.write(record)
                    last_record, logged = record, logged + 1
                    for warning in monitor.check(record, objective=objective.name):
                        raised.add(warning.code)
                        if ctx.is_main:
                            scalars.warn(warning)
                            tqdm.write(f"saddlepoint: warning: {warning}")
                    bar.show(_shown(record))
                    last_log_time, last_log_it = now, it
                    bad = [key for key, v in record.items() if not math.isfinite(v)]
                    if bad:
                        raise diverged(bad[0])
                if t.sample_every and it % t.sample_every == 0 and ctx.is_main:
                    save_grid_now()
                snapshot_due = t.snapshot_every and it % t.snapshot_every == 0
                eval_due = t.eval_every and it % t.eval_every == 0
                if (snapshot_due or eval_due) and not _finite(G_eval):  # same on every rank
                    raise diverged("a weight of the generator")  # before a snapshot holds it
                if snapshot_due and ctx.is_main:
                    save_snapshot(
                        run_dir / "snapshots" / f"generator-{it:07d}.safetensors",
                        G_eval,
                        config_json,
                        iteration=it,
                        **shape_info,
                    )
                if score is not None and eval_due:
                    result = score(eval_sample)
                    scalars.write({"iteration": it, f"eval_{result.metric}": result.value})
                    if result.beats(best_value):  # keep the best generator so far
                        best_value = result.value
                        save_snapshot(
                            run_dir / BEST_SNAPSHOT,
                            G_eval,
                            config_json,
                            iteration=it,
                            **shape_info,
                        )
                        write_best(run_dir, result, it)
                if t.checkpoint_every and it % t.checkpoint_every == 0:
                    if ctx.any(not stats.finite() or not _finite(*nets), device):
                        raise diverged("a loss or a weight")
                    save_checkpoint()
                if t.max_minutes and ctx.any(seconds() > 60 * t.max_minutes, device):
                    break
                # every rank stops at the same iteration, so the checkpoint stays collective
                if ctx.any(stop.requested, device) if ctx.enabled else stop.requested:
                    interrupted = True
                    break
    except KeyboardInterrupt:  # a second Ctrl-C: stop now
        interrupted = hard_stop = True
    finally:
        bar.close()
        if scalars is not None:
            scalars.close()
    signum = (stop.signum or signal.SIGINT) if interrupted else None
    if hard_stop and ctx.enabled:  # the other ranks may be gone: keep the last checkpoint
        print(f"interrupted at iteration {it}: continue from the last checkpoint with --resume")
        return Run(run_dir, config, G_eval.eval(), it, interrupted=True, stop_signal=signum)
    if ctx.any(not stats.finite() or not _finite(*nets), device):  # keep the last good one
        raise diverged("a loss or a weight")
    save_checkpoint()
    grid = save_grid_now() if ctx.is_main else None
    if interrupted:
        print(
            f"interrupted at iteration {it}: checkpoint saved; continue with "
            f"`saddlepoint train --resume {resume_path}`"
        )
    elif ctx.is_main and last_record is not None:
        for warning in _short_run_warnings(monitor, last_record, logged, raised, config):
            with ScalarWriter(run_dir, tensorboard=False) as end:
                end.warn(warning)
            tqdm.write(f"saddlepoint: warning: {warning}")
    distributed.teardown(ctx)
    G.eval()  # G_eval is G itself, or the EMA copy that is always in eval mode
    return Run(
        run_dir, config, G_eval, it, last_grid=grid, interrupted=interrupted, stop_signal=signum
    )


@contextmanager
def _restoring(path: Path, part: str) -> Iterator[None]:
    """Around restoring one part of a checkpoint: a damaged part gives one sentence."""
    try:
        yield
    except (KeyError, TypeError, ValueError, RuntimeError, IndexError, AttributeError) as e:
        raise SaddlepointError(
            f"{path} is damaged: its {part} cannot be restored ({type(e).__name__}); resume "
            "from an intact copy, or start a new run."
        ) from None


def _short_run_warnings(
    monitor: HealthMonitor, record: dict, logged: int, raised: set[str], config: Config
) -> list[HealthWarning]:
    """At the end of a run that logged fewer lines than the monitor's patience, the warnings
    its last line shows: the monitor's rules on that one line, and a generator that got no
    gradient at all (a run that is garbage from the start would otherwise end silently)."""
    if logged >= monitor.patience:
        return []
    last = HealthMonitor(patience=1)
    last.load_state_dict(monitor.state_dict())  # what was raised, and the best diversity
    found = last.check(record, objective=config.objective.name)
    if record.get("grad_norm_g") == 0.0:  # exactly 0: D is saturated on every sample
        found.append(
            HealthWarning(
                "no_generator_gradient",
                int(record["iteration"]),
                "the generator got no gradient at all in its last step (its norm is exactly "
                "0): the discriminator is saturated on every generated sample, so G cannot "
                "learn; learning rates far too high do this (optim_d.lr="
                f"{config.optim_d.lr:g}, optim_g.lr={config.optim_g.lr:g}): lower them and "
                "start again.",
            )
        )
    note = (
        f" (the run logged {logged} line(s), fewer than the {monitor.patience} in a row the "
        "checks wait for, so this rests on its last line)"
    )
    return [
        HealthWarning(
            w.code,
            w.iteration,
            w.message.replace("for 1 log lines", "in the last log line").rstrip(".") + note + ".",
        )
        for w in found
        if w.code not in raised
    ]


def _shown(record: dict) -> dict[str, float]:
    """The scalars of a log record that the progress bar and status lines show."""
    names = {"d_loss": "d_loss", "g_loss": "g_loss", "d_real": "D(x)", "d_fake": "D(G(z))"}
    return {label: record[key] for key, label in names.items() if key in record}


def _jsonable(spec: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in spec.items()}


def _convolutional(*nets: torch.nn.Module) -> bool:
    """Whether any of the nets convolves (channels-last changes nothing for the others)."""
    kinds = (torch.nn.Conv2d, torch.nn.ConvTranspose2d)
    return any(isinstance(m, kinds) for net in nets for m in net.modules())


def _compiled_discriminator(D: torch.nn.Module) -> torch.nn.Module:
    """torch.compile(D), keeping `heads` reachable (compiled separately) for extra terms."""
    compiled = torch.compile(D)
    if hasattr(D, "heads"):
        compiled.heads = torch.compile(D.heads)
    return compiled


def _finite(*modules: torch.nn.Module) -> bool:
    """Every parameter of every module finite (one host sync)."""
    params = [p for module in modules for p in module.parameters()]
    return bool(torch.isfinite(torch.stack(torch._foreach_norm(params))).all())


def _step_scalars(objective: Objective, d, g, objective_logs: dict) -> dict[str, torch.Tensor]:
    """This iteration's scalars, as 0-d tensors on the device (no host sync)."""
    values = {
        "d_loss": d.loss,
        "g_loss": g.loss,
        "real_score": d.real_scores.mean(),  # mean D(x): logit, critic value or energy
        "fake_score": d.fake_scores.mean(),  # mean D(G(z)) on the same scale
    }
    if objective.scores == "logit":  # probabilities and accuracy mean something only here
        values["d_real"] = torch.sigmoid(d.real_scores).mean()  # mean D(x), a probability
        values["d_fake"] = torch.sigmoid(d.fake_scores).mean()  # mean D(G(z))
        values["d_acc_real"] = (d.real_scores > 0).float().mean()
        values["d_acc_fake"] = (d.fake_scores < 0).float().mean()
    for name, value in d.terms.items():
        values[f"term_{name}_d"] = value
    for name, value in g.terms.items():
        values[f"term_{name}_g"] = value
    values.update(objective_logs)
    return values


class _Accumulator:
    """Sums per-iteration scalars on the device; one host sync per log line, not per step."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.n = 0

    def add(self, values: dict[str, torch.Tensor]) -> None:
        for key, value in values.items():
            value = value.detach().float()
            self.sums[key] = self.sums[key] + value if key in self.sums else value
        self.n += 1

    def finite(self) -> bool:
        """No NaN or infinity among the scalars since the last log line (one host sync)."""
        if not self.sums:
            return True
        return bool(torch.isfinite(torch.stack(list(self.sums.values()))).all())

    def flush(self, reduce=lambda t: t) -> dict[str, float]:
        """Means since the last flush; `reduce` averages them over ranks."""
        keys = list(self.sums)
        values = reduce(torch.stack([self.sums[k] for k in keys]) / max(self.n, 1)).tolist()
        self.reset()
        return dict(zip(keys, values))
