"""Gaussian Parzen-window log-likelihood, the evaluation of Goodfellow et al. 2014, section 5.

A Gaussian kernel of one isotropic width sigma is centred on each of M generator samples mu_j
(flattened, on the data's [0, 1] scale); a test point x of dimension d then scores

    log p(x) = logmeanexp_j( -||x - mu_j||^2 / (2 sigma^2) ) - d log(sigma sqrt(2 pi)).

sigma is chosen from a grid by the mean log-likelihood of validation points, and the reported
figure is the mean over the test points with its standard error. This follows the published
`parzen_ll.py` (Breuleux, Bengio and Vincent 2011; code by Yann Dauphin and Ian Goodfellow): 10
sigmas log-spaced in [0.1, 1], 1,000 validation points, 10,000 samples, std / sqrt(N).

The formula is evaluated in stages: squared distances (one matmul per batch of points, shared by
every sigma) -> a stable log-mean-exp per sigma -> the normalising constant.
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from saddlepoint.errors import SaddlepointError

# Points scored per batch when batch_size is None: as many as keep one (B, M) block within
# BLOCK_ELEMENTS (64 MB in float32; two blocks with several sigmas), at most MAX_BATCH_SIZE.
# Any batch size gives the same numbers (see the tests). On the 2-core CPU the MNIST protocol
# ran equally fast with 256 to 1,024 points per batch on an idle machine; with another process
# busy on one core, 1,024 took 5 s where 256 took 9 s, because each torch op waits for both
# threads and larger batches mean fewer ops.
BLOCK_ELEMENTS = 16 * 2**20
MAX_BATCH_SIZE = 1024

# Floor on the shifted exponent -(||x - mu_j||^2 - min_k ||x - mu_k||^2) / (2 sigma^2) before
# exp. Below about -87.3, float32 exp returns denormals, which CPUs process an order of magnitude
# slower than normal numbers (measured in benchmarks/parzen.py). Flooring is harmless:
# after the shift the largest term is exp(0) = 1, so the sum S of the M terms is >= 1, and
# raising every term below e^-80 up to e^-80 (~1.8e-35) changes S by at most M e^-80, i.e. by
# <= 1.8e-29 for M <= 1e6 samples; log S then moves by <= 1.8e-29, 21 orders of magnitude
# below float32's resolution (6e-8): the floored sum rounds to the unfloored one.
EXPONENT_FLOOR = -80.0


def default_sigmas() -> tuple[float, ...]:
    """The paper's grid: 10 widths log-spaced from 0.1 to 1.0, numpy.logspace(-1, 0, 10)."""
    return tuple(float(s) for s in np.logspace(-1.0, 0.0, 10))


@dataclass(frozen=True)
class SigmaSelection:
    """Mean validation log-likelihood for each sigma on the grid, and the best sigma."""

    sigma: float  # the chosen width: argmax of valid_ll (the first one on ties, as numpy.argmax)
    sigmas: tuple[float, ...]  # the grid, in the order given
    valid_ll: tuple[float, ...]  # mean log-likelihood of the validation points, per sigma (nats)
    n_valid: int  # validation points scored
    n_samples: int  # kernel centres (generator samples)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ParzenResult:
    """The published figure: test mean log-likelihood +/- its standard error at the chosen sigma."""

    sigma: float  # kernel width chosen on the validation points
    sigmas: tuple[float, ...]  # the grid it was chosen from
    valid_ll: tuple[float, ...]  # mean validation log-likelihood per sigma on the grid (nats)
    test_mean: float  # mean log-likelihood of the test points at sigma (nats)
    test_std_error: float  # std(ddof=0) / sqrt(n_test), as the original code (see evaluate_parzen)
    n_test: int  # test points scored
    n_valid: int  # validation points used to choose sigma
    n_samples: int  # kernel centres (generator samples)
    dim: int  # dimension d of a flattened point
    seconds: float  # wall-clock time of the whole evaluation

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# ------------------------------------------------------------------------------------------------
# Input checks: one sentence naming the problem and the fix.


