"""Sample-quality metrics by name, and the entry points that score a generator or a run.

    fid      Frechet distance of feature Gaussians (frechet.py)          lower is better
    kid      unbiased polynomial-kernel MMD^2 over subsets (kid.py)       lower is better
    is       Inception Score, exp E KL(p(y|x) || p(y)) (inception_score)  higher is better
    pr       k-NN precision and recall, headline F1 (precision_recall)   higher is better
    classes  class histogram: KL(generated || data) (class_coverage)     lower is better

Each metric runs the three stages: an extractor's features of n samples (features.py), the
reference split's cached features and statistics (statistics.py), then the pure formula. A
result says exactly how it was made in `settings`, including its label: with the Inception
network the numbers are "FID", "KID" and "Inception Score"; with the offline dataset classifier
they are "classifier-feature" scores, with the self-supervised rotation network of unlabelled
data "rotation-feature" scores, and neither is ever called FID.

Entry points: score_images (images against a dataset split), score_generator (periodic
evaluation), score_run (a run folder), score_real (real images: the sanity row) and
score_folders (two folders of images, as torch-fidelity's `fidelity --input1 --input2`).
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from saddlepoint.config import DataConfig
from saddlepoint.errors import SaddlepointError
from saddlepoint.evaluate.class_coverage import class_coverage, class_distribution
from saddlepoint.evaluate.features import (
    AUTO,
    Extractor,
    ExtractorSource,
    Features,
    get_extractor,
    get_source,
    resolve_extractor,
)
from saddlepoint.evaluate.frechet import frechet_distance
from saddlepoint.evaluate.inception_score import SPLITS, inception_score
from saddlepoint.evaluate.kid import SUBSET_SIZE, SUBSETS, kernel_distance
from saddlepoint.evaluate.precision_recall import K, precision_recall
from saddlepoint.evaluate.statistics import (
    Reference,
    images_reference,
    mean_and_covariance,
    reference_statistics,
)
from saddlepoint.runs import load, load_member

DEFAULT_SAMPLES = 10_000  # samples scored when not told; real images: at most the split's


@dataclass
class MetricResult:
    name: str  # registry name: fid, kid, is, pr, classes
    value: float  # the headline number
    extras: dict[str, Any]  # the other numbers (kid_std, precision, recall, covered, ...)
    higher_is_better: bool  # for keeping the best checkpoint
    settings: dict[str, Any] = field(default_factory=dict)  # how it was made, label included

    @property
    def label(self) -> str:
        return self.settings.get("label", self.name)

    def better_than(self, other: MetricResult | None) -> bool:
        """Whether this beats `other` (None: always) in this metric's direction."""
        if other is None:
            return True
        return self.value > other.value if self.higher_is_better else self.value < other.value

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# (features of the samples, the reference or None, the extractor, seed) -> (value, extras, params)
Formula = Callable[[Features, Reference | None, Extractor, int], tuple[float, dict, dict]]


@dataclass(frozen=True)
class Metric:
    name: str  # what the CLI calls it
    description: str  # one line for --help
    higher_is_better: bool
    uses_reference: bool  # compares with a data split (all but is)
    needs_labels: bool  # needs a classifier of the dataset's classes (classes)
    # (with the Inception network, with saddlepoint's own CNNs: "{kind}" is their name)
    labels: tuple[str, str]
    formula: Formula
    needs_logits: bool = False  # needs logits over classes (is, classes): not rotation's

    def label(self, extractor: Extractor) -> str:
        """The name of this metric's numbers when made with `extractor`."""
        if extractor.standard:
            return self.labels[0]
        return self.labels[1].format(kind=extractor.name)


def _fid(fake: Features, ref: Reference | None, ex: Extractor, seed: int):
    stats = mean_and_covariance(fake.features)
    value = frechet_distance(stats.mu, stats.sigma, ref.stats.mu, ref.stats.sigma)
    return value, {}, {"covariance": "unbiased (n - 1), float64"}


def _kid(fake: Features, ref: Reference | None, ex: Extractor, seed: int):
    kd = kernel_distance(
        ref.features, fake.features, subsets=SUBSETS, subset_size=SUBSET_SIZE, seed=seed
    )
    params = {"kernel": "(x.y / d + 1)^3", "subsets": kd.subsets, "subset_size": kd.subset_size}
    return kd.mean, {"kid_std": kd.std}, params


