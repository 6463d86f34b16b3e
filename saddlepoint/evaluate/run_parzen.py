"""The Parzen evaluation of a trained run: 10,000 generator samples fitted, the run's own
dataset's validation split choosing sigma, its test split scored (Goodfellow et al. 2014).

Also the reference row: real training images in place of the samples (what a model that
reproduced the training set exactly would score), and the curve over a run's kept snapshots.

Counts left unset fit the dataset: 1,000 validation images or the whole validation split when
it is smaller, and for the reference row 10,000 training images or the whole training split;
`counts_used` says what was taken, in notes the command line prints.
"""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from saddlepoint.config import DataConfig
from saddlepoint.data import load_dataset
from saddlepoint.errors import SaddlepointError, writing
from saddlepoint.evaluate.parzen import ParzenResult, evaluate_parzen
from saddlepoint.runs import Run, load, read_log

DEFAULT_SAMPLES = 10_000  # generator samples (the original's default)
DEFAULT_VALID = 1_000  # validation images that choose sigma (the original's default)


@dataclass(frozen=True)
class ParzenSettings:
    samples: int | None = None  # samples the window is fitted to; None = DEFAULT_SAMPLES (real
    # training images: at most the split's)
    valid: int | None = None  # validation images; None = DEFAULT_VALID or the whole split
    test: int | None = None  # test images scored; None = the whole test split
    sigmas: tuple[float, ...] | None = None  # None = 10 values log-spaced in [0.1, 1]
    batch_size: int | None = None  # test points per distance block; None = automatic
    seed: int = 0  # noise seed for the samples


def counts_used(
    data: DataConfig, settings: ParzenSettings, *, real: bool = False
) -> tuple[ParzenSettings, list[str]]:
    """`settings` with the counts left unset filled to fit `data` (samples of real training
    images, for the reference row, when `real`), and a note for each default that the dataset
    was too small for. A count set explicitly that the dataset cannot give is one sentence."""
    notes = []
    valid_n = len(load_dataset(data, "valid"))
    valid = settings.valid
    if valid is None:
        valid = min(DEFAULT_VALID, valid_n)
        if valid < DEFAULT_VALID:
            notes.append(
                f"--valid: all {valid} validation images of {data.name} (fewer than the "
                f"default {DEFAULT_VALID})"
            )
    elif valid > valid_n:
        raise SaddlepointError(
            f"--valid {valid} exceeds the {valid_n} validation images of {data.name}: lower it, "
            "or leave --valid out to use them all."
        )
    samples = settings.samples
    if real:
        train_n = len(load_dataset(data, "train"))
        if samples is None:
            samples = min(DEFAULT_SAMPLES, train_n)
            if samples < DEFAULT_SAMPLES:
                notes.append(
                    f"--samples: all {samples} training images of {data.name} (fewer than the "
                    f"default {DEFAULT_SAMPLES})"
                )
        elif samples > train_n:
            raise SaddlepointError(
                f"--samples {samples} exceeds the {train_n} training images of {data.name}: "
                "lower it, or leave --samples out to use them all."
            )
    elif samples is None:
        samples = DEFAULT_SAMPLES
    return dataclasses.replace(settings, samples=samples, valid=valid), notes


def _splits(data: DataConfig, settings: ParzenSettings) -> tuple[torch.Tensor, torch.Tensor]:
    settings, _ = counts_used(data, settings)
    valid = load_dataset(data, "valid").x.flatten(1)
    test = load_dataset(data, "test").x.flatten(1)
    if settings.test is not None:
        test = test[: settings.test]
    return valid[: settings.valid], test


def parzen_of_run(run: Run, settings: ParzenSettings) -> ParzenResult:
    """Score `run`'s generator by the 2014 protocol on its own dataset's splits."""
    valid, test = _splits(run.config.data, settings)
    n = settings.samples or DEFAULT_SAMPLES
    samples = run.sample(n, seed=settings.seed).flatten(1).float().cpu()
    return evaluate_parzen(
        samples, valid, test, sigmas=settings.sigmas, batch_size=settings.batch_size
    )


def parzen_of_real(data: DataConfig, settings: ParzenSettings) -> ParzenResult:
    """The reference row: the first `settings.samples` training images in place of samples."""
    settings, _ = counts_used(data, settings, real=True)
    valid, test = _splits(data, settings)
    train_x = load_dataset(data, "train").x.flatten(1)
    return evaluate_parzen(
        train_x[: settings.samples],
        valid,
        test,
        sigmas=settings.sigmas,
        batch_size=settings.batch_size,
    )


def parzen_curve(run_dir: str | os.PathLike, settings: ParzenSettings) -> list[dict]:
    """Test log-likelihood of every kept snapshot of a run, with its iteration and training
    seconds (read from the run's log). A snapshot that cannot be loaded (damaged, or holding
    weights that are not finite) is skipped with a warning that names it."""
    run_dir = Path(run_dir)
    snapshots = sorted((run_dir / "snapshots").glob("generator-*.safetensors"))
    if not snapshots:
        raise SaddlepointError(
            f"{run_dir} has no snapshots/: train with --set train.snapshot_every=N to keep them."
        )
    seconds = {r["iteration"]: r["seconds"] for r in read_log(run_dir) if "seconds" in r}
    splits = None  # (valid, test) of the run's dataset, read with the first good snapshot
    curve = []
    for path in snapshots:
        try:
            run = load(path)
        except SaddlepointError as e:
            warnings.warn(f"skipping a snapshot of the curve: {e}", stacklevel=2)
            continue
        valid, test = splits = splits or _splits(run.config.data, settings)
        n = settings.samples or DEFAULT_SAMPLES
        samples = run.sample(n, seed=settings.seed).flatten(1).float()
        r = evaluate_parzen(
            samples, valid, test, sigmas=settings.sigmas, batch_size=settings.batch_size
        )
        curve.append(
            {
                "iteration": run.iteration,
                "seconds": seconds.get(run.iteration),
                "test_ll": r.test_mean,
                "test_se": r.test_std_error,
                "sigma": r.sigma,
            }
        )
    if not curve:
        raise SaddlepointError(
            f"none of the {len(snapshots)} snapshots in {run_dir / 'snapshots'} can be loaded: "
            "there is no curve to draw."
        )
    return curve


def save_curve(curve: list[dict], json_path: str | os.PathLike, png_path: str | os.PathLike):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with writing(json_path):
        Path(json_path).write_text(json.dumps(curve, indent=2))
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    timed = all(c["seconds"] is not None for c in curve)
    xs = [c["seconds"] / 60 if timed else c["iteration"] for c in curve]
    ax.errorbar(
        xs, [c["test_ll"] for c in curve], yerr=[c["test_se"] for c in curve], marker="o", capsize=3
    )
    ax.set_xlabel("training minutes" if timed else "iteration")
    ax.set_ylabel("Parzen log-likelihood (test)")
    ax.grid(alpha=0.3)
    try:
        with writing(png_path):
            fig.savefig(png_path, bbox_inches="tight")
    finally:
        plt.close(fig)
