"""Diagnostics: diversity and gradient norms against independent computations; health rules."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch import nn

from saddlepoint.errors import SaddlepointError
from saddlepoint.train.diagnostics import (
    HealthMonitor,
    HealthWarning,
    diversity,
    first_non_finite,
    grad_norm,
)

# ---- diversity


def _brute_diversity(x: torch.Tensor) -> float:
    """Python loop over ordered pairs i != j, float64 via math.fsum."""
    flat = x.reshape(len(x), -1).double().tolist()
    dists = [
        math.sqrt(math.fsum((a - b) ** 2 for a, b in zip(flat[i], flat[j])))
        for i, j in itertools.permutations(range(len(flat)), 2)
    ]
    return math.fsum(dists) / len(dists)


def test_diversity_matches_a_brute_force_loop():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(17, 1, 4, 5, generator=g)  # images: flattened to 20 dims
    assert diversity(x) == pytest.approx(_brute_diversity(x), rel=1e-12, abs=0)


def test_diversity_known_values():
    # two points 3-4-5 apart: every ordered pair is at distance 5
    assert diversity(torch.tensor([[0.0, 0.0], [3.0, 4.0]])) == pytest.approx(5.0, abs=1e-12)
    # a collapsed batch: exactly zero (no Gram-trick cancellation residue)
    same = torch.full((8, 784), 0.3712)
    assert diversity(same) == 0.0
    # three corners of a unit square: distances 1, 1, sqrt(2), each pair twice
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert diversity(x) == pytest.approx((2 + math.sqrt(2)) / 3, abs=1e-12)


def test_diversity_ratio_separates_collapse_from_healthy():
    g = torch.Generator().manual_seed(1)
    real = torch.rand(64, 784, generator=g)
    healthy = torch.rand(64, 784, generator=g)
    assert 0.95 < diversity(healthy) / diversity(real) < 1.05
    one_mode = real[:1].repeat(64, 1) + 0.01 * torch.randn(64, 784, generator=g)
    assert diversity(one_mode) / diversity(real) < 0.05
    # two exact modes, 32 copies each: 2 * 32 * 32 of the 64 * 63 ordered pairs are at the
    # distance between the modes, the rest at 0 (so a partial collapse reads near 0.5)
    two_modes = real[:2].repeat(32, 1)
    expected = 2 * 32 * 32 / (64 * 63) * (real[0] - real[1]).double().norm().item()
    assert diversity(two_modes) == pytest.approx(expected, rel=1e-9)


def test_diversity_needs_two_samples():
    with pytest.raises(SaddlepointError, match="at least 2 samples"):
        diversity(torch.zeros(1, 3))


# ---- grad_norm


def test_grad_norm_matches_a_hand_computation():
    net = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    with torch.no_grad():
        for p, v in zip(net.parameters(), (0.5, -0.25, 1.0, 2.0)):
            p.fill_(v)
    x = torch.tensor([[1.0, 2.0, 3.0]])
    net(x).sum().backward()
    # hidden h = relu(0.5 * 6 - 0.25) = 2.75 (both units); y = sum(1.0 * h) + 2
    # dy/dW2 = h = [2.75, 2.75]; dy/db2 = 1; dy/dh = 1 -> dy/dW1 = x per unit; dy/db1 = 1
    expected = math.sqrt(2 * 2.75**2 + 1 + 2 * (1 + 4 + 9) + 2)
    norm = grad_norm(net)
    assert norm.dim() == 0
    assert norm.item() == pytest.approx(expected, rel=1e-6)
    # and torch's own total norm agrees
    torch_norm = nn.utils.get_total_norm([p.grad for p in net.parameters()])
    assert norm.item() == pytest.approx(torch_norm.item(), rel=1e-6)


def test_grad_norm_skips_missing_grads_and_is_zero_without_any():
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    assert grad_norm(net).item() == 0.0
    net[1](torch.ones(1, 2)).sum().backward()  # only the second layer gets gradients
    assert net[0].weight.grad is None
    expected = torch.cat([p.grad.flatten() for p in net[1].parameters()]).norm().item()
    assert grad_norm(net).item() == pytest.approx(expected, rel=1e-6)
    assert grad_norm(nn.ReLU()).item() == 0.0  # no parameters at all


# ---- first_non_finite


def test_first_non_finite_names_the_key():
    rec = {"iteration": 5, "d_loss": 1.0, "g_loss": 0.7, "grad_norm_d": 2.0, "grad_norm_g": 1.0}
    assert first_non_finite(rec) is None
    assert first_non_finite({**rec, "g_loss": float("nan")}) == "g_loss"
    assert first_non_finite({**rec, "grad_norm_g": float("inf")}) == "grad_norm_g"
    assert first_non_finite({**rec, "d_loss": -math.inf, "g_loss": math.nan}) == "d_loss"
    # other scalars do not stop a run
    assert first_non_finite({**rec, "diversity_ratio": math.nan}) is None


# ---- HealthMonitor


def _records(n: int, start: int = 1, **values) -> list[dict]:
    return [{"iteration": 100 * (start + i), "d_loss": 0.1, **values} for i in range(n)]


def _feed(monitor: HealthMonitor, records: list[dict], objective: str) -> list[HealthWarning]:
    out = []
    for r in records:
        out += monitor.check(r, objective=objective)
    return out


def test_discriminator_overpowers_minimax_fires_once_after_n_records():
    m = HealthMonitor(patience=3)
    assert _feed(m, _records(2, d_fake=0.001), "minimax") == []  # not before N records
    got = m.check({"iteration": 300, "d_fake": 0.004}, objective="minimax")
    assert [(w.code, w.iteration) for w in got] == [("discriminator_overpowers", 300)]
    assert "--objective non_saturating" in got[0].message
    assert "log(1 - D(G(z)))" in got[0].message and "vanishes" in got[0].message
    assert _feed(m, _records(10, start=4, d_fake=0.0), "minimax") == []  # once per run


def test_overpower_streak_must_be_consecutive():
    m = HealthMonitor(patience=3)
    seq = [0.001, 0.002, 0.5, 0.001, 0.001]  # broken by a healthy record
    assert _feed(m, [{"iteration": i, "d_fake": v} for i, v in enumerate(seq)], "minimax") == []
    assert m.check({"iteration": 9, "d_fake": 0.009}, objective="minimax")[0].iteration == 9
    # at the threshold itself there is no symptom
    m2 = HealthMonitor(patience=1)
    assert m2.check({"iteration": 1, "d_fake": 0.01}, objective="minimax") == []


def test_overpower_other_objectives_get_the_milder_warning():
    m = HealthMonitor(patience=2)
    got = _feed(m, _records(2, d_fake=0.0001), "non_saturating")
    assert [w.code for w in got] == ["discriminator_overpowers"]
    assert "rejects every generated sample" in got[0].message
    assert "non_saturating" not in got[0].message


def test_mode_collapse_fires_once_after_n_records():
    m = HealthMonitor(patience=3, collapse_below=0.5)
    assert _feed(m, _records(1, diversity_ratio=0.9), "hinge") == []  # diverse first
    assert _feed(m, _records(2, start=2, diversity_ratio=0.2), "hinge") == []
    got = m.check({"iteration": 300, "diversity_ratio": 0.31}, objective="hinge")
    assert [(w.code, w.iteration) for w in got] == [("mode_collapse", 300)]
    assert "0.31" in got[0].message and "optim_g.lr" in got[0].message
    assert "train.ema_beta" in got[0].message
    assert _feed(m, _records(5, start=4, diversity_ratio=0.1), "hinge") == []
    # a healthy ratio never fires
    assert _feed(HealthMonitor(patience=1), _records(5, diversity_ratio=0.9), "hinge") == []


def test_a_generator_not_yet_diverse_is_not_a_collapse():
    # the ratio of the demo preset's G, measured every 50 iterations (0.39 at the start)
    demo = [0.391, 0.39, 0.502, 0.416, 0.435, 0.42, 0.573, 0.656, 0.783, 0.742, 0.863]
    m = HealthMonitor(patience=3)
    rising = [{"iteration": 50 * (i + 1), "diversity_ratio": r} for i, r in enumerate(demo)]
    # 0.416, 0.435, 0.42 just after 0.502 are below 0.5 but not below half the best: no alarm
    assert _feed(m, rising, "non_saturating") == []
    assert m.best_ratio == 0.863
    # a real fall after it, below half of 0.863 for three records, is one
    fall = [{"iteration": 600 + 50 * i, "diversity_ratio": r} for i, r in enumerate((0.43, 0.2))]
    assert _feed(m, fall, "non_saturating") == []
    got = m.check({"iteration": 700, "diversity_ratio": 0.25}, objective="non_saturating")
    assert [w.iteration for w in got] == [700] and "its best was 0.86" in got[0].message
    # never reaching the threshold raises nothing, however long
    low = [{"iteration": i, "diversity_ratio": 0.39} for i in range(50)]
    assert _feed(HealthMonitor(patience=3), low, "non_saturating") == []


def test_records_without_a_rules_inputs_skip_it():
    m = HealthMonitor(patience=2)
    # a critic objective: no d_fake, no diversity: nothing fires, nothing breaks
    assert _feed(m, _records(5, g_loss=-3.0), "wasserstein") == []
    # absent keys neither count toward nor reset a streak
    recs = [{"iteration": 1, "d_fake": 0.0}, {"iteration": 2}, {"iteration": 3, "d_fake": 0.0}]
    assert [w.iteration for w in _feed(m, recs, "minimax")] == [3]


def test_both_rules_can_fire_on_one_record():
    m = HealthMonitor(patience=1)
    m.check({"iteration": 6, "diversity_ratio": 1.0}, objective="minimax")
    got = m.check({"iteration": 7, "d_fake": 0.0, "diversity_ratio": 0.0}, objective="minimax")
    assert [w.code for w in got] == ["discriminator_overpowers", "mode_collapse"]


def test_state_dict_round_trip_keeps_raised_codes_and_streaks():
    m = HealthMonitor(patience=3)
    _feed(m, _records(3, d_fake=0.0), "minimax")  # raised
    _feed(m, _records(1, diversity_ratio=1.0), "minimax")  # diverse, then
    _feed(m, _records(2, diversity_ratio=0.1), "minimax")  # two of three
    state = m.state_dict()
    resumed = HealthMonitor(patience=3)
    resumed.load_state_dict(state)
    assert _feed(resumed, _records(5, d_fake=0.0), "minimax") == []  # not re-raised
    got = resumed.check({"iteration": 900, "diversity_ratio": 0.1}, objective="minimax")
    assert [w.code for w in got] == ["mode_collapse"]  # the third of three
    # a fresh monitor without the state would have raised both again
    fresh = HealthMonitor(patience=3)
    fresh.check({"iteration": 0, "diversity_ratio": 1.0}, objective="minimax")
    assert len(_feed(fresh, _records(3, d_fake=0.0, diversity_ratio=0.1), "minimax")) == 2
    # and one that never saw a diverse record would not count the collapse at all
    unarmed = HealthMonitor(patience=3)
    unarmed.load_state_dict({**state, "best_ratio": 0.4})
    assert unarmed.check({"iteration": 900, "diversity_ratio": 0.1}, objective="minimax") == []


def test_warning_is_plain_data():
    w = HealthWarning("mode_collapse", 12, "text")
    assert w.to_dict() == {"code": "mode_collapse", "iteration": 12, "message": "text"}
    assert str(w) == "iteration 12: text"
    with pytest.raises(SaddlepointError, match="patience"):
        HealthMonitor(patience=0)
