"""Metrics over a run's training trajectory: does a training scalar track sample quality?

Two papers make a logged scalar their signature claim:

    WGAN   (Arjovsky, Chintala and Bottou 2017, Figure 3): the critic's estimate of the
           Earth-Mover distance, W_hat = E_x f(x) - E_z f(G(z)), falls as samples improve.
    BEGAN  (Berthelot, Schumm and Metz 2017, section 3.4.1 and Figure 2): the convergence
           measure M_global = L(x) + |gamma L(x) - L(G(z))| falls as samples improve.

A run writes both kinds of evidence (saddlepoint/runs.py): log.jsonl, one row of scalars every
train.log_every iterations (each the mean over the iterations since the row before: the
critic's `real_score` = mean f(x) and `fake_score` = mean f(G(z)), and BEGAN's `m_global`), and
snapshots/generator-NNNNNNN.safetensors every train.snapshot_every iterations. For each snapshot
at iteration s,

    scalar(s)  = the mean of the scalar over the log rows r with |r - s| <= window
    quality(s) = a lower-is-better score of the snapshot's samples

and the claim is a positive Spearman rank correlation rho between the two over the snapshots
(+1: the scalar ranks the snapshots exactly as their quality does). Spearman, not Pearson: the
papers claim that the scalar falls with quality, not that it is linear in any one score.

Quality, by default (`default_quality`):
    toy densities   `toy_quality`: modes missed + (1 - high-quality share), from 2,500 samples
                    on the mixture's known modes (evaluate/modes.py, the lab's rule): a missed
                    mode costs more than any share of off-mode samples
    labelled images `image_quality`: the classifier-feature Frechet distance of
                    `health.generator_health` (2,000 samples; comparable only with itself)
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from scipy.stats import ConstantInputWarning, spearmanr

from saddlepoint.config import Config
from saddlepoint.data import toy
from saddlepoint.errors import SaddlepointError
from saddlepoint.evaluate.health import generator_health
from saddlepoint.evaluate.modes import mode_coverage
from saddlepoint.runs import load, read_log

SNAPSHOTS = "snapshots"  # the folder of kept snapshots inside a run folder
_SNAPSHOT_NAME = re.compile(r"^generator-(\d+)\.safetensors$")  # schedule.snapshot's names
MIN_POINTS = 3  # with two points a rank correlation is always +1 or -1: it says nothing

TOY_SAMPLES = 2500  # samples scored per toy snapshot (VEEGAN's 2,500, as lab mode-collapse)
TOY_SEED = 12345  # their noise seed: the same z for every snapshot
IMAGE_SAMPLES = 2000  # samples scored per image snapshot (health.SAMPLES)

Quality = Callable[[Path, Config], float]  # (snapshot file, run config) -> lower is better
Scalar = Callable[[dict], float | None]  # a log row -> its value, None when it lacks one


@dataclass(frozen=True)
class Trajectory:
    """A logged scalar and the quality of the snapshots, paired by iteration."""

    scalar: str  # what was averaged from the log, e.g. "critic_estimate"
    iterations: tuple[int, ...]  # the snapshots' iterations that have log rows in their window
    values: tuple[float, ...]  # the scalar's mean over each snapshot's window
    quality: tuple[float, ...]  # each snapshot's quality (lower is better)
    window: int  # half-width, in iterations, of the window of log rows around a snapshot
    rho: float  # Spearman's rank correlation of values and quality, in [-1, 1]; NaN if constant
    skipped: tuple[int, ...] = ()  # snapshots' iterations with no log row in their window

    @property
    def points(self) -> int:
        return len(self.iterations)

    @property
    def pairs(self) -> list[tuple[int, float, float]]:
        """(iteration, scalar, quality) per snapshot."""
        return list(zip(self.iterations, self.values, self.quality))


# ------------------------------------------------------------------------- the run's evidence


def snapshot_files(run_dir: Path) -> list[tuple[int, Path]]:
    """(iteration, file) of the kept snapshots, by iteration; one sentence when there are none."""
    folder = Path(run_dir) / SNAPSHOTS
    found = []
    if folder.is_dir():
        for path in folder.iterdir():
            match = _SNAPSHOT_NAME.match(path.name)
            if match and path.is_file():
                found.append((int(match.group(1)), path))
    if not found:
        raise SaddlepointError(
            f"{run_dir} has no kept generator snapshots in {SNAPSHOTS}/: train it with "
            "train.snapshot_every set (e.g. --set train.snapshot_every=500) to follow quality "
            "over training."
        )
    return sorted(found)


def scalar_rows(run_dir: Path, scalar: Scalar) -> list[tuple[int, float]]:
    """(iteration, value) of the log rows that hold the scalar (evaluation rows do not)."""
    rows = []
    for record in read_log(run_dir):
        value, it = scalar(record), record.get("iteration")
        if value is not None and isinstance(it, (int, float)) and math.isfinite(value):
            rows.append((int(it), float(value)))
    return rows


def window_means(
    rows: Sequence[tuple[int, float]], iterations: Sequence[int], window: int
) -> list[float | None]:
    """Per iteration s: the mean of the values of rows r with |r - s| <= window (None if none)."""
    means: list[float | None] = []
    for s in iterations:
        inside = [v for r, v in rows if abs(r - s) <= window]
        means.append(math.fsum(inside) / len(inside) if inside else None)
    return means


def default_window(config: Config) -> int:
    """Half a snapshot interval, and at least one log interval, so every snapshot has a row."""
    t = config.train
    return max(t.log_every, t.snapshot_every // 2)


# ---------------------------------------------------------------------------------- quality


def toy_quality(snapshot: Path, config: Config) -> float:
    """modes missed + (1 - high-quality share) of TOY_SAMPLES samples (fixed noise) on the toy's
    modes: lower is better; 0 is every mode covered and every sample within 3 std of one."""
    centres, std = toy.modes(config.data.name)
    samples = load(snapshot).sample(TOY_SAMPLES, seed=TOY_SEED)  # (N, D)
    cov = mode_coverage(samples, centres, std)
    return (cov.n_modes - cov.modes_covered) + (1.0 - cov.high_quality_share)


def image_quality(snapshot: Path, config: Config) -> float:
    """The classifier-feature Frechet distance of IMAGE_SAMPLES samples to the test split
    (`health.generator_health`): lower is better."""
    run = load(snapshot)
    return generator_health(run.generator, config.data, n=IMAGE_SAMPLES).distance


def default_quality(config: Config) -> Quality:
    """toy_quality for the toy densities, image_quality for anything else."""
    return toy_quality if config.data.name in toy.NAMES else image_quality


# ---------------------------------------------------------------------------- the correlation


def spearman(values: Sequence[float], quality: Sequence[float]) -> float:
    """Spearman's rho: the Pearson correlation of the two samples' ranks (ties: average ranks);
    NaN when either is constant (scipy.stats.spearmanr)."""
    with warnings.catch_warnings():  # constant input: rho is undefined, and NaN says so
        warnings.simplefilter("ignore", ConstantInputWarning)
        return float(spearmanr(values, quality).statistic)


def trajectory(
    run_dir: Path,
    config: Config,
    *,
    scalar: Scalar,
    name: str,  # what `scalar` reads, for results and error messages
    missing: str,  # how to get a run that logs it, ending the error sentence
    quality: Quality | None = None,  # None: default_quality(config)
    window: int | None = None,  # None: default_window(config)
) -> Trajectory:
    """Pair the scalar's window means with the quality of every snapshot; their Spearman rho."""
    run_dir = Path(run_dir)
    window = default_window(config) if window is None else window
    if window < 0:
        raise SaddlepointError(f"the window must be at least 0 iterations, got {window}.")
    snapshots = snapshot_files(run_dir)
    rows = scalar_rows(run_dir, scalar)
    if not rows:
        raise SaddlepointError(f"{run_dir}'s log.jsonl holds no {name}: {missing}.")
    means = window_means(rows, [it for it, _ in snapshots], window)
    kept = [(it, path, v) for (it, path), v in zip(snapshots, means) if v is not None]
    if len(kept) < MIN_POINTS:
        raise SaddlepointError(
            f"only {len(kept)} of {run_dir}'s {len(snapshots)} snapshots have {name} log rows "
            f"within {window} iterations, and a rank correlation needs {MIN_POINTS}: train "
            "longer or set train.snapshot_every lower (and train.log_every no higher)."
        )
    quality = quality or default_quality(config)
    scores = [float(quality(path, config)) for _, path, _ in kept]
    values = [v for _, _, v in kept]
    return Trajectory(
        scalar=name,
        iterations=tuple(it for it, _, _ in kept),
        values=tuple(values),
        quality=tuple(scores),
        window=window,
        rho=spearman(values, scores),
        skipped=tuple(it for (it, _), v in zip(snapshots, means) if v is None),
    )


