"""The Frechet distance against independent float64 computations.

References: pytorch-fid's procedure (scipy.linalg.sqrtm of the non-symmetric product S1 S2, the
imaginary part dropped when small), closed forms for commuting covariances, and a 50-digit
mpmath eigenvalue computation for the rank-deficient case where sqrtm may turn complex.

Tolerances come from perturbation bounds, not from one machine's rounding: a backward-stable
float64 eigensolver returns the eigenvalues of a matrix within d eps ||A|| of its argument, so
an eigenvalue lambda of S1 S2 moves by up to d eps ||S1|| ||S2||, and its square root by that over
2 sqrt(lambda) (a well-separated eigenvalue) or by the square root of that (an eigenvalue at 0).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch

from saddlepoint.errors import SaddlepointError
from saddlepoint.evaluate.frechet import frechet_distance, sqrtm_psd, trace_sqrt_product
from saddlepoint.evaluate.statistics import mean_and_covariance


def scipy_reference(mu1, s1, mu2, s2) -> tuple[float, float]:
    """pytorch-fid's calculate_frechet_distance in float64; also returns max |imag| of sqrtm."""
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    imag = float(np.abs(np.imag(covmean)).max()) if np.iscomplexobj(covmean) else 0.0
    assert imag < 1e-3  # pytorch-fid raises above this
    trace = float(np.trace(np.real(covmean)))
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * trace), imag


EPS = float(np.finfo(np.float64).eps)


def zero_eigenvalue_bound(s1: np.ndarray, s2: np.ndarray, zeros: int, spread: float) -> float:
    """How far float64 rounding can move d^2 through the `zeros` zero eigenvalues of S1 S2.

    Each moves by up to spread * d eps ||S1|| ||S2|| (spread: how many such perturbations add up,
    times the zero eigenvalues' condition number where S1 S2 is not symmetric) and, being
    clipped at 0 or not, adds up to the square root of that to Tr sqrt(S1 S2); d^2 counts the
    trace twice."""
    d = s1.shape[0]
    norms = np.linalg.norm(s1, 2) * np.linalg.norm(s2, 2)
    return 2 * zeros * math.sqrt(spread * d * EPS * norms)


def gaussian_sets(n: int, d: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) / math.sqrt(d)
    b = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) / math.sqrt(d) + 0.3
    return a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)


@pytest.mark.parametrize(("n", "d", "seed"), [(500, 4, 0), (2000, 32, 1), (3000, 128, 2)])
def test_matches_scipy_sqrtm_on_full_rank_gaussians(n: int, d: int, seed: int) -> None:
    mu1, s1, mu2, s2 = gaussian_sets(n, d, seed)
    expected, _ = scipy_reference(mu1, s1, mu2, s2)
    got = frechet_distance(mu1, s1, mu2, s2)
    assert expected > 0.1
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize(("n", "d", "seed"), [(8, 16, 3), (20, 64, 4)])
def test_rank_deficient_case_agrees_with_the_sqrtm_route(n: int, d: int, seed: int) -> None:
    """Fewer samples than dimensions: S1 S2 is singular, and scipy's sqrtm of it may come back
    complex with a small imaginary part (whether it does is scipy's business); the symmetric form
    stays real and agrees with its real part to within both routes' rounding bounds.

    Ours takes the square root of S1 and the eigenvalues of S1^(1/2) S2 S1^(1/2), two symmetric
    steps (spread 2). The sqrtm route works on the non-symmetric S1 S2, whose zero eigenvalues
    have the condition number 1 / sigma_min(K1^T K2): K1, K2 orthonormal bases of the null
    spaces of S1 and S2, its left and right null vectors."""
    mu1, s1, mu2, s2 = gaussian_sets(n, d, seed)  # rank n - 1 covariances in d dimensions
    expected, _ = scipy_reference(mu1, s1, mu2, s2)
    got = frechet_distance(mu1, s1, mu2, s2)
    zeros = d - (n - 1)
    k1, k2 = (np.linalg.eigh(s)[1][:, :zeros] for s in (s1, s2))  # eigenvalues ascending
    condition = 1 / np.linalg.svd(k1.T @ k2, compute_uv=False).min()
    tolerance = zero_eigenvalue_bound(s1, s2, zeros, 2) + zero_eigenvalue_bound(
        s1, s2, zeros, condition
    )
    assert tolerance < 1e-4 * expected  # four digits at the least: the check can fail
    assert abs(got - expected) < tolerance


