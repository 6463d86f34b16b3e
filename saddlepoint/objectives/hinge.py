"""Hinge loss of Lim and Ye 2017, "Geometric GAN" (arXiv:1705.02894), as used by Miyato et al.
2018, "Spectral normalization for generative adversarial networks" (ICLR, eq. (16)-(17)).

D(.) is the discriminator's raw output (no sigmoid):

    D descends  E_x relu(1 - D(x)) + E_z relu(1 + D(G(z)))     (a margin of 1 on each side)
    G descends  -E_z D(G(z))

D stops learning from examples already past the margin (D(x) >= 1, D(G(z)) <= -1); G's
gradient per output is the constant -1/m.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def discriminator_loss(*, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """mean relu(1 - l_real) + mean relu(1 + l_fake); (m,) and (n,) outputs -> scalar."""
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def generator_loss(*, fake_logits: torch.Tensor) -> torch.Tensor:
    """-mean l_fake."""
    return -fake_logits.mean()
