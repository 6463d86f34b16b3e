"""Improved precision and recall: k-nearest-neighbour manifolds of real and generated features
(Kynkaanniemi, Karras, Laine, Lehtinen and Aila, "Improved Precision and Recall Metric for
Assessing Generative Models", NeurIPS 2019, section 2).

Each feature vector phi of a set Phi is the centre of a ball whose radius is the distance to its
k-th nearest neighbour in Phi (itself excluded), NND_k(phi). A point is on the manifold of Phi
when it lies in one of those balls:

    f(phi, Phi) = 1  if ||phi - phi'||_2 <= NND_k(phi') for some phi' in Phi,  else 0   (eq. 1)

    precision = mean over generated phi_g of f(phi_g, Phi_real)    (samples that look real)
    recall    = mean over real phi_r of f(phi_r, Phi_generated)   (real data the model covers)

k = 3 is the paper's choice. The headline number here is their harmonic mean (F1, as torch-fidelity
reports it), so one number can pick a best checkpoint; precision and recall are always given too.
The paper computes this on VGG-16 features of 50,000 images; other features or counts give other
numbers. Distances come from one matrix product per block of rows (||a||^2 + ||b||^2 - 2 a.b),
in the features' dtype (float32 unless given float64); written here because torchmetrics has no
such metric and torch-fidelity imports torchvision.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from saddlepoint.errors import SaddlepointError

K = 3  # neighbour whose distance is each ball's radius (the paper's k)
BLOCK_ELEMENTS = 16 * 2**20  # distance entries per block of rows: 64 MB in float32


@dataclass(frozen=True)
class PrecisionRecall:
    precision: float  # share of generated features inside the real manifold
    recall: float  # share of real features inside the generated manifold
    f1: float  # 2 P R / (P + R), 0 when both are 0
    k: int  # the neighbour that sets the radii


def _squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(n, m) ||a_i - b_j||^2 by one matmul, floored at 0 against rounding."""
    d = (a * a).sum(1, keepdim=True) + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return d.clamp_(min=0)


def _rows(n_cols: int) -> int:
    return max(1, BLOCK_ELEMENTS // max(n_cols, 1))


def knn_radii(points: torch.Tensor, k: int = K) -> torch.Tensor:
    """(n,) squared distance from each point to its k-th nearest other point of the same set."""
    n = points.shape[0]
    radii = torch.empty(n, dtype=points.dtype)
    step = _rows(n)
    for start in range(0, n, step):
        d = _squared_distances(points[start : start + step], points)  # (rows, n)
        # the k + 1 smallest include the point itself (distance 0), so take the (k + 1)-th
        radii[start : start + step] = d.topk(k + 1, dim=1, largest=False).values[:, k]
    return radii


def manifold_membership(
    queries: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor
) -> torch.Tensor:
    """(q,) bool: query i lies in some ball ||x - centre_j||^2 <= radius_j (eq. 1)."""
    inside = torch.empty(queries.shape[0], dtype=torch.bool)
    step = _rows(centres.shape[0])
    for start in range(0, queries.shape[0], step):
        d = _squared_distances(queries[start : start + step], centres)  # (rows, m)
        inside[start : start + step] = (d <= radii[None, :]).any(dim=1)
    return inside


def precision_recall(real: torch.Tensor, fake: torch.Tensor, *, k: int = K) -> PrecisionRecall:
    """Precision and recall of generated features fake (m, d) against real features (n, d)."""
    if real.dim() != 2 or fake.dim() != 2 or real.shape[1] != fake.shape[1]:
        raise SaddlepointError(
            f"precision and recall need two feature sets (n, d) with one d, got "
            f"{tuple(real.shape)} and {tuple(fake.shape)}: extract both with one extractor."
        )
    if k < 1 or min(len(real), len(fake)) <= k:
        raise SaddlepointError(
            f"precision and recall with k = {k} need more than k features in each set, got "
            f"{len(real)} real and {len(fake)} generated: draw more samples or lower k."
        )
    dtype = torch.float64 if torch.float64 in (real.dtype, fake.dtype) else torch.float32
    real, fake = real.to("cpu", dtype), fake.to("cpu", dtype)
    precision = float(manifold_membership(fake, real, knn_radii(real, k)).double().mean())
    recall = float(manifold_membership(real, fake, knn_radii(fake, k)).double().mean())
    total = precision + recall
    f1 = 0.0 if total == 0 else 2 * precision * recall / total
    return PrecisionRecall(precision, recall, f1, k)
