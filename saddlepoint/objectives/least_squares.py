"""Least-squares GAN of Mao et al. 2017, "Least squares generative adversarial networks"
(ICCV, arXiv:1611.04076), eq. (2) with the 0-1 coding a = 0 (fake), b = 1 (real), c = 1, and
with the coding a = -1, b = 1, c = 0 of its eq. (9), for which b - c = 1 and b - a = 2 make
the game minimise the Pearson chi^2 divergence between p_data + p_g and 2 p_g (section 3.2).

D(.) here is the discriminator's raw output (its "logit"), not a sigmoid:

    min_D  1/2 E_x (D(x) - 1)^2 + 1/2 E_z D(G(z))^2
    min_G  1/2 E_z (D(G(z)) - 1)^2

The squares never saturate and penalise samples far from the decision boundary even when they
are on its correct side. Each loss is minimised at its target, so "better" means closer to 1
(real) or 0 (fake), not larger or smaller without end.
"""

from __future__ import annotations

import torch


def discriminator_loss(*, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """1/2 mean (l_real - 1)^2 + 1/2 mean l_fake^2; (m,) and (n,) outputs -> scalar."""
    return 0.5 * (real_logits - 1).square().mean() + 0.5 * fake_logits.square().mean()


def generator_loss(*, fake_logits: torch.Tensor) -> torch.Tensor:
    """1/2 mean (l_fake - 1)^2; d/dl = (l - 1)/m, not vanishing while l_fake < 1."""
    return 0.5 * (fake_logits - 1).square().mean()


def pearson_discriminator_loss(
    *, real_logits: torch.Tensor, fake_logits: torch.Tensor
) -> torch.Tensor:
    """1/2 mean (l_real - 1)^2 + 1/2 mean (l_fake + 1)^2: targets b = 1, a = -1 (eq. 9)."""
    return 0.5 * (real_logits - 1).square().mean() + 0.5 * (fake_logits + 1).square().mean()


def pearson_generator_loss(*, fake_logits: torch.Tensor) -> torch.Tensor:
    """1/2 mean l_fake^2: G pulls its samples to c = 0, halfway between the two targets."""
    return 0.5 * fake_logits.square().mean()
