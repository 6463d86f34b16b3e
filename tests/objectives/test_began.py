"""BEGAN's losses, the k_t controller, M_global and the state round trip, by hand."""

from __future__ import annotations

import io
import random

import pytest
import torch

from saddlepoint.config import Config, ObjectiveConfig, override
from saddlepoint.errors import SaddlepointError
from saddlepoint.objectives import OBJECTIVES, began

F64 = torch.float64
REAL = [0.5, 1.0, 0.25]  # auto-encoder losses of 3 data points, mean 7/12
FAKE = [3.0, 0.5]  # of 2 samples, mean 1.75


def _t(values: list[float]) -> torch.Tensor:
    return torch.tensor(values, dtype=F64)


def test_losses_by_hand():
    # 7/12 - 0.2 * 1.75 = 0.583333... - 0.35
    d = began.discriminator_loss(real_logits=_t(REAL), fake_logits=_t(FAKE), k=0.2)
    assert d.item() == pytest.approx(7 / 12 - 0.35, abs=1e-12)
    d0 = began.discriminator_loss(real_logits=_t(REAL), fake_logits=_t(FAKE), k=0.0)
    assert d0.item() == pytest.approx(7 / 12, abs=1e-12)
    assert began.generator_loss(fake_logits=_t(FAKE)).item() == pytest.approx(1.75, abs=1e-12)
    with pytest.raises(TypeError):
        began.discriminator_loss(_t(REAL), _t(FAKE), 0.2)  # type: ignore[misc]


def test_sign_conventions():
    # A better D reconstructs data better (lower L(x)) and samples worse (higher L(G(z))).
    real = _t(REAL).requires_grad_(True)
    fake = _t(FAKE).requires_grad_(True)
    g_real, g_fake = torch.autograd.grad(
        began.discriminator_loss(real_logits=real, fake_logits=fake, k=0.4), (real, fake)
    )
    torch.testing.assert_close(g_real, torch.full((3,), 1 / 3, dtype=F64), rtol=0, atol=1e-15)
    torch.testing.assert_close(g_fake, torch.full((2,), -0.4 / 2, dtype=F64), rtol=0, atol=1e-15)
    base = began.discriminator_loss(real_logits=_t(REAL), fake_logits=_t(FAKE), k=0.4).item()
    better = began.discriminator_loss(
        real_logits=_t(REAL) - 0.1, fake_logits=_t(FAKE) + 0.1, k=0.4
    ).item()
    assert better == pytest.approx(base - 0.1 - 0.04, abs=1e-12)
    # at k = 0 D ignores the samples entirely
    fake0 = _t(FAKE).requires_grad_(True)
    (g0,) = torch.autograd.grad(
        began.discriminator_loss(real_logits=_t(REAL), fake_logits=fake0, k=0.0), fake0
    )
    assert g0.abs().max().item() == 0.0
    # G lowers its samples' auto-encoder loss
    fake = _t(FAKE).requires_grad_(True)
    (gg,) = torch.autograd.grad(began.generator_loss(fake_logits=fake), fake)
    torch.testing.assert_close(gg, torch.full((2,), 0.5, dtype=F64), rtol=0, atol=1e-15)


