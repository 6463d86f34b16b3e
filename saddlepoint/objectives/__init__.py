"""Objectives as pure functions of discriminator logits, looked up by name.

Every function takes keyword-only logits (`real_logits=`, `fake_logits=`) and returns a scalar
loss that its player *descends*. The minimax generator cost log(1 - D(G(z))) and the
non-saturating -log D(G(z)) are two different functions with two different names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from saddlepoint.objectives import minimax, non_saturating
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

__all__ = ["OBJECTIVES", "Objective", "minimax", "non_saturating"]