def _is(fake: Features, ref: Reference | None, ex: Extractor, seed: int):
    score = inception_score(fake.logits, splits=SPLITS)
    logits = "pool features x fc weights, no bias" if ex.standard else "the classifier's logits"
    params = {"splits": score.splits, "per_split": score.per_split, "logits": logits}
    return score.mean, {"is_std": score.std}, params


def _pr(fake: Features, ref: Reference | None, ex: Extractor, seed: int):
    pr = precision_recall(ref.features, fake.features, k=K)
    return pr.f1, {"precision": pr.precision, "recall": pr.recall}, {"k": pr.k, "headline": "F1"}


def _classes(fake: Features, ref: Reference | None, ex: Extractor, seed: int):
    if ref.labels is None:
        raise SaddlepointError("the classes metric needs a labelled reference split.")
    p_data = class_distribution(ref.labels, ex.classes)
    coverage = class_coverage(fake.logits.argmax(dim=1), p_data)
    extras = {
        "covered": coverage.covered,
        "classes": coverage.classes,
        "counts": list(coverage.counts),
        "data_frequencies": [round(float(p), 6) for p in p_data],
    }
    params = {"kl": "KL(generated || data) in nats", "min_count": coverage.min_count}
    return coverage.kl, extras, params


METRICS: dict[str, Metric] = {
    "fid": Metric(
        "fid",
        "Frechet distance of feature Gaussians (FID with --extractor inception)",
        higher_is_better=False,
        uses_reference=True,
        needs_labels=False,
        labels=("FID", "{kind}-feature Frechet distance"),
        formula=_fid,
    ),
    "kid": Metric(
        "kid",
        "kernel distance: unbiased cubic-kernel MMD^2, mean and std over subsets",
        higher_is_better=False,
        uses_reference=True,
        needs_labels=False,
        labels=("KID", "{kind}-feature kernel distance"),
        formula=_kid,
    ),
    "is": Metric(
        "is",
        "Inception Score exp E KL(p(y|x) || p(y)), mean and std over 10 splits",
        higher_is_better=True,
        uses_reference=False,
        needs_labels=False,
        labels=(
            "Inception Score",
            "classifier score (the Inception Score formula on the dataset classifier)",
        ),
        formula=_is,
        needs_logits=True,
    ),
    "pr": Metric(
        "pr",
        "precision and recall of k-NN feature manifolds (k=3), headline F1",
        higher_is_better=True,
        uses_reference=True,
        needs_labels=False,
        labels=(
            "precision/recall (k=3) in Inception-v3 features",
            "{kind}-feature precision/recall (k=3)",
        ),
        formula=_pr,
    ),
    "classes": Metric(
        "classes",
        "class histogram of samples: classes covered and KL(generated || data)",
        higher_is_better=False,
        uses_reference=True,
        needs_labels=True,
        labels=("", "classifier class coverage: KL(generated || data) in nats"),
        formula=_classes,
        needs_logits=True,
    ),
}


def get_metric(name: str) -> Metric:
    if name not in METRICS:
        raise SaddlepointError(f"unknown metric {name!r}; choose one of: {', '.join(METRICS)}.")
    return METRICS[name]


# ---------------------------------------------------------------------------- the entry points


def _check_pairing(m: Metric, source: ExtractorSource | Extractor) -> None:
    """One sentence when a metric cannot be made with an extractor."""
    if m.needs_labels and source.name != "classifier":
        raise SaddlepointError(
            f"the {m.name} metric needs a classifier of the dataset's own classes: use "
            "--extractor classifier (on a labelled dataset)."
        )
    if m.needs_logits and not source.class_logits:
        raise SaddlepointError(
            f"the {m.name} metric needs a network's class probabilities, and the "
            f"{source.name} features of unlabelled images have none: score these images with "
            "fid, kid or pr, or use --extractor inception --weights PATH for the Inception "
            "Score."
        )


