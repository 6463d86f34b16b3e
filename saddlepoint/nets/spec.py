"""What a network builder needs to know about the data: one example's shape and the conditions.

Every builder in `nets.GENERATORS` / `nets.DISCRIMINATORS` is called as builder(model_config,
spec), so image size, channel count and class count are parameters, never one class per size.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

OUTPUTS = ("sigmoid", "tanh", "linear")


@dataclass(frozen=True)
class NetSpec:
    shape: tuple[int, ...]  # one example: (C, H, W) for images, (D,) for points
    output: str = "sigmoid"  # G's output: "sigmoid" [0, 1], "tanh" [-1, 1] or "linear" (points)
    num_classes: int = 0  # > 0: class-conditional, y is (B,) int64 labels in [0, num_classes)
    condition_shape: tuple[int, ...] | None = None  # image condition (LAPGAN): y (B, *shape)
    data_mean: torch.Tensor | None = None  # (*shape) mean training example, in G's output range

    @property
    def is_image(self) -> bool:
        return len(self.shape) == 3

    @property
    def conditional(self) -> bool:
        return self.num_classes > 0 or self.condition_shape is not None
