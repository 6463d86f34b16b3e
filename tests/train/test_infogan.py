"""InfoGAN's mutual-information term reaches both players (Chen et al. 2016, eq. 5: G and Q
both maximise L_I): the G step's gradient in G's weights carries lambda * L_I, the D step's
trains the Q head and D's trunk on it, and the codes Q is scored on are the codes G was fed.
These are the wirings whose loss makes an InfoGAN train fine-looking digits whose code means
nothing; each test fails if one of them is cut."""

from __future__ import annotations

import contextlib
import dataclasses

import pytest
import torch

from saddlepoint.config import Config, ModelConfig
from saddlepoint.nets import build_discriminator, build_generator
from saddlepoint.objectives import OBJECTIVES
from saddlepoint.objectives.auxiliary import infogan_term, mutual_information_loss
from saddlepoint.objectives.terms import TermBatch
from saddlepoint.train.steps import d_step, g_step

SHAPE = (1, 28, 28)
MODEL = ModelConfig(
    generator="dcgan",
    discriminator="dcgan",
    g_channels=4,
    d_channels=4,
    z_dim=6,
    info_categorical=(5,),
    info_continuous=2,
    info_weight=0.7,
)
OBJECTIVE = OBJECTIVES.get("non_saturating")
NO_AUTOCAST = contextlib.nullcontext()


def _players(seed: int = 0):
    torch.manual_seed(seed)
    G = build_generator(MODEL, SHAPE, None, "tanh")
    D = build_discriminator(MODEL, SHAPE)
    return G, D, infogan_term(Config(model=MODEL), G)


def _frozen(params) -> torch.optim.Optimizer:
    """An optimiser that leaves the weights as they are, so the step's gradients can be read."""
    return torch.optim.SGD(params, lr=0.0)


def _grads(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {
        k: (p.grad.clone() if p.grad is not None else torch.zeros_like(p))
        for k, p in module.named_parameters()
    }


def test_g_step_gradient_is_the_adversarial_loss_plus_lambda_times_the_info_term():
    G, D, term = _players()
    z = G.sample_z(16, torch.Generator().manual_seed(1))
    g_step(
        D, _frozen(G.parameters()), OBJECTIVE, fake=G(z), autocast=NO_AUTOCAST, z=z, terms=[term]
    )
    stepped = _grads(G)
    # By hand: the same two losses, differentiated through the same D (train mode).
    G.zero_grad(set_to_none=True)
    heads = D.heads(G(z))
    _, categorical, continuous = G.latent.split(z)
    info = mutual_information_loss(
        heads["code_logits"], heads["code_mean"], categorical, continuous
    )
    (OBJECTIVE.generator_loss(fake_logits=heads["logits"]) + MODEL.info_weight * info).backward()
    by_hand = _grads(G)
    for name in by_hand:
        torch.testing.assert_close(stepped[name], by_hand[name], rtol=1e-4, atol=1e-7)
    # ... and the info term's share is not zero where the codes enter G (their input weights).
    G.zero_grad(set_to_none=True)
    OBJECTIVE.generator_loss(fake_logits=D.heads(G(z))["logits"]).backward()
    adversarial_only = _grads(G)
    first = next(name for name, p in G.named_parameters() if p.dim() == 4)  # (Z, C, s0, s0)
    start = G.latent.noise_dim
    codes = slice(start, start + sum(MODEL.info_categorical) + MODEL.info_continuous)
    share = (stepped[first] - adversarial_only[first])[codes]
    assert share.abs().max() > 1e-6


def test_d_step_trains_the_q_head_on_lambda_times_the_info_term_of_the_fakes():
    G, D, term = _players()
    z = G.sample_z(16, torch.Generator().manual_seed(2))
    real = torch.rand(16, *SHAPE) * 2 - 1
    with torch.no_grad():
        fake = G(z)
    d_step(
        D,
        _frozen(D.parameters()),
        OBJECTIVE,
        real=real,
        fake=fake,
        autocast=NO_AUTOCAST,
        z=z,
        terms=[term],
        separate=True,
    )
    stepped = _grads(D)
    D.zero_grad(set_to_none=True)
    heads = D.heads(fake)
    _, categorical, continuous = G.latent.split(z)
    info = mutual_information_loss(
        heads["code_logits"], heads["code_mean"], categorical, continuous
    )
    (MODEL.info_weight * info).backward()
    q_only = _grads(D)
    q_names = [name for name in q_only if name.startswith("aux.q.")]
    assert q_names
    for name in q_names:  # the adversarial loss does not reach Q: its gradient is L_I's alone
        torch.testing.assert_close(stepped[name], q_only[name], rtol=1e-4, atol=1e-7)
        assert q_only[name].abs().max() > 0
    trunk = next(name for name in q_only if name.startswith("features."))
    assert q_only[trunk].abs().max() > 0  # D's trunk, shared with Q, learns from L_I too


def test_the_term_scores_the_codes_that_g_was_fed():
    """The loop hands the term the z it generated the fakes from: a Q that reads the codes
    back perfectly gets a cross-entropy near 0, one fed other codes gets log K or more."""
    G, _, term = _players()
    z = G.sample_z(64, torch.Generator().manual_seed(3))
    _, (categorical,), continuous = G.latent.split(z)
    assert torch.equal(categorical.sum(1), torch.ones(64))  # one-hot rows
    assert categorical.argmax(1).unique().numel() == 5  # every value drawn
    assert continuous.abs().max() <= 1
    perfect = {"code_logits": 50.0 * categorical, "code_mean": continuous}
    assert term.g_loss(TermBatch(fake=perfect, z=z)).item() == pytest.approx(0.0, abs=1e-6)
    other = G.sample_z(64, torch.Generator().manual_seed(4))
    assert term.g_loss(TermBatch(fake=perfect, z=other)).item() > MODEL.info_weight


@pytest.mark.parametrize("reuse", [True, False])
def test_the_loop_passes_the_fakes_own_codes_to_both_steps(monkeypatch, reuse):
    """One iteration of Algorithm 1: the z each step scores the info term on is the z that
    made that step's fakes (the D step's own with train.reuse_fakes, else fresh noise)."""
    from tiny import tiny_config

    from saddlepoint.train import distributed, loop
    from saddlepoint.train.state import setup

    sets = (
        "model.generator=dcgan",
        "model.discriminator=dcgan",
        "model.g_channels=4",
        "model.d_channels=4",
        "model.info_categorical=5",
        "model.info_continuous=1",
        "train.batch_size=8",
        f"train.reuse_fakes={str(reuse).lower()}",
    )
    s = setup(tiny_config(*sets), distributed.setup("cpu"))
    fed, scored = [], []
    generate = s.generate
    monkeypatch.setattr(s, "generate", lambda z, y: fed.append(z) or generate(z, y))
    (term,) = s.terms
    s.terms = [
        dataclasses.replace(
            term,
            d_loss=lambda b: scored.append(("d", b.z)) or term.d_loss(b),
            g_loss=lambda b: scored.append(("g", b.z)) or term.g_loss(b),
        )
    ]
    loop.iteration(s)
    assert [step for step, _ in scored] == ["d", "g"]
    assert len(fed) == (1 if reuse else 2)
    assert scored[0][1] is fed[0] and scored[1][1] is fed[-1]
    if not reuse:
        assert not torch.equal(fed[0], fed[1])  # the G step draws fresh noise and codes
