"""The playground's game is the library's Algorithm 1: the same weights, bit for bit."""

from __future__ import annotations

import math

import pytest
import torch

from saddlepoint.errors import SaddlepointError
from saddlepoint.playground import points
from saddlepoint.playground.game import Diverged, Game
from saddlepoint.playground.health import page_warning
from saddlepoint.playground.settings import Settings, to_config
from saddlepoint.train.diagnostics import HealthMonitor
from saddlepoint.train.distributed import Context
from saddlepoint.train.loop import iteration
from saddlepoint.train.state import setup

SMALL = Settings(g_width=16, d_width=16, batch_size=32)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def _params(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b))


@pytest.fixture(scope="module")
def ring() -> points.Points:
    return points.named("ring8")


@pytest.mark.parametrize("objective, k", [("non_saturating", 1), ("minimax", 3), ("hinge", 2)])
def test_play_is_algorithm_1_as_saddlepoint_train_runs_it(ring, objective, k):
    """The game against setup + loop.iteration on the same config, with ring8 loaded by its
    registered name: identical weights and counters after the same iterations."""
    settings = Settings(**{**SMALL.to_dict(), "objective": objective, "k": k})
    game = Game(settings, ring)
    game.play(12)
    reference = setup(to_config(settings, "ring8", 2), Context())
    for _ in range(12):
        iteration(reference)
    assert _same(_params(game.state.G), _params(reference.G))
    assert _same(_params(game.state.D), _params(reference.D))
    s = game.state
    assert (s.it, s.d_updates, s.g_updates) == (12, 12 * k, 12)


def test_step_d_moves_only_d_and_step_g_only_g(ring):
    game = Game(SMALL, ring)
    g0, d0 = _params(game.state.G), _params(game.state.D)
    game.step_d()
    assert _same(_params(game.state.G), g0) and not _same(_params(game.state.D), d0)
    assert (game.state.it, game.state.d_updates, game.state.g_updates) == (0, 1, 0)
    scalars = game.take_scalars()
    assert {"d_loss", "d_real", "d_fake"} <= set(scalars) and "g_loss" not in scalars
    d1 = _params(game.state.D)
    game.step_g()
    assert _same(_params(game.state.D), d1) and not _same(_params(game.state.G), g0)
    assert (game.state.it, game.state.d_updates, game.state.g_updates) == (1, 1, 1)
    scalars = game.take_scalars()
    assert "g_loss" in scalars and scalars["d_loss"] == pytest.approx(scalars["d_loss"])  # kept


def test_frame_scalars_are_the_means_since_the_last_frame(ring):
    game = Game(SMALL, ring)
    game.play(1)
    first = game.take_scalars()
    game.play(1)
    second = game.take_scalars()
    game2 = Game(SMALL, ring)
    game2.play(2)
    both = game2.take_scalars()
    assert both["d_loss"] == pytest.approx((first["d_loss"] + second["d_loss"]) / 2, rel=1e-5)


def test_live_settings_change_the_running_state(ring):
    game = Game(SMALL, ring)
    state = game.state
    kept = game.change(Settings(**{**SMALL.to_dict(), "lr_d": 0.02, "k": 2}))
    assert kept == ["G", "D"] and game.state is state  # no rebuild
    game.play(1)
    assert state.config.train.k == 2 and state.d_updates == 2
    assert state.opt_d.param_groups[0]["lr"] == 0.02


def test_objective_switch_keeps_both_nets_and_the_counters(ring):
    game = Game(SMALL, ring)
    game.play(5)
    g, d = _params(game.state.G), _params(game.state.D)
    kept = game.change(Settings(**{**SMALL.to_dict(), "objective": "least_squares"}))
    assert kept == ["G", "D"] and game.state.objective.name == "least_squares"
    assert _same(_params(game.state.G), g) and _same(_params(game.state.D), d)
    assert game.state.it == 5
    game.play(1)
    assert game.state.it == 6


