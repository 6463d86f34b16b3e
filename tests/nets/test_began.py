"""BEGAN's generator: the auto-encoder's decoder network with its own weights."""

from __future__ import annotations

import pytest
import torch

from saddlepoint.config import ModelConfig
from saddlepoint.errors import SaddlepointError
from saddlepoint.nets import build_discriminator, build_generator

torch.set_num_threads(1)


def _pair(shape):
    m = ModelConfig(
        generator="began",
        discriminator="conv_autoencoder",
        g_channels=4,
        d_channels=4,
        z_dim=6,
        d_code=6,
    )
    return build_generator(m, shape), build_discriminator(m, shape)


def _layout(module):
    return [(type(layer).__name__, tuple(p.shape for p in layer.parameters())) for layer in module]


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (3, 64, 64)])
def test_g_is_the_decoder_network(shape):
    G, D = _pair(shape)
    assert G.base == D.base  # 7x7 for 28, 8x8 for 32 and 64
    assert _layout(G.decoder) == _layout(D.decoder)  # the same layers, shapes and order
    assert G.project.weight.shape == D.project.weight.shape  # code and z both 6 wide
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in G.modules())
    z = G.sample_z(5, torch.Generator().manual_seed(0))
    x = G(z)
    assert x.shape == (5, *shape) and x.abs().max() <= 1.0  # tanh
    assert G.output == "tanh"


def test_g_without_the_decoder_weights_differs_and_with_them_equals_tanh_of_decoding():
    torch.manual_seed(0)
    G, D = _pair((1, 28, 28))
    z = torch.randn(4, 6)
    assert not torch.allclose(G(z), torch.tanh(D.decode(z)))
    G.project.load_state_dict(D.project.state_dict())
    G.decoder.load_state_dict(D.decoder.state_dict())
    torch.testing.assert_close(G(z), torch.tanh(D.decode(z)), rtol=0, atol=0)


def test_points_are_refused_with_the_fix():
    with pytest.raises(SaddlepointError, match="model.generator=mlp"):
        build_generator(ModelConfig(generator="began"), (2,), output="tanh")
