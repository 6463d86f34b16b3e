"""AC-GAN's classification term and InfoGAN's mutual-information term against hand-computed
values (each written out with math.log / math.exp, not torch), and their Term factories."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from saddlepoint.config import Config, ModelConfig
from saddlepoint.nets import build_generator
from saddlepoint.objectives.auxiliary import (
    acgan_term,
    classification_loss,
    infogan_term,
    mutual_information_loss,
)
from saddlepoint.objectives.terms import TERMS, TermBatch, build_terms

# Two examples, three classes.
CLASS_LOGITS = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.5]])
LABELS = torch.tensor([0, 2])
# CE = logsumexp(l) - l_y: row 0: log(e^2 + 1 + e^-1) - 2; row 1: log 3 (uniform over 3).
CE_ROWS = (math.log(math.exp(2) + 1 + math.exp(-1)) - 2, math.log(3))


def test_classification_loss_hand_computed():
    expected = sum(CE_ROWS) / 2
    assert abs(expected - 0.634229) < 1e-6  # the figure worked out by hand
    value = classification_loss(CLASS_LOGITS, LABELS).item()
    assert value == pytest.approx(expected, abs=1e-6)


def test_classification_loss_gradient_is_softmax_minus_onehot():
    logits = CLASS_LOGITS.clone().requires_grad_(True)
    classification_loss(logits, LABELS).backward()
    softmax_row0 = [math.exp(v) for v in (2.0, 0.0, -1.0)]
    total = sum(softmax_row0)
    expected_row0 = [(softmax_row0[0] / total - 1) / 2, softmax_row0[1] / total / 2]
    assert logits.grad[0, 0].item() == pytest.approx(expected_row0[0], abs=1e-6)
    assert logits.grad[0, 1].item() == pytest.approx(expected_row0[1], abs=1e-6)
    assert logits.grad[1].tolist() == pytest.approx([1 / 6, 1 / 6, -1 / 3], abs=1e-6)


# InfoGAN: two examples, codes of 2 and 3 values and 2 continuous codes.
CODE_LOGITS = torch.tensor([[0.0, 0.0, 0.0, 0.0, 0.0], [1.0, -1.0, 2.0, 0.0, 0.0]])
CATEGORICAL = [
    torch.tensor([[1.0, 0.0], [0.0, 1.0]]),
    torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]),
]
CONTINUOUS = torch.tensor([[0.5, -1.0], [0.0, 0.25]])
MEANS = torch.tensor([[0.0, 0.0], [1.0, 0.25]])
# code 1: row 0 uniform over 2 -> log 2; row 1 target 1 of logits (1, -1) -> log(e + e^-1) + 1
# code 2: row 0 uniform over 3 -> log 3; row 1 target 0 of (2, 0, 0) -> log(e^2 + 2) - 2
# continuous, unit-variance Gaussian NLL without its constant: 0.5 * sum_j (c - mu)^2 per row:
#   row 0: 0.5 * (0.25 + 1) = 0.625; row 1: 0.5 * (1 + 0) = 0.5
MI_EXPECTED = (
    (math.log(2) + math.log(math.e + math.exp(-1)) + 1) / 2
    + (math.log(3) + math.log(math.exp(2) + 2) - 2) / 2
    + (0.625 + 0.5) / 2
)


def test_mutual_information_loss_hand_computed():
    assert abs(MI_EXPECTED - 2.641612) < 1e-5  # the figure worked out by hand
    value = mutual_information_loss(CODE_LOGITS, MEANS, CATEGORICAL, CONTINUOUS).item()
    assert value == pytest.approx(MI_EXPECTED, abs=1e-5)


def test_mutual_information_bound_is_zero_for_an_uninformed_q():
    """With uniform Q (zero logits) each categorical cross-entropy is log K = H(c): the bound
    L_I = H(c) - CE is 0, as it must be for a Q that has learnt nothing."""
    logits = torch.zeros(4, 5)
    cats = [torch.eye(2)[[0, 1, 1, 0]], torch.eye(3)[[2, 0, 1, 1]]]
    value = mutual_information_loss(logits, torch.zeros(4, 0), cats, torch.zeros(4, 0)).item()
    assert value == pytest.approx(math.log(2) + math.log(3), abs=1e-6)


def test_mutual_information_gradient_pulls_means_to_codes():
    means = MEANS.clone().requires_grad_(True)
    mutual_information_loss(CODE_LOGITS, means, CATEGORICAL, CONTINUOUS).backward()
    # d/dmu of mean_b 0.5 sum_j (c - mu)^2 = (mu - c) / B
    torch.testing.assert_close(means.grad, (MEANS - CONTINUOUS) / 2, rtol=0, atol=1e-6)


def test_acgan_term_weights_real_and_fake_cross_entropies():
    config = Config(model=ModelConfig(conditional="acgan", aux_weight=0.5))
    term = acgan_term(config, None)
    fake_logits = torch.tensor([[0.0, 0.0, 0.0], [0.0, 3.0, 0.0]])
    y_fake = torch.tensor([1, 1])
    ce_fake = (math.log(3) + math.log(math.exp(3) + 2) - 3) / 2
    real = {"logits": torch.zeros(2), "class_logits": CLASS_LOGITS}
    fake = {"logits": torch.zeros(2), "class_logits": fake_logits}
    d_batch = TermBatch(fake=fake, real=real, y_real=LABELS, y_fake=y_fake)
    g_batch = TermBatch(fake=fake, y_fake=y_fake)
    expected_d = 0.5 * (sum(CE_ROWS) / 2 + ce_fake)
    assert term.d_loss(d_batch).item() == pytest.approx(expected_d, abs=1e-6)
    assert term.g_loss(g_batch).item() == pytest.approx(0.5 * ce_fake, abs=1e-6)
    assert acgan_term(Config(model=ModelConfig(conditional="concat")), None) is None


def test_infogan_term_reads_codes_from_z():
    m = ModelConfig(z_dim=3, g_hidden=(4,), info_categorical=(2, 3), info_continuous=2)
    config = Config(model=dataclasses.replace(m, info_weight=2.0))
    G = build_generator(config.model, (1, 4, 4), None, "sigmoid")
    noise = torch.randn(2, 3)
    z = torch.cat([noise, *CATEGORICAL, CONTINUOUS], dim=1)  # [noise | c1 | c2 | continuous]
    term = infogan_term(config, G)
    batch = TermBatch(fake={"code_logits": CODE_LOGITS, "code_mean": MEANS}, z=z)
    assert term.d_loss(batch).item() == pytest.approx(2.0 * MI_EXPECTED, abs=1e-5)
    assert term.g_loss(batch).item() == pytest.approx(2.0 * MI_EXPECTED, abs=1e-5)
    plain = build_generator(ModelConfig(z_dim=3, g_hidden=(4,)), (1, 4, 4), None, "sigmoid")
    assert infogan_term(Config(), plain) is None


def test_terms_are_registered_and_selected_by_config():
    assert "acgan" in TERMS and "infogan" in TERMS
    G = build_generator(ModelConfig(z_dim=3, g_hidden=(4,)), (1, 4, 4), None, "sigmoid")
    names = [t.name for t in build_terms(Config(model=ModelConfig(conditional="acgan")), G)]
    assert "acgan" in names and "infogan" not in names