def test_other_shapes_start_the_net_afresh(ring):
    game = Game(SMALL, ring)
    game.play(2)
    kept = game.change(Settings(**{**SMALL.to_dict(), "g_width": 8}))
    assert kept == ["D"] and game.state.G.out.in_features == 8
    assert game.change(Settings(**{**SMALL.to_dict(), "g_width": 8, "objective": "ebgan"})) == ["G"]
    assert game.use_points(points.named("grid25")) == ["G", "D"]  # same dimension: both fit
    assert game.use_points(points.named("gaussian1d")) == []  # 1-D: neither does
    game.play(3)
    assert game.state.it == 5 and game.state.x.shape[1] == 1


def test_a_refused_change_leaves_the_game_as_it_was(ring):
    game = Game(SMALL, ring)
    few = points.uploaded(torch.randn(10, 2), "few.csv")
    with pytest.raises(SaddlepointError, match="has 10 examples, fewer than train.batch_size=32"):
        game.use_points(few)
    assert game.points is ring and game.settings == SMALL
    game.play(1)


def test_reset_starts_from_the_same_initial_weights(ring):
    game = Game(SMALL, ring)
    g0 = _params(game.state.G)
    game.play(3)
    game.reset()
    assert game.run == 1 and game.state.it == 0 and _same(_params(game.state.G), g0)
    assert game.take_scalars() == {}


def test_a_nan_stops_the_game_with_one_sentence(ring):
    game = Game(SMALL, ring)
    with torch.no_grad():
        next(game.state.D.parameters()).fill_(math.nan)
    game.play(1)
    with pytest.raises(
        Diverged, match="training diverged at iteration 1: d_loss is nan; press reset"
    ):
        game.take_scalars()


def test_health_records_every_log_interval_raise_the_loops_warnings(ring):
    """A minimax G against a D that learns 100x faster: D(G(z)) falls under 0.01 and the loop's
    HealthMonitor says so in plain words once three records of 100 iterations show it."""
    settings = Settings(**{**SMALL.to_dict(), "objective": "minimax", "lr_d": 0.02, "lr_g": 1e-6})
    game = Game(settings, ring)
    records = []
    for _ in range(4):
        game.play(100)
        records.append(game.last_record)
    assert [r["iteration"] for r in records] == [100, 200, 300, 400]
    assert "diversity_ratio" in game.last_record
    assert [r["d_fake"] < 0.01 for r in records] == [False, True, True, True]
    assert [w.code for w in game.warnings] == ["discriminator_overpowers"]
    assert "use --objective non_saturating" in game.warnings[0].message


def test_every_health_warning_is_told_in_the_pages_words():
    """Each message the loop's monitor can raise, shown on the page: no command-line names."""
    monitor = HealthMonitor(patience=1)
    raised = monitor.check(
        {"iteration": 1, "d_fake": 0.0, "diversity_ratio": 1.0}, objective="minimax"
    )
    raised += HealthMonitor(patience=1).check({"d_fake": 0.0}, objective="hinge")
    collapse = HealthMonitor(patience=1)
    collapse.check({"diversity_ratio": 1.0}, objective="minimax")
    raised += collapse.check({"iteration": 9, "diversity_ratio": 0.01}, objective="minimax")
    assert [w.code for w in raised] == ["discriminator_overpowers"] * 2 + ["mode_collapse"]
    for w in raised:
        shown = page_warning(w)
        assert shown["code"] == w.code and shown["iteration"] == w.iteration
        for cli in ("--", "optim_", "train.", "objective.", "log lines"):
            assert cli not in shown["message"], (cli, shown["message"])
    assert "choose the objective non_saturating" in page_warning(raised[0])["message"]
    assert "k = 1, a lower D's learning rate" in page_warning(raised[1])["message"]
    assert (
        "try a lower G's learning rate, or another objective" in page_warning(raised[2])["message"]
    )
