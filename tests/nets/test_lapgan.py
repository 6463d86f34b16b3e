"""LAPGAN's networks: the conditional level G and D (shapes, gradients, what they depend on, save
and load) and the coarse-to-fine generator checked against the recurrence written out by hand.

Plain comparisons, not torch.testing.assert_close: its first call costs seconds of imports."""

from __future__ import annotations

import io

import pytest
import torch

from saddlepoint.config import ModelConfig
from saddlepoint.data import pyramid
from saddlepoint.errors import SaddlepointError
from saddlepoint.nets import DISCRIMINATORS, GENERATORS, build_discriminator, build_generator
from saddlepoint.nets.lapgan import LapganGenerator


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)  # the conftest fixture restores the count afterwards


M = ModelConfig(
    generator="lapgan-level", discriminator="lapgan-level", z_dim=6, g_channels=8, d_channels=4
)
SHAPES = [(1, 32, 32), (3, 32, 32), (1, 16, 16), (3, 8, 8), (1, 28, 28)]


def _inputs(shape, n=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    h = (torch.rand(n, *shape, generator=g) - 0.5) * 0.4  # band-pass-like values
    up = torch.rand(n, *shape, generator=g)  # an upsampled coarse image in [0, 1]
    return h, up


def test_registered_as_image_conditional_linear_output():
    assert GENERATORS.get("lapgan-level").image_output == "linear"
    assert DISCRIMINATORS.get("lapgan-level").kind == "classifier"


@pytest.mark.parametrize("shape", SHAPES)
def test_level_generator_shapes_gradients_and_conditioning(shape):
    torch.manual_seed(0)
    G = build_generator(M, shape, condition_shape=shape)
    assert G.output == "linear" and G.condition_shape == shape and G.z_dim == 6
    _, up = _inputs(shape)
    z = G.sample_z(5)
    h = G(z, up)
    assert h.shape == (5, *shape)
    h.square().sum().backward()
    for name, p in G.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    with torch.no_grad():  # the band-pass depends on the noise and on the condition
        assert (G(G.sample_z(5), up) - h).abs().max() > 1e-4
        assert (G(z, torch.rand_like(up)) - h).abs().max() > 1e-4
    assert G.sample(3, y=up[:3]).shape == (3, *shape)


@pytest.mark.parametrize("shape", SHAPES)
def test_level_discriminator_sees_the_level_image(shape):
    torch.manual_seed(0)
    D = build_discriminator(M, shape, condition_shape=shape)
    h, up = _inputs(shape)
    h.requires_grad_(True)
    up.requires_grad_(True)
    logits = D(h, up)
    assert logits.shape == (5,)
    logits.sum().backward()
    assert h.grad.abs().sum() > 0 and up.grad.abs().sum() > 0
    for name, p in D.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    with torch.no_grad():  # the paper's D_k sees h + u(l_{k+1}) = l_k, the level's image
        shift = torch.rand_like(h) * 0.1
        assert (D(h + shift, up - shift) - logits).abs().max() <= 1e-5
        assert (D(h, torch.rand_like(up)) - logits).abs().max() > 1e-4


def test_save_and_load_round_trip():
    shape = (3, 16, 16)
    torch.manual_seed(0)
    G, D = build_generator(M, shape), build_discriminator(M, shape)  # condition = shape
    h, up = _inputs(shape)
    z = G.sample_z(5)
    for net, args in ((G, (z, up)), (D, (h, up))):
        buffer = io.BytesIO()
        torch.save(net.state_dict(), buffer)
        buffer.seek(0)
        torch.manual_seed(1)  # a different initialisation, overwritten by the loaded weights
        twin = (build_generator if net is G else build_discriminator)(M, shape)
        twin.load_state_dict(torch.load(buffer, weights_only=True))
        assert torch.equal(twin(*args), net(*args))


def test_output_kinds_bound_the_band_pass():
    shape = (1, 8, 8)
    _, up = _inputs(shape)
    for output, low, high in (("tanh", -1, 1), ("sigmoid", 0, 1)):
        G = build_generator(M, shape, None, output)
        with torch.no_grad():
            h = G(G.sample_z(5) * 100, up)
        assert low <= h.min() and h.max() <= high


def test_misuse_is_refused():
    with pytest.raises(SaddlepointError, match="takes images"):
        build_generator(M, (2,))
    with pytest.raises(SaddlepointError, match="takes images"):
        build_discriminator(M, (2,))
    with pytest.raises(SaddlepointError, match="condition"):
        build_generator(M, (1, 16, 16), condition_shape=(1, 8, 8))
    G, D = build_generator(M, (1, 8, 8)), build_discriminator(M, (1, 8, 8))
    with pytest.raises(ValueError, match="needs y"):
        G(G.sample_z(2))
    with pytest.raises(ValueError, match="needs y"):
        D(torch.rand(2, 1, 8, 8), torch.rand(2, 1, 4, 4))


def _pyramid_generator(channels=1):
    """Three levels for 28x28 images padded to 32: an 8x8 mlp at the top, then 16 and 32."""
    torch.manual_seed(0)
    top = build_generator(
        ModelConfig(z_dim=5, g_hidden=(16,)), (channels, 8, 8), torch.full((channels, 8, 8), 0.3)
    )
    levels = [build_generator(M, (channels, s, s)) for s in (32, 16)]
    return LapganGenerator([*levels, top], (channels, 28, 28)), levels, top


def test_coarse_to_fine_sampling_is_the_recurrence():
    lapgan, (g0, g1), top = _pyramid_generator()
    assert lapgan.z_dim == 5 + 6 + 6 and lapgan.output == "sigmoid"
    z = lapgan.sample_z(4, torch.Generator().manual_seed(3))
    with torch.no_grad():
        x = lapgan(z)
        # by hand: z = [z_top | z_1 | z_0]; l~_2 = G_2(z_top); l~_k = u(l~_{k+1}) + G_k(.)
        l2 = top(z[:, :5]).clamp(0, 1)  # (4, 1, 8, 8)
        u1 = pyramid.upsample(l2)
        l1 = (u1 + g1(z[:, 5:11], u1)).clamp(0, 1)  # (4, 1, 16, 16)
        u0 = pyramid.upsample(l1)
        l0 = (u0 + g0(z[:, 11:], u0)).clamp(0, 1)  # (4, 1, 32, 32)
    assert x.shape == (4, 1, 28, 28) and 0 <= x.min() and x.max() <= 1
    assert torch.equal(x, l0[..., 2:30, 2:30])
    images = lapgan.pyramid(z)
    assert [tuple(i.shape[-2:]) for i in images] == [(8, 8), (16, 16), (32, 32)]
    a = lapgan.sample(6, torch.Generator().manual_seed(7))
    b = lapgan.sample(6, torch.Generator().manual_seed(7))
    assert torch.equal(a, b) and (a[0] - a[1]).abs().max() > 0


def test_zero_band_pass_gives_the_reconstruction_of_the_top_image():
    lapgan, levels, top = _pyramid_generator(channels=3)
    with torch.no_grad():
        for g in levels:  # G_k = 0: the pyramid adds no detail
            g.net[-1].weight.zero_()
            g.net[-1].bias.zero_()
        z = lapgan.sample_z(3)
        coarse = top(z[:, :5])  # (3, 3, 8, 8) in [0, 1]
        zeros = [torch.zeros(3, 3, s, s) for s in (32, 16)]
        expected = pyramid.crop(pyramid.reconstruct([*zeros, coarse]), (28, 28))
        assert (lapgan(z) - expected).abs().max() <= 1e-6
