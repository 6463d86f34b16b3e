"""Call any registered objective on logit-like test values (imported by the objective tests).

Energy objectives (EBGAN, BEGAN) score "more real" with *lower* values, so the tests' logits s
are passed to them as energies -s; their extra keyword arguments (EBGAN's margin, BEGAN's k_t)
get values where every term is active.
"""

from __future__ import annotations

import inspect

import torch

from saddlepoint.objectives import OBJECTIVES

EXTRA = {"margin": 2.0, "k": 0.5}  # margin above every test energy; k_t inside (0, 1)


def d_loss(name: str, *, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    obj = OBJECTIVES.get(name)
    sign = -1.0 if obj.scores == "energy" else 1.0
    params = inspect.signature(obj.discriminator_loss).parameters
    extra = {k: v for k, v in EXTRA.items() if k in params}
    return obj.discriminator_loss(
        real_logits=sign * real_logits, fake_logits=sign * fake_logits, **extra
    )


def g_loss(name: str, *, fake_logits: torch.Tensor) -> torch.Tensor:
    obj = OBJECTIVES.get(name)
    sign = -1.0 if obj.scores == "energy" else 1.0
    return obj.generator_loss(fake_logits=sign * fake_logits)
