"""Extra loss terms beside the adversarial objective: AC-GAN's classes, InfoGAN's codes, EBGAN's
pulling-away term. Each reads outputs of the discriminator's `heads(x, y)` and adds to one or both
players' losses, so new models plug into the same Algorithm 1 loop without a copy of it.

A term factory looks at the config and the generator and returns a Term, or None when the term
does not apply to this run; `build_terms` collects the active ones. The D step calls
`d_loss(batch)` with the heads of a real and a generated minibatch; the G step calls
`g_loss(batch)` with the heads of the generated minibatch only (batch.real is None).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from saddlepoint.config import Config
from saddlepoint.registry import Registry


@dataclass
class TermBatch:
    fake: dict[str, torch.Tensor]  # D.heads(G(z, y_fake), y_fake)
    real: dict[str, torch.Tensor] | None = None  # D.heads(x, y_real); None in the G step
    y_real: torch.Tensor | None = None  # (m,) labels or (m, *shape) condition images
    y_fake: torch.Tensor | None = None  # the conditions the fakes were generated with
    z: torch.Tensor | None = None  # (m, z_dim) the latent vectors of the fakes (InfoGAN codes)


@dataclass(frozen=True)
class Term:
    name: str  # logged as term_<name>_d / term_<name>_g
    d_loss: Callable[[TermBatch], torch.Tensor] | None = None  # added to D's loss
    g_loss: Callable[[TermBatch], torch.Tensor] | None = None  # added to G's loss


# name -> factory(config, G) -> Term or None (None: the term does not apply to this run)
TERMS: Registry[Callable[[Config, nn.Module], Term | None]] = Registry("loss term")


def build_terms(config: Config, G: nn.Module) -> list[Term]:
    """The extra terms this run's config and generator ask for, in registry order."""
    return [t for _, factory in TERMS.items() if (t := factory(config, G)) is not None]
