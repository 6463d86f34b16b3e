"""The fully connected networks of Goodfellow et al. 2014, "Generative Adversarial Nets".

Generator: z -> ReLU layers -> sigmoid output (pixels in [0, 1]) or a linear output (toy data).
Discriminator: dropout on the input, maxout layers with dropout, one output *logit* (no sigmoid:
objectives work on logits, numerically stable).

The MNIST configuration published with the paper: z of 100 dims ~ U(-sqrt 3, sqrt 3); G 1200 ReLU
-> 1200 ReLU -> 784 sigmoid, weights ~ U(+/-0.05); D maxout 240x5 -> 240x5 -> 1, weights
~ U(+/-0.005), inputs kept with probability 0.8 and hidden units with 0.5.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from saddlepoint.nets.base import Generator
from saddlepoint.nets.dropout import Dropout
from saddlepoint.nets.latent import LatentSpec
from saddlepoint.nets.maxout import Maxout


def _init_uniform(module: nn.Module, scale: float) -> None:
    """Weights ~ U(-scale, scale), biases 0; scale 0 keeps PyTorch's default initialisation."""
    if scale <= 0:
        return
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.uniform_(m.weight, -scale, scale)
            nn.init.zeros_(m.bias)


class MLPGenerator(Generator):
    """G(z): (B, z_dim) -> (B, *shape)."""

    def __init__(
        self,
        shape: tuple[int, ...],  # one example's shape: (C, H, W) for images, (D,) for points
        z_dim: int = 100,  # noise dimensions
        hidden: tuple[int, ...] = (1200, 1200),  # ReLU layer widths
        output: str = "sigmoid",  # "sigmoid" for [0, 1] pixels, "linear" for points in R^D
        init: float = 0.05,  # weights ~ U(-init, init)
        prior: str = "uniform",  # p_z: "uniform" on [-sqrt 3, sqrt 3] or "normal"
        data_mean: torch.Tensor | None = None,  # (*shape) mean of the data: sets the output bias
        latent: LatentSpec | None = None,  # overrides z_dim and prior (InfoGAN codes)
    ) -> None:
        super().__init__()
        self.latent = latent if latent is not None else LatentSpec(z_dim, prior)
        self.shape, self.output = tuple(shape), output
        widths = (self.latent.dim, *hidden)
        layers: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        self.hidden = nn.Sequential(*layers)
        self.out = nn.Linear(widths[-1], math.prod(self.shape))
        _init_uniform(self, init)
        if data_mean is not None:
            self.set_output_bias(data_mean)

    @torch.no_grad()
    def set_output_bias(self, data_mean: torch.Tensor) -> None:
        """Start the output at the data's mean: logit(mean) for sigmoid, mean for linear.

        The published 2014 configuration does this, so the first samples look like the mean
        digit rather than grey noise. Means are clamped to [1e-3, 1 - 1e-3] before the logit.
        """
        mean = data_mean.reshape(-1).to(self.out.bias)
        if self.output == "sigmoid":
            mean = torch.logit(mean.clamp(1e-3, 1 - 1e-3))
        elif self.output == "tanh":
            mean = torch.atanh(mean.clamp(-1 + 2e-3, 1 - 2e-3))
        self.out.bias.copy_(mean)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.out(self.hidden(z))  # (B, prod(shape))
        if self.output == "sigmoid":
            h = torch.sigmoid(h)
        elif self.output == "tanh":
            h = torch.tanh(h)
        return h.view(-1, *self.shape)  # (B, *shape)


class MaxoutDiscriminator(nn.Module):
    """D(x): (B, *shape) -> (B,) logits; sigmoid(logit) is the probability that x is real."""

    def __init__(
        self,
        shape: tuple[int, ...],  # one example's shape
        hidden: tuple[int, ...] = (240, 240),  # maxout units per layer
        pieces: int = 5,  # linear pieces per maxout unit
        keep_input: float = 0.8,  # dropout: probability of keeping each input unit
        keep_hidden: float = 0.5,  # dropout: probability of keeping each hidden unit
        init: float = 0.005,  # weights ~ U(-init, init)
    ) -> None:
        super().__init__()
        self.shape = tuple(shape)
        widths = (math.prod(self.shape), *hidden)
        layers: list[nn.Module] = [Dropout(1 - keep_input)]
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [Maxout(a, b, pieces), Dropout(1 - keep_hidden)]
        self.features = nn.Sequential(*layers)
        self.out = nn.Linear(widths[-1], 1)
        _init_uniform(self, init)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.features(x.reshape(x.shape[0], -1))  # (B, hidden[-1])
        return self.out(h).squeeze(1)  # (B,)
