"""Spectral normalisation: sigma_max of every normalised weight is 1, D is 1-Lipschitz, and it
survives dropout, save/load and weights-only loading."""

from __future__ import annotations

import io

import pytest
import torch
from torch import nn

from saddlepoint.config import ModelConfig
from saddlepoint.nets import build_discriminator
from saddlepoint.nets.maxout import Maxout
from saddlepoint.nets.spectral import LAYERS, apply_spectral_norm, spectral_layers

torch.set_num_threads(1)

MAXOUT_SN = ModelConfig(d_hidden=(16, 12), d_pieces=3, spectral_norm=True)


def _matrix(layer: nn.Module) -> torch.Tensor:
    """The effective weight as the matrix spectral norm divides by: (out, in * kernel)."""
    w = layer.weight.detach()
    if isinstance(layer, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        w = w.transpose(0, 1)  # (in, out, k, k) -> (out, in, k, k)
    return w.reshape(w.shape[0], -1).double()


def _iterate(D: nn.Module, x: torch.Tensor, times: int) -> None:
    """Training-mode forward passes: one power iteration per layer each."""
    D.train()
    with torch.no_grad():
        for _ in range(times):
            D(x)
    D.eval()


def _mixed() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(2, 6, 3, padding=1),
        nn.ReLU(),
        nn.ConvTranspose2d(6, 5, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(5 * 8 * 8, 7),
        nn.ReLU(),
        nn.Linear(7, 1),
    )


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: build_discriminator(MAXOUT_SN, (1, 8, 8)), (1, 8, 8)),
        (
            lambda: build_discriminator(
                ModelConfig(
                    discriminator="conv_autoencoder", d_channels=4, d_code=6, spectral_norm=True
                ),
                (1, 8, 8),
            ),
            (1, 8, 8),
        ),
        (lambda: apply_spectral_norm(_mixed()), (2, 4, 4)),
    ],
)
def test_largest_singular_value_is_one_after_power_iterations(make, shape):
    torch.manual_seed(0)
    D = make()
    layers = spectral_layers(D)
    assert len(layers) == sum(isinstance(m, LAYERS) for m in D.modules()) >= 3
    _iterate(D, torch.rand(2, *shape), 200)
    for layer in layers:
        sigma = torch.linalg.matrix_norm(_matrix(layer), 2).item()
        assert abs(sigma - 1.0) < 2e-3, (layer, sigma)
        raw = layer.parametrizations.weight.original.detach()
        raw_sigma = torch.linalg.matrix_norm(_matrix_like(layer, raw), 2).item()
        assert abs(raw_sigma - 1.0) > 0.05  # the raw weight was not already normalised


def _matrix_like(layer: nn.Module, w: torch.Tensor) -> torch.Tensor:
    if isinstance(layer, nn.ConvTranspose2d):
        w = w.transpose(0, 1)
    return w.reshape(w.shape[0], -1).double()


def test_maxout_discriminator_is_one_lipschitz():
    # Linear layers of sigma 1 and maxout (1-Lipschitz in L2) make D(x) 1-Lipschitz in eval mode.
    torch.manual_seed(0)
    D = build_discriminator(MAXOUT_SN, (1, 8, 8))
    _iterate(D, torch.rand(4, 1, 8, 8), 300)
    a, b = torch.rand(200, 1, 8, 8), torch.rand(200, 1, 8, 8)
    with torch.no_grad():
        ratio = (D(a) - D(b)).abs() / (a - b).flatten(1).norm(dim=1)
    assert ratio.max().item() <= 1.0 + 1e-3
    # without spectral norm the same D (weights ~ U(-1, 1)) is far from that bound
    plain = build_discriminator(
        ModelConfig(d_hidden=(16, 12), d_pieces=3, d_init=1.0), (1, 8, 8)
    ).eval()
    with torch.no_grad():
        plain_ratio = (plain(a) - plain(b)).abs() / (a - b).flatten(1).norm(dim=1)
    assert plain_ratio.max().item() > 1.5


def test_every_maxout_linear_is_normalised_and_applying_twice_changes_nothing():
    D = build_discriminator(MAXOUT_SN, (1, 8, 8))
    maxouts = [m for m in D.modules() if isinstance(m, Maxout)]
    assert len(maxouts) == 2
    assert all(m.linear in spectral_layers(D) for m in maxouts)
    keys = set(D.state_dict())
    apply_spectral_norm(D)
    assert set(D.state_dict()) == keys
    assert "features.1.linear.parametrizations.weight.original" in keys
    assert "features.1.linear.parametrizations.weight.0._u" in keys
    assert not spectral_layers(build_discriminator(ModelConfig(d_hidden=(4,)), (1, 8, 8)))


def test_dropout_in_training_mode_with_spectral_norm():
    torch.manual_seed(0)
    D = build_discriminator(MAXOUT_SN, (1, 8, 8)).train()
    x = torch.rand(5, 1, 8, 8)
    u = D.features[1].linear.parametrizations.weight[0]._u.clone()
    torch.manual_seed(1)
    a = D(x)
    assert not torch.equal(
        D.features[1].linear.parametrizations.weight[0]._u, u
    )  # a power iteration ran
    torch.manual_seed(2)
    b = D(x)
    assert not torch.equal(a, b)  # dropout masks differ
    (a.sum() + b.sum()).backward()
    for name, p in D.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    # eval mode: no power iteration, no dropout, deterministic
    D.eval()
    u = D.features[1].linear.parametrizations.weight[0]._u.clone()
    torch.testing.assert_close(D(x), D(x), rtol=0, atol=0)
    assert torch.equal(D.features[1].linear.parametrizations.weight[0]._u, u)


@pytest.mark.parametrize("name", ["maxout", "mlp_autoencoder", "conv_autoencoder"])
def test_save_load_round_trip_with_weights_only(name):
    cfg = ModelConfig(
        discriminator=name,
        d_hidden=(16, 12),
        d_pieces=3,
        d_channels=4,
        d_code=6,
        spectral_norm=True,
    )
    torch.manual_seed(0)
    D = build_discriminator(cfg, (1, 16, 16))
    _iterate(D, torch.rand(4, 1, 16, 16), 5)  # move u, v away from their initial values
    buf = io.BytesIO()
    torch.save(D.state_dict(), buf)
    buf.seek(0)
    torch.manual_seed(1)
    D2 = build_discriminator(cfg, (1, 16, 16)).eval()
    x = torch.rand(3, 1, 16, 16)
    assert not torch.equal(D2(x), D(x))
    D2.load_state_dict(torch.load(buf, weights_only=True))
    torch.testing.assert_close(D2(x), D(x), rtol=0, atol=0)
