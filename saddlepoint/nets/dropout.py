"""Inverted dropout (Srivastava et al. 2014): keep each unit with probability 1 - p, scale the
kept ones by 1 / (1 - p), identity in eval mode.

Written by hand for one measured reason: on CPUs, PyTorch's `nn.Dropout` draws its mask with
`bernoulli_`, which uses MKL's vectorised generator only on Intel processors and otherwise draws
one value at a time. Drawing uniforms and comparing them with the keep probability gives the same
Bernoulli(1 - p) mask and made whole 2014-MLP training iterations 1.08-1.11x faster on the
AMD EPYC this project is benchmarked on (benchmarks/README.md, "Training throughput"). On other
devices it defers to `F.dropout`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Dropout(nn.Module):
    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout probability must lie in [0, 1), got {p}")
        self.p = p  # probability of dropping a unit

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if x.device.type != "cpu":
            return F.dropout(x, self.p, training=True)
        keep = 1.0 - self.p
        mask = torch.empty_like(x).uniform_().lt_(keep).mul_(1.0 / keep)  # 0 or 1/keep
        return x * mask

    def extra_repr(self) -> str:
        return f"p={self.p}"
