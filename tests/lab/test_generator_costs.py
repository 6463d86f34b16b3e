"""Lab `generator-costs`: which generator costs saturate where D rejects the samples (seed 004)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from saddlepoint.lab import generator_costs as lab


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("costs")
    return out, lab.run(out, points=199)


def _sigmoid(t: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-t))


# closed forms of each cost J(D) and of dJ/dl, independent of the lab's own
CLOSED = {
    "minimax": (lambda d: np.log1p(-d), lambda t: -_sigmoid(t)),
    "non_saturating": (lambda d: -np.log(d), lambda t: -_sigmoid(-t)),  # = sigmoid(t) - 1
    "maximum_likelihood": (lambda d: -0.5 * d / (1 - d), lambda t: -0.5 * np.exp(t)),
}


@pytest.mark.parametrize("name", sorted(CLOSED))
def test_autograd_matches_closed_forms(name):
    cost_fn, _ = lab.COSTS[name]
    cost, grad = CLOSED[name]
    # D from 2e-9 to 1 - 2e-9; torch's softplus turns linear above 20, off by up to e^-20 there
    logits = np.linspace(-20.0, 20.0, 161)
    values, grads = lab.per_sample(cost_fn, logits)
    scale = np.maximum(1.0, np.abs(grad(logits)))
    assert np.max(np.abs(grads - grad(logits)) / scale) < 1e-12
    d = np.linspace(0.01, 0.99, 99)
    values, _ = lab.per_sample(cost_fn, lab.logit(d))
    assert np.max(np.abs(values - cost(d)) / np.maximum(1.0, np.abs(cost(d)))) < 1e-12


def test_derivative_magnitudes_at_probe_points(result):
    _, numbers = result
    d = np.array(numbers["D"])
    assert list(d) == [0.001, 0.5, 0.999]
    costs = numbers["costs"]
    expected = {"minimax": d, "non_saturating": 1 - d, "maximum_likelihood": 0.5 * d / (1 - d)}
    for name, magnitude in expected.items():
        assert costs[name]["abs_dJ_dlogit_at_D"] == pytest.approx(magnitude, rel=1e-12, abs=1e-15)
    assert numbers["max_rel_error_autograd_vs_closed_form"] < 1e-12


def test_saturation_as_d_goes_to_0():
    logits = lab.logit(np.array([1e-3, 1e-5, 1e-8]))
    _, minimax = lab.per_sample(lab.COSTS["minimax"][0], logits)
    _, non_sat = lab.per_sample(lab.COSTS["non_saturating"][0], logits)
    _, ml = lab.per_sample(lab.COSTS["maximum_likelihood"][0], logits)
    # minimax saturates: its gradient shrinks with D; so does maximum likelihood's (like D/2)
    assert np.all(np.diff(np.abs(minimax)) < 0) and abs(minimax[-1]) < 1e-7
    assert np.all(np.diff(np.abs(ml)) < 0) and abs(ml[-1]) < 1e-7
    # non-saturating tends to -1: G keeps learning where D confidently rejects its samples
    assert abs(non_sat[-1] + 1) < 1e-7


def test_files_hold_the_returned_numbers(result):
    out, numbers = result
    assert json.loads((out / "generator-costs.json").read_text()) == json.loads(json.dumps(numbers))
    assert (out / "generator-costs.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
