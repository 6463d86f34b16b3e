"""The in-memory dataset every source returns: one tensor of examples, loaded once.

These datasets are small (MNIST is 200 MB as float32), so each split is decoded once into a
tensor and minibatches are index selections from it: no per-batch decoding, no worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class Dataset:
    name: str  # registry name, e.g. "mnist" or "folder:/data/faces"
    split: str  # "train", "valid" or "test"
    x: torch.Tensor  # images: (N, C, H, W) float32 in [0, 1]; toy densities: (N, D) float32
    y: torch.Tensor | None = None  # (N,) int64 class labels, or None when unlabelled
    classes: tuple[str, ...] | None = None  # class names, indexed by y

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one example: (C, H, W) or (D,)."""
        return tuple(self.x.shape[1:])

    @property
    def is_image(self) -> bool:
        return self.x.dim() == 4

    def __len__(self) -> int:
        return self.x.shape[0]