@pytest.mark.parametrize(("n", "d", "seed"), [(4, 7, 5), (8, 16, 3)])
def test_rank_deficient_case_against_50_digit_eigenvalues(n: int, d: int, seed: int) -> None:
    """Tr sqrt(S1 S2) = sum sqrt(eigenvalues of S1 S2), the eigenvalues computed by mpmath.

    No float64 method can do better than the zero eigenvalues' square-root sensitivity allows
    (zero_eigenvalue_bound with spread 2: the square root of S1, then the eigenvalues of
    S1^(1/2) S2 S1^(1/2)). Measured on one machine: 4.7e-8 and 2.2e-7 off, bounds 1.8e-6 and
    1.2e-5; scipy's sqrtm route was 3.8e-8 and 5.8e-7 off there, which ranks neither."""
    mpmath = pytest.importorskip("mpmath")
    mu1, s1, mu2, s2 = gaussian_sets(n, d, seed)  # rank n - 1 covariances in d dimensions
    with mpmath.workdps(50):
        product = mpmath.matrix(s1.tolist()) * mpmath.matrix(s2.tolist())
        eigenvalues = mpmath.eig(product, left=False, right=False)
        trace_sqrt = sum(mpmath.sqrt(max(mpmath.re(e), 0)) for e in eigenvalues)
        expected = float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt)
    got = frechet_distance(mu1, s1, mu2, s2)
    bound = zero_eigenvalue_bound(s1, s2, d - (n - 1), 2)
    assert bound < 1e-5 * expected  # five digits at the least: the check can fail
    assert abs(got - expected) < bound


def test_closed_form_for_diagonal_covariances() -> None:
    """Commuting covariances: d^2 = ||mu1 - mu2||^2 + sum_i (sqrt(a_i) - sqrt(b_i))^2."""
    rng = np.random.default_rng(6)
    a, b = rng.uniform(0.1, 3, size=10), rng.uniform(0.1, 3, size=10)
    mu1, mu2 = rng.normal(size=10), rng.normal(size=10)
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    got = frechet_distance(mu1, np.diag(a), mu2, np.diag(b))
    assert got == pytest.approx(expected, rel=1e-12)
    # one dimension: (m1 - m2)^2 + (s1 - s2)^2 for N(1, 2^2) and N(4, 0.5^2): 9 + 2.25
    assert frechet_distance([1.0], [[4.0]], [4.0], [[0.25]]) == pytest.approx(11.25, abs=1e-12)


def test_identical_gaussians_give_zero_and_inputs_may_be_tensors() -> None:
    """d^2 = 2 Tr S - 2 sum sqrt(lambda_i(S^(1/2) S S^(1/2))): the eigenvalues lambda_i^2 move by
    up to d eps ||S||^2 each, their square roots by that over 2 lambda_i. This S is ill
    conditioned (lambda from 1.4e-7 to 3.3), so the bound is 2.0e-7 of a trace term of 25
    (measured on two machines: 1.8e-9 and 3.8e-9)."""
    mu1, s1, _, _ = gaussian_sets(300, 12, 7)
    got = frechet_distance(torch.tensor(mu1), torch.tensor(s1), mu1, s1)
    lam = np.linalg.eigvalsh(s1)  # (d,) all positive: 300 samples in 12 dimensions
    bound = len(lam) * EPS * lam.max() ** 2 * (1 / lam).sum()
    assert bound < 1e-7 * np.trace(s1)
    assert abs(got) < bound


def test_sqrtm_psd_and_trace_term() -> None:
    _, s1, _, s2 = gaussian_sets(200, 9, 8)
    root = sqrtm_psd(torch.tensor(s1)).numpy()
    assert np.allclose(root @ root, s1, atol=1e-10)
    expected = np.trace(np.real(scipy.linalg.sqrtm(s1 @ s2)))
    assert trace_sqrt_product(torch.tensor(s1), torch.tensor(s2)) == pytest.approx(
        expected, rel=1e-10
    )


def test_shape_mismatch_is_one_clear_error() -> None:
    with pytest.raises(SaddlepointError, match="one extractor"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


def test_mean_and_covariance_match_numpy() -> None:
    x = torch.randn(50, 6, generator=torch.Generator().manual_seed(9), dtype=torch.float32)
    stats = mean_and_covariance(x)
    assert stats.n == 50 and stats.mu.dtype == torch.float64
    assert np.allclose(stats.mu.numpy(), x.double().numpy().mean(0), atol=1e-12)
    assert np.allclose(stats.sigma.numpy(), np.cov(x.double().numpy(), rowvar=False), atol=1e-12)
    with pytest.raises(SaddlepointError, match="at least 2"):
        mean_and_covariance(x[:1])
