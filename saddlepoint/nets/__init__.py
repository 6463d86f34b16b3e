"""Networks as plain modules, built by name from explicit registries.

A generator maps (z, y) to x and knows its prior (`sample_z`, `sample`; see `nets.base`); a
discriminator maps (x, y) to one score per example (a logit, a critic value or an energy).
Discriminators that feed auxiliary terms (AC-GAN's classes, InfoGAN's codes, EBGAN's
embedding) also have `heads(x, y) -> dict` with "logits" and the extra outputs. No loss,
optimiser or training step lives in a network.

Each registry entry is a builder (model config, NetSpec) -> module; a generator entry also
says which output range it produces on images (the data layer converts [0, 1] to [-1, 1] for
tanh generators, and every sample writer converts back).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from saddlepoint.config import ModelConfig
from saddlepoint.nets.autoencoder import ConvAutoencoder, MLPAutoencoder
from saddlepoint.nets.base import Generator, from_unit, to_unit
from saddlepoint.nets.began import BeganGenerator
from saddlepoint.nets.conditional import (
    label_conditioned_discriminator,
    label_conditioned_generator,
)
from saddlepoint.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from saddlepoint.nets.lapgan import LapganLevelDiscriminator, LapganLevelGenerator
from saddlepoint.nets.latent import LatentSpec, latent_spec
from saddlepoint.nets.mlp import MaxoutDiscriminator, MLPGenerator
from saddlepoint.nets.spec import NetSpec
from saddlepoint.nets.spectral import apply_spectral_norm
from saddlepoint.registry import Registry


@dataclass(frozen=True)
class GeneratorEntry:
    build: Callable[[ModelConfig, NetSpec], nn.Module]
    image_output: str = "sigmoid"  # the output kind on image data; points always use "linear"
    description: str = ""


@dataclass(frozen=True)
class DiscriminatorEntry:
    build: Callable[[ModelConfig, NetSpec], nn.Module]
    kind: str = "classifier"  # "classifier" (one score per example) or "autoencoder" (energy)
    description: str = ""


GENERATORS: Registry[GeneratorEntry] = Registry("generator")
DISCRIMINATORS: Registry[DiscriminatorEntry] = Registry("discriminator")


GENERATORS.register(
    "mlp",
    GeneratorEntry(
        label_conditioned_generator(
            lambda m, spec: MLPGenerator(
                spec.shape,
                m.z_dim,
                m.g_hidden,
                spec.output,
                m.g_init,
                m.z_prior,
                spec.data_mean if m.g_output_bias == "marginal" else None,
                latent=latent_spec(m),
            ),
            name="mlp",
        ),
        "sigmoid",
        "the 2014 fully connected ReLU generator",
    ),
)
DISCRIMINATORS.register(
    "maxout",
    DiscriminatorEntry(
        label_conditioned_discriminator(
            lambda m, spec: MaxoutDiscriminator(
                spec.shape, m.d_hidden, m.d_pieces, m.d_keep_input, m.d_keep_hidden, m.d_init
            ),
            label_input="features",
            has_heads=False,
            name="maxout",
        ),
        "classifier",
        "the 2014 maxout discriminator with dropout",
    ),
)
GENERATORS.register(
    "dcgan",
    GeneratorEntry(
        label_conditioned_generator(
            lambda m, spec: DCGANGenerator(
                spec.shape, latent_spec(m), m.g_channels, spec.output, m.dcgan_fc
            ),
            name="dcgan",
        ),
        "tanh",
        "DCGAN (Radford et al. 2016): fractionally-strided convolutions, batch norm, ReLU, tanh",
    ),
)
GENERATORS.register(
    "began",
    GeneratorEntry(
        label_conditioned_generator(
            lambda m, spec: BeganGenerator(spec.shape, latent_spec(m), m.g_channels, spec.output),
            name="began",
        ),
        "tanh",
        "BEGAN (Berthelot et al. 2017): its auto-encoder's decoder as G, 3x3 convolutions, ELU, "
        "nearest upsampling, no batch norm",
    ),
)
DISCRIMINATORS.register(
    "dcgan",
    DiscriminatorEntry(
        label_conditioned_discriminator(
            lambda m, spec: DCGANDiscriminator(
                spec.shape, m.d_channels, spec.num_classes, latent_spec(m), m.d_norm, m.dcgan_fc
            ),
            label_input="channels",
            has_heads=True,
            name="dcgan",
        ),
        "classifier",
        "DCGAN: strided convolutions, LeakyReLU(0.2), batch norm after the input layer; "
        "AC-GAN class and InfoGAN Q heads on its trunk",
    ),
)


DISCRIMINATORS.register(
    "mlp_autoencoder",
    DiscriminatorEntry(
        lambda m, spec: MLPAutoencoder(spec.shape, m.d_hidden, m.d_code, m.d_energy),
        "autoencoder",
        "EBGAN/BEGAN fully connected auto-encoder; its score is the reconstruction energy",
    ),
)
DISCRIMINATORS.register(
    "conv_autoencoder",
    DiscriminatorEntry(
        lambda m, spec: ConvAutoencoder(spec.shape, m.d_channels, m.d_code, m.d_energy),
        "autoencoder",
        "BEGAN's convolutional auto-encoder (images); its score is the reconstruction energy",
    ),
)

GENERATORS.register(
    "lapgan-level",
    GeneratorEntry(
        lambda m, spec: LapganLevelGenerator(
            spec.shape, latent_spec(m), m.g_channels, spec.output, spec.condition_shape
        ),
        "linear",  # band-pass images lie in [-1, 1] and are given to G as they are
        "LAPGAN band-pass level: 3-layer convnet of the upsampled coarse image and a noise plane",
    ),
)
DISCRIMINATORS.register(
    "lapgan-level",
    DiscriminatorEntry(
        lambda m, spec: LapganLevelDiscriminator(spec.shape, m.d_channels, spec.condition_shape),
        "classifier",
        "LAPGAN band-pass level: 2-layer convnet on the band-pass plus the upsampled coarse image",
    ),
)


def generator_output(m: ModelConfig, is_image: bool) -> str:
    """The output range of the configured generator on this kind of data."""
    return GENERATORS.get(m.generator).image_output if is_image else "linear"


def build_generator(
    m: ModelConfig,
    shape: tuple,
    data_mean: torch.Tensor | None = None,
    output: str | None = None,
    **spec: object,
) -> nn.Module:
    """Build the configured generator; `spec` holds NetSpec's num_classes / condition_shape."""
    entry = GENERATORS.get(m.generator)
    if output is None:
        output = entry.image_output if len(shape) == 3 else "linear"
    return entry.build(m, NetSpec(tuple(shape), output, data_mean=data_mean, **spec))


def build_discriminator(m: ModelConfig, shape: tuple, **spec: object) -> nn.Module:
    """Build the configured discriminator (spectral norm applied if model.spectral_norm)."""
    D = DISCRIMINATORS.get(m.discriminator).build(m, NetSpec(tuple(shape), **spec))
    return apply_spectral_norm(D) if m.spectral_norm else D


__all__ = [
    "DISCRIMINATORS",
    "GENERATORS",
    "DiscriminatorEntry",
    "Generator",
    "GeneratorEntry",
    "LatentSpec",
    "MLPGenerator",
    "MaxoutDiscriminator",
    "NetSpec",
    "build_discriminator",
    "build_generator",
    "from_unit",
    "generator_output",
    "latent_spec",
    "to_unit",
]
