"""Objectives as pure functions of discriminator logits, looked up by name.

Every function takes keyword-only logits (`real_logits=`, `fake_logits=`) and returns a scalar
loss that its player *descends*. The minimax generator cost log(1 - D(G(z))) and the
non-saturating -log D(G(z)) are two different functions with two different names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from saddlepoint.objectives import (
    hinge,
    least_squares,
    maximum_likelihood,
    minimax,
    non_saturating,
    penalties,
    wasserstein,
)
from saddlepoint.registry import Registry


@dataclass(frozen=True)
class Objective:
    name: str
    description: str  # one line for --help and the docs
    discriminator_loss: Callable[..., torch.Tensor]  # (*, real_logits, fake_logits) -> scalar
    generator_loss: Callable[..., torch.Tensor]  # (*, fake_logits) -> scalar


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
    ),
)
OBJECTIVES.register(
    "wasserstein",
    Objective(
        "wasserstein",
        "WGAN (Arjovsky et al. 2017): critic E f(G(z)) - E f(x); needs clipping or a penalty",
        wasserstein.discriminator_loss,
        wasserstein.generator_loss,
    ),
)
OBJECTIVES.register(
    "hinge",
    Objective(
        "hinge",
        "hinge (Lim & Ye 2017; Miyato 2018): D relu(1-D(x)) + relu(1+D(G(z))); G descends -D(G(z))",
        hinge.discriminator_loss,
        hinge.generator_loss,
    ),
)

__all__ = [
    "OBJECTIVES",
    "Objective",
    "hinge",
    "least_squares",
    "maximum_likelihood",
    "minimax",
    "non_saturating",
    "penalties",
    "wasserstein",
]
