"""Metrics over a training trajectory: hand-built run folders whose rank correlations are known.

A run folder here is a log.jsonl written by hand and empty snapshot files whose quality comes
from a table by iteration (the quality function is injected), so every number is known: a
monotone pairing gives exactly +1 or -1, a case with ties is checked against Spearman computed
from its definition (Pearson's r of average ranks, in float64), and window means against sums
done by hand. One seconds-long WGAN-GP run on ring8 and one BEGAN run check the real files.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
import torch

from saddlepoint.config import Config, override
from saddlepoint.errors import SaddlepointError
from saddlepoint.evaluate import trajectory as tj
from saddlepoint.lab.mode_collapse import toy_config
from saddlepoint.runs import read_log
from saddlepoint.train import train

WGAN = override(Config(), ["objective.name=wasserstein", "objective.penalty=gradient"])


def _run(tmp_path: Path, rows: list[dict], snapshots: list[int]) -> Path:
    """A run folder holding log.jsonl with `rows` and empty snapshot files at `snapshots`."""
    (tmp_path / "snapshots").mkdir()
    for it in snapshots:
        (tmp_path / "snapshots" / f"generator-{it:07d}.safetensors").touch()
    with open(tmp_path / "log.jsonl", "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    return tmp_path


def _quality(table: dict[int, float]):
    """A quality function reading each snapshot's score from `table` by its iteration."""

    def quality(snapshot: Path, config: Config) -> float:
        return table[int(snapshot.name.split("-")[1].split(".")[0])]

    return quality


def _critic_rows(estimates: dict[int, float]) -> list[dict]:
    """Log rows whose critic estimate real_score - fake_score is the given value (exactly:
    real_score = value + 1 and fake_score = 1 are sums of small binary fractions)."""
    return [
        {"iteration": it, "real_score": w + 1.0, "fake_score": 1.0} for it, w in estimates.items()
    ]


def _average_ranks(x: list[float]) -> list[float]:
    """rank_i = 1 + #{j : x_j < x_i} + (#{j : x_j = x_i} - 1) / 2: ties share their mean rank."""
    return [1 + sum(v < xi for v in x) + (sum(v == xi for v in x) - 1) / 2 for xi in x]


def _brute_spearman(x: list[float], y: list[float]) -> float:
    """Pearson's r of the average ranks, summed in float64 (math.fsum)."""
    a, b = _average_ranks(x), _average_ranks(y)
    ma, mb = math.fsum(a) / len(a), math.fsum(b) / len(b)
    cov = math.fsum((u - ma) * (v - mb) for u, v in zip(a, b))
    return cov / math.sqrt(
        math.fsum((u - ma) ** 2 for u in a) * math.fsum((v - mb) ** 2 for v in b)
    )


# ------------------------------------------------------------------------------ correlations


def test_an_estimate_that_falls_with_quality_correlates_exactly_plus_one(tmp_path) -> None:
    its = [100, 200, 300, 400, 500]
    run = _run(tmp_path, _critic_rows(dict(zip(its, [4.0, 2.5, 2.0, 0.5, 0.25]))), its)
    quality = _quality(dict(zip(its, [90.0, 80.0, 30.0, 20.0, 10.0])))  # improving
    t = tj.critic_trajectory(run, WGAN, quality=quality, window=0)
    assert t.rho == pytest.approx(1.0, abs=1e-12)
    assert t.points == 5 and t.iterations == tuple(its)
    assert t.pairs[2] == (300, 2.0, 30.0)
    worse = _quality(dict(zip(its, [10.0, 20.0, 30.0, 80.0, 90.0])))  # quality degrades
    assert tj.critic_trajectory(run, WGAN, quality=worse, window=0).rho == pytest.approx(
        -1.0, abs=1e-12
    )