def test_k_update_by_hand_and_clipping():
    bal = began.BeganBalance(gamma=0.5, lambda_k=0.01)
    assert float(bal.k) == 0.0 and bal.d_kwargs()["k"].item() == 0.0
    # L(x) = 0.6, L(G(z)) = 0.1: balance 0.3 - 0.1 = 0.2 -> k = 0.002; M = 0.6 + 0.2
    out = bal.update(_t([0.5, 0.7]), _t([0.1, 0.1, 0.1]))
    assert set(out) == {"k_t", "m_global"}
    assert out["k_t"].item() == pytest.approx(0.002, abs=1e-7)
    assert out["m_global"].item() == pytest.approx(0.8, abs=1e-6)
    assert bal.d_kwargs()["k"].item() == pytest.approx(0.002, abs=1e-7)
    # L(x) = 0.2, L(G(z)) = 0.5: balance 0.1 - 0.5 = -0.4 -> 0.002 - 0.004 < 0, clipped to 0
    out = bal.update(_t([0.2]), _t([0.5]))
    assert out["k_t"].item() == 0.0
    assert out["m_global"].item() == pytest.approx(0.2 + 0.4, abs=1e-6)
    # a huge gain overshoots 1: clipped to 1
    hot = began.BeganBalance(gamma=1.0, lambda_k=1.0)
    assert hot.update(_t([4.0]), _t([1.0]))["k_t"].item() == 1.0
    # the logged k_t is a copy: updating again does not change what was logged
    logged = hot.update(_t([1.0]), _t([1.5]))["k_t"]
    hot.update(_t([1.0]), _t([1.5]))
    assert logged.item() == pytest.approx(0.5, abs=1e-7) and hot.k.item() == pytest.approx(0.0)


def test_k_follows_a_float64_simulation_of_the_controller():
    rng = random.Random(0)
    gamma, lam = 0.7, 0.05
    bal, k = began.BeganBalance(gamma, lam), 0.0
    touched = set()
    for _ in range(200):
        real = [rng.uniform(0.0, 1.0) for _ in range(4)]
        fake = [rng.uniform(0.0, 1.2) for _ in range(4)]
        lr, lf = sum(real) / 4, sum(fake) / 4
        k = min(max(k + lam * (gamma * lr - lf), 0.0), 1.0)
        out = bal.update(_t(real), _t(fake))
        assert out["k_t"].item() == pytest.approx(k, abs=1e-5)
        assert out["m_global"].item() == pytest.approx(lr + abs(gamma * lr - lf), abs=1e-6)
        touched.add("zero" if k == 0 else "inside")
    assert touched == {"zero", "inside"}  # the run visited the clip and the interior


def test_convergence_measure():
    m = began.convergence(torch.tensor(0.4), torch.tensor(0.5), 0.5)
    assert m.item() == pytest.approx(0.4 + 0.3, abs=1e-7)
    m = began.convergence(torch.tensor(0.4), torch.tensor(0.1), 0.5)
    assert m.item() == pytest.approx(0.4 + 0.1, abs=1e-7)


def test_state_round_trip_with_weights_only_load():
    o = ObjectiveConfig(name="began", began_gamma=0.4, began_lambda_k=0.1)
    bal = OBJECTIVES.get("began").state(o)
    assert (bal.gamma, bal.lambda_k) == (0.4, 0.1)
    bal.update(_t([1.0]), _t([0.1]))  # k = 0.1 (0.4 - 0.1) = 0.03
    buf = io.BytesIO()
    torch.save(bal.state_dict(), buf)
    buf.seek(0)
    other = began.BeganBalance.from_config(o)
    other.load_state_dict(torch.load(buf, weights_only=True))
    assert other.k.item() == pytest.approx(0.03, abs=1e-7)
    # the resumed controller continues exactly as the original
    a = bal.update(_t([0.3]), _t([0.05]))["k_t"]
    b = other.update(_t([0.3]), _t([0.05]))["k_t"]
    assert a.item() == b.item()
    obj = OBJECTIVES.get("began")
    assert obj.scores == "energy" and obj.discriminator == "autoencoder"
    d = obj.discriminator_loss(real_logits=_t(REAL), fake_logits=_t(FAKE), **other.d_kwargs())
    assert d.item() == pytest.approx(7 / 12 - other.k.item() * 1.75, abs=1e-7)


@pytest.mark.parametrize(
    "setting",
    ["objective.began_gamma=0", "objective.began_gamma=1.5", "objective.began_lambda_k=-1"],
)
def test_config_range_checks(setting):
    with pytest.raises(SaddlepointError, match=setting.split("=")[0]):
        override(Config(), [setting])
    ok = override(Config(), ["objective.began_gamma=1", "objective.began_lambda_k=0"])
    assert (ok.objective.began_gamma, ok.objective.began_lambda_k) == (1.0, 0.0)
