"""The loop's refusal of objectives that cannot read their discriminator's scores."""

from __future__ import annotations

import pytest

from saddlepoint.errors import SaddlepointError
from saddlepoint.nets import DISCRIMINATORS
from saddlepoint.objectives import OBJECTIVES
from saddlepoint.objectives.compatibility import check_discriminator


@pytest.mark.parametrize("objective", list(OBJECTIVES))
@pytest.mark.parametrize("discriminator", list(DISCRIMINATORS))
def test_every_pair_is_accepted_or_refused_with_the_fix(objective, discriminator):
    obj = OBJECTIVES.get(objective)
    kind = DISCRIMINATORS.get(discriminator).kind
    if obj.discriminator == kind:
        assert check_discriminator(obj, kind, discriminator) is None
        return
    with pytest.raises(SaddlepointError) as err:
        check_discriminator(obj, kind, discriminator)
    message = str(err.value)
    assert message.count(". ") == 0 and message.endswith(".")  # one sentence
    assert objective in message and discriminator in message
    assert "--set" in message


def test_messages_name_the_fix():
    with pytest.raises(SaddlepointError, match="model.discriminator=mlp_autoencoder"):
        check_discriminator(OBJECTIVES.get("ebgan"), "classifier", "maxout")
    with pytest.raises(SaddlepointError, match="objective.name=ebgan"):
        check_discriminator(OBJECTIVES.get("hinge"), "autoencoder", "conv_autoencoder")
    assert DISCRIMINATORS.get("mlp_autoencoder").kind == "autoencoder"
    assert DISCRIMINATORS.get("conv_autoencoder").kind == "autoencoder"
    assert DISCRIMINATORS.get("maxout").kind == "classifier"
