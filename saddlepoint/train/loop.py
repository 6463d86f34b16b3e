"""The training loop: Algorithm 1 of Goodfellow et al. 2014.

    for number of training iterations:
        for k steps:
            sample m noise samples z and m examples x; update D by ascending its gradient of V
        sample m noise samples z; update G by descending its cost

Everything else here is bookkeeping around those two lines: schedules, logs, sample grids,
checkpoints (whole or absent), exact resume, and a clean stop on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import threading
import time
import warnings
from pathlib import Path

import torch
from tqdm.auto import tqdm

from saddlepoint.checkpoint import load_training_state, save_snapshot, save_training_state
from saddlepoint.config import Config, config_from_dict, validate
from saddlepoint.data import load_dataset
from saddlepoint.errors import SaddlepointError
from saddlepoint.nets import build_discriminator, build_generator
from saddlepoint.objectives import OBJECTIVES
from saddlepoint.objectives.penalties import PENALTIES, batchnorm_in
from saddlepoint.report import save_samples
from saddlepoint.train.batches import EpochSampler
from saddlepoint.train.ema import EMA
from saddlepoint.train.optim import apply_schedule, build_optimizer
from saddlepoint.train.run import CHECKPOINT, CONFIG, LOG, SNAPSHOT, Run, new_run_dir
from saddlepoint.train.steps import d_step, g_step

# Settings a resumed run may change: how long and how often, not what is trained.
RESUMABLE_KEYS = (
    "iterations",
    "max_minutes",
    "log_every",
    "sample_every",
    "checkpoint_every",
    "snapshot_every",
    "threads",
)


def _device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise SaddlepointError(
            "train.device=cuda but PyTorch sees no CUDA GPU here: use train.device=cpu."
        )
    return torch.device(name)


def _autocast(config: Config, device: torch.device) -> contextlib.AbstractContextManager:
    if config.train.precision == "bfloat16":
        if device.type == "cpu" and not cpu_has_native_bfloat16():
            warnings.warn(
                "this CPU has no native bfloat16 arithmetic (no avx512_bf16 or amx_bf16), so "
                "bfloat16 autocast runs far slower than float32 here (0.05x measured on an AVX2 "
                "CPU, benchmarks/results/throughput-cpu.md): consider train.precision=float32.",
                stacklevel=3,
            )
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def cpu_has_native_bfloat16() -> bool:
    """True when the CPU advertises bfloat16 instructions (Linux /proc/cpuinfo flags), or
    when that cannot be read (then no warning is given)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return True
    return any(flag in flags for flag in ("avx512_bf16", "amx_bf16", "bf16"))


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


