"""Inverted dropout (Srivastava et al. 2014): keep each unit with probability 1 - p, scale the
kept ones by 1 / (1 - p), identity in eval mode.

Written by hand for one measured reason: on CPUs, PyTorch's `nn.Dropout` draws its mask with
`bernoulli_`, which uses MKL's vectorised generator only on Intel processors and otherwise draws
one value at a time, and even `uniform_` spends one 32-bit draw of its Mersenne Twister per unit.
Here one 64-bit draw serves four units: it is split into four 16-bit integers, each compared
with the keep probability rounded to a multiple of 2^-16 (0.8 becomes 0.8000031; 0.5 is exact;
`uniform_` rounds to 2^-24). On the 2-core AMD EPYC this project is benchmarked on, a mask for
a 200 x 784 batch takes about 220 us this way, 610-680 us with `uniform_` and 1,370 us with
`bernoulli_` (benchmarks/README.md, "Training throughput"). On other devices it defers to
`F.dropout`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

_LEVELS = 1 << 16  # 16-bit integers per comparison


def keep_mask(shape: torch.Size, keep: float, dtype: torch.dtype) -> torch.Tensor:
    """A CPU tensor of `shape`: 1 / q with probability q, else 0, where q is `keep` rounded to
    a multiple of 2^-16 (so the mask's mean is exactly 1)."""
    levels = min(max(round(keep * _LEVELS), 1), _LEVELS)
    n = shape.numel()
    words = torch.empty((n + 3) // 4, dtype=torch.int64).random_(-(2**63), None)
    lanes = words.view(torch.int16)[:n].view(shape)  # uniform on [-32768, 32767]
    mask = torch.empty(shape, dtype=dtype)
    torch.lt(lanes, levels - _LEVELS // 2, out=mask)  # P = levels / 2^16
    return mask.mul_(_LEVELS / levels)


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
        return x * keep_mask(x.shape, 1.0 - self.p, x.dtype)

    def extra_repr(self) -> str:
        return f"p={self.p}"
