"""The Frechet distance between two Gaussians fitted to feature sets (Heusel et al. 2017, eq. 6).

For N(mu1, S1) and N(mu2, S2) in d dimensions, the squared 2-Wasserstein (Frechet) distance is

    d^2 = ||mu1 - mu2||^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^(1/2)).

With Inception-v3 pool features this is the FID of "GANs Trained by a Two Time-Scale Update Rule
Converge to a Local Nash Equilibrium" (Heusel et al., NeurIPS 2017); with any other features it
is a Frechet distance in those features and must be labelled so.

How the trace term is computed, and why not scipy.linalg.sqrtm. pytorch-fid and torch-fidelity
take `scipy.linalg.sqrtm(S1 @ S2)` of the non-symmetric product; when S1 or S2 is singular or
nearly so (fewer samples than dimensions, dead features) that square root comes back complex
with a small imaginary part, and they add eps * I and drop the imaginary part. torchmetrics
takes the complex eigenvalues of S1 @ S2 (`_compute_fid`, a private function). Here the same
number comes from symmetric matrices only: S1 S2 is similar to A = S1^(1/2) S2 S1^(1/2), which
is symmetric positive semi-definite, so

    Tr((S1 S2)^(1/2)) = sum_i sqrt(lambda_i(A)),   lambda_i(A) >= 0,

with two symmetric eigendecompositions (`torch.linalg.eigh`, float64): real by construction,
no eps offset, and eigenvalues that rounding pushes a hair below zero are clipped to zero. The
tests check it against the float64 scipy.linalg.sqrtm computation, imaginary part included.
"""

from __future__ import annotations

import numpy as np
import torch

from saddlepoint.errors import SaddlepointError


def _float64(x: torch.Tensor | np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x).to(
        device="cpu", dtype=torch.float64
    )


def sqrtm_psd(s: torch.Tensor) -> torch.Tensor:
    """The symmetric square root of a symmetric PSD matrix: V diag(sqrt(max(w, 0))) V^T."""
    s = (s + s.T) / 2  # (d, d) exact symmetry before eigh
    w, v = torch.linalg.eigh(s)
    return (v * w.clamp(min=0).sqrt()) @ v.T


def trace_sqrt_product(sigma1: torch.Tensor, sigma2: torch.Tensor) -> float:
    """Tr((S1 S2)^(1/2)) = sum_i sqrt(lambda_i(S1^(1/2) S2 S1^(1/2))), in float64."""
    root1 = sqrtm_psd(_float64(sigma1))  # (d, d)
    a = root1 @ _float64(sigma2) @ root1  # (d, d), symmetric PSD up to rounding
    eigenvalues = torch.linalg.eigvalsh((a + a.T) / 2)
    return float(eigenvalues.clamp(min=0).sqrt().sum())


def frechet_distance(
    mu1: torch.Tensor | np.ndarray,
    sigma1: torch.Tensor | np.ndarray,
    mu2: torch.Tensor | np.ndarray,
    sigma2: torch.Tensor | np.ndarray,
) -> float:
    """d^2 = ||mu1 - mu2||^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^(1/2)), in float64.

    mu: (d,) means; sigma: (d, d) covariances. Returns the squared distance, as FID reports it.
    """
    mu1, mu2 = _float64(mu1), _float64(mu2)
    sigma1, sigma2 = _float64(sigma1), _float64(sigma2)
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise SaddlepointError(
            f"the Frechet distance needs two means of shape (d,) and two covariances of shape "
            f"(d, d) with one d; got {tuple(mu1.shape)}, {tuple(sigma1.shape)}, "
            f"{tuple(mu2.shape)}, {tuple(sigma2.shape)}: extract both sets with one extractor."
        )
    mean_term = float(((mu1 - mu2) ** 2).sum())
    trace_term = float(sigma1.trace() + sigma2.trace())
    return mean_term + trace_term - 2.0 * trace_sqrt_product(sigma1, sigma2)
