"""The 2014 networks: shapes (images and points), gradients, save/load, the paper's sizes.

tests/nets/test_registered_nets.py runs the shared checks over every registered network."""

from __future__ import annotations

import io
import math

import pytest
import torch

from saddlepoint.config import ModelConfig
from saddlepoint.nets import (
    MLPGenerator,
    build_discriminator,
    build_generator,
)
from saddlepoint.nets.dropout import Dropout, keep_mask
from saddlepoint.nets.maxout import Maxout
from saddlepoint.nets.prior import sample_noise

SMALL = ModelConfig(z_dim=6, g_hidden=(16, 12), d_hidden=(8, 8), d_pieces=3)
SHAPES = [(1, 28, 28), (3, 32, 32), (1, 8, 8), (2,), (1,)]


def _output(shape):
    return "sigmoid" if len(shape) == 3 else "linear"


@pytest.mark.parametrize("name", ["mlp"])
@pytest.mark.parametrize("shape", SHAPES)
def test_generator_shapes_grads_roundtrip(name, shape):
    torch.manual_seed(0)
    G = build_generator(
        ModelConfig(generator=name, **{k: getattr(SMALL, k) for k in ("z_dim", "g_hidden")}),
        shape,
        None,
        _output(shape),
    )
    z = G.sample_z(5)
    x = G(z)
    assert x.shape == (5, *shape)
    if _output(shape) == "sigmoid":
        assert x.min() >= 0 and x.max() <= 1
    x.square().sum().backward()
    for pname, p in G.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, pname
    buf = io.BytesIO()
    torch.save(G.state_dict(), buf)
    buf.seek(0)
    G2 = build_generator(
        ModelConfig(generator=name, z_dim=6, g_hidden=(16, 12)), shape, None, _output(shape)
    )
    G2.load_state_dict(torch.load(buf, weights_only=True))
    torch.testing.assert_close(G2(z), x.detach(), rtol=0, atol=0)


@pytest.mark.parametrize("name", ["maxout", "mlp_autoencoder"])
@pytest.mark.parametrize("shape", SHAPES)
def test_discriminator_shapes_grads_roundtrip(name, shape):
    torch.manual_seed(0)
    cfg = ModelConfig(discriminator=name, d_hidden=(8, 8), d_pieces=3)
    D = build_discriminator(cfg, shape)
    x = torch.rand(6, *shape, requires_grad=True)
    logits = D(x)
    assert logits.shape == (6,)
    logits.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for pname, p in D.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, pname
    D.eval()
    D2 = build_discriminator(cfg, shape).eval()
    D2.load_state_dict(D.state_dict())
    torch.testing.assert_close(D2(x), D(x), rtol=0, atol=0)


def test_paper_sizes_and_initialisation():
    cfg = ModelConfig()
    G = build_generator(cfg, (1, 28, 28), None, "sigmoid")
    D = build_discriminator(cfg, (1, 28, 28))
    g_linear = [m for m in G.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in g_linear] == [
        (100, 1200),
        (1200, 1200),
        (1200, 784),
    ]
    d_maxout = [m for m in D.modules() if isinstance(m, Maxout)]
    assert [(m.linear.in_features, m.units, m.pieces) for m in d_maxout] == [
        (784, 240, 5),
        (240 * 1, 240, 5),
    ]
    for m in g_linear:
        assert m.weight.abs().max() <= 0.05 and m.weight.abs().max() > 0.049
    for m in d_maxout:
        assert m.linear.weight.abs().max() <= 0.005 and m.linear.weight.abs().max() > 0.0049
    drops = [m.p for m in D.modules() if isinstance(m, Dropout)]
    assert drops == pytest.approx([0.2, 0.5, 0.5])


def test_maxout_is_max_over_pieces():
    layer = Maxout(3, units=2, pieces=4)
    x = torch.randn(5, 3)
    h = layer.linear(x).view(5, 2, 4)
    torch.testing.assert_close(layer(x), h.max(dim=2).values)


def test_dropout_mask_draws_units_independently():
    torch.manual_seed(0)
    for n in (1, 3, 5, 7):  # sizes that are not a multiple of the 4 units per 64-bit draw
        m = keep_mask(torch.Size([n]), 0.8, torch.float32)
        assert m.shape == (n,)
        assert all(v == 0.0 or v == pytest.approx(65536 / 52429, rel=1e-7) for v in m.tolist())
    m = keep_mask(torch.Size([1000, 1000]), 0.8, torch.float64) > 0
    assert m.double().mean().item() == pytest.approx(0.8, abs=0.0015)  # std error 0.0004
    lanes = m.view(-1, 4).double()  # the 4 units one 64-bit draw serves
    corr = torch.corrcoef(lanes.t())
    assert (corr - torch.eye(4, dtype=torch.float64)).abs().max() < 0.01  # std error ~0.002
    assert keep_mask(torch.Size([64]), 0.5, torch.float32).unique().tolist() == [0.0, 2.0]


def test_marginal_output_bias_reproduces_mean_image():
    mean = torch.rand(1, 4, 4) * 0.8 + 0.1
    G = MLPGenerator((1, 4, 4), z_dim=3, hidden=(5,), init=0.0, data_mean=mean)
    with torch.no_grad():
        for p in G.out.parameters():
            if p.dim() == 2:
                p.zero_()
    torch.testing.assert_close(G(torch.randn(2, 3))[0], mean, atol=1e-6, rtol=0)


def test_priors_have_unit_variance():
    g = torch.Generator().manual_seed(0)
    u = sample_noise("uniform", 200_000, 2, generator=g)
    assert u.min() >= -math.sqrt(3) and u.max() <= math.sqrt(3)
    assert u.var().item() == pytest.approx(1.0, abs=0.01)
    n = sample_noise("normal", 200_000, 2, generator=g)
    assert n.var().item() == pytest.approx(1.0, abs=0.01)
    with pytest.raises(ValueError):
        sample_noise("cauchy", 1, 1)


def test_dropout_only_in_training_mode():
    D = build_discriminator(ModelConfig(d_hidden=(8,), d_pieces=2), (1, 4, 4))
    x = torch.rand(3, 1, 4, 4)
    D.eval()
    torch.testing.assert_close(D(x), D(x))
    D.train()
    torch.manual_seed(1)
    a = D(x)
    torch.manual_seed(2)
    assert not torch.equal(a, D(x))


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout_keeps_units_with_the_right_probability_and_scale(p):
    torch.manual_seed(0)
    layer = Dropout(p)
    x = torch.ones(400, 1000)
    y = layer(x)
    kept = (y > 0).double().mean().item()
    assert kept == pytest.approx(1 - p, abs=0.003)  # 400k draws: std error ~0.0008
    values = torch.unique(y).tolist()
    q = round((1 - p) * 2**16) / 2**16  # the keep probability, rounded to 2^-16
    assert abs(q - (1 - p)) < 2**-17
    assert values[0] == 0.0 and values[1] == pytest.approx(1 / q) and len(values) == 2
    assert y.mean().item() == pytest.approx(1.0, abs=0.01)  # inverted dropout keeps the mean
    y.requires_grad_(False)
    xg = torch.ones(3, 5, requires_grad=True)
    out = layer(xg)
    out.sum().backward()
    torch.testing.assert_close(xg.grad, (out > 0).float() / (1 - p))
    layer.eval()
    assert torch.equal(layer(x), x)
    with pytest.raises(ValueError):
        Dropout(1.0)
