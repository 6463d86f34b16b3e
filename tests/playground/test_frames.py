"""What the page is sent: the views of G and D, the numbers, strict JSON; the two panels."""

from __future__ import annotations

import base64
import json
import math

import numpy as np
import pytest
import torch

from saddlepoint.errors import SaddlepointError
from saddlepoint.evaluate.modes import mode_coverage
from saddlepoint.lab import ab_game as ab
from saddlepoint.playground import panels, points, views
from saddlepoint.playground.frames import STATS, STATS_SEED, FrameBuilder, encode_map
from saddlepoint.playground.game import Game
from saddlepoint.playground.settings import Settings

SMALL = Settings(g_width=16, d_width=16, batch_size=32)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def _decode(m: dict) -> np.ndarray:
    raw = np.frombuffer(base64.b64decode(m["data"]), dtype=np.uint8).astype(float)
    assert len(raw) == m["size"]
    return np.where(raw == 255, np.nan, m["lo"] + raw / 254 * (m["hi"] - m["lo"]))


def _game(name: str = "ring8", **changes) -> tuple[Game, FrameBuilder]:
    p = points.named(name)
    game = Game(Settings(**{**SMALL.to_dict(), **changes}), p)
    game.play(20)
    return game, FrameBuilder(p)


def test_a_plane_frame_draws_the_states_own_g_and_d():
    game, builder = _game()
    f = builder.frame(game)
    json.dumps(f, allow_nan=False)  # strict JSON
    s = game.state
    assert (f["it"], f["d_steps"], f["g_steps"], f["dim"]) == (20, 20, 20, 2)
    with torch.no_grad():
        fixed = s.G(s.fixed_z).numpy()  # the grids' fixed noise
    assert np.allclose(f["fake"], fixed, atol=1e-4)
    # D's heat map: sigmoid(D) at the cell centres, to a byte's precision
    assert f["heat"]["kind"] == "probability" and f["heat"]["size"] == views.HEAT**2
    grid = views.grid_points(points.named("ring8").extent)
    with torch.no_grad():
        expected = torch.sigmoid(s.D(grid)).numpy()
    assert np.abs(_decode(f["heat"]) - expected).max() <= 0.5 / 254 + 1e-6
    corner = -3 + 3 / views.HEAT  # the bottom left cell's centre
    assert grid[0].tolist() == pytest.approx([corner, corner])
    # the manifold: G on a 15 x 15 grid of the prior's quantiles, the other z at 0
    assert np.array(f["manifold"]).shape == (views.MANIFOLD, views.MANIFOLD, 2)
    assert "dstar" in f and f["dstar"]["size"] == 32 * 32
    # mode coverage: the library's rule on G's first 2,500 samples of the frame's noise
    stats = s.G.sample(STATS, torch.Generator().manual_seed(STATS_SEED))
    modes = points.named("ring8").modes
    expected = mode_coverage(stats[:2500], modes.centres, modes.std)
    assert f["coverage"]["covered"] == expected.modes_covered
    assert f["coverage"]["counts"] == list(expected.counts)
    d = f["divergence"]
    assert d["label"] == "KL(p_g ‖ p_data) − 2 JSD" and d["c_g"] == pytest.approx(
        -math.log(4) + 2 * d["jsd"]
    )
    assert 0 < d["jsd"] <= math.log(2) + 1e-12 and d["jsd_floor"] < d["jsd"]


def test_arrows_point_where_gs_cost_falls():
    """A small move of every sample along its arrow lowers G's cost; against the arrow, it rises."""
    game, builder = _game(objective="minimax")
    s = game.state
    x = torch.tensor(builder.frame(game)["fake"][: views.ARROWS], dtype=torch.float32)
    grads = [p.grad.clone() for p in s.D.parameters()]  # the last D step's
    arrows = torch.tensor(views.gradient_arrows(s, x), dtype=torch.float32)

    def cost(points: torch.Tensor) -> float:
        with torch.no_grad():
            return float(s.objective.generator_loss(fake_logits=s.D(points)))

    eps = 1e-3 / float(arrows.norm(dim=1).max())
    assert cost(x + eps * arrows) < cost(x) < cost(x - eps * arrows)
    assert all(torch.equal(p.grad, g) for p, g in zip(s.D.parameters(), grads))  # untouched
    assert all(p.requires_grad for p in s.D.parameters())


def test_one_noise_dimension_draws_a_curve_and_no_d_star():
    game, builder = _game(z_dim=1)
    f = builder.frame(game)
    assert np.array(f["manifold"]).shape == (1, views.MANIFOLD_LINE, 2) and "dstar" not in f