# ---------------------------------------------------------------------------------- the WGAN


def critic_estimate(record: dict) -> float | None:
    """W_hat = mean f(x) - mean f(G(z)) from a log row's real_score and fake_score (the critic's
    scores before its step; -d_loss would add the gradient penalty), or None."""
    real, fake = record.get("real_score"), record.get("fake_score")
    if not isinstance(real, (int, float)) or not isinstance(fake, (int, float)):
        return None
    return float(real) - float(fake)


def critic_trajectory(
    run_dir: Path, config: Config, *, quality: Quality | None = None, window: int | None = None
) -> Trajectory:
    """The WGAN critic's estimate of W against the snapshots' quality (Arjovsky et al. 2017,
    Figure 3); the paper's claim is rho > 0: the estimate falls as quality improves."""
    if config.objective.name != "wasserstein":
        raise SaddlepointError(
            "the critic's estimate E f(x) - E f(G(z)) approximates the Wasserstein distance only "
            f"for a WGAN critic, and this run trained objective.name={config.objective.name}: "
            "use a run with objective.name=wasserstein."
        )
    return trajectory(
        run_dir,
        config,
        scalar=critic_estimate,
        name="critic_estimate",
        missing="it needs the real_score and fake_score every training run logs; retrain it",
        quality=quality,
        window=window,
    )


