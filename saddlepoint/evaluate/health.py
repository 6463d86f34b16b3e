"""A trained generator's health in numbers: what "the preset works" is measured by.

One look at a sample grid is an anecdote; these are the numbers every preset's promise and the
demo's CI guard rest on (docs/presets.md). All come from the dataset classifier
(`classifier.py`, trained once on the data's training split and cached) applied to n samples:

    covered     classes holding at least MIN_SHARE of their fair share n/K of the samples'
                predicted classes: a collapsed generator that puts 3 of 2,000 samples on a
                digit does not cover it (Lin et al. 2018, PacGAN, count a mode when it gets a
                fraction of its expected share; Metz et al. 2017 count classes on stacked MNIST)
    kl          KL(generated class frequencies || the data's), in nats (class_coverage.py)
    distance    the classifier-feature Frechet distance to the reference split (frechet.py):
                not an FID (another network), comparable only with itself
    diversity   mean pairwise distance of the samples over that of as many real test images
                (diagnostics.diversity): about 1 when healthy, << 1 when collapsed

and, for generators that are asked for something:

    conditional_accuracy   class-conditional G (cGAN, AC-GAN): the share of samples drawn for
                           class y that the classifier puts in class y (chance: 1/K)
    code_accuracy          InfoGAN: each value of the first categorical code is mapped to the
                           class the classifier most often gives its samples; the share of
                           samples in their code's class (the InfoGAN paper's Section 5.1
                           measure; chance for a code that ignores the class: about 1/K)
    code_classes           how many distinct classes those K code values map to
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

from saddlepoint.config import DataConfig
from saddlepoint.errors import SaddlepointError
from saddlepoint.evaluate.class_coverage import class_coverage, class_distribution
from saddlepoint.evaluate.features import Extractor, get_extractor
from saddlepoint.evaluate.frechet import frechet_distance
from saddlepoint.evaluate.statistics import mean_and_covariance, reference_statistics, split_images
from saddlepoint.nets import to_unit
from saddlepoint.nets.base import Generator
from saddlepoint.train.diagnostics import diversity

SAMPLES = 2000  # generator samples scored
MIN_SHARE = 0.2  # a class is covered by >= MIN_SHARE x n/K of the samples' predicted classes
DIVERSITY_PAIRS = 500  # samples (and real images) in the diversity ratio: 124,750 pairs each


@dataclass(frozen=True)
class Health:
    covered: int  # classes holding at least min_count samples
    classes: int  # K
    min_count: int  # samples a class needs to count as covered
    counts: tuple[int, ...]  # samples per predicted class
    kl: float  # KL(generated || data) class frequencies, nats
    distance: float  # classifier-feature Frechet distance to the reference split
    diversity: float  # mean pairwise distance of samples / of real test images
    samples: int  # n
    conditional_accuracy: float | None = None  # class-conditional G: share in the asked class
    code_accuracy: float | None = None  # InfoGAN: share in their code value's majority class
    code_classes: int | None = None  # InfoGAN: distinct classes the code values map to

    def to_dict(self) -> dict:
        return asdict(self)


def min_count(n: int, classes: int, share: float = MIN_SHARE) -> int:
    """Samples a class needs to count as covered: share x its fair share n/K, at least 1."""
    return max(1, math.ceil(share * n / classes))


def code_class_accuracy(predicted: torch.Tensor, codes: torch.Tensor, values: int) -> tuple:
    """(accuracy, distinct classes) when each code value in 0..values-1 is mapped to the class
    most often predicted for its samples. predicted, codes: (N,) integers."""
    right, mapped = 0, set()
    for c in range(values):
        preds = predicted[codes == c]
        if preds.numel() == 0:
            continue
        majority = int(torch.bincount(preds).argmax())
        mapped.add(majority)
        right += int((preds == majority).sum())
    return right / max(len(predicted), 1), len(mapped)


def images_health(
    images: torch.Tensor,
    data: DataConfig,
    *,
    asked: torch.Tensor | None = None,
    codes: torch.Tensor | None = None,
    code_values: int = 0,
    split: str = "test",
    extractor: Extractor | None = None,
    cache_dir=None,
) -> Health:
    """Score [0, 1] images (n, C, H, W) against `data`'s `split`; `asked` (n,) are the classes
    a conditional G was asked for, `codes` (n,) the values of an InfoGAN categorical code."""
    n = len(images)
    if n < 2:
        raise SaddlepointError(f"health needs at least 2 samples, got {n}.")
    ex = extractor or get_extractor("classifier", data, cache_dir=cache_dir)
    ref = reference_statistics(data, split, ex, cache_dir=cache_dir)
    if ref.labels is None:
        raise SaddlepointError(f"health needs class labels, and {data.name} has none.")
    feats = ex.extract(images)
    predicted = feats.logits.argmax(dim=1)  # (n,)
    need = min_count(n, ex.classes)
    coverage = class_coverage(predicted, class_distribution(ref.labels, ex.classes), min_count=need)
    stats = mean_and_covariance(feats.features)
    distance = frechet_distance(stats.mu, stats.sigma, ref.stats.mu, ref.stats.sigma)
    real, _ = split_images(data, split, min(DIVERSITY_PAIRS, ref.n))
    ratio = diversity(images[:DIVERSITY_PAIRS]) / max(diversity(real), 1e-12)
    extra: dict = {}
    if asked is not None:
        extra["conditional_accuracy"] = float((predicted == asked.cpu()).double().mean())
    if codes is not None:
        accuracy, mapped = code_class_accuracy(predicted, codes.cpu(), code_values)
        extra.update(code_accuracy=accuracy, code_classes=mapped)
    return Health(
        covered=coverage.covered,
        classes=coverage.classes,
        min_count=need,
        counts=coverage.counts,
        kl=coverage.kl,
        distance=float(distance),
        diversity=float(ratio),
        samples=n,
        **extra,
    )


def generator_health(
    generator: Generator, data: DataConfig, *, n: int = SAMPLES, seed: int = 0, **kwargs
) -> Health:
    """Score n samples of an image generator against `data` (kwargs: as images_health).

    A class-conditional G is asked for the classes in turn; an InfoGAN G's first categorical
    code values are read back from its latent vectors."""
    if generator.condition_shape is not None:
        raise SaddlepointError(
            "health scores a generator of whole images; a LAPGAN level is conditioned on a "
            "coarser image: load the LAPGAN run folder instead (saddlepoint.load)."
        )
    rng = torch.Generator().manual_seed(seed)
    z = generator.sample_z(n, rng)  # (n, z_dim) noise and codes, on G's device
    asked = torch.arange(n) % generator.num_classes if generator.num_classes else None
    was_training = generator.training
    generator.eval()
    try:
        with torch.no_grad():
            x = generator(z) if asked is None else generator(z, asked.to(z.device))
    finally:
        generator.train(was_training)
    codes, values = None, 0
    if generator.latent.categorical:
        values = generator.latent.categorical[0]
        start = generator.latent.noise_dim
        codes = z[:, start : start + values].argmax(dim=1)
    images = to_unit(x, generator.output).float().cpu().clamp(0, 1)
    return images_health(images, data, asked=asked, codes=codes, code_values=values, **kwargs)


def real_health(data: DataConfig, *, n: int = SAMPLES, **kwargs) -> Health:
    """The same numbers for the first n real training images in place of samples: the
    healthy reference every threshold is set against."""
    images, _ = split_images(data, "train", n)
    return images_health(images, data, **kwargs)