def _extractor(
    m: Metric,
    extractor: str | Extractor,
    data: DataConfig,
    *,
    weights: str | os.PathLike | None,
    cache_dir: str | os.PathLike | None,
    device: str,
    images: torch.Tensor | None = None,
) -> Extractor:
    """The extractor to use (built, "auto" resolved), checked against the metric first."""
    if isinstance(extractor, Extractor):
        _check_pairing(m, extractor)
        return extractor
    if extractor == AUTO:
        extractor = "rotation" if images is not None else resolve_extractor(extractor, data)
    _check_pairing(m, get_source(extractor))  # before a (possibly long) training
    return get_extractor(
        extractor, data, weights=weights, cache_dir=cache_dir, device=device, images=images
    )


def _score(
    m: Metric, ex: Extractor, images: torch.Tensor, ref: Reference | None, seed: int, **facts
) -> MetricResult:
    """Stage three: the formula on the samples' features, with the settings that made it."""
    start = time.perf_counter()
    fake = ex.extract(images)
    value, extras, params = m.formula(fake, ref, ex, seed)
    settings: dict[str, Any] = {
        "metric": m.name,
        "label": m.label(ex),
        **facts,
        "samples": int(images.shape[0]),
        "seed": seed,
        "extractor": ex.name,
        "feature_dim": ex.feature_dim,
        "weights_sha256": ex.weights_sha256,
        "preprocessing": ex.preprocessing,
        **ex.info,
        **params,
    }
    if ref is not None:
        settings["reference_cache"] = str(ref.path)
    settings["seconds"] = round(time.perf_counter() - start, 3)
    return MetricResult(m.name, float(value), extras, m.higher_is_better, settings)


def score_images(
    metric: str,
    images: torch.Tensor,
    data: DataConfig,
    *,
    extractor: str | Extractor = AUTO,
    split: str = "test",
    seed: int = 0,
    reference_images: int | None = None,
    weights: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    device: str = "cpu",
) -> MetricResult:
    """Score [0, 1] images (n, C, H, W) against the first `reference_images` (None: all) of
    `data`'s `split`, with the named extractor ("auto": the classifier for labelled data, the
    rotation network for unlabelled) or a built one."""
    m = get_metric(metric)
    start = time.perf_counter()
    ex = _extractor(m, extractor, data, weights=weights, cache_dir=cache_dir, device=device)
    ex.check(images)  # before the (possibly long) reference extraction
    ref = (
        reference_statistics(data, split, ex, n=reference_images, cache_dir=cache_dir)
        if m.uses_reference
        else None
    )
    facts = {"dataset": data.name}
    if ref is not None:
        facts.update(split=split, reference_images=ref.n)
    result = _score(m, ex, images, ref, seed, **facts)
    result.settings["seconds"] = round(time.perf_counter() - start, 3)
    return result


def score_generator(
    metric: str,
    sample: Callable[[int], torch.Tensor],
    data: DataConfig,
    *,
    n: int,
    extractor: str = AUTO,
    split: str = "test",
    seed: int = 0,
    cache_dir: str | os.PathLike | None = None,
    weights: str | os.PathLike | None = None,
    reference_images: int | None = None,
    device: str = "cpu",
) -> MetricResult:
    """Score a generator: `sample(n)` returns n images (n, C, H, W) in [0, 1]; they are compared
    with `data`'s `split`. `seed` drives the metric's own randomness (KID subsets); the caller's
    `sample` owns the noise. For periodic evaluation in training and best-checkpoint keeping."""
    if n < 2:
        raise SaddlepointError(f"--samples must be at least 2, got {n}.")
    images = sample(n)
    if images.shape[0] != n:
        raise SaddlepointError(f"sample({n}) returned {images.shape[0]} images, not {n}.")
    return score_images(
        metric,
        images.detach(),
        data,
        extractor=extractor,
        split=split,
        seed=seed,
        reference_images=reference_images,
        weights=weights,
        cache_dir=cache_dir,
        device=device,
    )


def score_run(
    metric: str,
    run_path: str | os.PathLike,
    *,
    n: int = DEFAULT_SAMPLES,
    extractor: str = AUTO,
    split: str = "test",
    seed: int = 0,
    cache_dir: str | os.PathLike | None = None,
    weights: str | os.PathLike | None = None,
    reference_images: int | None = None,
    device: str = "cpu",
    member: int | None = None,
) -> MetricResult:
    """Score a run folder's latest snapshot (or a snapshot file) on its own dataset; the noise
    of the n samples is seeded by `seed`. `member`: that member of an ensemble run folder
    (runs.load_member), recorded in the settings with its seed."""
    if member is None:
        run = load(run_path, device=device)
    else:
        run = load_member(run_path, member, device=device)
    result = score_generator(
        metric,
        lambda count: run.sample(count, seed=seed),
        run.config.data,
        n=n,
        extractor=extractor,
        split=split,
        seed=seed,
        cache_dir=cache_dir,
        weights=weights,
        reference_images=reference_images,
        device=device,
    )
    result.settings.update(run=str(run.path), iteration=run.iteration)
    if member is not None:
        result.settings.update(member=member, member_seed=run.config.train.seed + member)
    return result


