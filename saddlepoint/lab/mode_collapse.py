"""Lab `mode-collapse`: a GAN on the ring of 8 or the grid of 25 Gaussians, watched over training.

The standard mode-collapse benchmarks (Metz et al. 2017, "Unrolled generative adversarial
networks", the ring; Srivastava et al. 2017, "VEEGAN", the ring and the grid) are mixtures whose
modes are known exactly (data/toy.py), so coverage is counted rather than judged: at every frame
2,500 samples of G are scored by evaluate/modes.py,

    high-quality share = share of samples within 3 standard deviations of their nearest mode
    modes covered      = modes receiving at least a fifth of their fair share N / M of those

A generator that has collapsed puts its high-quality samples on a few modes (Goodfellow 2016,
NIPS tutorial, section 5.1.1: "the Helvetica scenario"); one that cycles moves from mode to mode
between frames. The run is ordinary Algorithm 1 (train/loop.py) with the small MLPs of
`toy_config`; frames are the generator snapshots it keeps every iterations / frames steps, plus
the initial G (a first segment of 0 iterations, then the run resumed).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from saddlepoint.config import Config, override
from saddlepoint.data import toy
from saddlepoint.errors import SaddlepointError
from saddlepoint.evaluate.modes import ModeCoverage, mode_coverage
from saddlepoint.lab import output
from saddlepoint.objectives import OBJECTIVES
from saddlepoint.train.loop import train
from saddlepoint.train.run import Run, load

NAME = "mode-collapse"
DESCRIPTION = "ring of 8 or grid of 25 Gaussians: modes covered and sample quality over training"

DATASETS = ("ring8", "grid25")
SAMPLES = 2500  # generated points scored per frame (VEEGAN's 2,500)
SAMPLE_SEED = 12345  # the noise seed of every frame's samples: the same z throughout

# Small networks for 2-D points that train in tens of seconds on one CPU thread: ReLU G and a
# maxout D without dropout, PyTorch's default initialisation, Adam for both players.
TOY_SETS: tuple[str, ...] = (
    "model.generator=mlp",
    "model.z_dim=16",
    "model.z_prior=normal",
    "model.g_hidden=64,64",
    "model.g_init=0",
    "model.g_output_bias=zero",
    "model.d_hidden=64,64",
    "model.d_pieces=2",
    "model.d_keep_input=1",
    "model.d_keep_hidden=1",
    "model.d_init=0",
    "optim_d.name=adam",
    "optim_g.name=adam",
    "optim_d.lr=0.001",
    "optim_g.lr=0.001",
    "optim_d.lr_decay=1",
    "optim_g.lr_decay=1",
    "train.batch_size=128",
    "train.sample_every=0",
    "train.checkpoint_every=0",
    "train.log_every=100",
    "train.grid_size=256",
    "train.threads=1",
)

# The fully connected D of each kind an objective may need (Objective.discriminator).
TOY_DISCRIMINATORS: dict[str, tuple[str, ...]] = {
    "classifier": ("model.discriminator=maxout",),  # logits or critic values
    # EBGAN, BEGAN: reconstruction energies; a code no wider than the points (docs/energy.md),
    # or the auto-encoder learns the identity and scores everything near zero
    "autoencoder": ("model.discriminator=mlp_autoencoder", "model.d_code=2"),
}

# What an objective needs beyond TOY_SETS to train at all (add new objectives' needs here).
OBJECTIVE_SETS: dict[str, tuple[str, ...]] = {
    # WGAN-GP (Gulrajani et al. 2017): the critic needs a Lipschitz constraint.
    "wasserstein": ("objective.penalty=gradient",),
}


def toy_config(
    data: str = "ring8",
    objective: str = "non_saturating",
    *,
    k: int = 1,
    iterations: int = 5000,
    seed: int = 0,
    sets: tuple[str, ...] = (),
) -> Config:
    """TOY_SETS, the D its objective needs, its OBJECTIVE_SETS, then `sets`: one toy run."""
    if data not in DATASETS:
        raise SaddlepointError(
            f"the {NAME} lab trains on {' or '.join(DATASETS)}, not {data!r}: pass --data ring8 "
            "or --data grid25."
        )
    kind = getattr(OBJECTIVES.get(objective), "discriminator", "classifier")  # unknown: fails
    return override(
        Config(preset="toy"),
        [
            *TOY_SETS,
            *TOY_DISCRIMINATORS.get(kind, ()),
            f"data.name={data}",
            f"objective.name={objective}",
            *OBJECTIVE_SETS.get(objective, ()),
            f"train.k={k}",
            f"train.iterations={iterations}",
            f"train.seed={seed}",
            *sets,
        ],
    )


def coverage(run: Run, data: str, n: int = SAMPLES, seed: int = SAMPLE_SEED) -> ModeCoverage:
    """mode_coverage of n samples of a run's generator (fixed noise seed) on the toy's modes."""
    centres, std = toy.modes(data)
    return mode_coverage(run.sample(n, seed=seed), centres, std)


def train_with_frames(config: Config, out: str | os.PathLike, frames: int) -> list[Run]:
    """Train config, keeping G at iteration 0 and every iterations / frames steps; the Runs.

    A 0-iteration segment saves the initial G; the run is then resumed with snapshots on.
    """
    t = config.train
    every = max(1, t.iterations // frames)
    first = train(
        override(config, ["train.iterations=0", "train.snapshot_every=0"]), out=out, progress=False
    )
    start = load(first.path)  # the initial generator's snapshot
    final = train(
        override(config, [f"train.snapshot_every={every}"]), resume=first.path, progress=False
    )
    kept = [load(p) for p in sorted((first.path / "snapshots").glob("*.safetensors"))]
    runs = [start, *[r for r in kept if 0 < r.iteration < final.iteration], final]
    return runs


def _frame_numbers(run: Run, points: np.ndarray, data: str, config: Config) -> dict[str, Any]:
    """One frame's scores: G's iteration, images seen, modes covered, high-quality share."""
    centres, std = toy.modes(data)
    cov = mode_coverage(points, centres, std)
    t = config.train
    return {
        "iteration": run.iteration,
        "images_seen": run.iteration * t.k * t.batch_size,  # real examples D has seen
        "modes_covered": cov.modes_covered,
        "high_quality_share": cov.high_quality_share,
        "counts": list(cov.counts),
    }


def run(
    out_dir: str | os.PathLike,
    *,
    data: str = "ring8",
    objective: str = "non_saturating",
    k: int = 1,
    iterations: int = 5000,
    seed: int = 0,
    frames: int = 8,
) -> dict[str, Any]:
    """Train on a toy mixture and score G at frames + 1 moments; write JSON, PNGs and a GIF."""
    for name, value, least in (("k", k, 1), ("iterations", iterations, 1), ("frames", frames, 1)):
        if value < least:
            raise SaddlepointError(f"{name} must be at least {least}, got {value}.")
    if frames > iterations:
        raise SaddlepointError(
            f"frames ({frames}) cannot exceed iterations ({iterations}): lower --frames."
        )
    config = toy_config(data, objective, k=k, iterations=iterations, seed=seed)
    out = output.prepare(out_dir)
    started = time.monotonic()
    runs = train_with_frames(config, out / "runs", frames)
    centres, std = toy.modes(data)
    real, _ = toy.sample(data, SAMPLES, torch.Generator().manual_seed(seed), dtype=torch.float64)
    reference = mode_coverage(real, centres, std)
    samples = [r.sample(SAMPLES, seed=SAMPLE_SEED).double().numpy() for r in runs]  # (N, 2) each
    history = [_frame_numbers(r, x, data, config) for r, x in zip(runs, samples)]
    final = history[-1]
    numbers: dict[str, Any] = {
        "data": data,
        "data_description": toy.description(data),
        "objective": objective,
        "k": k,
        "iterations": iterations,
        "seed": seed,
        "samples_per_frame": SAMPLES,
        "rule": "high quality: within 3 std of the nearest mode; covered: at least "
        f"{reference.min_count} of {SAMPLES} samples high quality on the mode (ceil(N / 5M))",
        "n_modes": len(centres),
        "data_reference": {
            "modes_covered": reference.modes_covered,
            "high_quality_share": reference.high_quality_share,
        },
        "final": final,
        "frames": history,
        "run_dir": str(runs[-1].path),
        "config": config.to_dict(),
        "seconds": round(time.monotonic() - started, 2),
    }
    output.write_numbers(numbers, out / f"{NAME}.json")
    title = f"{objective} on {data}, k = {k}"
    _plot_frames(samples, history, data, title, out / f"{NAME}-frames.png")
    _plot_curves(history, len(centres), reference, title, out / f"{NAME}-coverage.png")
    _gif(samples, history, data, title, out / f"{NAME}.gif")
    return numbers


# ---------------------------------------------------------------------------------- figures


def _limits(data: str) -> float:
    centres, _ = toy.modes(data)
    return float(centres.abs().max()) + 1.0


def _draw_points(ax, points: np.ndarray, frame: dict, data: str, n_modes: int) -> None:
    centres, std = toy.modes(data)
    c = centres.numpy()
    extent = _limits(data)
    ax.scatter(c[:, 0], c[:, 1], s=60, facecolors="none", edgecolors="tab:red", linewidths=0.8)
    inside = np.clip(points, -extent, extent)  # points far away are drawn on the border
    ax.scatter(inside[:, 0], inside[:, 1], s=1.5, color="tab:blue", alpha=0.5, linewidths=0)
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(
        f"iter {frame['iteration']}: {frame['modes_covered']}/{n_modes} modes, "
        f"HQ {100 * frame['high_quality_share']:.0f}%",
        fontsize=7,
    )


def _plot_frames(
    samples: list[np.ndarray], history: list[dict], data: str, title: str, path: Path
) -> None:
    n = len(samples)
    cols = min(n, 5)
    rows = -(-n // cols)
    fig = output.new_figure(2.0 * cols, 2.1 * rows + 0.3)
    fig.suptitle(f"{title}: samples (blue) and modes (red circles)", fontsize=9)
    n_modes = len(toy.modes(data).centres)
    for i, (points, frame) in enumerate(zip(samples, history)):
        _draw_points(fig.add_subplot(rows, cols, i + 1), points, frame, data, n_modes)
    output.save_figure(fig, path)


def _plot_curves(
    history: list[dict], n_modes: int, reference: ModeCoverage, title: str, path: Path
) -> None:
    its = [f["iteration"] for f in history]
    fig = output.new_figure(5.5, 3.4)
    ax = fig.add_subplot()
    ax.plot(its, [f["modes_covered"] for f in history], "o-", color="tab:red", label="modes")
    ax.set_ylim(-0.3, n_modes + 0.5)
    ax.set_xlabel("iteration (generator steps)")
    ax.set_ylabel(f"modes covered (of {n_modes})", color="tab:red")
    share = ax.twinx()
    share.plot(its, [f["high_quality_share"] for f in history], "s--", color="tab:blue", label="HQ")
    share.axhline(reference.high_quality_share, color="tab:blue", linewidth=0.8, linestyle=":")
    share.set_ylim(-0.02, 1.02)
    share.set_ylabel("high-quality share (dotted: the data's)", color="tab:blue")
    ax.set_title(title, fontsize=9)
    output.save_figure(fig, path)


def _gif(samples: list[np.ndarray], history: list[dict], data: str, title: str, path: Path):
    """The frames as an animated GIF (Pillow), one scatter per frame."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n_modes = len(toy.modes(data).centres)
    images = []
    for points, frame in zip(samples, history):
        fig = Figure(figsize=(3.2, 3.4), dpi=80)  # 256 x 272 pixels
        canvas = FigureCanvasAgg(fig)
        ax = fig.add_axes((0.03, 0.03, 0.94, 0.84))
        _draw_points(ax, points, frame, data, n_modes)
        fig.suptitle(title, fontsize=7)
        canvas.draw()
        images.append(output.gif_frame(canvas))
    durations = [400] * (len(images) - 1) + [1500]  # ms per frame; hold the last one
    output.save_gif(images, path, durations)


def summary(numbers: dict) -> list[str]:
    m = numbers["n_modes"]
    ref = numbers["data_reference"]
    lines = [
        f"{numbers['objective']} on {numbers['data']}, k = {numbers['k']}, "
        f"{numbers['iterations']} iterations ({numbers['samples_per_frame']} samples a frame):"
    ]
    for f in numbers["frames"]:
        lines.append(
            f"  iteration {f['iteration']:>6}: {f['modes_covered']:>2}/{m} modes, "
            f"{100 * f['high_quality_share']:5.1f}% high quality"
        )
    lines.append(
        f"  the data itself: {ref['modes_covered']}/{m} modes, "
        f"{100 * ref['high_quality_share']:.1f}% high quality"
    )
    return lines
