"""The non-saturating generator cost of Goodfellow et al. 2014 (section 3), used in practice.

G maximises log D(G(z)) instead of minimising log(1 - D(G(z))): same fixed point, but strong
gradients early in training. The discriminator's loss is the minimax one.

    J(G) = -E_z log D(G(z)) = mean softplus(-l_fake)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def generator_loss(*, fake_logits: torch.Tensor) -> torch.Tensor:
    """-mean log sigmoid(l_fake) = mean softplus(-l_fake).

    d/dl is sigmoid(l) - 1, which tends to -1 (not 0) as D(G(z)) -> 0: it does not saturate.
    """
    return F.softplus(-fake_logits).mean()
