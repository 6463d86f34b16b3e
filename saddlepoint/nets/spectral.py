"""Spectral normalisation (Miyato, Kataoka, Koyama and Yoshida 2018, "Spectral normalization for
generative adversarial networks", ICLR, arXiv:1802.05957), as a switch on any discriminator.

Every weight W of a linear or convolutional layer is replaced by W / sigma(W), where sigma(W) is
the largest singular value of W reshaped to (out, in * k_h * k_w) (eq. (8)), estimated by one
power iteration per training-mode forward pass (Algorithm 1):

    v <- W^T u / ||W^T u||,   u <- W v / ||W v||,   sigma(W) ~= u^T W v

so each layer's Lipschitz constant is about 1 and D's is bounded by the product over layers
(times 1 for ReLU, ELU, maxout and max-pooling). PyTorch's parametrisation keeps the raw
weight as `<layer>.parametrizations.weight.original` and the vectors as `..._u`/`..._v` in the
state dict (plain tensors: `torch.load(weights_only=True)` reads them); in eval mode the stored
u, v are used without iterating, so outputs are deterministic.
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

# Layers whose `weight` is normalised; nn.Linear covers the Linear inside nets.maxout.Maxout.
LAYERS = (
    nn.Linear,
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
)


def apply_spectral_norm(module: nn.Module, n_power_iterations: int = 1) -> nn.Module:
    """Normalise every Linear/Conv/ConvTranspose weight inside `module` in place; returns it.

    Layers already parametrised (normalised twice, say) are left as they are. Transposed
    convolutions are reshaped along their output dimension (dim=1), which PyTorch picks.
    """
    layers = [m for m in module.modules() if isinstance(m, LAYERS)]  # list first: we mutate
    for layer in layers:
        if not parametrize.is_parametrized(layer, "weight"):
            spectral_norm(layer, "weight", n_power_iterations=n_power_iterations)
    return module


def spectral_layers(module: nn.Module) -> list[nn.Module]:
    """The layers of `module` whose weight carries a spectral-norm parametrisation."""
    return [
        m
        for m in module.modules()
        if isinstance(m, LAYERS) and parametrize.is_parametrized(m, "weight")
    ]
