"""The one test every registered generator and discriminator passes, for every image size (28,
32, 64) and channel count (1, 3) and every kind of condition it supports: output shapes,
gradients reaching every parameter, and a safetensors save/load round trip that reproduces the
outputs in eval mode.

Nets are taken from the registries, so a net registered later is covered too: a net missing
from the tables below is held to the unconditional contract on every image size, and its entry
here says what else it supports and what it must refuse (a SaddlepointError, one sentence with
the fix, rather than a network that silently ignores the condition).
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
from safetensors.torch import load_file, save_file

from saddlepoint.config import ModelConfig
from saddlepoint.errors import SaddlepointError
from saddlepoint.nets import DISCRIMINATORS, GENERATORS, build_discriminator, build_generator

# Small widths: every case builds and runs in milliseconds on one CPU thread.
SMALL = ModelConfig(
    z_dim=5,
    g_hidden=(8,),
    d_hidden=(6,),
    d_pieces=2,
    g_channels=4,
    d_channels=4,
    d_code=4,
)
B, K = 6, 10  # batch size, classes
CODES = {"info_categorical": (3,), "info_continuous": 2}  # InfoGAN: one 3-way code, 2 continuous
IMAGES = [(c, s, s) for s in (28, 32, 64) for c in (1, 3)]
POINTS = (2,)

# case -> (model config changes, what the condition is); "points" is the plain case on (2,) data
CASES = {
    "plain": ({}, None),
    "concat": ({"conditional": "concat"}, "labels"),
    "projection": ({"conditional": "projection"}, "labels"),
    "acgan": ({"conditional": "acgan"}, "labels"),
    "codes": (CODES, None),
    "image": ({}, "image"),  # a condition image of the example's shape (a LAPGAN level)
    "spectral": ({"spectral_norm": True}, None),
}
G_CASE_NAMES = ("plain", "concat", "acgan", "codes", "image")
D_CASE_NAMES = ("plain", "concat", "projection", "acgan", "codes", "image", "spectral")

# What each net supports ("points": the plain case on point data as well as images).
SUPPORTS = {
    ("G", "mlp"): {"plain", "concat", "acgan", "codes", "points"},
    ("G", "dcgan"): {"plain", "concat", "acgan", "codes"},
    ("G", "began"): {"plain", "concat", "acgan", "codes"},
    ("G", "lapgan-level"): {"image"},
    ("D", "maxout"): {"plain", "concat", "projection", "spectral", "points"},
    ("D", "dcgan"): {"plain", "concat", "projection", "acgan", "codes", "spectral"},
    ("D", "lapgan-level"): {"image"},
    ("D", "mlp_autoencoder"): {"plain", "spectral", "points"},
    ("D", "conv_autoencoder"): {"plain", "spectral"},
}
# What each net must refuse with a SaddlepointError; cases in neither set are skipped.
REFUSES = {
    ("G", "mlp"): {"image"},
    ("G", "dcgan"): {"image", "points"},
    ("G", "began"): {"image", "points"},
    ("D", "maxout"): {"acgan", "codes", "image"},
    ("G", "lapgan-level"): {"points"},
    ("D", "dcgan"): {"image", "points"},
    ("D", "lapgan-level"): {"points"},
    ("D", "conv_autoencoder"): {"points"},
}
DEFAULT_SUPPORT = {"plain"}  # a net not in the tables: unconditional, on images


def _settle(role: str, name: str, case: str, shape: tuple) -> None:
    """Skip the cases this net neither supports nor refuses."""
    key = "points" if len(shape) == 1 else case
    if len(shape) == 1 and case != "plain":
        pytest.skip("conditions are tested on images")
    supported = SUPPORTS.get((role, name), DEFAULT_SUPPORT)
    if key not in supported and key not in REFUSES.get((role, name), set()):
        pytest.skip(f"{name} does not take the {key} case")


def _must_refuse(role: str, name: str, case: str, shape: tuple) -> bool:
    key = "points" if len(shape) == 1 else case
    return key in REFUSES.get((role, name), set())


def _config(role: str, name: str, case: str) -> ModelConfig:
    changes, _ = CASES[case]
    field = "generator" if role == "G" else "discriminator"
    return dataclasses.replace(SMALL, **{field: name}, **changes)


def _spec(case: str, shape: tuple) -> dict:
    _, condition = CASES[case]
    if condition == "labels":
        return {"num_classes": K}
    if condition == "image":
        return {"condition_shape": shape}
    return {}


def _condition(case: str, shape: tuple, g: torch.Generator) -> torch.Tensor | None:
    _, condition = CASES[case]
    if condition == "labels":
        return torch.arange(B) % K  # (B,) labels
    if condition == "image":
        return torch.rand(B, *shape, generator=g)  # (B, *shape) condition images
    return None


def _call(net, first: torch.Tensor, y: torch.Tensor | None, heads: bool = False):
    fn = net.heads if heads else net
    return fn(first) if y is None else fn(first, y)


def _assert_every_parameter_has_gradient(net: torch.nn.Module) -> None:
    for pname, p in net.named_parameters():
        assert p.grad is not None, f"{pname} got no gradient"
        assert p.grad.abs().sum() > 0, f"{pname} got a zero gradient"


SHAPES = [*IMAGES, POINTS]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("case", G_CASE_NAMES)
@pytest.mark.parametrize("name", list(GENERATORS))
def test_generator(name, case, shape, tmp_path):
    torch.set_num_threads(1)
    _settle("G", name, case, shape)
    m, spec = _config("G", name, case), _spec(case, shape)
    output = GENERATORS.get(name).image_output if len(shape) == 3 else "linear"
    if _must_refuse("G", name, case, shape):
        with pytest.raises(SaddlepointError):
            build_generator(m, shape, None, output, **spec)
        return
    torch.manual_seed(0)
    G = build_generator(m, shape, None, output, **spec)
    g = torch.Generator().manual_seed(1)
    z, y = G.sample_z(B, g), _condition(case, shape, g)
    assert z.shape == (B, G.z_dim)
    if case == "codes":
        assert G.latent.has_codes and G.z_dim == m.z_dim + 3 + 2

    x = _call(G, z, y)  # training mode
    assert x.shape == (B, *shape)
    if G.output == "tanh":
        assert x.min() >= -1 and x.max() <= 1
    elif G.output == "sigmoid":
        assert x.min() >= 0 and x.max() <= 1
    (x * torch.randn(x.shape, generator=g)).sum().backward()
    _assert_every_parameter_has_gradient(G)

    G.eval()
    with torch.no_grad():
        before = _call(G, z, y)
    save_file(G.state_dict(), tmp_path / "g.safetensors")
    torch.manual_seed(123)
    G2 = build_generator(m, shape, None, output, **spec).eval()
    with torch.no_grad():
        assert not torch.equal(_call(G2, z, y), before)  # a fresh net differs ...
        G2.load_state_dict(load_file(tmp_path / "g.safetensors"))
        torch.testing.assert_close(_call(G2, z, y), before, rtol=0, atol=0)  # ... until loaded


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("case", D_CASE_NAMES)
@pytest.mark.parametrize("name", list(DISCRIMINATORS))
def test_discriminator(name, case, shape, tmp_path):
    torch.set_num_threads(1)
    _settle("D", name, case, shape)
    m, spec = _config("D", name, case), _spec(case, shape)
    if _must_refuse("D", name, case, shape):
        with pytest.raises(SaddlepointError):
            build_discriminator(m, shape, **spec)
        return
    torch.manual_seed(0)
    D = build_discriminator(m, shape, **spec)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(B, *shape, generator=g).requires_grad_(True)
    y = _condition(case, shape, g)

    heads = _call(D, x, y, heads=True) if hasattr(D, "heads") else {"logits": _call(D, x, y)}
    assert heads["logits"].shape == (B,)
    if case == "acgan":
        assert heads["class_logits"].shape == (B, K)
    if case == "codes":
        assert heads["code_logits"].shape == (B, 3)
        assert heads["code_mean"].shape == (B, 2)
    loss = sum((v * torch.randn(v.shape, generator=g)).sum() for v in heads.values())
    loss.backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    _assert_every_parameter_has_gradient(D)

    D.eval()
    with torch.no_grad():
        before = _call(D, x, y)
        if hasattr(D, "heads"):  # forward and heads agree on the scores
            torch.testing.assert_close(_call(D, x, y, heads=True)["logits"], before)
    save_file(D.state_dict(), tmp_path / "d.safetensors")
    torch.manual_seed(123)
    D2 = build_discriminator(m, shape, **spec).eval()
    with torch.no_grad():
        assert not torch.equal(_call(D2, x, y), before)
        D2.load_state_dict(load_file(tmp_path / "d.safetensors"))
        torch.testing.assert_close(_call(D2, x, y), before, rtol=0, atol=0)


def test_tables_name_registered_nets():
    """A table entry for a net that is no longer registered is a stale entry."""
    for role, name in [*SUPPORTS, *REFUSES]:
        registry = GENERATORS if role == "G" else DISCRIMINATORS
        assert name in registry, f"{role} {name} is in the tables but not registered"
