"""Class-conditional networks: a label y given to G and D.

Mirza & Osindero 2014, "Conditional Generative Adversarial Nets": G(z | y) and D(x | y), the
label fed to both as a one-hot vector beside the usual input (section 3.2). Miyato & Koyama 2018,
"cGANs with Projection Discriminator": D(x, y) = psi(phi(x)) + <embed(y), phi(x)> (their eq. 3),
the label entering D as an inner product with its features rather than as an input.

model.conditional picks how D uses the label; G always takes [z, onehot(y)]:

- "concat": D sees x with onehot(y) beside it: K extra inputs for a fully connected D, K constant
  feature maps for a convolutional D (`LabelConcatDiscriminator`);
- "projection": the projection discriminator (`ProjectionDiscriminator`);
- "acgan": D does not see y but predicts it with a class head (nets.dcgan.AuxiliaryHeads; the
  AC-GAN loss term is objectives.auxiliary).

The builder wrappers `label_conditioned_generator` / `label_conditioned_discriminator` turn a
registered family's unconditional builder into one that also serves labelled data: with
spec.num_classes == 0 they call the plain builder (same modules, outputs and state_dict keys as
before), otherwise they build the plain network with its input widened by K and wrap it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from saddlepoint.config import ModelConfig
from saddlepoint.errors import SaddlepointError
from saddlepoint.nets.base import Generator
from saddlepoint.nets.latent import LatentSpec, latent_spec
from saddlepoint.nets.spec import NetSpec

MODES = ("none", "concat", "projection", "acgan")  # values of model.conditional


def one_hot(y: torch.Tensor, num_classes: int, dtype: torch.dtype) -> torch.Tensor:
    """(B,) int64 labels -> (B, K) one-hot rows of `dtype`."""
    if y is None:
        raise ValueError("this network is class-conditional: pass y, (B,) int64 labels")
    return F.one_hot(y, num_classes).to(dtype)


class LabelConcatGenerator(Generator):
    """G(z, y) = net([z, onehot(y)]) (Mirza & Osindero 2014, one-hot concatenation).

    `net` is a plain generator built for a flat input of latent.dim + K; its own latent layout is
    never sampled: this wrapper's `latent` (noise and any InfoGAN codes) is.
    """

    def __init__(self, net: Generator, latent: LatentSpec, num_classes: int) -> None:
        super().__init__()
        self.net = net
        self.latent, self.num_classes = latent, num_classes
        self.shape, self.output = net.shape, net.output

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        zy = torch.cat([z, one_hot(y, self.num_classes, z.dtype)], dim=1)  # (B, Z + K)
        return self.net(zy)


class LabelConcatDiscriminator(nn.Module):
    """D(x, y) = net([x, onehot(y)]): the label as K extra inputs ("features", for nets that
    flatten x) or as K constant feature maps beside the image's channels ("channels")."""

    def __init__(self, net: nn.Module, num_classes: int, label_input: str) -> None:
        super().__init__()
        self.net, self.num_classes, self.label_input = net, num_classes, label_input

    def _with_label(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        label = one_hot(y, self.num_classes, x.dtype)  # (B, K)
        if self.label_input == "channels":
            maps = label[:, :, None, None].expand(-1, -1, *x.shape[2:])  # (B, K, H, W)
            return torch.cat([x, maps], dim=1)  # (B, C + K, H, W)
        return torch.cat([x.reshape(x.shape[0], -1), label], dim=1)  # (B, prod(shape) + K)

    def heads(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        xy = self._with_label(x, y)
        if hasattr(self.net, "heads"):
            return self.net.heads(xy)
        return {"logits": self.net(xy)}

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(self._with_label(x, y))  # (B,)


class ProjectionDiscriminator(nn.Module):
    """D(x, y) = psi(phi(x)) + <embed(y), phi(x)> (Miyato & Koyama 2018, eq. 3).

    phi is `net.features` (x -> (B, F); x flattened first when `flatten`), psi is `net.out`
    (Linear(F, 1)); `net.aux`, if any, adds its heads from the same phi(x). The class embeddings
    start ~ N(0, 0.02), small beside psi, so D starts close to the unconditional one.
    """

    def __init__(self, net: nn.Module, num_classes: int, flatten: bool) -> None:
        super().__init__()
        if not (hasattr(net, "features") and isinstance(getattr(net, "out", None), nn.Linear)):
            raise SaddlepointError(
                f"model.conditional=projection needs a discriminator with a feature trunk and "
                f"a linear output, which {type(net).__name__} lacks: use "
                "model.conditional=concat or the maxout or dcgan discriminator."
            )
        self.net, self.num_classes, self.flatten = net, num_classes, flatten
        self.embed = nn.Embedding(num_classes, net.out.in_features)  # (K, F)
        nn.init.normal_(self.embed.weight, 0.0, 0.02)

    def heads(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        if y is None:
            raise ValueError("this network is class-conditional: pass y, (B,) int64 labels")
        h = self.net.features(x.reshape(x.shape[0], -1) if self.flatten else x)  # (B, F) phi(x)
        projection = (self.embed(y) * h).sum(dim=1)  # (B,) <embed(y), phi(x)>
        out = {"logits": self.net.out(h).squeeze(1) + projection}  # (B,)
        aux = getattr(self.net, "aux", None)
        if aux is not None:
            out.update(aux(h))
        return out

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.heads(x, y)["logits"]


def _check_labels(m: ModelConfig, spec: NetSpec, name: str) -> None:
    if spec.condition_shape is not None:
        raise SaddlepointError(
            f"the {name} networks take class labels, not condition images: use the "
            "lapgan-level networks for a Laplacian-pyramid level."
        )
    if m.conditional != "none" and not spec.num_classes:
        raise SaddlepointError(
            f"model.conditional={m.conditional} needs class labels, but the networks were "
            "built without any: train on a labelled dataset (mnist, fashion-mnist, cifar10, "
            "mnist5k) or set model.conditional=none."
        )
    if m.conditional == "none" and spec.num_classes:
        raise SaddlepointError(
            "the networks were given class labels but model.conditional=none: set "
            "model.conditional to concat, projection or acgan."
        )


def label_conditioned_generator(
    build: Callable[[ModelConfig, NetSpec], Generator],
    name: str,  # the registry name, for error messages
) -> Callable[[ModelConfig, NetSpec], Generator]:
    """A generator builder that also serves class labels: G(z, y) = net([z, onehot(y)])."""

    def build_generator(m: ModelConfig, spec: NetSpec) -> Generator:
        _check_labels(m, spec, name)
        if not spec.num_classes:
            return build(m, spec)
        latent, k = latent_spec(m), spec.num_classes
        # The plain network, built for a flat input of latent.dim + K plain noise dimensions.
        widened = dataclasses.replace(
            m, z_dim=latent.dim + k, info_categorical=(), info_continuous=0
        )
        net = build(widened, dataclasses.replace(spec, num_classes=0))
        return LabelConcatGenerator(net, latent, k)

    return build_generator


def label_conditioned_discriminator(
    build: Callable[[ModelConfig, NetSpec], nn.Module],
    label_input: str,  # "features" (the net flattens x) or "channels" (a convolutional net)
    has_heads: bool,  # the net builds AC-GAN / InfoGAN heads itself from spec and config
    name: str,  # the registry name, for error messages
) -> Callable[[ModelConfig, NetSpec], nn.Module]:
    """A discriminator builder that also serves class labels the way model.conditional says."""

    def build_discriminator(m: ModelConfig, spec: NetSpec) -> nn.Module:
        if not has_heads and (m.conditional == "acgan" or m.info_categorical or m.info_continuous):
            what = "class head (AC-GAN)" if m.conditional == "acgan" else "Q head (InfoGAN)"
            raise SaddlepointError(
                f"the {name} discriminator has no {what}: use model.discriminator=dcgan."
            )
        _check_labels(m, spec, name)
        if not spec.num_classes:
            return build(m, spec)
        k, plain = spec.num_classes, dataclasses.replace(spec, num_classes=0)
        if m.conditional == "concat":
            if label_input == "channels":
                shape = (spec.shape[0] + k, *spec.shape[1:])  # (C + K, H, W)
            else:
                shape = (math.prod(spec.shape) + k,)  # (prod(shape) + K,)
            net = build(m, dataclasses.replace(plain, shape=shape))
            return LabelConcatDiscriminator(net, k, label_input)
        if m.conditional == "projection":
            return ProjectionDiscriminator(build(m, plain), k, flatten=label_input == "features")
        return build(m, spec)  # "acgan": the net's own class head predicts y

    return build_discriminator