def _check_resume_config(saved: Config, wanted: Config | None) -> Config:
    """A resumed run keeps its saved config except for RESUMABLE_KEYS of `wanted`."""
    if wanted is None:
        return saved
    saved_d, wanted_d = saved.to_dict(), wanted.to_dict()
    for section, values in wanted_d.items():
        if section in ("train", "preset"):
            continue
        if values != saved_d[section]:
            raise SaddlepointError(
                f"a resumed run keeps its {section} settings; start a new run to change them "
                f"(only train.{', train.'.join(RESUMABLE_KEYS)} may change on resume)."
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


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Turn SIGTERM into KeyboardInterrupt so `kill` also saves a checkpoint before exiting."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def train(
    config: Config | None = None,
    *,
    out: str | os.PathLike = "runs",
    resume: str | os.PathLike | None = None,
    progress: bool = True,
) -> Run:
    """Train a GAN by Algorithm 1; returns the Run. `resume` continues a run folder exactly."""
    if resume is not None:
        run_dir = Path(resume)
        if not (run_dir / CHECKPOINT).is_file():
            raise SaddlepointError(
                f"cannot resume {run_dir}: it has no {CHECKPOINT} (pass a run folder that "
                "saddlepoint train wrote)."
            )
        state = load_training_state(run_dir / CHECKPOINT)
        config = _check_resume_config(config_from_dict(json.loads(state["config"])), config)
    else:
        config = config if config is not None else Config()
        validate(config)
        state = None

    t = config.train
    if t.threads:
        torch.set_num_threads(t.threads)
    device = _device(t.device)
    objective = OBJECTIVES.get(config.objective.name)
    data = load_dataset(config.data, "train")
    if len(data) < t.batch_size:
        raise SaddlepointError(
            f"the {data.name} training split has {len(data)} examples, fewer than "
            f"train.batch_size={t.batch_size}: lower the batch size."
        )
    x = data.x.to(device)  # the whole training split, (N, *shape)
    output = "sigmoid" if data.is_image else "linear"

    torch.manual_seed(t.seed)
    G = build_generator(config.model, data.shape, x.mean(0), output).to(device)
    D = build_discriminator(config.model, data.shape).to(device)
    penalty = _penalty(config, D)
    ema = EMA(G, t.ema_beta) if t.ema_beta > 0 else None
    G_eval = ema.module if ema else G  # what samples, grids and snapshots come from
    opt_g = build_optimizer(G.parameters(), config.optim_g)
    opt_d = build_optimizer(D.parameters(), config.optim_d)
    sampler = EpochSampler(len(x), t.batch_size, t.seed)
    noise = torch.Generator(device).manual_seed(t.seed + 1)  # z for training
    fixed_z = G.sample_z(t.grid_size, torch.Generator(device).manual_seed(t.seed + 2))
    it = d_updates = g_updates = 0
    elapsed = 0.0

    if state is not None:
        G.load_state_dict(state["generator"])
        if ema is not None:
            ema.module.load_state_dict(state["generator_ema"])
        D.load_state_dict(state["discriminator"])
        opt_g.load_state_dict(state["optim_g"])
        opt_d.load_state_dict(state["optim_d"])
        sampler = EpochSampler(len(x), t.batch_size, t.seed, **state["sampler"])
        torch.set_rng_state(state["rng_cpu"])
        noise.set_state(state["rng_noise"])
        if device.type == "cuda" and "rng_cuda" in state:
            torch.cuda.set_rng_state(state["rng_cuda"], device)
        it, d_updates, g_updates = state["iteration"], state["d_updates"], state["g_updates"]
        elapsed = state["elapsed"]
        _truncate_log(run_dir / LOG, it)
    else:
        run_dir = new_run_dir(out, config)
    (run_dir / CONFIG).write_text(config.to_json())
    config_json = config.to_json()
    shape_info = {"shape": list(data.shape), "output": output}

    def seconds() -> float:
        """Training time so far, across resumes."""
        return elapsed + time.monotonic() - started

    def save_checkpoint() -> None:
        save_training_state(
            run_dir / CHECKPOINT,
            {
                "generator": G.state_dict(),
                **({"generator_ema": ema.module.state_dict()} if ema else {}),
                "discriminator": D.state_dict(),
                "optim_g": opt_g.state_dict(),
                "optim_d": opt_d.state_dict(),
                "sampler": sampler.state_dict(),
                "rng_cpu": torch.get_rng_state(),
                "rng_noise": noise.get_state(),
                **({"rng_cuda": torch.cuda.get_rng_state(device)} if device.type == "cuda" else {}),
                "iteration": it,
                "d_updates": d_updates,
                "g_updates": g_updates,
                "elapsed": seconds(),
                "config": config_json,
            },
        )
        save_snapshot(run_dir / SNAPSHOT, G_eval, config_json, iteration=it, **shape_info)

    def save_grid_now() -> Path:
        with torch.no_grad():
            G_eval.eval()
            samples = G_eval(fixed_z)
            G.train()  # the EMA copy stays in eval mode; the trained G returns to training
        return save_samples(samples, run_dir / "samples" / f"iter-{it:07d}.png")

    autocast = _autocast(config, device)
    m, k = t.batch_size, t.k
    stats = _Accumulator(device)
    bar = tqdm(
        total=t.iterations,
        initial=it,
        disable=not progress,
        unit="it",
        dynamic_ncols=True,
        desc=run_dir.name[:40],
    )
    started = time.monotonic()  # (re)set just before the loop: seconds() counts training only
    last_log_time, last_log_it = started, it
    interrupted = False
    G.train()
    D.train()
    try:
        with _sigterm_as_interrupt():
            while it < t.iterations:
                # ---- k steps on the discriminator (Algorithm 1, inner loop)
                for j in range(k):
                    real = x[sampler.next()]  # (m, *shape) minibatch of data
                    z = G.sample_z(m, noise)  # (m, z_dim) minibatch of noise
                    keep_graph = t.reuse_fakes and j == k - 1  # the G step reuses this G(z)
                    with torch.set_grad_enabled(keep_graph), autocast:
                        fake = G(z)
                    apply_schedule(opt_d, config.optim_d, d_updates, sampler.epochs_done)
                    d = d_step(
                        D,
                        opt_d,
                        objective,
                        real=real,
                        fake=fake.detach(),
                        autocast=autocast,
                        clip_weights=config.objective.clip_weights,
                        penalty=penalty
                        if d_updates % config.objective.penalty_every == 0
                        else None,
                    )
                    d_updates += 1
                # ---- one step on the generator
                if not t.reuse_fakes:
                    with autocast:
                        fake = G(G.sample_z(m, noise))
                apply_schedule(opt_g, config.optim_g, g_updates, sampler.epochs_done)
                g_loss = g_step(D, opt_g, objective, fake=fake, autocast=autocast)
                if ema is not None:
                    ema.update(G)
                g_updates += 1
                it += 1
                bar.update(1)

                stats.add(d, g_loss)
                if it % t.log_every == 0 or it == t.iterations:
                    record = stats.flush()  # the one host sync per log line
                    now = time.monotonic()  # after it, so queued GPU work is counted
                    rate = (it - last_log_it) * m / max(now - last_log_time, 1e-9)
                    record.update(
                        iteration=it,
                        images_seen=d_updates * m,
                        epoch=round(sampler.epochs_done, 4),
                        seconds=round(seconds(), 2),
                        images_per_s=round(rate, 1),
                        lr_d=opt_d.param_groups[0]["lr"],
                        lr_g=opt_g.param_groups[0]["lr"],
                    )
                    _append_log(run_dir / LOG, record)
                    bar.set_postfix(
                        d=f"{record['d_loss']:.3f}",
                        g=f"{record['g_loss']:.3f}",
                        Dx=f"{record['d_real']:.2f}",
                        DGz=f"{record['d_fake']:.2f}",
                        img_s=f"{rate:.0f}",
                    )
                    last_log_time, last_log_it = now, it
                    if not math.isfinite(record["d_loss"] + record["g_loss"]):
                        raise SaddlepointError(
                            f"training diverged at iteration {it} (a loss is not finite): "
                            "lower the learning rates (optim_d.lr, optim_g.lr) and resume from "
                            "the last checkpoint or start again."
                        )
                if t.sample_every and it % t.sample_every == 0:
                    save_grid_now()
                if t.snapshot_every and it % t.snapshot_every == 0:
                    save_snapshot(
                        run_dir / "snapshots" / f"generator-{it:07d}.safetensors",
                        G_eval,
                        config_json,
                        iteration=it,
                        **shape_info,
                    )
                if t.checkpoint_every and it % t.checkpoint_every == 0:
                    save_checkpoint()
                if t.max_minutes and seconds() > 60 * t.max_minutes:
                    break
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
    save_checkpoint()
    grid = save_grid_now()
    if interrupted:
        print(
            f"interrupted at iteration {it}: checkpoint saved; continue with "
            f"`saddlepoint train --resume {run_dir}`"
        )
    G.eval()  # G_eval is G itself, or the EMA copy that is always in eval mode
    return Run(run_dir, config, G_eval, it, last_grid=grid, interrupted=interrupted)


class _Accumulator:
    """Sums per-iteration scalars on the device; one host sync per log line, not per step."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.reset()

    def reset(self) -> None:
        self.sums = torch.zeros(4, device=self.device)  # d_loss, g_loss, D(x), D(G(z))
        self.n = 0

    def add(self, d, g_loss: torch.Tensor) -> None:
        self.sums += torch.stack(
            [
                d.loss,
                g_loss,
                torch.sigmoid(d.real_logits).mean(),
                torch.sigmoid(d.fake_logits).mean(),
            ]
        ).float()
        self.n += 1

    def flush(self) -> dict[str, float]:
        values = (self.sums / max(self.n, 1)).tolist()
        self.reset()
        return dict(zip(("d_loss", "g_loss", "d_real", "d_fake"), values))


def _append_log(path: Path, record: dict) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")


def _truncate_log(path: Path, iteration: int) -> None:
    """Drop log lines written after the checkpoint a run resumes from (they will be redone)."""
    if not path.is_file():
        return
    with open(path) as f:
        keep = [line for line in f if line.strip() and json.loads(line)["iteration"] <= iteration]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(keep))
    os.replace(tmp, path)