def test_a_case_with_ties_matches_spearman_from_its_definition(tmp_path) -> None:
    its = [10, 20, 30, 40, 50]
    values, scores = [3.0, 1.0, 2.0, 2.0, 5.0], [2.0, 1.0, 4.0, 3.0, 5.0]
    run = _run(tmp_path, _critic_rows(dict(zip(its, values))), its)
    t = tj.critic_trajectory(run, WGAN, quality=_quality(dict(zip(its, scores))), window=0)
    # ranks (4, 1, 2.5, 2.5, 5) and (2, 1, 4, 3, 5), both of mean 3: deviations
    # (1, -2, -1/2, -1/2, 2) and (-1, -2, 1, 0, 2); sum of products 13/2, of squares 19/2 and 10
    by_hand = 6.5 / math.sqrt(9.5 * 10)
    assert _brute_spearman(values, scores) == pytest.approx(by_hand, abs=1e-15)
    assert t.rho == pytest.approx(by_hand, abs=1e-12)
    assert t.values == tuple(values) and t.quality == tuple(scores)


def test_many_ties_match_the_brute_force_spearman() -> None:
    rng = random.Random(7)
    for _ in range(20):  # integers in 0..3: ties in both samples, in every draw
        x = [float(rng.randrange(4)) for _ in range(12)]
        y = [float(rng.randrange(4)) for _ in range(12)]
        assert tj.spearman(x, y) == pytest.approx(_brute_spearman(x, y), abs=1e-12)


def test_a_constant_quality_has_no_rank_correlation(tmp_path) -> None:
    its = [1, 2, 3]
    run = _run(tmp_path, _critic_rows({1: 1.0, 2: 2.0, 3: 3.0}), its)
    t = tj.critic_trajectory(run, WGAN, quality=_quality(dict.fromkeys(its, 9.0)), window=0)
    assert math.isnan(t.rho) and t.points == 3


# ----------------------------------------------------------------------------- the windows


def test_the_window_averages_the_rows_around_each_snapshot(tmp_path) -> None:
    # rows every 10 iterations with estimate = iteration / 10; snapshots every 50
    rows = _critic_rows({it: it / 10 for it in range(10, 160, 10)})
    rows.insert(3, {"iteration": 40, "eval_parzen": -1.0})  # an evaluation row: no scores
    run = _run(tmp_path, rows, [50, 100, 150])
    quality = _quality({50: 3.0, 100: 2.0, 150: 1.0})
    t = tj.critic_trajectory(run, WGAN, quality=quality, window=20)
    # 50: rows 30..70 -> (3+4+5+6+7)/5; 100: rows 80..120 -> 10; 150: rows 130..150 -> 14
    assert t.values == pytest.approx((5.0, 10.0, 14.0), abs=1e-12)
    assert t.window == 20
    wide = tj.critic_trajectory(run, WGAN, quality=quality, window=1000)  # every row: mean 8
    assert wide.values == pytest.approx((8.0, 8.0, 8.0), abs=1e-12)


def test_snapshots_without_rows_in_their_window_are_skipped(tmp_path) -> None:
    run = _run(tmp_path, _critic_rows({10: 1.0, 20: 2.0, 30: 3.0}), [10, 20, 30, 90])
    quality = _quality({10: 3.0, 20: 2.0, 30: 1.0, 90: 0.0})
    t = tj.critic_trajectory(run, WGAN, quality=quality, window=5)
    assert t.iterations == (10, 20, 30) and t.skipped == (90,)


def test_the_default_window_is_half_a_snapshot_interval_and_at_least_a_log_interval() -> None:
    c = override(WGAN, ["train.log_every=10", "train.snapshot_every=500"])
    assert tj.default_window(c) == 250
    c = override(WGAN, ["train.log_every=100", "train.snapshot_every=50"])
    assert tj.default_window(c) == 100


