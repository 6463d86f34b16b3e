"""An exponential moving average of the generator's weights, used for sampling and evaluation.

After every generator step, theta_ema <- beta * theta_ema + (1 - beta) * theta (Polyak averaging
as used for GANs by Karras et al. 2018 and Yazici et al. 2019). The average lives in its own copy
of the network, in eval mode and without gradients; buffers are copied, not averaged.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    def __init__(self, module: nn.Module, beta: float) -> None:
        if not 0 < beta < 1:
            raise ValueError(f"EMA beta must lie in (0, 1), got {beta}")
        self.beta = beta  # weight of the old average per update
        self.module = copy.deepcopy(module).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, source: nn.Module) -> None:
        for avg, new in zip(self.module.parameters(), source.parameters(), strict=True):
            avg.lerp_(new.detach(), 1.0 - self.beta)  # avg + (1 - beta) (new - avg)
        for avg, new in zip(self.module.buffers(), source.buffers(), strict=True):
            avg.copy_(new)
