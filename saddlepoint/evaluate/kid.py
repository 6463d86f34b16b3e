"""Kernel distance: the unbiased MMD^2 with the cubic polynomial kernel, averaged over subsets
(Binkowski, Sutherland, Arbel and Gretton, "Demystifying MMD GANs", ICLR 2018, section 4).

For features x_i, y_j in R^d and the kernel k(a, b) = (a.b / d + 1)^3, the unbiased estimator
of the squared maximum mean discrepancy from m real and m generated features is

    MMD_u^2 = sum_{i != i'} k(x_i, x_i') / (m (m - 1)) + sum_{j != j'} k(y_j, y_j') / (m (m - 1))
              - 2 sum_{i, j} k(x_i, y_j) / m^2

(Gretton et al. 2012, eq. 3 with the cross term over all pairs). KID is its mean over `subsets`
random subsets of `subset_size` features drawn without replacement from each set (100 subsets
of 1,000 in the paper's code and in torch-fidelity), reported with the standard deviation over
subsets (numpy's std, ddof = 0, as torch-fidelity and torchmetrics report it). It can be
slightly negative when the two sets come from one distribution: the estimator is unbiased.

The per-subset formula is torchmetrics' `poly_mmd` (torchmetrics.image.kid), which is exactly
this estimator; the subsets are drawn here, from a seeded generator, because torchmetrics' class
draws them from the global RNG. Arithmetic is float64: cubing a kernel of 2048-d features
loses digits in float32.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from saddlepoint.errors import SaddlepointError

SUBSETS = 100  # subsets averaged (the paper's code, torch-fidelity)
SUBSET_SIZE = 1000  # features per subset from each set


@dataclass(frozen=True)
class KernelDistance:
    mean: float  # mean of MMD_u^2 over the subsets
    std: float  # standard deviation over the subsets (ddof = 0)
    subsets: int  # how many subsets were averaged
    subset_size: int  # features drawn from each set for each subset


def polynomial_mmd2(real: torch.Tensor, fake: torch.Tensor) -> float:
    """MMD_u^2 between two equal-sized feature sets (m, d) with k(a, b) = (a.b / d + 1)^3."""
    from torchmetrics.image.kid import poly_mmd  # imported here: torchmetrics loads in ~2 s

    real, fake = real.to(torch.float64), fake.to(torch.float64)
    return float(poly_mmd(real, fake, degree=3, gamma=1.0 / real.shape[1], coef=1.0))


def kernel_distance(
    real: torch.Tensor,
    fake: torch.Tensor,
    *,
    subsets: int = SUBSETS,
    subset_size: int | None = SUBSET_SIZE,
    seed: int = 0,
) -> KernelDistance:
    """KID of two feature sets real (n, d) and fake (n', d): mean and std of MMD_u^2 over
    `subsets` subsets of `subset_size` (at most min(n, n'); None = min(n, n'))."""
    if real.dim() != 2 or fake.dim() != 2 or real.shape[1] != fake.shape[1]:
        raise SaddlepointError(
            f"the kernel distance needs two feature sets (n, d) with one d, got "
            f"{tuple(real.shape)} and {tuple(fake.shape)}: extract both with one extractor."
        )
    largest = min(len(real), len(fake))
    size = largest if subset_size is None else min(subset_size, largest)
    if size < 2 or subsets < 1:
        raise SaddlepointError(
            f"the kernel distance needs subsets >= 1 of at least 2 features from each set; got "
            f"{subsets} subsets from {len(real)} real and {len(fake)} generated features: "
            "draw more samples."
        )
    g = torch.Generator().manual_seed(seed)
    values = []
    for _ in range(subsets):
        r = real[torch.randperm(len(real), generator=g)[:size]]  # (size, d)
        f = fake[torch.randperm(len(fake), generator=g)[:size]]  # (size, d)
        values.append(polynomial_mmd2(r, f))
    v = torch.tensor(values, dtype=torch.float64)
    return KernelDistance(float(v.mean()), float(v.std(correction=0)), subsets, size)
