"""Energy-based GAN of Zhao, Mathieu and LeCun 2017, "Energy-based generative adversarial
network" (ICLR, arXiv:1609.03126), eq. (1)-(2) and the pulling-away term of section 2.4.

D's scores are energies D(x) >= 0, an auto-encoder's per-example reconstruction error
(`nets.autoencoder`): low on data, pushed up on samples, but only up to the margin m:

    D descends  L_D = E_x D(x) + E_z [m - D(G(z))]^+          ([a]^+ = max(0, a))
    G descends  L_G = E_z D(G(z))  (+ pt_weight * f_PT(S), the pulling-away term)

f_PT(S) = 1 / (B (B - 1)) sum_{i != j} cos^2(S_i, S_j) over the encoder codes S (B, E) of a
generated minibatch: zero when the codes are mutually orthogonal, one when all are parallel,
so G is pushed towards samples the encoder tells apart (fewer collapsed modes).

Scale of m: our energies are means over features (`nets.autoencoder`), so an untrained D gives
about the data's mean square (0.11 on MNIST in [0, 1]; 2 on ring8); the paper's energies are
norms over whole images, so its margins do not carry over. The default m = 0.3 was chosen on
mnist5k (MLP G 256-256, mlp_autoencoder 256 -> 32 -> 256, Adam 5e-4, batch 64, 1,500
iterations, seed 0; margins 0.1, 0.3, 1, 3, 10): the data's energy settled between m / 5 and
m / 2 (0.04, 0.11, 0.23, 0.85, 2.15), and the sample grids at m = 0.1 and 0.3 showed varied
digit shapes where m = 3 and 10 drew blotted, repeated ones. Parzen estimates (2,000 samples)
did not separate the margins (-52 to -62 nats, standard errors 4-6), so this is a judgement by
eye. Data in [-1, 1] (tanh generators) have four times the squared energy; scale m with it.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from saddlepoint.config import Config, ObjectiveConfig
from saddlepoint.errors import SaddlepointError
from saddlepoint.objectives.terms import TERMS, Term, TermBatch


def discriminator_loss(
    *, real_logits: torch.Tensor, fake_logits: torch.Tensor, margin: float
) -> torch.Tensor:
    """mean E(x) + mean max(0, m - E(G(z))); (m,) and (n,) energies -> scalar.

    At most m + mean E(x); zero when data have zero energy and every sample is past the margin.
    """
    return real_logits.mean() + F.relu(margin - fake_logits).mean()


def generator_loss(*, fake_logits: torch.Tensor) -> torch.Tensor:
    """mean E(G(z)): G lowers the energy of its samples (gradient 1/n per sample, no margin)."""
    return fake_logits.mean()


def pulling_away(embedding: torch.Tensor) -> torch.Tensor:
    """f_PT = 1 / (B (B - 1)) sum_{i != j} (S_i . S_j / (|S_i| |S_j|))^2; (B, E) -> [0, 1]."""
    b = embedding.shape[0]
    if b < 2:
        raise ValueError(f"the pulling-away term needs at least 2 examples, got {b}")
    s = F.normalize(embedding.flatten(1), dim=1)  # (B, E) unit rows (a zero row stays zero)
    cos2 = (s @ s.T).square()  # (B, B) squared cosine similarities
    return (cos2.sum() - cos2.diagonal().sum()) / (b * (b - 1))


class EbganMargin:
    """EBGAN's objective state: nothing changes during training; it hands D's loss the margin."""

    def __init__(self, margin: float) -> None:
        self.margin = margin  # m, in energy units

    @classmethod
    def from_config(cls, o: ObjectiveConfig) -> EbganMargin:
        return cls(o.margin)

    def d_kwargs(self) -> dict[str, Any]:
        return {"margin": self.margin}

    def g_kwargs(self) -> dict[str, Any]:
        return {}

    def update(
        self, real_scores: torch.Tensor, fake_scores: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        return {}

    def state_dict(self) -> dict[str, Any]:
        return {}  # the margin comes from the config, which every checkpoint already holds

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


def pulling_away_term(config: Config, G: nn.Module) -> Term | None:
    """EBGAN-PT: pt_weight * f_PT(codes of G's samples) added to G's loss; None when off."""
    o = config.objective
    if o.name != "ebgan" or o.pt_weight == 0:
        return None
    weight = o.pt_weight

    def g_loss(batch: TermBatch) -> torch.Tensor:
        if "embedding" not in batch.fake:
            raise SaddlepointError(
                "the pulling-away term reads the auto-encoder's code, which this discriminator "
                "does not give: use model.discriminator=mlp_autoencoder or conv_autoencoder, "
                "or --set objective.pt_weight=0."
            )
        return weight * pulling_away(batch.fake["embedding"])

    return Term("pulling_away", g_loss=g_loss)


TERMS.register("pulling_away", pulling_away_term)