def _as_points(name: str, value: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Validate and flatten to (N, d): a batch of N points of any shape (N, ...)."""
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    if not isinstance(value, torch.Tensor):
        raise SaddlepointError(
            f"{name} must be a torch.Tensor or numpy array of points, got {type(value).__name__}; "
            "pass a tensor of shape (N, ...)."
        )
    if value.dim() < 2:
        raise SaddlepointError(
            f"{name} has shape {tuple(value.shape)} but must be a batch of points of shape "
            "(N, ...) with at least two dimensions; use x.reshape(len(x), -1) or x[None]."
        )
    if not value.is_floating_point():
        raise SaddlepointError(
            f"{name} has dtype {value.dtype} but the estimator needs floating-point values on the "
            "data's [0, 1] scale; convert it, e.g. x.float() / 255 for 8-bit images."
        )
    value = value.detach().reshape(value.shape[0], math.prod(value.shape[1:]))  # (N, d)
    if value.shape[0] == 0 or value.shape[1] == 0:
        raise SaddlepointError(
            f"{name} is empty (shape {tuple(value.shape)} after flattening); pass at least one "
            "point with at least one coordinate."
        )
    if not bool(torch.isfinite(value).all()):
        bad = int((~torch.isfinite(value)).any(dim=1).sum())
        raise SaddlepointError(
            f"{name} contains NaN or infinite values in {bad} of its {value.shape[0]} points; "
            "remove or repair them before scoring."
        )
    return value


def _check_same_dim(name: str, x: torch.Tensor, samples: torch.Tensor) -> None:
    if x.shape[1] != samples.shape[1]:
        raise SaddlepointError(
            f"{name} points have {x.shape[1]} coordinates but the samples have "
            f"{samples.shape[1]}; flatten both from the same image shape on the same scale."
        )


def _as_sigmas(sigma: float | Sequence[float]) -> tuple[tuple[float, ...], bool]:
    """Return (sigmas, scalar?) after checking every sigma is a finite positive number."""
    scalar = isinstance(sigma, numbers.Real) or (
        isinstance(sigma, (torch.Tensor, np.ndarray)) and sigma.ndim == 0
    )
    try:
        values = (float(sigma),) if scalar else tuple(float(s) for s in sigma)  # type: ignore
    except (TypeError, ValueError):
        raise SaddlepointError(
            f"sigma must be a positive number or a sequence of them, got {sigma!r}; "
            "pass e.g. 0.2 or default_sigmas()."
        ) from None
    if not values:
        raise SaddlepointError(
            "the list of sigmas is empty; pass at least one, or default_sigmas()."
        )
    for s in values:
        if not (math.isfinite(s) and s > 0):
            raise SaddlepointError(
                f"sigma must be a finite number > 0, got {s}; kernel widths on the [0, 1] pixel "
                "scale are typically 0.1 to 1 (default_sigmas())."
            )
    return values, scalar


def _resolve_batch_size(batch_size: int | None, n_samples: int) -> int:
    if batch_size is None:
        return max(1, min(MAX_BATCH_SIZE, BLOCK_ELEMENTS // n_samples))
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise SaddlepointError(
            f"batch_size must be a positive integer or None, got {batch_size!r}; "
            "leave it at None to size batches from the number of samples."
        )
    return batch_size


# ------------------------------------------------------------------------------------------------
# The formula.


@torch.no_grad()
def _log_likelihoods(
    x: torch.Tensor,  # (N, d) checked points
    samples: torch.Tensor,  # (M, d) checked kernel centres
    sigmas: tuple[float, ...],  # S checked widths
    batch_size: int,
    dtype: torch.dtype,
) -> torch.Tensor:  # (S, N) float64 log-likelihoods
    m, d = samples.shape
    device = samples.device
    # Distances are translation invariant: centring both sets on the samples' mean shrinks the
    # norms in ||x||^2 - 2 x.mu + ||mu||^2 and with them the float32 cancellation error.
    mu = samples.to(dtype)
    centre = mu.mean(dim=0)
    mu = mu - centre  # (M, d)
    mu_sq = (mu * mu).sum(dim=1).unsqueeze(0)  # (1, M)
    # Per sigma: c = 1 / (2 sigma^2), and log(1/M) - d log(sigma sqrt(2 pi)), in float64.
    inv_two_var = [1.0 / (2.0 * s * s) for s in sigmas]
    log_const = [-math.log(m) - d * math.log(s * math.sqrt(2.0 * math.pi)) for s in sigmas]

    n = x.shape[0]
    out = torch.empty(len(sigmas), n, dtype=torch.float64)  # (S, N)
    # Several sigmas need the excess kept, so the exponentials go to a second (B, M) buffer.
    work = None
    if len(sigmas) > 1:
        work = torch.empty(min(batch_size, n), m, dtype=dtype, device=device)  # (B, M)
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        xb = x[start:stop].to(device=device, dtype=dtype) - centre  # (B, d)
        # ||x - mu_j||^2 = ||x||^2 + (||mu_j||^2 - 2 x.mu_j): the bracket is one matmul. ||x||^2
        # is the same for the whole row, so it cancels from the excess over the row's minimum,
        # the only use of the matrix besides finding the nearest sample.
        partial = torch.addmm(mu_sq, xb, mu.T, alpha=-2.0)  # (B, M)
        partial_min, nearest = partial.min(dim=1, keepdim=True)  # (B, 1) each: nearest sample
        # excess_j = ||x - mu_j||^2 - min_k ||x - mu_k||^2 >= 0 by construction (no clamp needed),
        # 0 at the nearest sample; shared by every sigma.
        excess = partial.sub_(partial_min)  # (B, M), in place
        # The nearest sample's distance is recomputed directly as sum (x - mu)^2 (B x d work, no
        # cancellation, >= 0): it carries most of the value -c ||x - mu_nearest||^2, and this
        # cuts the float32 error on MNIST about tenfold (benchmarks/parzen.py).
        diff = xb - mu[nearest.squeeze(1)]  # (B, d)
        dist_min = (diff * diff).double().sum(dim=1).cpu()  # (B,) float64
        buf = excess if work is None else work[: stop - start]
        for i, c in enumerate(inv_two_var):
            # log sum_j exp(-c dist_j) = -c min_k dist_k + log sum_j exp(-c excess_j); the sum
            # is >= 1 (the nearest sample's term) and its exponents are floored, EXPONENT_FLOOR.
            torch.mul(excess, -c, out=buf).clamp_(min=EXPONENT_FLOOR).exp_()
            log_sum = buf.sum(dim=1).double().log().cpu()  # (B,)
            out[i, start:stop] = log_sum - c * dist_min + log_const[i]
    return out


def parzen_log_likelihood(
    x: torch.Tensor,  # (N, ...) points to score, on the samples' scale
    samples: torch.Tensor,  # (M, ...) kernel centres, e.g. generator samples
    sigma: float | Sequence[float],  # one kernel width, or several
    batch_size: int | None = None,  # points per distance matmul; None = sized from M (above)
    dtype: torch.dtype = torch.float32,  # arithmetic precision; float64 for reference answers
) -> torch.Tensor:
    """Per-point Parzen log-likelihoods: shape (N,) for one sigma, (S, N) for S sigmas (float64).

    Distances to all samples are computed once per batch of points and reused for every sigma.
    In float32, on MNIST, each value is within 3e-4 nats of a float64 brute force (1e-5 relative
    where |log p| > 1) and a mean over points within 1e-5 nats (benchmarks/parzen.py).
    """
    sigmas, scalar = _as_sigmas(sigma)
    if dtype not in (torch.float32, torch.float64):
        raise SaddlepointError(
            f"dtype must be torch.float32 or torch.float64, got {dtype}; float32 is accurate to "
            "about 1e-5 relative and 1.5x as fast on CPU."
        )
    samples = _as_points("samples", samples)
    x = _as_points("x", x)
    _check_same_dim("x", x, samples)
    batch_size = _resolve_batch_size(batch_size, samples.shape[0])
    ll = _log_likelihoods(x, samples, sigmas, batch_size, dtype)
    return ll[0] if scalar else ll


def select_sigma(
    samples: torch.Tensor,  # (M, ...) kernel centres
    valid: torch.Tensor,  # (N_valid, ...) validation points; the paper used 1,000
    sigmas: Sequence[float] | None = None,  # None = default_sigmas()
    batch_size: int | None = None,  # None = sized from the number of samples
    dtype: torch.dtype = torch.float32,  # arithmetic precision, as parzen_log_likelihood
) -> SigmaSelection:
    """Choose sigma on the grid by the mean validation log-likelihood (cross_validate_sigma)."""
    grid, _ = _as_sigmas(default_sigmas() if sigmas is None else sigmas)
    samples_flat = _as_points("samples", samples)
    valid_flat = _as_points("valid", valid)
    _check_same_dim("valid", valid_flat, samples_flat)
    ll = parzen_log_likelihood(valid_flat, samples_flat, grid, batch_size, dtype)  # (S, N_valid)
    means = tuple(float(v) for v in ll.mean(dim=1))
    best = max(range(len(grid)), key=lambda i: (means[i], -i))  # first maximum, as numpy.argmax
    return SigmaSelection(
        sigma=grid[best],
        sigmas=grid,
        valid_ll=means,
        n_valid=valid_flat.shape[0],
        n_samples=samples_flat.shape[0],
    )


def evaluate_parzen(
    samples: torch.Tensor,  # (M, ...) generator samples; the paper used 10,000
    valid: torch.Tensor,  # (N_valid, ...) validation points that choose sigma
    test: torch.Tensor,  # (N_test, ...) test points that are scored
    sigmas: Sequence[float] | None = None,  # None = default_sigmas(); [s] fixes sigma = s
    batch_size: int | None = None,  # None = sized from the number of samples
    dtype: torch.dtype = torch.float32,  # arithmetic precision, as parzen_log_likelihood
) -> ParzenResult:
    """The full protocol: choose sigma on `valid`, then score `test` at that sigma."""
    started = time.perf_counter()
    samples_flat = _as_points("samples", samples)
    test_flat = _as_points("test", test)
    _check_same_dim("test", test_flat, samples_flat)
    selection = select_sigma(samples_flat, valid, sigmas, batch_size, dtype)
    ll = parzen_log_likelihood(test_flat, samples_flat, selection.sigma, batch_size, dtype).numpy()
    # Standard error as the original parzen_ll.py: `ll.std() / numpy.sqrt(N)`, numpy's default
    # ddof=0 (population std). We follow it so numbers compare with the paper's; with N = 10,000
    # the ddof=1 value is larger by a factor sqrt(N / (N - 1)) = 1.00005, invisible at 2 digits.
    n_test = ll.shape[0]
    return ParzenResult(
        sigma=selection.sigma,
        sigmas=selection.sigmas,
        valid_ll=selection.valid_ll,
        test_mean=float(ll.mean()),
        test_std_error=float(ll.std() / math.sqrt(n_test)),
        n_test=n_test,
        n_valid=selection.n_valid,
        n_samples=samples_flat.shape[0],
        dim=samples_flat.shape[1],
        seconds=time.perf_counter() - started,
    )


# ------------------------------------------------------------------------------------------------
# Reporting.


def save_result(result: ParzenResult | SigmaSelection, path: str | os.PathLike) -> None:
    """Write the result as indented JSON (to_dict()), creating the parent folder."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    except OSError as err:
        raise SaddlepointError(
            f"could not write the Parzen result to {path} ({err.strerror}); choose a writable path."
        ) from None


def plot_sigma_curve(result: ParzenResult | SigmaSelection, path: str | os.PathLike) -> None:
    """Plot mean validation log-likelihood against sigma (log axis), marking the chosen sigma."""
    from matplotlib.figure import Figure  # Agg canvas, no pyplot state; imported only when used

    fig = Figure(figsize=(5.0, 3.5), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(result.sigmas, result.valid_ll, "o-", color="tab:blue", label="validation mean LL")
    best = result.valid_ll[result.sigmas.index(result.sigma)]
    ax.axvline(result.sigma, color="tab:red", linestyle="--", linewidth=1)
    ax.plot(
        [result.sigma],
        [best],
        "*",
        color="tab:red",
        markersize=14,
        label=f"chosen sigma = {result.sigma:.3g}",
    )
    ax.set_xscale("log")
    ax.set_xlabel("kernel width sigma")
    ax.set_ylabel("mean log-likelihood (nats)")
    ax.set_title(f"Parzen window: {result.n_samples} samples, {result.n_valid} validation points")
    ax.legend(loc="best")
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
    except OSError as err:
        raise SaddlepointError(
            f"could not write the sigma plot to {path} ({err.strerror}); choose a writable path."
        ) from None
