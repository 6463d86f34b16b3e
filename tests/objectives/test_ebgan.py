"""EBGAN's losses and pulling-away term against hand computations; its state and its term."""

from __future__ import annotations

import io
import itertools
import math

import pytest
import torch

from saddlepoint.config import Config, ObjectiveConfig, override
from saddlepoint.errors import SaddlepointError
from saddlepoint.objectives import OBJECTIVES, ebgan
from saddlepoint.objectives.terms import TERMS, TermBatch, build_terms

F64 = torch.float64
REAL = [0.5, 1.0, 0.25]  # energies of 3 data points
FAKE = [3.0, 0.5]  # energies of 2 samples


def _t(values: list[float]) -> torch.Tensor:
    return torch.tensor(values, dtype=F64)


def test_discriminator_loss_by_hand():
    # mean E(x) = 1.75 / 3; relu(2 - [3, 0.5]) = [0, 1.5] -> mean 0.75
    d = ebgan.discriminator_loss(real_logits=_t(REAL), fake_logits=_t(FAKE), margin=2.0)
    assert d.item() == pytest.approx(1.75 / 3 + 0.75, abs=1e-12)
    # margin 0.4: every sample is past it, only the data term remains
    d = ebgan.discriminator_loss(real_logits=_t(REAL), fake_logits=_t(FAKE), margin=0.4)
    assert d.item() == pytest.approx(1.75 / 3, abs=1e-12)
    # zero energy on data and every sample past the margin: the loss is exactly 0
    zero = ebgan.discriminator_loss(
        real_logits=torch.zeros(4, dtype=F64), fake_logits=_t([5.0, 9.0]), margin=5.0
    )
    assert zero.item() == pytest.approx(0.0, abs=1e-15)


def test_generator_loss_by_hand():
    assert ebgan.generator_loss(fake_logits=_t(FAKE)).item() == pytest.approx(1.75, abs=1e-12)


def test_better_discriminator_lowers_its_loss():
    # Energies: a better D gives data *lower* energy and samples *higher* energy (up to m).
    m = 2.0
    base = ebgan.discriminator_loss(real_logits=_t(REAL), fake_logits=_t(FAKE), margin=m).item()
    real_down = ebgan.discriminator_loss(
        real_logits=_t(REAL) - 0.2, fake_logits=_t(FAKE), margin=m
    ).item()
    fake_up = ebgan.discriminator_loss(
        real_logits=_t(REAL), fake_logits=_t(FAKE) + 0.2, margin=m
    ).item()
    assert real_down == pytest.approx(base - 0.2, abs=1e-12)
    assert fake_up == pytest.approx(base - 0.1, abs=1e-12)  # only the sample below m moved
    real = _t(REAL).requires_grad_(True)
    fake = _t(FAKE).requires_grad_(True)
    g_real, g_fake = torch.autograd.grad(
        ebgan.discriminator_loss(real_logits=real, fake_logits=fake, margin=m), (real, fake)
    )
    torch.testing.assert_close(g_real, torch.full((3,), 1 / 3, dtype=F64), rtol=0, atol=1e-15)
    # the sample past the margin (3 > 2) gets no gradient; the one below it -1/n
    torch.testing.assert_close(g_fake, _t([0.0, -0.5]), rtol=0, atol=1e-15)


def test_better_generator_lowers_its_loss():
    fake = _t(FAKE).requires_grad_(True)
    loss = ebgan.generator_loss(fake_logits=fake)
    (grad,) = torch.autograd.grad(loss, fake)
    torch.testing.assert_close(grad, _t([0.5, 0.5]), rtol=0, atol=1e-15)
    lower = ebgan.generator_loss(fake_logits=_t(FAKE) - 0.5).item()
    assert lower == pytest.approx(loss.item() - 0.5, abs=1e-12)


def test_keyword_only():
    x = torch.zeros(3)
    with pytest.raises(TypeError):
        ebgan.discriminator_loss(x, x, 1.0)  # type: ignore[misc]
    with pytest.raises(TypeError):
        ebgan.generator_loss(x)  # type: ignore[misc]


