"""Auto-encoder discriminators: shapes, the energy formula, gradients, sizes and save/load."""

from __future__ import annotations

import io

import pytest
import torch

from saddlepoint.config import ModelConfig
from saddlepoint.errors import SaddlepointError
from saddlepoint.nets import DISCRIMINATORS, build_discriminator
from saddlepoint.nets.autoencoder import ConvAutoencoder, MLPAutoencoder, halvings

torch.set_num_threads(1)


def _mlp(shape, energy="squared"):
    m = ModelConfig(discriminator="mlp_autoencoder", d_hidden=(12, 10), d_code=5, d_energy=energy)
    return build_discriminator(m, shape)


def _conv(shape, energy="squared"):
    m = ModelConfig(discriminator="conv_autoencoder", d_channels=4, d_code=6, d_energy=energy)
    return build_discriminator(m, shape)


def _independent_energy(x, reconstruction, energy):
    """Per-example mean over features, written out with a loop over examples."""
    out = []
    for xi, ri in zip(x.double(), reconstruction.double()):
        d = (xi - ri).reshape(-1)
        out.append((d * d).sum() / d.numel() if energy == "squared" else d.abs().sum() / d.numel())
    return torch.stack(out)


@pytest.mark.parametrize("energy", ["squared", "l1"])
@pytest.mark.parametrize(
    "build, shape",
    [
        (_mlp, (1, 28, 28)),
        (_mlp, (3, 32, 32)),
        (_mlp, (2,)),
        (_mlp, (1,)),
        (_conv, (1, 28, 28)),
        (_conv, (3, 32, 32)),
        (_conv, (1, 64, 64)),
        (_conv, (3, 64, 64)),
        (_conv, (1, 8, 8)),
    ],
)
def test_shapes_energy_and_gradients(build, shape, energy):
    torch.manual_seed(0)
    D = build(shape, energy)
    x = torch.rand(3, *shape, requires_grad=True)
    heads = D.heads(x)
    code = 5 if build is _mlp else 6
    assert heads["logits"].shape == (3,)
    assert heads["embedding"].shape == (3, code)
    assert heads["reconstruction"].shape == (3, *shape)
    expected = _independent_energy(x.detach(), heads["reconstruction"].detach(), energy)
    torch.testing.assert_close(heads["logits"].detach().double(), expected, rtol=1e-5, atol=1e-7)
    assert (heads["logits"] > 0).all()
    torch.testing.assert_close(D(x), heads["logits"], rtol=0, atol=0)  # forward = the energy
    D(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for name, p in D.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_halvings_and_base_sizes():
    assert [halvings(s, s) for s in (28, 32, 64, 8, 7)] == [2, 2, 3, 0, 0]
    assert halvings(64, 32) == 2  # stops when the smaller side reaches 8
    assert _conv((1, 28, 28)).base == (4, 7, 7)
    assert _conv((3, 32, 32)).base == (4, 8, 8)
    assert _conv((3, 64, 64)).base == (4, 8, 8)
    # BEGAN's widths: n, 2n, ... (l + 1) n in the encoder, n throughout the decoder
    convs = [m for m in _conv((1, 64, 64)).encoder if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [4, 4, 8, 8, 12, 12, 16, 16]
    assert [c.stride[0] for c in convs] == [1, 1, 2, 1, 2, 1, 2, 1]


def test_registered_as_autoencoders_with_errors_that_name_the_fix():
    for name in ("mlp_autoencoder", "conv_autoencoder"):
        assert DISCRIMINATORS.get(name).kind == "autoencoder"
    with pytest.raises(SaddlepointError, match="mlp_autoencoder"):
        _conv((2,))
    with pytest.raises(SaddlepointError, match="d_energy"):
        MLPAutoencoder((2,), energy="l3")
    m = _mlp((1, 28, 28))
    assert [lin.out_features for lin in m.encoder if isinstance(lin, torch.nn.Linear)] == [
        12,
        10,
        5,
    ]
    assert [lin.out_features for lin in m.decoder if isinstance(lin, torch.nn.Linear)] == [
        10,
        12,
        784,
    ]


def test_energy_is_zero_for_a_perfect_reconstruction():
    # A 2-D MLP auto-encoder whose layers are the identity (ELU is the identity on x > 0).
    D = MLPAutoencoder((2,), hidden=(2,), code=2)
    with torch.no_grad():
        for layer in [*D.encoder, *D.decoder]:
            if isinstance(layer, torch.nn.Linear):
                layer.weight.copy_(torch.eye(2))
                layer.bias.zero_()
    x = torch.tensor([[0.5, 2.0], [1.0, 3.0]])
    assert D(x).abs().max().item() == 0.0
    # and for a point off it (x < 0 goes through ELU), the squared error by hand
    y = torch.tensor([[-1.0, 1.0]])
    e = torch.expm1(torch.tensor(-1.0))  # ELU(-1) = e^-1 - 1, applied twice on the way
    r = torch.expm1(e)
    assert D(y).item() == pytest.approx(((r + 1.0) ** 2 / 2).item(), abs=1e-6)


def test_training_lowers_the_energy_of_data():
    torch.manual_seed(0)
    D = ConvAutoencoder((1, 8, 8), channels=4, code=8)
    x = torch.rand(16, 1, 8, 8)
    opt = torch.optim.Adam(D.parameters(), lr=3e-3)
    before = D(x).mean().item()
    for _ in range(60):
        loss = D(x).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert D(x).mean().item() < 0.5 * before


@pytest.mark.parametrize("build, shape", [(_mlp, (1, 28, 28)), (_conv, (3, 32, 32))])
def test_save_load_round_trip(build, shape):
    torch.manual_seed(0)
    D = build(shape).eval()
    buf = io.BytesIO()
    torch.save(D.state_dict(), buf)
    buf.seek(0)
    torch.manual_seed(1)
    D2 = build(shape).eval()
    x = torch.rand(4, *shape)
    assert not torch.equal(D2(x), D(x))
    D2.load_state_dict(torch.load(buf, weights_only=True))
    torch.testing.assert_close(D2(x), D(x), rtol=0, atol=0)
