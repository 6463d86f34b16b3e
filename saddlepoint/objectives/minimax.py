"""The minimax game of Goodfellow et al. 2014, eq. (1), written on the discriminator's logits.

    min_G max_D V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))],   D(x) = sigmoid(l(x)).

On logits, stably: log sigmoid(l) = -softplus(-l) and log(1 - sigmoid(l)) = -softplus(l).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def value(*, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """V(D, G) = mean log D(x) + mean log(1 - D(G(z))); at most 0, and -log 4 when D = 1/2."""
    return -F.softplus(-real_logits).mean() - F.softplus(fake_logits).mean()


def discriminator_loss(*, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """D ascends V (Algorithm 1), so it descends -V = mean softplus(-l_real) + mean softplus(l_f).

    This is the binary cross-entropy with real labelled 1 and generated labelled 0.
    """
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(*, fake_logits: torch.Tensor) -> torch.Tensor:
    """G descends E_z log(1 - D(G(z))) = -mean softplus(l_fake): the saturating cost.

    d/dl of log(1 - sigmoid(l)) is -sigmoid(l), which vanishes as D(G(z)) -> 0: early in training,
    when D rejects every sample confidently, G receives almost no gradient (seed 004).
    """
    return -F.softplus(fake_logits).mean()
