"""What every generator shares: its latent prior, its output range, and eval-mode sampling.

A generator is a plain module mapping (z, y) to x, where z is the flat latent vector of
`nets.latent.LatentSpec` and y is None, (B,) int64 class labels, or (B, *condition_shape)
images (LAPGAN). Subclasses set `self.latent`, `self.shape`, `self.output`,
`self.num_classes` and implement `forward(z, y=None)`.
"""

from __future__ import annotations

import torch
from torch import nn

from saddlepoint.nets.latent import LatentSpec


class Generator(nn.Module):
    latent: LatentSpec
    shape: tuple[int, ...]  # one example's shape
    output: str  # "sigmoid" ([0, 1]), "tanh" ([-1, 1]) or "linear"
    num_classes: int = 0  # > 0: forward needs y, (B,) labels
    condition_shape: tuple[int, ...] | None = None  # not None: forward needs y, (B, *shape)

    @property
    def z_dim(self) -> int:
        """Length of the flat latent vector (noise and any InfoGAN codes)."""
        return self.latent.dim

    @property
    def prior(self) -> str:
        return self.latent.prior

    def _device(self) -> torch.device:
        return next(self.parameters()).device

    def sample_z(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n draws from the latent prior, (n, z_dim), on the weights' device.

        The draw happens on `generator`'s device (so a CPU generator gives the same z for a
        model on any device) and is then moved.
        """
        device = generator.device if generator is not None else self._device()
        return self.latent.sample(n, generator, device).to(self._device())

    def sample_y(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor | None:
        """n labels uniform over the classes (on the weights' device), or None if unconditional."""
        if not self.num_classes:
            return None
        device = generator.device if generator is not None else self._device()
        y = torch.randint(self.num_classes, (n,), generator=generator, device=device)
        return y.to(self._device())

    @torch.no_grad()
    def sample(
        self,
        n: int,
        generator: torch.Generator | None = None,
        y: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """n samples G(z, y) in G's own output range, (n, *shape); eval mode, no gradients.

        Class-conditional generators draw uniform labels when y is None; image-conditional ones
        (LAPGAN levels) need y.
        """
        if self.condition_shape is not None and y is None:
            raise ValueError("this generator is conditioned on images: pass y")
        was_training = self.training
        self.eval()
        try:
            z = self.sample_z(n, generator)
            if y is None:
                y = self.sample_y(n, generator)
            return self(z, y) if y is not None else self(z)
        finally:
            self.train(was_training)


def to_unit(x: torch.Tensor, output: str) -> torch.Tensor:
    """Samples from a generator with this output kind, mapped to the data's [0, 1] scale."""
    return (x + 1.0) * 0.5 if output == "tanh" else x


def from_unit(x: torch.Tensor, output: str) -> torch.Tensor:
    """Data on [0, 1] mapped into a generator's output range ([-1, 1] for tanh)."""
    return x * 2.0 - 1.0 if output == "tanh" else x
