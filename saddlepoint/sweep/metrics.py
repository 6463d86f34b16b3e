"""The metrics a sweep can score its runs by: an explicit registry, name -> function.

A metric is a function `(run_dir: Path, config: Config) -> dict[str, float]`: it reads the
finished run folder (trained with `config`, the run's resolved config) and returns named
numbers, which become the results' values and the table's columns (name them so they read as
column heads and do not clash with other metrics'). To add one, write the function in your own
module and register it there or here:

    from saddlepoint.sweep.metrics import CHECKS, METRICS
    METRICS["trajectory"] = trajectory_metric      # (run_dir, config) -> {"name": number}
    CHECKS["trajectory"] = needs_snapshots          # optional: (config) -> None, or raise

A metric that reads only the run's final generator and config can join FINAL_GENERATOR, so that
`sweep --ensemble` trains its cells as ensembles (an exported member has no snapshots or log).

`CHECKS[name](config)` runs when the sweep starts, for every group of runs, before anything
trains: it raises a SaddlepointError when the metric cannot score such a run (the wrong kind
of data), so the mistake is one sentence at once rather than a failed cell hours later.

    modes    ring8 / grid25 (lab/mode_collapse.py, evaluate/modes.py): modes covered and the
             high-quality share of the final generator's 2,500 samples (fixed noise)
    health   labelled image data (evaluate/health.py): classes covered, the classifier-feature
             distance and the diversity ratio of 2,000 samples; the class accuracy of a
             conditional G and the categorical-code accuracy of an InfoGAN G when they apply
    parzen   the 2014 Parzen-window log-likelihood of the test split (evaluate/run_parzen.py)
             under 10,000 samples of the best validation snapshot (best.safetensors) when the
             run kept one, else of the final generator
    critic_correlation, began_correlation
             Spearman's rho, over a run's snapshots, of WGAN's critic estimate of the
             Wasserstein distance (or BEGAN's convergence measure M_global) against sample
             quality (evaluate/trajectory.py); their papers claim both fall as samples improve
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from saddlepoint.config import Config
from saddlepoint.errors import SaddlepointError

MetricFn = Callable[[Path, Config], dict[str, float]]
TOYS = ("ring8", "grid25")  # the mixtures whose modes are known (lab/mode_collapse.DATASETS)


def modes(run_dir: Path, config: Config) -> dict[str, float]:
    """Modes covered and the high-quality share of 2,500 samples of the final generator."""
    from saddlepoint.lab.mode_collapse import coverage
    from saddlepoint.runs import load

    found = coverage(load(run_dir), config.data.name)
    return {
        "modes_covered": found.modes_covered,
        "high_quality_share": found.high_quality_share,
    }


def health(run_dir: Path, config: Config) -> dict[str, float]:
    """The final generator's health (evaluate/health.py) on 2,000 samples."""
    from saddlepoint.evaluate.features import get_extractor
    from saddlepoint.evaluate.health import generator_health
    from saddlepoint.evaluate.statistics import reference_statistics
    from saddlepoint.runs import load

    with _cache_lock():  # the first worker trains and caches the classifier; the others wait
        extractor = get_extractor("classifier", config.data)
        reference_statistics(config.data, "test", extractor)
    h = generator_health(load(run_dir).generator, config.data, extractor=extractor)
    values = {
        "classes_covered": h.covered,
        "feature_distance": h.distance,
        "diversity": h.diversity,
        "class_accuracy": h.conditional_accuracy,
        "code_accuracy": h.code_accuracy,
    }
    return {k: v for k, v in values.items() if v is not None}


def parzen(run_dir: Path, config: Config) -> dict[str, float]:
    """The Parzen test log-likelihood of best.safetensors if kept, else of the final G."""
    from saddlepoint.evaluate.run_parzen import ParzenSettings, parzen_of_run
    from saddlepoint.runs import load

    best = run_dir / "best.safetensors"
    scored = load(best if best.is_file() else run_dir)
    result = parzen_of_run(scored, ParzenSettings())
    return {
        "parzen_ll": result.test_mean,
        "parzen_se": result.test_std_error,
        "parzen_sigma": result.sigma,
        "parzen_iteration": scored.iteration,
    }


def _needs_toy(config: Config) -> None:
    if config.data.name not in TOYS:
        raise SaddlepointError(
            f"the modes metric counts the modes of {' and '.join(TOYS)}, and these runs train "
            f"on {config.data.name}: score image data with health, or drop modes."
        )


def _needs_images(config: Config) -> None:
    from saddlepoint.data import toy

    if config.data.name in toy.NAMES:
        raise SaddlepointError(
            f"the health metric scores images with a classifier, and these runs train on the "
            f"points of {config.data.name}: score toy mixtures with modes, or drop health."
        )


def critic_correlation(run_dir: Path, config: Config) -> dict[str, float]:
    """Spearman's rho of the critic's Wasserstein estimate against snapshot quality."""
    from saddlepoint.evaluate.trajectory import critic_correlation as metric

    return metric(run_dir, config)


def began_correlation(run_dir: Path, config: Config) -> dict[str, float]:
    """Spearman's rho of BEGAN's M_global against snapshot quality."""
    from saddlepoint.evaluate.trajectory import began_correlation as metric

    return metric(run_dir, config)


def _needs_trajectory(objective: str) -> Callable[[Config], None]:
    def check(config: Config) -> None:
        if config.objective.name != objective or config.train.snapshot_every <= 0:
            raise SaddlepointError(
                f"this metric follows a {objective} run over its snapshots, and these runs "
                f"train {config.objective.name} with train.snapshot_every="
                f"{config.train.snapshot_every}: use {objective} runs and set "
                "train.snapshot_every (e.g. to a tenth of train.iterations)."
            )

    return check


# name -> the function that scores a finished run folder
METRICS: dict[str, MetricFn] = {
    "modes": modes,
    "health": health,
    "parzen": parzen,
    "critic_correlation": critic_correlation,  # WGAN's Figure 3 claim (evaluate/trajectory.py)
    "began_correlation": began_correlation,  # BEGAN's M_global claim (evaluate/trajectory.py)
}
# name -> a check, at the start of a sweep, that the metric can score runs of a config
CHECKS: dict[str, Callable[[Config], None]] = {
    "modes": _needs_toy,
    "health": _needs_images,
    "critic_correlation": _needs_trajectory("wasserstein"),
    "began_correlation": _needs_trajectory("began"),
}

# the metrics that read a run folder's final generator and config alone (parzen: best.safetensors
# only with train.eval_every, which sweep/ensembles.py runs separately), so a member of an ensemble
# exported as a run folder of its own (sweep/members.py) is scored as its separate run would be;
# a cell scored by any other metric runs separately under `sweep --ensemble`
FINAL_GENERATOR = frozenset({"modes", "health", "parzen"})


def score(name: str, run_dir: Path, config: Config) -> dict[str, float | None]:
    """METRICS[name] of a run, its values made floats (None for one that is not finite)."""
    values = METRICS[name](run_dir, config)
    if not isinstance(values, dict):
        raise TypeError(f"metric {name!r} returned {type(values).__name__}, not a dict")
    out: dict[str, float | None] = {}
    for key, value in values.items():
        number = float(value)
        out[str(key)] = number if math.isfinite(number) else None
    return out


@contextmanager
def _cache_lock():
    """An exclusive lock beside the evaluation cache while one worker fills it."""
    from saddlepoint.evaluate.cache import cache_root

    try:
        import fcntl
    except ImportError:  # not POSIX: workers may train the classifier side by side
        yield
        return
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "sweep.lock", "a+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