def critic_correlation(run_dir: Path, config: Config) -> dict[str, float]:
    """Sweep metric: Spearman rho of the WGAN critic's estimate against quality, and its points."""
    t = critic_trajectory(run_dir, config)
    return {"critic_quality_spearman": t.rho, "critic_points": float(t.points)}


# --------------------------------------------------------------------------------- the BEGAN


def m_global(record: dict) -> float | None:
    """BEGAN's logged M_global = L(x) + |gamma L(x) - L(G(z))|, or None."""
    value = record.get("m_global")
    return float(value) if isinstance(value, (int, float)) else None


def began_trajectory(
    run_dir: Path, config: Config, *, quality: Quality | None = None, window: int | None = None
) -> Trajectory:
    """BEGAN's convergence measure M_global against the snapshots' quality (Berthelot et al.
    2017, section 3.4.1); the paper's claim is rho > 0: M_global falls as quality improves."""
    return trajectory(
        run_dir,
        config,
        scalar=m_global,
        name="m_global",
        missing="BEGAN runs log it (objective.name=began)",
        quality=quality,
        window=window,
    )


def began_correlation(run_dir: Path, config: Config) -> dict[str, float]:
    """Sweep metric: Spearman rho of BEGAN's M_global against quality, and its points."""
    t = began_trajectory(run_dir, config)
    return {"m_global_quality_spearman": t.rho, "m_global_points": float(t.points)}