def test_pulling_away_by_hand():
    # S = [(1, 0), (0, 1), (1, 1)]: cos^2 = 0 for (1,2), 1/2 for (1,3) and (2,3);
    # sum over ordered pairs i != j = 2 (0 + 1/2 + 1/2) = 2, over B (B - 1) = 6 -> 1/3
    s = _t([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert ebgan.pulling_away(s).item() == pytest.approx(1 / 3, abs=1e-12)
    # invariant to positive rescaling of each code
    assert ebgan.pulling_away(s * _t([[3.0], [0.1], [7.0]])).item() == pytest.approx(
        1 / 3, abs=1e-12
    )
    # orthogonal codes: 0; parallel (or antiparallel) codes: 1
    assert ebgan.pulling_away(torch.eye(4, dtype=F64)).item() == pytest.approx(0.0, abs=1e-15)
    par = _t([[1.0, 2.0, -1.0]]) * _t([[1.0], [-2.0], [0.5]])
    assert ebgan.pulling_away(par).item() == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(ValueError, match="at least 2"):
        ebgan.pulling_away(torch.ones(1, 3))


def test_pulling_away_matches_a_brute_force_double_loop():
    g = torch.Generator().manual_seed(0)
    s = torch.randn(7, 5, generator=g, dtype=F64)
    total = 0.0
    for i, j in itertools.permutations(range(7), 2):
        a, b = s[i].tolist(), s[j].tolist()
        dot = sum(p * q for p, q in zip(a, b))
        total += (dot / (math.hypot(*a) * math.hypot(*b))) ** 2
    expected = total / (7 * 6)
    assert ebgan.pulling_away(s).item() == pytest.approx(expected, abs=1e-12)
    assert 0.01 < expected < 0.99  # a non-trivial value: the check can fail


def test_pulling_away_gradient_pushes_codes_apart():
    s = _t([[1.0, 0.2], [1.0, -0.1]]).requires_grad_(True)
    before = ebgan.pulling_away(s)
    (grad,) = torch.autograd.grad(before, s)
    after = ebgan.pulling_away((s - 0.1 * grad).detach())
    assert after.item() < before.item() - 1e-3


def test_margin_state_and_round_trip():
    state = OBJECTIVES.get("ebgan").state(ObjectiveConfig(name="ebgan", margin=0.7))
    assert state.d_kwargs() == {"margin": 0.7} and state.g_kwargs() == {}
    assert state.update(torch.ones(3), torch.zeros(3)) == {}
    buf = io.BytesIO()
    torch.save(state.state_dict(), buf)
    buf.seek(0)
    other = ebgan.EbganMargin(0.7)
    other.load_state_dict(torch.load(buf, weights_only=True))
    assert other.d_kwargs() == {"margin": 0.7}
    # the registered losses take the state's keyword arguments
    obj = OBJECTIVES.get("ebgan")
    d = obj.discriminator_loss(real_logits=_t(REAL), fake_logits=_t(FAKE), **state.d_kwargs())
    assert d.item() == pytest.approx(1.75 / 3 + (0 + 0.2) / 2, abs=1e-12)
    assert obj.scores == "energy" and obj.discriminator == "autoencoder"


def _config(**objective) -> Config:
    return Config(objective=ObjectiveConfig(**objective))


def test_pulling_away_term_only_for_ebgan_with_weight():
    assert "pulling_away" in TERMS
    G = torch.nn.Linear(1, 1)
    assert ebgan.pulling_away_term(_config(name="non_saturating"), G) is None
    assert ebgan.pulling_away_term(_config(name="ebgan", pt_weight=0.0), G) is None
    assert [t.name for t in build_terms(_config(name="ebgan", pt_weight=0.3), G)] == [
        "pulling_away"
    ]
    term = ebgan.pulling_away_term(_config(name="ebgan", pt_weight=0.3), G)
    assert term.d_loss is None
    s = _t([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    value = term.g_loss(TermBatch(fake={"logits": torch.zeros(3), "embedding": s}))
    assert value.item() == pytest.approx(0.3 / 3, abs=1e-12)
    with pytest.raises(SaddlepointError, match="pt_weight=0"):
        term.g_loss(TermBatch(fake={"logits": torch.zeros(3)}))


@pytest.mark.parametrize(
    "setting, match",
    [
        ("objective.margin=0", "objective.margin"),
        ("objective.pt_weight=-0.1", "objective.pt_weight"),
        ("model.d_energy=l2", "model.d_energy must be squared or l1"),
        ("model.d_code=0", "model.d_code"),
    ],
)
def test_config_range_checks(setting, match):
    with pytest.raises(SaddlepointError, match=match):
        override(Config(), [setting])
    assert override(Config(), ["objective.margin=0.5"]).objective.margin == 0.5
