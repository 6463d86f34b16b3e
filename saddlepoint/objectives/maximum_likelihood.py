"""The maximum-likelihood generator cost: the third cost of seed 004.

Goodfellow 2014, "On distinguishability criteria for estimating generative models" (ICLR
workshop, arXiv:1412.6515); Goodfellow 2016, "NIPS 2016 tutorial: generative adversarial
networks" (arXiv:1701.00160), section 3.2.3.

    J(G) = -1/2 E_z exp(sigma^-1(D(G(z)))) = -1/2 mean exp(l_fake)

With the optimal discriminator D*(x) = p_data(x) / (p_data(x) + p_g(x)) the logit is
l*(x) = log p_data(x) - log p_g(x), so exp(l*(x)) = p_data(x) / p_g(x) and, holding D fixed,

    grad_theta E_{x~p_g}[-1/2 p_data(x)/p_g(x)] = -1/2 sum_x p_data(x) grad_theta log p_g(x)
                                                = 1/2 grad_theta KL(p_data || p_g):

descending J follows exactly half the gradient of maximum likelihood (tests/objectives/
test_family.py checks this on a softmax over 5 bins and on a reparametrised Gaussian). The
discriminator's loss is the minimax one. Like the minimax cost it saturates where D rejects
samples confidently (exp(l) -> 0 as l -> -inf; the tutorial's figure 16).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# exp overflows float32 at l ~ 88.7. Above this logit (D(G(z)) > 1 - 2e-22) the cost continues
# along its tangent line, exp(c) * (1 + l - c): finite, continuous with a continuous gradient,
# still decreasing in l. Below it the cost is exactly -1/2 exp(l).
EXP_LINEAR_ABOVE = 50.0


def generator_loss(*, fake_logits: torch.Tensor) -> torch.Tensor:
    """-1/2 mean exp(l_fake), with the overflow guard above; (m,) logits -> scalar.

    d/dl of -1/2 exp(l) is -1/2 exp(l) = -1/2 p_data/p_g at D*: samples G under-produces
    (ratio > 1) are pushed hardest.
    """
    c = EXP_LINEAR_ABOVE
    exp_l = torch.exp(fake_logits.clamp(max=c)) * (1 + F.relu(fake_logits - c))  # (m,)
    return -0.5 * exp_l.mean()
