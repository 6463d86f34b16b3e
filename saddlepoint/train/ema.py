"""An exponential moving average of the generator's weights, used for sampling and evaluation.

After every generator step, theta_ema <- beta * theta_ema + (1 - beta) * theta (Polyak averaging
as used for GANs by Karras et al. 2018 and Yazici et al. 2019). The average lives in its own copy
of the network, in eval mode and without gradients; buffers are copied, not averaged.

With a ramp-up r > 0 the average's horizon 1 / (1 - beta) (in steps) is at most r times the steps
taken so far (Karras et al. 2020, StyleGAN2-ADA's ema_rampup): after t steps

    beta_t = 1 - 1 / max(1, min(1 / (1 - beta), r t))

so early on the average spans the last r t steps and does not drag along the random initial
weights (with beta = 0.999 and no ramp-up they still weigh 0.999^2000 = 13% after 2,000 steps).
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    def __init__(self, module: nn.Module, beta: float, rampup: float = 0.0) -> None:
        if not 0 < beta < 1:
            raise ValueError(f"EMA beta must lie in (0, 1), got {beta}")
        if rampup < 0:
            raise ValueError(f"EMA ramp-up must be >= 0, got {rampup}")
        self.beta = beta  # weight of the old average per update
        self.rampup = rampup  # horizon at most rampup x steps so far (0: no ramp-up)
        self.module = copy.deepcopy(module).eval().requires_grad_(False)

    def beta_at(self, steps: int) -> float:
        """The weight of the old average in the update after `steps` generator steps (>= 1)."""
        if not self.rampup:
            return self.beta
        horizon = max(1.0, min(1.0 / (1.0 - self.beta), self.rampup * steps))
        return 1.0 - 1.0 / horizon

    @torch.no_grad()
    def update(self, source: nn.Module, steps: int = 0) -> None:
        """Average in `source` after its `steps`-th update (steps matters with a ramp-up)."""
        weight = 1.0 - self.beta_at(steps)
        for avg, new in zip(self.module.parameters(), source.parameters(), strict=True):
            avg.lerp_(new.detach(), weight)  # avg + (1 - beta_t) (new - avg)
        for avg, new in zip(self.module.buffers(), source.buffers(), strict=True):
            avg.copy_(new)
