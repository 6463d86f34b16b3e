"""Which objectives can read which discriminators' scores.

A classifier D gives logits or critic values (higher = more real); an auto-encoder D gives
energies (its reconstruction error, lower = more real). Pairing the wrong kinds trains, but
the objective then reads every score with the wrong sign or scale, so the loop refuses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from saddlepoint.errors import SaddlepointError

if TYPE_CHECKING:
    from saddlepoint.objectives import Objective


def check_discriminator(objective: Objective, entry_kind: str, discriminator_name: str) -> None:
    """Raise one sentence with the fix unless `objective` can read a D of `entry_kind`."""
    if objective.discriminator == entry_kind:
        return
    if objective.discriminator == "autoencoder":
        raise SaddlepointError(
            f"objective {objective.name} needs an auto-encoder discriminator, but "
            f"{discriminator_name} is a {entry_kind}: add --set model.discriminator="
            "mlp_autoencoder (or conv_autoencoder)."
        )
    raise SaddlepointError(
        f"discriminator {discriminator_name} is an auto-encoder whose scores are energies, "
        f"which objective {objective.name} cannot read: add --set objective.name=ebgan "
        "(or began), or pick a classifier such as --set model.discriminator=maxout."
    )
