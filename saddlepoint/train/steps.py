"""One discriminator update and one generator update: the two halves of Algorithm 1.

Both take precomputed tensors, so the loop decides where real data and G(z) come from.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

import torch
from torch import nn

from saddlepoint.objectives import Objective
from saddlepoint.objectives.wasserstein import clip_weights_


@dataclass
class DStats:
    loss: torch.Tensor  # scalar, detached
    real_logits: torch.Tensor  # (m,), detached
    fake_logits: torch.Tensor  # (m,), detached


def d_step(
    D: nn.Module,
    opt_d: torch.optim.Optimizer,
    objective: Objective,
    *,
    real: torch.Tensor,  # (m, *shape) minibatch of data
    fake: torch.Tensor,  # (m, *shape) G(z), detached from G's graph
    autocast: AbstractContextManager,
    clip_weights: float | None = None,  # WGAN: clamp D's parameters to [-c, c] after the step
    penalty: Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> DStats:
    """Ascend V in theta_d: one step on the discriminator's loss."""
    with autocast:
        logits = D(torch.cat([real, fake]))  # (2m,) one pass: the nets here keep no batch stats
        real_logits, fake_logits = logits.float().chunk(2)
        loss = objective.discriminator_loss(real_logits=real_logits, fake_logits=fake_logits)
    if penalty is not None:  # its double backward runs in float32 even under autocast
        with torch.autocast(real.device.type, enabled=False):
            loss = loss + penalty(D, real.float(), fake.float())
    opt_d.zero_grad(set_to_none=True)
    loss.backward()
    opt_d.step()
    if clip_weights is not None:
        clip_weights_(D, clip_weights)
    return DStats(loss.detach(), real_logits.detach(), fake_logits.detach())


def g_step(
    D: nn.Module,
    opt_g: torch.optim.Optimizer,
    objective: Objective,
    *,
    fake: torch.Tensor,  # (m, *shape) G(z) with its graph
    autocast: AbstractContextManager,
) -> torch.Tensor:
    """Descend the generator's cost in theta_g; D's weights get no gradient (they are frozen)."""
    D.requires_grad_(False)  # skip D's weight gradients: only dL/dx flows back into G
    try:
        with autocast:
            fake_logits = D(fake).float()  # (m,)
            loss = objective.generator_loss(fake_logits=fake_logits)
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()
    finally:
        D.requires_grad_(True)
    return loss.detach()
