"""Wasserstein GAN of Arjovsky, Chintala and Bottou 2017 (ICML, arXiv:1701.07875), Algorithm 1.

The critic f (the discriminator's raw output, no sigmoid) estimates the Earth-Mover distance
by the Kantorovich-Rubinstein duality, W(p_data, p_g) = sup_{||f||_L <= 1} E_x f(x) - E_z f(G(z)):

    critic descends     E_z f(G(z)) - E_x f(x)     (minus the estimate of W)
    generator descends  -E_z f(G(z))

The Lipschitz constraint is what makes this a distance: either clip the critic's weights to
[-c, c] after every critic step (`clip_weights_`, the paper's c = 0.01) or add
`penalties.gradient_penalty` (WGAN-GP). Without one the critic's loss is unbounded below.
"""

from __future__ import annotations

import torch
from torch import nn


def discriminator_loss(*, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """mean f(G(z)) - mean f(x); (m,) and (n,) critic outputs -> scalar."""
    return fake_logits.mean() - real_logits.mean()


def generator_loss(*, fake_logits: torch.Tensor) -> torch.Tensor:
    """-mean f(G(z)); the gradient per output is the constant -1/m: it never saturates."""
    return -fake_logits.mean()


def clip_weights_(module: nn.Module, c: float) -> None:
    """Clamp every parameter of `module` to [-c, c] in place (Algorithm 1, line 7).

    Every parameter, biases and normalisation scales included, as the paper's code does.
    """
    if not c > 0:
        raise ValueError(f"the clipping bound c must be positive, got {c}")
    with torch.no_grad():
        for p in module.parameters():
            p.clamp_(-c, c)
