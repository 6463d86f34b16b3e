"""Minibatches of real data drawn from an in-memory tensor, resumable from two integers.

Each epoch visits the examples in a fresh random order (the last partial batch is dropped). The
order of epoch e depends only on (seed, e), so the sampler's whole state is (epoch, position).
"""

from __future__ import annotations

import torch


class EpochSampler:
    def __init__(self, n: int, batch_size: int, seed: int, epoch: int = 0, position: int = 0):
        if batch_size > n:
            raise ValueError(f"batch size {batch_size} exceeds the {n} examples")
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.epoch, self.position = epoch, position
        self._order = self._permutation(epoch)

    def _permutation(self, epoch: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        return torch.randperm(self.n, generator=g)

    def next(self) -> torch.Tensor:
        """Indices of the next minibatch, shape (batch_size,)."""
        if self.position + self.batch_size > self.n:
            self.epoch, self.position = self.epoch + 1, 0
            self._order = self._permutation(self.epoch)
        idx = self._order[self.position : self.position + self.batch_size]
        self.position += self.batch_size
        return idx

    @property
    def epochs_done(self) -> float:
        """Fractional epochs consumed so far."""
        return self.epoch + self.position / self.n

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self.position}
