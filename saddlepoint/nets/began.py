"""BEGAN's generator (Berthelot, Schumm and Metz 2017, "BEGAN: boundary equilibrium generative
adversarial networks", arXiv:1703.10717, section 3.5 and Figure 1): the same network as the
decoder of its auto-encoder discriminator, with its own weights.

    z (B, Z) -> linear -> (B, n, h0, w0) -> per doubling: 3x3 conv, ELU, nearest 2x upsampling
             -> 3x3 conv, ELU -> 3x3 conv to C channels -> tanh

No batch norm and no fractionally-strided convolutions: G draws with exactly the operations the
auto-encoder reconstructs with, so anything the decoder can produce, G can. (h0, w0) is (H, W)
halved as the auto-encoder halves it (`nets.autoencoder.halvings`): 7x7 for 28, 8x8 for 32 and
64. The paper's output is linear; tanh here keeps samples in the data's [-1, 1] range, as the
other image generators do.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from saddlepoint.errors import SaddlepointError
from saddlepoint.nets.autoencoder import began_decoder, halvings
from saddlepoint.nets.base import Generator
from saddlepoint.nets.latent import LatentSpec


class BeganGenerator(Generator):
    """G(z): (B, latent.dim) -> (B, C, H, W) in [-1, 1] (tanh) or [0, 1] (sigmoid)."""

    def __init__(
        self,
        shape: tuple[int, ...],  # one image, (C, H, W)
        latent: LatentSpec,  # z; the input width is latent.dim
        g_channels: int = 64,  # n: feature maps of every layer (BEGAN's n)
        output: str = "tanh",
    ) -> None:
        super().__init__()
        if len(shape) != 3:
            raise SaddlepointError(
                f"the began generator draws images (C, H, W), but the data are points of shape "
                f"{tuple(shape)}: use model.generator=mlp for point data."
            )
        c, h, w = shape
        steps = halvings(h, w)
        self.latent, self.shape, self.output = latent, tuple(shape), output
        self.base = (g_channels, h >> steps, w >> steps)  # (n, h0, w0)
        self.project = nn.Linear(latent.dim, math.prod(self.base))
        self.decoder = began_decoder(g_channels, c, steps)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.decoder(self.project(z).view(-1, *self.base))  # (B, C, H, W) pre-activation
        if self.output == "tanh":
            return torch.tanh(h)
        if self.output == "sigmoid":
            return torch.sigmoid(h)
        return h
