"""Lab `lambda-divergence`: mode covering vs mode seeking for a bimodal P (seed 003)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from saddlepoint.errors import SaddlepointError
from saddlepoint.lab import lambda_divergence as lab
from saddlepoint.lab.densities import jsd, kl, lambda_divergence, normal

P = lab.P  # 0.5 N(-2, 0.5^2) + 0.5 N(2, 0.5^2)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("lambda")
    return out, lab.run(out)


def test_moment_matching_closed_form():
    mean, std = lab.moment_matching(P)
    assert mean == 0.0
    assert std == pytest.approx(math.sqrt(0.5**2 + 2.0**2), abs=1e-15)  # Var = s^2 + mu^2 = 4.25


def test_kl_pq_minimiser_is_moment_matching(result):
    _, numbers = result
    fit = numbers["fits"]["KL(P||Q)"]
    assert abs(fit["mean"] - 0.0) < 1e-3
    assert abs(fit["std"] - math.sqrt(4.25)) < 1e-3
    assert fit["covers_both_modes"]


def test_kl_qp_minimiser_sits_on_one_mode(result):
    _, numbers = result
    fit = numbers["fits"]["KL(Q||P)"]
    assert abs(abs(fit["mean"]) - 2.0) < 0.01
    assert abs(fit["std"] - 0.5) < 0.01
    assert not fit["covers_both_modes"]
    assert max(fit["mass_left_of_0"], fit["mass_right_of_0"]) > 0.999
    # the mirror image is an equally good minimum
    mirrored = [p for p in fit["stationary_points"] if p["mean"] < -1.9 and p["kind"] == "minimum"]
    assert mirrored and mirrored[0]["value"] == pytest.approx(fit["value"], abs=1e-9)


def test_which_lambdas_cover_both_modes(result):
    # Found, not assumed: for this P, JS_0.1 and JS_0.5 fit one broad Gaussian over both modes;
    # JS_0.99 sits on one mode, like KL(Q||P).
    _, numbers = result
    fits = numbers["fits"]
    for name in ("JS_0.1", "JS_0.5"):
        assert fits[name]["covers_both_modes"], name
        assert abs(fits[name]["mean"]) < 1e-3
        assert 1.9 < fits[name]["std"] < 2.1
    assert not fits["JS_0.99"]["covers_both_modes"]
    assert abs(abs(fits["JS_0.99"]["mean"]) - 2.0) < 0.01
    assert abs(fits["JS_0.99"]["std"] - 0.5) < 0.01
    # JS_0.5 is close: the seeking branch is a local minimum only ~0.015 nats worse
    seek = [p for p in fits["JS_0.5"]["stationary_points"] if abs(p["mean"]) > 1.9]
    assert seek and 0.005 < seek[0]["value"] - fits["JS_0.5"]["value"] < 0.03
    assert 0.5 < numbers["crossover_lambda"] < 0.6
    covers = [row["covers_both_modes"] for row in numbers["sweep"]]
    assert covers == sorted(covers, reverse=True)  # covering below the crossover, seeking above


def test_grid_minima_agree_with_quadrature(result):
    _, numbers = result
    assert numbers["max_abs_grid_minus_quad"] < 1e-9
    for fit in numbers["fits"].values():
        assert fit["value_by_quad"] >= 0.0


def test_lambda_half_is_jsd_and_the_limits_are_the_two_kls():
    for q in (normal(0, 1), normal(2, 0.5), normal(-1, 2.5)):
        assert lambda_divergence(P, q, 0.5) == pytest.approx(jsd(P, q), abs=1e-12)
    wide, narrow = normal(0, 2), normal(2, 0.5)
    # D_lambda = lambda KL(P||Q) + O(lambda^2);  D_lambda = (1 - lambda) KL(Q||P) + O((1-lambda)^2)
    lam = 1e-4
    assert lambda_divergence(P, wide, lam) / lam == pytest.approx(kl(P, wide), rel=1e-3)
    assert lambda_divergence(P, narrow, 1 - lam) / lam == pytest.approx(kl(narrow, P), rel=1e-3)


def test_grid_gradients_match_finite_differences():
    grid = lab.GridDivergences(P)
    theta = np.array([0.7, math.log(1.3)])
    for f in (grid.kl_pq, grid.kl_qp, grid.js(0.1), grid.js(0.5), grid.js(0.99)):
        _, grad = f(theta)
        eps = 1e-6
        fd = [(f(theta + eps * e)[0] - f(theta - eps * e)[0]) / (2 * eps) for e in np.eye(2)]
        assert grad == pytest.approx(fd, abs=1e-7)


def test_files_hold_the_returned_numbers(result):
    out, numbers = result
    assert json.loads((out / "lambda-divergence.json").read_text()) == json.loads(
        json.dumps(numbers)
    )
    for png in ("lambda-divergence.png", "lambda-divergence-sweep.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_lambda_outside_0_1_is_refused():
    with pytest.raises(SaddlepointError, match="strictly between 0 and 1"):
        lambda_divergence(P, normal(0, 1), 1.0)
