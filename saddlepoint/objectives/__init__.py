"""Objectives as pure functions of discriminator logits, looked up by name.

Every function takes keyword-only logits (`real_logits=`, `fake_logits=`) and returns a scalar
loss that its player *descends*. The minimax generator cost log(1 - D(G(z))) and the
non-saturating -log D(G(z)) are two different functions with two different names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from saddlepoint.config import ObjectiveConfig
from saddlepoint.objectives import (
    auxiliary,  # registers the acgan and infogan terms in terms.TERMS
    began,
    ebgan,
    hinge,
    least_squares,
    maximum_likelihood,
    minimax,
    non_saturating,
    penalties,
    wasserstein,
)
from saddlepoint.registry import Registry


class ObjectiveState(Protocol):
    """What an objective keeps between steps (BEGAN's k_t) or takes from the config (EBGAN's
    margin). The loop passes d_kwargs()/g_kwargs() to the loss functions, calls update() after
    every D step, logs what update() returns, and saves state_dict() in checkpoints."""

    def d_kwargs(self) -> dict[str, Any]: ...

    def g_kwargs(self) -> dict[str, Any]: ...

    def update(
        self, real_scores: torch.Tensor, fake_scores: torch.Tensor
    ) -> dict[str, torch.Tensor]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class Objective:
    name: str
    description: str  # one line for --help and the docs
    discriminator_loss: Callable[..., torch.Tensor]  # (*, real_logits, fake_logits) -> scalar
    generator_loss: Callable[..., torch.Tensor]  # (*, fake_logits) -> scalar
    scores: str = "logit"  # D's output: "logit" (log-odds), "critic" (real value) or "energy"
    discriminator: str = "classifier"  # the kind of D it needs: "classifier" or "autoencoder"
    state: Callable[[ObjectiveConfig], ObjectiveState] | None = None  # per-run state, if any


OBJECTIVES: Registry[Objective] = Registry("objective")
OBJECTIVES.register(
    "minimax",
    Objective(
        "minimax",
        "eq. (1) as Algorithm 1 writes it: G descends log(1 - D(G(z))) (saturates early)",
        minimax.discriminator_loss,
        minimax.generator_loss,
    ),
)
OBJECTIVES.register(
    "non_saturating",
    Objective(
        "non_saturating",
        "same D; G descends -log D(G(z)) (the paper's practical choice)",
        minimax.discriminator_loss,
        non_saturating.generator_loss,
    ),
)

OBJECTIVES.register(
    "maximum_likelihood",
    Objective(
        "maximum_likelihood",
        "same D; G descends -1/2 exp(logit): at the optimal D, half the max-likelihood gradient",
        minimax.discriminator_loss,
        maximum_likelihood.generator_loss,
    ),
)
OBJECTIVES.register(
    "least_squares",
    Objective(
        "least_squares",
        "LSGAN (Mao et al. 2017): squared errors to targets 1 (real) and 0 (fake) on raw outputs",
        least_squares.discriminator_loss,
        least_squares.generator_loss,
        scores="critic",
    ),
)
OBJECTIVES.register(
    "least_squares_pearson",
    Objective(
        "least_squares_pearson",
        "LSGAN with targets 1 (real), -1 (fake), 0 for G: the Pearson chi^2 coding, eq. (9)",
        least_squares.pearson_discriminator_loss,
        least_squares.pearson_generator_loss,
        scores="critic",
    ),
)
OBJECTIVES.register(
    "wasserstein",
    Objective(
        "wasserstein",
        "WGAN (Arjovsky et al. 2017): critic E f(G(z)) - E f(x); needs clipping or a penalty",
        wasserstein.discriminator_loss,
        wasserstein.generator_loss,
        scores="critic",
    ),
)
OBJECTIVES.register(
    "hinge",
    Objective(
        "hinge",
        "hinge (Lim & Ye 2017; Miyato 2018): D relu(1-D(x)) + relu(1+D(G(z))); G descends -D(G(z))",
        hinge.discriminator_loss,
        hinge.generator_loss,
        scores="critic",
    ),
)
OBJECTIVES.register(
    "ebgan",
    Objective(
        "ebgan",
        "EBGAN (Zhao et al. 2017): D descends E(x) + relu(m - E(G(z))) on auto-encoder energies",
        ebgan.discriminator_loss,
        ebgan.generator_loss,
        scores="energy",
        discriminator="autoencoder",
        state=ebgan.EbganMargin.from_config,
    ),
)
OBJECTIVES.register(
    "began",
    Objective(
        "began",
        "BEGAN (Berthelot et al. 2017): D descends L(x) - k_t L(G(z)), k_t held at gamma balance",
        began.discriminator_loss,
        began.generator_loss,
        scores="energy",
        discriminator="autoencoder",
        state=began.BeganBalance.from_config,
    ),
)

__all__ = [
    "OBJECTIVES",
    "Objective",
    "ObjectiveState",
    "auxiliary",
    "began",
    "ebgan",
    "hinge",
    "least_squares",
    "maximum_likelihood",
    "minimax",
    "non_saturating",
    "penalties",
    "wasserstein",
]
