"""The Parzen-window estimator against answers computed without its code.

References here are written from the formula alone: an explicit double loop in float64 with
`math`, and, for Gaussian data, the closed form of the expected log-likelihood.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from saddlepoint.errors import SaddlepointError
from saddlepoint.evaluate import parzen as parzen_module
from saddlepoint.evaluate.parzen import (
    ParzenResult,
    SigmaSelection,
    default_sigmas,
    evaluate_parzen,
    parzen_log_likelihood,
    plot_sigma_curve,
    save_result,
    select_sigma,
)


def brute_force_ll(x: np.ndarray, samples: np.ndarray, sigma: float) -> np.ndarray:
    """log p(x) = log (1/M) sum_j N(x; mu_j, sigma^2 I), one pair at a time in float64."""
    d = samples.shape[1]
    out = []
    for xi in x.astype(np.float64).tolist():
        exponents = []
        for mu in samples.astype(np.float64).tolist():
            sq = math.fsum((a - b) * (a - b) for a, b in zip(xi, mu, strict=True))
            exponents.append(-sq / (2.0 * sigma * sigma))
        top = max(exponents)
        log_mean = top + math.log(math.fsum(math.exp(e - top) for e in exponents) / len(samples))
        out.append(log_mean - d * math.log(sigma * math.sqrt(2.0 * math.pi)))
    return np.array(out)


def rand(*shape: int, seed: int) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


# ------------------------------------------------------------------------------------------------
# 1. Agreement with the brute force.


@pytest.mark.parametrize("d", [1, 5, 784])
def test_matches_float64_brute_force(d: int) -> None:
    x, samples = rand(6, d, seed=1), rand(9, d, seed=2)
    sigmas = [0.05, 0.2, 1.0, 3.0]
    got = parzen_log_likelihood(x, samples, sigmas)  # float32 arithmetic
    assert got.shape == (4, 6) and got.dtype == torch.float64
    for i, s in enumerate(sigmas):
        ref = brute_force_ll(x.numpy(), samples.numpy(), s)
        err = np.abs(got[i].numpy() - ref)
        assert np.all(err <= 1e-4 * np.maximum(1.0, np.abs(ref))), (s, err.max())
    got64 = parzen_log_likelihood(x, samples, sigmas, dtype=torch.float64)
    for i, s in enumerate(sigmas):
        ref = brute_force_ll(x.numpy(), samples.numpy(), s)
        np.testing.assert_allclose(got64[i].numpy(), ref, rtol=1e-11, atol=1e-9)


def test_one_sigma_gives_one_row_equal_to_the_grid_row() -> None:
    x, samples = rand(7, 3, 4, seed=3), rand(11, 3, 4, seed=4)  # image-shaped, flattened inside
    many = parzen_log_likelihood(x, samples, default_sigmas())
    one = parzen_log_likelihood(x, samples, default_sigmas()[3])
    assert one.shape == (7,) and many.shape == (10, 7)
    torch.testing.assert_close(one, many[3], rtol=0, atol=0)


def test_samples_that_require_grad_are_scored_without_a_graph() -> None:
    x, samples = rand(4, 5, seed=5), rand(6, 5, seed=6)
    with_grad = samples.clone().requires_grad_(True) * 1.0  # like G(z) outside no_grad
    got = parzen_log_likelihood(x, with_grad, [0.3, 0.5])
    assert not got.requires_grad
    torch.testing.assert_close(got, parzen_log_likelihood(x, samples, [0.3, 0.5]))


def test_numpy_inputs_are_accepted() -> None:
    x, samples = rand(4, 5, seed=5), rand(6, 5, seed=6)
    torch.testing.assert_close(
        parzen_log_likelihood(x.numpy(), samples.numpy(), 0.3),
        parzen_log_likelihood(x, samples, 0.3),
    )


# ------------------------------------------------------------------------------------------------
# 2. Consistency on Gaussian data, where the limit is known in closed form.


def test_gaussian_limit_and_shrinking_bias() -> None:
    # Samples and test points from N(0, s^2 I). As M -> inf the estimator's density tends to
    # N(0, s^2 I) * N(0, sigma^2 I) = N(0, (s^2 + sigma^2) I), so the mean test LL tends to
    #   E log N(x; 0, v I) = -d/2 log(2 pi v) - d s^2 / (2 v),  v = s^2 + sigma^2.
    d, s, sigma, n_test = 3, 1.0, 0.3, 2000
    v = s * s + sigma * sigma
    target = -d / 2 * math.log(2 * math.pi * v) - d * s * s / (2 * v)  # -4.2622
    g = torch.Generator().manual_seed(0)
    test = torch.randn(n_test, d, generator=g) * s
    big = torch.randn(100_000, d, generator=g) * s
    small = torch.randn(100, d, generator=g) * s
    ll_big = parzen_log_likelihood(test, big, sigma)
    ll_small = parzen_log_likelihood(test, small, sigma)

    # Tolerance from the sample sizes: the test points alone make the mean wander by its
    # standard error, std(LL) / sqrt(n_test) ~ 1.1 / sqrt(2000) = 0.025; the 100,000 samples add
    # a downward bias (Jensen) ~ E[Var p^ / 2 p^2] = O(10 / M) and noise below 0.01 (measured
    # over seeds). 4 standard errors plus 0.01 covers both.
    se = float(ll_big.std()) / math.sqrt(n_test)
    assert 0.02 < se < 0.03
    assert abs(float(ll_big.mean()) - target) < 4 * se + 0.01
    # Paired with the exact density at the same test points, the test-point noise cancels and
    # only the samples' error remains: within 0.01 nats.
    exact = -d / 2 * math.log(2 * math.pi * v) - (test.double() ** 2).sum(dim=1) / (2 * v)
    assert abs(float((ll_big - exact).mean())) < 0.01
    # With 100 samples the estimate is clearly biased downward (about -0.6 nats here; Jensen
    # says E log p^ <= log E p^), and much further from the limit than with 100,000.
    gap_small = float(ll_small.mean()) - target
    assert -1.5 < gap_small < -0.3
    assert abs(gap_small) > 10 * abs(float((ll_big - exact).mean()))


# ------------------------------------------------------------------------------------------------
# 3. sigma selection.


def test_selection_single_centre_closed_form() -> None:
    # One sample at the origin and validation points all at distance r: the mean LL is
    # -r^2 / (2 sigma^2) - d log(sigma sqrt(2 pi)), maximal at sigma* = r / sqrt(d) = 0.3, which
    # lies between grid points 0.278 and 0.359; which of them wins is computed here directly.
    d, r = 4, 0.6
    directions = torch.randn(50, d, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    valid = (r * directions / directions.norm(dim=1, keepdim=True)).float()
    samples = torch.zeros(1, d)
    grid = default_sigmas()

    def closed_form(s: float) -> float:
        return -r * r / (2 * s * s) - d * math.log(s * math.sqrt(2 * math.pi))

    expected = max(range(len(grid)), key=lambda i: closed_form(grid[i]))
    assert grid[expected] == pytest.approx(0.2783, abs=1e-4)  # the nearer one in LL, not in sigma
    sel = select_sigma(samples, valid, grid)
    assert isinstance(sel, SigmaSelection)
    assert sel.sigma == grid[expected]
    assert sel.sigmas == grid and sel.n_valid == 50 and sel.n_samples == 1
    np.testing.assert_allclose(sel.valid_ll, [closed_form(s) for s in grid], rtol=1e-5, atol=1e-5)


def test_selection_matches_brute_force_argmax_over_the_grid() -> None:
    samples = rand(5, 6, seed=8)
    valid = samples[torch.arange(40) % 5] + 0.25 * torch.randn(
        40, 6, generator=torch.Generator().manual_seed(9)
    )
    grid = default_sigmas()
    means = [float(brute_force_ll(valid.numpy(), samples.numpy(), s).mean()) for s in grid]
    expected = int(np.argmax(means))
    assert 0 < expected < len(grid) - 1  # an interior optimum, so the test can tell
    sel = select_sigma(samples, valid)
    assert sel.sigma == grid[expected]
    np.testing.assert_allclose(sel.valid_ll, means, rtol=1e-5, atol=1e-4)


def test_evaluate_parzen_end_to_end_against_brute_force(tmp_path) -> None:
    samples = rand(30, 8, seed=10)
    valid = rand(20, 8, seed=11)
    test = rand(25, 8, seed=12)
    grid = default_sigmas()
    res = evaluate_parzen(samples, valid, test, grid, batch_size=7)
    valid_means = [float(brute_force_ll(valid.numpy(), samples.numpy(), s).mean()) for s in grid]
    best = grid[int(np.argmax(valid_means))]
    ref_test = brute_force_ll(test.numpy(), samples.numpy(), best)
    assert isinstance(res, ParzenResult)
    assert res.sigma == best
    np.testing.assert_allclose(res.valid_ll, valid_means, rtol=1e-5, atol=1e-4)
    assert res.test_mean == pytest.approx(ref_test.mean(), rel=1e-5, abs=1e-4)
    # The original code's standard error: numpy std (ddof=0) over sqrt(N).
    assert res.test_std_error == pytest.approx(
        ref_test.std(ddof=0) / math.sqrt(25), rel=1e-4, abs=1e-6
    )
    assert res.test_std_error != pytest.approx(ref_test.std(ddof=1) / math.sqrt(25), rel=1e-3)
    assert (res.n_test, res.n_valid, res.n_samples, res.dim) == (25, 20, 30, 8)
    assert res.seconds > 0

    save_result(res, tmp_path / "out" / "parzen.json")
    loaded = json.loads((tmp_path / "out" / "parzen.json").read_text())
    assert loaded["sigma"] == res.sigma and loaded["sigmas"] == list(grid)
    assert loaded["test_mean"] == res.test_mean
    plot_sigma_curve(res, tmp_path / "sigma.png")
    assert (tmp_path / "sigma.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_default_sigmas_are_the_papers_grid() -> None:
    grid = default_sigmas()
    assert len(grid) == 10 and grid[0] == pytest.approx(0.1) and grid[-1] == pytest.approx(1.0)
    np.testing.assert_allclose(grid, np.logspace(-1, 0, 10), rtol=1e-15)


# ------------------------------------------------------------------------------------------------
# 4. Numerical stability far from every sample.


def test_points_far_from_all_samples_are_finite_and_exact() -> None:
    d = 784
    samples = rand(20, d, seed=13)
    near = rand(2, d, seed=14)
    far_all = 0.5 + torch.full((2, d), 1e3 / math.sqrt(d))  # ~1e3 from every sample
    far_one = near[:1].clone()
    far_one[0, 0] += 1e3  # far along one axis only
    x = torch.cat([near, far_all, far_one])
    for sigma in (0.1, 1.0):
        ref = brute_force_ll(x.numpy(), samples.numpy(), sigma)
        # A float64 log-mean-exp without the max subtracted underflows to -inf here.
        sq = ((x.double()[:, None, :] - samples.double()[None]) ** 2).sum(-1).numpy()
        with np.errstate(divide="ignore"):
            naive = np.log(np.mean(np.exp(-sq / (2 * sigma * sigma)), axis=1))
        assert np.isinf(naive[2:]).all()
        got = parzen_log_likelihood(x, samples, sigma).numpy()
        assert np.isfinite(got).all()
        assert ref[2] < -1e6 * (0.1 / sigma) ** 2 * 40  # really far: about -5e7 at sigma 0.1
        np.testing.assert_allclose(got, ref, rtol=1e-6)


def test_tiny_sigma_and_coincident_points_stay_finite() -> None:
    samples = rand(8, 50, seed=15)
    x = torch.cat([samples[:3], rand(3, 50, seed=16)])  # three points sit on samples exactly
    got = parzen_log_likelihood(x, samples, [1e-3, 1e-2, 1e2]).numpy()
    assert np.isfinite(got).all()
    for i, s in enumerate((1e-3, 1e-2, 1e2)):
        ref = brute_force_ll(x.numpy(), samples.numpy(), s)
        np.testing.assert_allclose(got[i], ref, rtol=1e-5)


# ------------------------------------------------------------------------------------------------
# 5. Batching does not change the answer.


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_batch_size_does_not_change_the_answer(dtype: torch.dtype, monkeypatch) -> None:
    x, samples = rand(103, 20, seed=17), rand(57, 20, seed=18)
    sigmas = [0.1, 0.4, 1.0]
    ref = parzen_log_likelihood(x, samples, sigmas, batch_size=103, dtype=dtype)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    for batch_size in (1, 10, 64, 1000, None):
        got = parzen_log_likelihood(x, samples, sigmas, batch_size=batch_size, dtype=dtype)
        torch.testing.assert_close(got, ref, rtol=tol, atol=tol)
    # The automatic size, forced down to 10 points per batch by a smaller block budget.
    monkeypatch.setattr(parzen_module, "BLOCK_ELEMENTS", 57 * 10)
    got = parzen_log_likelihood(x, samples, sigmas, dtype=dtype)
    torch.testing.assert_close(got, ref, rtol=tol, atol=tol)


# ------------------------------------------------------------------------------------------------
# 6. Mistakes get one clear sentence.

GOOD = torch.rand(4, 6)


@pytest.mark.parametrize(
    ("x", "samples", "sigma", "kwargs", "match"),
    [
        (torch.rand(4, 6), torch.rand(5, 7), 0.2, {}, r"x points have 6 coordinates .* have 7"),
        (torch.rand(0, 6), GOOD, 0.2, {}, r"x is empty"),
        (GOOD, torch.rand(0, 6), 0.2, {}, r"samples is empty"),
        (GOOD, torch.rand(5, 0), 0.2, {}, r"samples is empty"),
        (torch.tensor([[0.1, float("nan")]] * 2), torch.rand(3, 2), 0.2, {}, r"x contains NaN"),
        (GOOD, torch.full((3, 6), float("inf")), 0.2, {}, r"samples contains NaN or infinite"),
        (GOOD, GOOD, 0.0, {}, r"sigma must be a finite number > 0, got 0.0"),
        (GOOD, GOOD, -1.0, {}, r"sigma must be a finite number > 0, got -1.0"),
        (GOOD, GOOD, [0.1, float("nan")], {}, r"sigma must be a finite number > 0, got nan"),
        (GOOD, GOOD, [], {}, r"list of sigmas is empty"),
        (GOOD, GOOD, "wide", {}, r"sigma must be a positive number or a sequence"),
        (torch.rand(6), GOOD, 0.2, {}, r"x has shape \(6,\)"),
        (torch.zeros(4, 6, dtype=torch.uint8), GOOD, 0.2, {}, r"x has dtype torch.uint8"),
        ([[0.0] * 6], GOOD, 0.2, {}, r"x must be a torch.Tensor or numpy array"),
        (GOOD, GOOD, 0.2, {"batch_size": 0}, r"batch_size must be a positive integer"),
        (GOOD, GOOD, 0.2, {"dtype": torch.float16}, r"dtype must be torch.float32"),
    ],
)
def test_bad_input_names_the_problem(x, samples, sigma, kwargs, match) -> None:
    with pytest.raises(SaddlepointError, match=match) as info:
        parzen_log_likelihood(x, samples, sigma, **kwargs)
    message = str(info.value)
    assert "\n" not in message and message.endswith(".")


def test_evaluate_parzen_checks_valid_and_test_dimensions() -> None:
    samples = torch.rand(5, 6)
    with pytest.raises(SaddlepointError, match=r"valid points have 5 coordinates"):
        evaluate_parzen(samples, torch.rand(3, 5), torch.rand(3, 6))
    with pytest.raises(SaddlepointError, match=r"test points have 7 coordinates"):
        evaluate_parzen(samples, torch.rand(3, 6), torch.rand(3, 7))
    with pytest.raises(SaddlepointError, match=r"sigma must be a finite number > 0"):
        evaluate_parzen(samples, torch.rand(3, 6), torch.rand(3, 6), sigmas=[0.1, -0.2])


def test_save_result_reports_an_unwritable_path(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    sel = select_sigma(torch.rand(5, 3), torch.rand(4, 3), [0.5])
    with pytest.raises(SaddlepointError, match=r"could not write the Parzen result"):
        save_result(sel, blocker / "parzen.json")
    with pytest.raises(SaddlepointError, match=r"could not write the sigma plot"):
        plot_sigma_curve(sel, blocker / "sigma.png")