def test_critic_maps_span_their_own_range():
    game, builder = _game(objective="wasserstein", penalty="gradient")
    heat = builder.frame(game)["heat"]
    values = _decode(heat)
    assert heat["kind"] == "critic" and values.min() == heat["lo"] and values.max() == heat["hi"]


def test_a_line_frame_is_the_papers_figure_1():
    game, builder = _game("gaussian1d", z_dim=1)
    data = builder.data_view()
    f = builder.frame(game)
    json.dumps(f, allow_nan=False)
    assert data["dim"] == 1 and f["dim"] == 1 and data["modes"] is None
    lo, hi = data["extent"][0]
    width = (hi - lo) / len(data["p_data"])
    centres = lo + (np.arange(len(data["p_data"])) + 0.5) * width
    exact = np.exp(-((centres - 4) ** 2) / (2 * 0.25)) / math.sqrt(2 * math.pi * 0.25)
    assert np.allclose(data["p_data"], exact, atol=1e-4)  # N(4, 0.5^2), exactly
    p_g = np.array(f["p_g"], dtype=float)
    assert p_g.sum() * width <= 1 + 1e-9  # a density: its mass in the box is at most 1
    d_star = np.array([np.nan if v is None else v for v in f["d_star"]])
    ok = ~np.isnan(d_star)
    assert ok.any() and (d_star[ok] >= 0).all() and (d_star[ok] <= 1).all()
    assert np.allclose(d_star[ok], (exact / (exact + p_g))[ok], atol=1e-3)
    assert len(f["d_curve"]) == views.CURVE
    u, x = f["mapping"]["u"], f["mapping"]["x"]
    assert len(u) == len(x) == views.MAPPING and u == sorted(u)


def test_maps_encode_nan_as_255():
    m = encode_map(np.array([[0.0, 0.5], [np.nan, 1.0]]), 0.0, 1.0)
    assert np.frombuffer(base64.b64decode(m["data"]), dtype=np.uint8).tolist() == [0, 127, 255, 254]


def test_nan_weights_still_make_strict_json():
    game, builder = _game()
    with torch.no_grad():
        for p in game.state.G.parameters():
            p.fill_(math.nan)
    game.frame_means.sums.clear()
    game.scalars = {}
    f = builder.frame(game)
    json.dumps(f, allow_nan=False)
    assert f["fake"][0] == [None, None] and f["coverage"]["covered"] == 0


# ------------------------------------------------------------------------------------ panels


def test_ab_panel_plays_the_labs_three_dynamics():
    a = panels.ab_game({"eta": "0.2", "steps": "50", "a": "0.5", "b": "1"})
    assert np.allclose(a["simultaneous"], ab.simultaneous(0.5, 1.0, 0.2, 50), atol=1e-5)
    assert np.allclose(a["alternating"], ab.alternating(0.5, 1.0, 0.2, 50), atol=1e-5)
    r0 = math.hypot(0.5, 1)
    assert a["radius"]["simultaneous"] == pytest.approx(r0 * (1 + 0.04) ** 25)  # spirals out
    assert a["radius"]["continuous"] == pytest.approx(r0, abs=1e-6)  # circles
    assert a["invariant_drift"] < 1e-12  # a^2 + b^2 - eta a b, conserved by alternating steps


@pytest.mark.parametrize(
    "query, message",
    [
        ({"eta": "2"}, "eta must lie between 0.001 and 1.99"),
        ({"steps": "many"}, "steps must be a number"),
        ({"a": "0", "b": "0"}, "the saddle point itself"),
    ],
)
def test_ab_panel_refuses_bad_values(query, message):
    with pytest.raises(SaddlepointError, match=message):
        panels.ab_game(query)


def test_lambda_panel_covers_at_small_lambda_and_seeks_near_1():
    small = panels.lambda_divergence({"lambda": "0.1"})
    large = panels.lambda_divergence({"lambda": "0.99", "mu": "2", "sigma": "0.5"})
    assert small["best"]["covers_both_modes"] and abs(small["best"]["mean"]) < 1e-3
    assert not large["best"]["covers_both_modes"]
    assert abs(large["best"]["mean"]) == pytest.approx(2, abs=0.01)
    yours = large["yours"]
    assert yours["d_lambda"] == pytest.approx(large["best"]["value"], abs=1e-3)  # Q at the best
    assert small["kl_pq_best"]["std"] == pytest.approx(math.sqrt(0.25 + 4), abs=1e-3)  # moments
    with pytest.raises(SaddlepointError, match="lambda must lie between 0.01 and 0.99"):
        panels.lambda_divergence({"lambda": "1"})
