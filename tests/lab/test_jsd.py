"""Lab `jsd`: C(G) = -log 4 + 2 JSD (Theorem 1) by quadrature, D* the maximiser (Proposition 1)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from saddlepoint.errors import SaddlepointError
from saddlepoint.lab import jsd as lab
from saddlepoint.lab.densities import Mixture, jsd, kl, lambda_divergence, normal

LOG4 = math.log(4.0)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("jsd")
    return out, lab.run(out, scan_points=21)


def test_criterion_is_minus_log4_plus_2_jsd_for_every_pair(result):
    _, numbers = result
    assert len(numbers["pairs"]) == len(lab.PAIRS)
    for pair in numbers["pairs"]:
        assert abs(pair["C"] - (-LOG4 + 2 * pair["JSD"])) < 1e-6, pair
        assert abs(pair["difference"]) < 1e-6
        assert 0.0 <= pair["JSD"] + 1e-15 and pair["JSD"] <= math.log(2) + 1e-12
    assert numbers["max_abs_difference"] < 1e-6


def test_identical_pair_reaches_minus_log4_and_disjoint_pair_reaches_0(result):
    _, numbers = result
    same = numbers["pairs"][0]
    assert same["p_data"] == same["p_g"]
    assert abs(same["C"] + LOG4) < 1e-12
    assert abs(same["JSD"]) < 1e-12
    far = numbers["pairs"][-1]  # N(0, 1) vs N(12, 1): 6 sigma apart from the midpoint
    assert abs(far["JSD"] - math.log(2)) < 1e-7
    assert abs(far["C"]) < 1e-7


def test_optimal_discriminator_beats_perturbed_ones_and_chance_gives_minus_log4(result):
    _, numbers = result
    for pair in numbers["pairs"]:
        assert abs(pair["V_chance"] + LOG4) < 1e-10
        for name, v in pair["V_perturbed"].items():
            assert v <= pair["C"] + 1e-12, (pair["p_g"], name)
    # where p_g overlaps p_data, shifting D*'s logit costs visibly (not just rounding)
    for pair in numbers["pairs"][1:-1]:
        assert pair["C_minus_best_perturbed"] > 1e-4


def test_scan_minimum_is_minus_log4_at_mu_0_only(result):
    _, numbers = result
    scan = numbers["scan"]
    mus, c = np.array(scan["mu"]), np.array(scan["C"])
    assert scan["argmin_mu"] == 0.0
    assert abs(scan["min_C"] + LOG4) < 1e-9
    assert np.all(c[mus != 0] > -LOG4 + 1e-3)  # mu on a 0.4 grid: JSD(N(0,1), N(0.4,1)) ~ 0.02
    left, right = c[mus <= 0], c[mus >= 0]
    assert np.all(np.diff(left) < 0) and np.all(np.diff(right) > 0)  # increases with |mu|


def test_files_hold_the_returned_numbers(result):
    out, numbers = result
    assert json.loads((out / "jsd.json").read_text()) == json.loads(json.dumps(numbers))
    for png in ("jsd-scan.png", "jsd-optimal-discriminator.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_kl_matches_gaussian_closed_form():
    # KL(N(m1, s1^2) || N(m2, s2^2)) = log(s2/s1) + (s1^2 + (m1 - m2)^2) / (2 s2^2) - 1/2
    for m1, s1, m2, s2 in [(0, 1, 1, 1), (0, 1, 0, 3), (-1, 0.5, 2, 1.5), (3, 2, 3, 0.7)]:
        expected = math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5
        assert kl(normal(m1, s1), normal(m2, s2)) == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_jsd_matches_an_independent_fine_grid():
    p = Mixture((0.5, 0.5), (-2.0, 2.0), (0.5, 0.5))
    q = normal(0.3, 1.2)
    x = np.linspace(-20, 20, 400_001)
    fp, fq = p.pdf(x), q.pdf(x)
    fm = 0.5 * (fp + fq)
    with np.errstate(divide="ignore", invalid="ignore"):
        integrand = 0.5 * np.where(fp > 0, fp * np.log(fp / fm), 0) + 0.5 * np.where(
            fq > 0, fq * np.log(fq / fm), 0
        )
    by_grid = float(np.sum(integrand) * (x[1] - x[0]))
    assert jsd(p, q) == pytest.approx(by_grid, abs=1e-9)
    assert lambda_divergence(p, q, 0.5) == pytest.approx(jsd(p, q), abs=1e-12)


def test_bad_inputs_name_the_problem(tmp_path):
    with pytest.raises(SaddlepointError, match="sum to 1"):
        Mixture((0.5, 0.4), (0.0, 1.0), (1.0, 1.0))
    with pytest.raises(SaddlepointError, match="stds must be positive"):
        normal(0.0, 0.0)
    with pytest.raises(SaddlepointError, match="odd"):
        lab.run(tmp_path, scan_points=20)
