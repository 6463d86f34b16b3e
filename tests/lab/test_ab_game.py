"""Lab `ab-game`: v(a, b) = ab under simultaneous, alternating and continuous play (seed 004)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PIL import Image

from saddlepoint.errors import SaddlepointError
from saddlepoint.lab import ab_game as lab


@pytest.mark.parametrize("eta", [0.01, 0.1, 0.5])
@pytest.mark.parametrize("start", [(1.0, 0.0), (0.3, -2.0)])
def test_simultaneous_radius_grows_by_sqrt_1_plus_eta2_exactly(eta, start):
    path = lab.simultaneous(*start, eta, 200)
    r = lab.radius(path)
    assert np.max(np.abs(r[1:] / r[:-1] - math.sqrt(1 + eta**2))) < 1e-12
    expected = math.hypot(*start) * (1 + eta**2) ** (np.arange(201) / 2)
    assert np.max(np.abs(r / expected - 1)) < 1e-12


@pytest.mark.parametrize("eta", [0.1, 0.5, 1.5])
def test_alternating_orbit_is_bounded_on_its_ellipse(eta):
    steps = 10_000
    path = lab.alternating(1.0, 0.0, eta, steps)
    # the map's matrix, column by column, has determinant 1
    m = np.array([lab.alternating(1.0, 0.0, eta, 1)[1], lab.alternating(0.0, 1.0, eta, 1)[1]]).T
    assert np.linalg.det(m) == pytest.approx(1.0, abs=1e-14)
    h = lab.invariant(path, eta)
    assert np.max(np.abs(h / h[0] - 1)) < 1e-12
    r = lab.radius(path)
    lo, hi = math.sqrt(h[0] / (1 + eta / 2)), math.sqrt(h[0] / (1 - eta / 2))
    assert r.min() >= lo * (1 - 1e-12) and r.max() <= hi * (1 + 1e-12)
    # no growth over 10,000 steps: the last 1000 steps reach the same largest radius as the
    # first 1000 (to the orbit's sampling of its ellipse), the spiral would be e^(5000 eta^2) out
    assert abs(r[-1000:].max() / r[:1001].max() - 1) < 1e-3


def test_continuous_flow_is_the_circle():
    times = np.linspace(0.0, 30.0, 301)
    path = lab.continuous(1.0, 0.0, times)
    assert np.max(np.abs(lab.radius(path) - 1.0)) < 1e-6
    circle = np.stack([np.cos(times), np.sin(times)], axis=1)
    assert np.max(np.abs(path - circle)) < 1e-6


def test_run_writes_numbers_figure_and_small_gif(tmp_path):
    numbers = lab.run(tmp_path, eta=0.1, steps=120)
    assert json.loads((tmp_path / "ab-game.json").read_text()) == json.loads(json.dumps(numbers))
    sim, alt, flow = numbers["simultaneous"], numbers["alternating"], numbers["continuous"]
    assert abs(sim["final_radius_rel_error"]) < 1e-12
    assert sim["final_radius"] == pytest.approx(1.01**60, rel=1e-12)
    lo, hi = alt["radius_bounds"]
    assert lo * (1 - 1e-12) <= alt["min_radius"] and alt["max_radius"] <= hi * (1 + 1e-12)
    assert alt["max_rel_invariant_drift"] < 1e-12
    assert flow["max_abs_radius_change"] < 1e-6
    assert (tmp_path / "ab-game.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    gif = tmp_path / "ab-game-simultaneous.gif"
    assert gif.stat().st_size < 1_000_000
    with Image.open(gif) as im:
        assert im.format == "GIF" and im.n_frames >= 24


def test_eta_outside_0_2_is_refused(tmp_path):
    with pytest.raises(SaddlepointError, match="eta must lie in"):
        lab.run(tmp_path, eta=2.0)