def other_split(split: str) -> str:
    """The split real images come from in the sanity row: train, unless the reference is train."""
    return "test" if split == "train" else "train"


def score_real(
    metric: str,
    data: DataConfig,
    *,
    n: int | None = None,
    split: str = "test",
    real_split: str | None = None,
    **kwargs: Any,
) -> MetricResult:
    """The sanity row: the first n real images of `real_split` (default: another split than
    `split`) scored as if they were samples; a good metric gives a small distance here. n=None
    takes DEFAULT_SAMPLES or the whole split when it is smaller (a note in the settings says
    so)."""
    from saddlepoint.evaluate.statistics import split_images

    real_split = real_split or other_split(split)
    available, _ = split_images(data, real_split, None)
    notes = []
    if n is None:
        n = min(DEFAULT_SAMPLES, len(available))
        if n < DEFAULT_SAMPLES:
            notes.append(
                f"--samples: all {n} {data.name} {real_split} images (the {real_split} split "
                f"holds fewer than the default {DEFAULT_SAMPLES})"
            )
    elif n > len(available):
        raise SaddlepointError(
            f"--samples {n} asks for more real images than the {len(available)} in the "
            f"{real_split} split of {data.name}: ask for at most {len(available)}, or leave "
            "--samples out to use them all."
        )
    result = score_images(metric, available[:n], data, split=split, **kwargs)
    result.settings["real_split"] = real_split
    if notes:
        result.settings["notes"] = notes
    return result


def score_folders(
    metric: str,
    input1: str | os.PathLike,
    input2: str | os.PathLike | None = None,
    *,
    n: int | None = None,
    extractor: str = AUTO,
    seed: int = 0,
    weights: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    device: str = "cpu",
) -> MetricResult:
    """Score every image of folder `input1` (its first n) against every image of `input2`, as
    torch-fidelity's `fidelity --input1 DIR --input2 DIR` does, without a run. input1 is read at
    input2's size and channels. "auto" is the rotation network trained on input2's images (the
    reference plays the part of a training split); --extractor inception takes --weights."""
    from saddlepoint.data import absolute_data
    from saddlepoint.data.folder import PREFIX, load_all

    m = get_metric(metric)
    start = time.perf_counter()
    if input2 is None and m.uses_reference:
        raise SaddlepointError(
            f"the {m.name} metric compares two sets of images: give the reference folder as "
            "--input2 DIR."
        )
    ref_data = absolute_data(DataConfig(name=f"{PREFIX}{input2 if input2 else input1}"))
    reference = load_all(ref_data)
    c, size = reference.x.shape[1], reference.x.shape[-1]
    data1 = absolute_data(DataConfig(name=f"{PREFIX}{input1}", image_size=size, channels=c))
    images = load_all(data1).x
    if n is not None:
        if n > len(images):
            raise SaddlepointError(
                f"--samples {n} asks for more images than the {len(images)} in {input1}: ask "
                "for at most that, or leave --samples out to use them all."
            )
        images = images[:n]
    ex = _extractor(
        m, extractor, ref_data, weights=weights, cache_dir=cache_dir, device=device,
        images=reference.x,
    )  # fmt: skip
    ex.check(images)
    ref = None
    facts: dict[str, Any] = {"input1": data1.name.removeprefix(PREFIX)}
    if m.uses_reference:
        ref = images_reference(
            reference.x, reference.y, ref_data.name, "all", ex, cache_dir=cache_dir
        )
        facts.update(input2=ref_data.name.removeprefix(PREFIX), reference_images=ref.n)
    result = _score(m, ex, images, ref, seed, **facts)
    result.settings["seconds"] = round(time.perf_counter() - start, 3)
    return result
