"""Class coverage: the dataset classifier's class histogram of generated samples, the number of
classes it covers and its KL divergence from the data's class distribution.

This is the mode-collapse measure of the MNIST literature (Metz et al., "Unrolled Generative
Adversarial Networks", ICLR 2017, section 3.3.1 on stacked MNIST; Srivastava et al. 2017, VEEGAN;
Lin et al. 2018, PacGAN, table 1): classify every sample, count the samples per class, and with
q the generated class frequencies and p the data's,

    covered = #{y : count_y >= min_count}                     (classes with samples; 1 by default)
    KL(q || p) = sum_{y : q_y > 0} q_y (log q_y - log p_y)     (nats; 0 iff q = p)

KL(q || p) stays finite when the model misses a class (q_y = 0 contributes 0) and grows as the
samples pile onto few classes: all samples in one class of ten balanced ones gives log 10 = 2.303.
It is infinite only when samples fall in a class the data never has.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from saddlepoint.errors import SaddlepointError


@dataclass(frozen=True)
class ClassCoverage:
    counts: tuple[int, ...]  # generated samples per predicted class
    covered: int  # classes with at least min_count samples
    classes: int  # K, the number of classes
    kl: float  # KL(q || p) in nats, q = generated frequencies, p = the data's
    min_count: int  # samples a class needs to count as covered


def class_distribution(labels: torch.Tensor, classes: int) -> torch.Tensor:
    """(K,) float64 frequencies of integer labels (N,) in 0..K-1."""
    counts = torch.bincount(labels.long().flatten(), minlength=classes)
    if counts.numel() > classes:
        raise SaddlepointError(
            f"labels go up to {counts.numel() - 1} but there are only {classes} classes."
        )
    return counts.double() / counts.sum()


def kl_divergence(q: torch.Tensor, p: torch.Tensor) -> float:
    """KL(q || p) = sum_{q_y > 0} q_y log(q_y / p_y) in nats; inf if some q_y > 0 = p_y."""
    q, p = q.double(), p.double()
    mask = q > 0
    if bool((p[mask] <= 0).any()):
        return math.inf
    return float((q[mask] * (q[mask].log() - p[mask].log())).sum())


def class_coverage(
    predicted: torch.Tensor, data_frequencies: torch.Tensor, *, min_count: int = 1
) -> ClassCoverage:
    """Coverage of generated samples' predicted classes (N,) against the data's frequencies (K,)."""
    classes = data_frequencies.numel()
    if predicted.numel() == 0:
        raise SaddlepointError("class coverage needs at least one generated sample.")
    if min_count < 1:
        raise SaddlepointError(f"min_count must be at least 1, got {min_count}.")
    counts = torch.bincount(predicted.long().flatten(), minlength=classes)  # (K,)
    q = counts.double() / counts.sum()
    return ClassCoverage(
        counts=tuple(int(c) for c in counts),
        covered=int((counts >= min_count).sum()),
        classes=classes,
        kl=kl_divergence(q, data_frequencies),
        min_count=min_count,
    )
