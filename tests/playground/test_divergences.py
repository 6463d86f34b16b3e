"""The divergences at the optimal D, from histograms: values known in closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest

from saddlepoint.objectives import OBJECTIVES
from saddlepoint.playground import divergences as dv

BOX = ((-1.0, 1.0), (-1.0, 1.0))


def test_histogram_counts_the_outside_in_its_last_cell():
    x = np.array([[0.0, 0.0], [0.5, 0.5], [2.0, 0.0], [np.inf, 0.0], [-0.99, 0.99]])
    h = dv.histogram(x, BOX)
    assert h.shape == (dv.GRID_2D, dv.GRID_2D) and h.counts.shape == (dv.GRID_2D**2 + 1,)
    assert h.n == 5 and h.counts[-1] == 2  # (2, 0) and (inf, 0) lie outside
    assert dv.histogram(np.array([[0.1], [5.0]]), ((0.0, 1.0),)).counts[-1] == 1
    assert h.probs(0.5).sum() == pytest.approx(1.0)


def test_formulas_at_their_known_values():
    p = np.array([0.5, 0.5, 0.0, 0.0])
    q = np.array([0.0, 0.0, 0.5, 0.5])
    assert dv.jsd(p, p) == 0.0 and dv.jsd(p, q) == pytest.approx(math.log(2))  # disjoint
    assert dv.tv(p, q) == pytest.approx(1.0) and dv.tv(p, p) == 0.0
    assert dv.kl(p, q) == math.inf and dv.kl(p, p) == 0.0
    r = np.array([0.25, 0.25, 0.25, 0.25])
    assert dv.kl(p, r) == pytest.approx(math.log(2))  # log(0.5 / 0.25)
    assert dv.lsgan(r, r) == pytest.approx(0.25)  # 1/2 sum q^2 / 2q = 1/4
    assert dv.lsgan(p, q) == pytest.approx(0.5)  # disjoint: 1/2 sum q


def test_w1_of_a_shift_is_its_length():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 1))
    assert dv.w1(x, x + 0.7) == pytest.approx(0.7)
    y = rng.normal(size=(300, 2))
    assert dv.w1(y, y + np.array([0.3, 0.4])) == pytest.approx(0.5)  # the identity matching


def test_each_objective_names_its_criterion():
    assert dv.criterion("minimax").label.startswith("JSD")
    assert dv.criterion("maximum_likelihood").label == "KL(p_data ‖ p_g)"
    assert dv.criterion("least_squares").least == 0.25
    assert dv.criterion("least_squares_pearson").least == 0.0
    # half Pearson chi^2 by hand: p = (0.5, 0.5), q = (0.9, 0.1): 1/2 (0.16/1.4 + 0.16/0.6)
    p, q = np.array([0.5, 0.5]), np.array([0.9, 0.1])
    assert dv.lsgan_pearson(p, q) == pytest.approx(0.5 * (0.16 / 1.4 + 0.16 / 0.6), rel=1e-12)
    assert dv.lsgan_pearson(p, p) == 0.0
    assert dv.criterion("began") is dv.REFERENCE and dv.REFERENCE.least is None
    assert set(dv.CRITERIA) | {"began"} == set(OBJECTIVES)


def test_estimates_between_samples_of_one_density_are_near_their_floor():
    rng = np.random.default_rng(1)
    real, fake, other = (dv.Sample.of(rng.normal(scale=0.4, size=(8192, 2)), BOX) for _ in range(3))
    floors = dv.floors(real, other)
    assert set(floors) == {c.label for c in dv.CRITERIA.values()} | {dv.REFERENCE.label, "jsd"}
    for objective in OBJECTIVES:
        d = dv.estimate(objective, real, fake, floors)
        assert d.jsd_floor == floors["jsd"] and d.c_g == pytest.approx(-math.log(4) + 2 * d.jsd)
        assert abs(d.objective_value - d.floor) < 0.3 * abs(d.floor) + 0.01, objective
        if d.objective_least is not None:  # the floor lies near the least value, above it
            assert d.objective_least - 1e-9 <= d.floor < d.objective_least + 0.2, objective
    inside = dv.Sample.of(np.clip(real.x, -0.99, 0.99), BOX)  # all of the data in the box
    far = dv.estimate("minimax", inside, dv.Sample.of(fake.x + 10, BOX), floors)
    assert far.jsd == pytest.approx(math.log(2))  # all of G's mass off the box: disjoint
    assert far.objective_value == far.jsd


def test_optimal_discriminator_on_the_cells():
    real = dv.histogram(np.array([[-0.5, -0.5], [-0.5, -0.5], [0.5, 0.5]]), BOX)
    fake = dv.histogram(np.array([[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]]), BOX)
    d = dv.optimal_discriminator(real, fake)
    assert d.shape == (dv.GRID_2D, dv.GRID_2D)
    i, j = dv.GRID_2D // 4, 3 * dv.GRID_2D // 4  # the cells of -0.5 and 0.5
    assert d[i, i] == 1.0 and d[j, j] == pytest.approx(0.25)  # (1/3) / (1/3 + 1)
    assert np.isnan(d[0, 0])  # neither density puts mass there
