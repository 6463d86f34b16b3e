"""Boundary equilibrium GAN of Berthelot, Schumm and Metz 2017, "BEGAN: boundary equilibrium
generative adversarial networks" (arXiv:1703.10717), section 3.3-3.4.

D is an auto-encoder and its scores are the per-example auto-encoder losses L(v) = |v - D(v)|^eta
(`nets.autoencoder`; the paper's eta = 1 is model.d_energy=l1). BEGAN matches the two
distributions of these losses, balancing them with a proportional controller k_t:

    D descends  L_D = L(x) - k_t L(G(z))                              (means over the batch)
    G descends  L_G = L(G(z))
    after each D step:  k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1),  k_0 = 0

gamma = E L(G(z)) / E L(x) in (0, 1] is the diversity ratio the controller holds: lower gamma,
sharper but less varied samples. The convergence measure logged during training is

    M_global = L(x) + |gamma L(x) - L(G(z))|

which falls as the auto-encoder reconstructs data better and the equilibrium is kept.
"""

from __future__ import annotations

from typing import Any

import torch

from saddlepoint.config import ObjectiveConfig


def discriminator_loss(
    *, real_logits: torch.Tensor, fake_logits: torch.Tensor, k: float | torch.Tensor
) -> torch.Tensor:
    """mean L(x) - k_t mean L(G(z)); (m,) and (n,) auto-encoder losses -> scalar."""
    return real_logits.mean() - k * fake_logits.mean()


def generator_loss(*, fake_logits: torch.Tensor) -> torch.Tensor:
    """mean L(G(z))."""
    return fake_logits.mean()


def convergence(real_loss: torch.Tensor, fake_loss: torch.Tensor, gamma: float) -> torch.Tensor:
    """M_global = L(x) + |gamma L(x) - L(G(z))| from the batch means L(x), L(G(z))."""
    return real_loss + (gamma * real_loss - fake_loss).abs()


class BeganBalance:
    """BEGAN's objective state: k_t, the weight of L(G(z)) in D's loss, kept in [0, 1].

    k_t stays a 0-d float32 tensor on the scores' device, so updating it needs no host sync;
    `state_dict` gives plain floats for the checkpoint.
    """

    def __init__(self, gamma: float = 0.5, lambda_k: float = 0.001, k: float = 0.0) -> None:
        self.gamma = gamma  # the diversity ratio E L(G(z)) / E L(x) to hold
        self.lambda_k = lambda_k  # the controller's gain (the paper's 0.001)
        self.k = torch.tensor(float(k))  # k_t, starts at k_0 = 0

    @classmethod
    def from_config(cls, o: ObjectiveConfig) -> BeganBalance:
        return cls(o.began_gamma, o.began_lambda_k)

    def d_kwargs(self) -> dict[str, Any]:
        return {"k": self.k}

    def g_kwargs(self) -> dict[str, Any]:
        return {}

    @torch.no_grad()
    def update(
        self, real_scores: torch.Tensor, fake_scores: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """One controller step from a D step's (m,) and (n,) detached losses; returns what to
        log: "k_t", the value after this step (the one the next D step uses), and "m_global"."""
        real_loss = real_scores.detach().float().mean()  # L(x)
        fake_loss = fake_scores.detach().float().mean()  # L(G(z))
        balance = self.gamma * real_loss - fake_loss  # gamma L(x) - L(G(z))
        self.k = (self.k.to(balance.device) + self.lambda_k * balance).clamp(0.0, 1.0)
        return {"k_t": self.k.clone(), "m_global": convergence(real_loss, fake_loss, self.gamma)}

    def state_dict(self) -> dict[str, Any]:
        return {"k": float(self.k)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.k = torch.tensor(float(state["k"]))
