"""Networks as plain modules, built by name from explicit registries.

A generator maps z to x and knows its prior (`sample_z`, `sample`); a discriminator maps x to
logits. No loss, optimiser or training step lives in a network.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from saddlepoint.config import ModelConfig
from saddlepoint.nets.mlp import MaxoutDiscriminator, MLPGenerator
from saddlepoint.registry import Registry

# (model config, example shape, data mean or None, output kind) -> generator
GeneratorBuilder = Callable[[ModelConfig, tuple, "torch.Tensor | None", str], nn.Module]
# (model config, example shape) -> discriminator
DiscriminatorBuilder = Callable[[ModelConfig, tuple], nn.Module]

GENERATORS: Registry[GeneratorBuilder] = Registry("generator")
DISCRIMINATORS: Registry[DiscriminatorBuilder] = Registry("discriminator")

GENERATORS.register(
    "mlp",
    lambda m, shape, mean, output: MLPGenerator(
        shape,
        m.z_dim,
        m.g_hidden,
        output,
        m.g_init,
        m.z_prior,
        mean if m.g_output_bias == "marginal" else None,
    ),
)
DISCRIMINATORS.register(
    "maxout",
    lambda m, shape: MaxoutDiscriminator(
        shape, m.d_hidden, m.d_pieces, m.d_keep_input, m.d_keep_hidden, m.d_init
    ),
)


def build_generator(
    m: ModelConfig, shape: tuple, data_mean: torch.Tensor | None, output: str
) -> nn.Module:
    return GENERATORS.get(m.generator)(m, tuple(shape), data_mean, output)


def build_discriminator(m: ModelConfig, shape: tuple) -> nn.Module:
    return DISCRIMINATORS.get(m.discriminator)(m, tuple(shape))


__all__ = [
    "DISCRIMINATORS",
    "GENERATORS",
    "MLPGenerator",
    "MaxoutDiscriminator",
    "build_discriminator",
    "build_generator",
]