def test_m_global_is_read_from_the_log(tmp_path) -> None:
    its = [5, 10, 15]
    rows = [
        {"iteration": it, "m_global": m, "real_score": 0.0, "fake_score": 0.0}
        for it, m in zip(its, [0.5, 0.25, 0.125])
    ]
    run = _run(tmp_path, rows, its)
    began = override(Config(), ["objective.name=began"])
    t = tj.began_trajectory(run, began, quality=_quality({5: 2.0, 10: 1.5, 15: 1.0}), window=0)
    assert t.scalar == "m_global" and t.values == (0.5, 0.25, 0.125)
    assert t.rho == pytest.approx(1.0, abs=1e-12)


# -------------------------------------------------------------------------------- the errors


def test_a_run_without_snapshots_names_snapshot_every(tmp_path) -> None:
    with open(tmp_path / "log.jsonl", "w") as f:
        f.write(json.dumps({"iteration": 10, "real_score": 1.0, "fake_score": 0.0}) + "\n")
    with pytest.raises(SaddlepointError, match=r"no kept generator snapshots.*snapshot_every"):
        tj.critic_trajectory(tmp_path, WGAN)


def test_a_run_that_did_not_log_m_global_names_began(tmp_path) -> None:
    run = _run(tmp_path, _critic_rows({10: 1.0, 20: 2.0, 30: 3.0}), [10, 20, 30])
    with pytest.raises(SaddlepointError, match=r"holds no m_global.*objective.name=began"):
        tj.began_trajectory(run, WGAN, quality=_quality({}))


def test_too_few_points_and_a_wrong_objective_are_refused(tmp_path) -> None:
    run = _run(tmp_path, _critic_rows({10: 1.0, 20: 2.0}), [10, 20])
    with pytest.raises(SaddlepointError, match=r"only 2 of .* needs 3.*snapshot_every"):
        tj.critic_trajectory(run, WGAN, quality=_quality({}), window=0)
    with pytest.raises(SaddlepointError, match=r"objective.name=non_saturating.*wasserstein"):
        tj.critic_trajectory(run, Config(), quality=_quality({}))
    with pytest.raises(SaddlepointError, match=r"window must be at least 0"):
        tj.critic_trajectory(run, WGAN, quality=_quality({}), window=-1)


# ---------------------------------------------------------------------- real runs, end to end


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_a_short_wgan_gp_run_on_the_ring_gives_a_rank_correlation(tmp_path, one_thread) -> None:
    sets = ("train.snapshot_every=50", "train.log_every=10")
    run = train(
        toy_config("ring8", "wasserstein", iterations=400, sets=sets), out=tmp_path, progress=False
    )
    result = tj.critic_correlation(run.path, run.config)
    assert set(result) == {"critic_quality_spearman", "critic_points"}
    assert result["critic_points"] == 8.0  # snapshots at 50, 100, ..., 400
    rho = result["critic_quality_spearman"]
    assert math.isfinite(rho) and -1.0 <= rho <= 1.0  # a tiny run: no sign is promised
    # the values are the log's critic estimates averaged within 25 iterations (window default)
    t = tj.critic_trajectory(run.path, run.config)
    log = [(r["iteration"], r["real_score"] - r["fake_score"]) for r in read_log(run.path)]
    expect = [math.fsum(w for i, w in log if abs(i - s) <= 25) / 5 for s in (50, 100, 350)]
    assert [t.values[0], t.values[1], t.values[6]] == pytest.approx(expect, rel=1e-12)


def test_a_short_began_run_pairs_m_global_with_quality(tmp_path, one_thread) -> None:
    sets = ("train.snapshot_every=50", "train.log_every=10")
    run = train(
        toy_config("ring8", "began", iterations=150, sets=sets), out=tmp_path, progress=False
    )
    result = tj.began_correlation(run.path, run.config)
    assert set(result) == {"m_global_quality_spearman", "m_global_points"}
    assert result["m_global_points"] == 3.0
    rho = result["m_global_quality_spearman"]  # NaN when every snapshot scores the same
    assert math.isnan(rho) or -1.0 <= rho <= 1.0
