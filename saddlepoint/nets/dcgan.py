"""DCGAN networks: Radford, Metz & Chintala 2016, "Unsupervised Representation Learning with Deep
Convolutional Generative Adversarial Networks" (section 3, "Architecture guidelines").

Generator: z -> a fractionally-strided projection to (c0, s0, s0) -> fractionally-strided
convolutions (kernel 4, stride 2) that double the side and halve the width, each followed by
batch normalisation and ReLU -> a last fractionally-strided convolution to the image's channels,
tanh (no batch norm on the output layer).

Discriminator: strided convolutions (kernel 4, stride 2) that halve the side and double the
width, LeakyReLU(0.2), batch normalisation on every layer except the input layer -> one logit
from the flattened last feature map. The trunk (`features`) is shared by the extra heads that
AC-GAN (a class head) and InfoGAN (a Q head) need (`AuxiliaryHeads`).

Image size is a parameter: a side H = s0 * 2^n with s0 in 4..8 (the most halvings that keep
s0 >= 4). 64 and 32 start from 4x4 as the paper does; 28 (MNIST) starts from 7x7 and doubles twice
(7 -> 14 -> 28), so no cropping or padding is needed. Widths: the generator's last hidden layer
has `g_channels` maps (ngf) and each earlier one twice as many; the discriminator's first layer has
`d_channels` (ndf) and each later one twice as many, so 64x64 gives the paper's 8*ngf ... ngf.

Initialisation as in the paper: every convolution and linear weight ~ N(0, 0.02), biases 0;
batch-norm scales ~ N(1, 0.02), shifts 0.
"""

from __future__ import annotations

import torch
from torch import nn

from saddlepoint.errors import SaddlepointError
from saddlepoint.nets.base import Generator
from saddlepoint.nets.latent import LatentSpec


def dcgan_layout(shape: tuple[int, ...], net: str = "dcgan") -> tuple[int, int]:
    """(s0, n): the side of the smallest feature map and the number of stride-2 layers, with
    side = s0 * 2^n, s0 in 4..8, n >= 1. Refuses points, non-square images and other sides."""
    if len(shape) != 3:
        raise SaddlepointError(
            f"the {net} networks are convolutional and need images, but the data are points of "
            f"shape {tuple(shape)}: use model.generator=mlp and model.discriminator=maxout."
        )
    _, h, w = shape
    if h != w:
        raise SaddlepointError(
            f"the {net} networks need square images, got {h}x{w}: resize them "
            "(data.image_size=N for folder:PATH datasets)."
        )
    s0, n = h, 0
    while s0 % 2 == 0 and s0 // 2 >= 4:
        s0, n = s0 // 2, n + 1
    if n == 0 or s0 > 8:
        raise SaddlepointError(
            f"the {net} networks need a side of 4 to 8 pixels times a power of two (8, 16, 28, "
            f"32, 64, ...), got {h}: resize the images (data.image_size=32 or 64 for "
            "folder:PATH datasets)."
        )
    return s0, n


def dcgan_init(module: nn.Module) -> None:
    """Radford et al. 2016, section 4: weights ~ N(0, 0.02); batch-norm scales ~ N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class DCGANGenerator(Generator):
    """G(z): (B, latent.dim) -> (B, C, H, W) in G's output range (tanh: [-1, 1])."""

    def __init__(
        self,
        shape: tuple[int, ...],  # one image, (C, H, W) with H = W = s0 * 2^n
        latent: LatentSpec,  # z (and any InfoGAN codes); the input width is latent.dim
        g_channels: int = 64,  # ngf: feature maps of the last hidden layer (at H/2)
        output: str = "tanh",  # "tanh" ([-1, 1], the paper's), or "sigmoid" ([0, 1])
        fc: int = 0,  # > 0: an FC layer of fc ReLU units before the projection (InfoGAN's)
    ) -> None:
        super().__init__()
        s0, n = dcgan_layout(shape)
        self.latent, self.shape, self.output = latent, tuple(shape), output
        c = g_channels * 2 ** (n - 1)  # width at s0 x s0
        # InfoGAN's MNIST generator (Chen et al. 2016, Table 1) starts with "FC 1024 ReLU BN".
        self.fc = (
            nn.Sequential(nn.Linear(latent.dim, fc, bias=False), nn.BatchNorm1d(fc), nn.ReLU())
            if fc
            else None
        )
        # Projection: a fractionally-strided convolution of the (B, Z, 1, 1) input with an
        # s0 x s0 kernel, i.e. a linear map to (B, c, s0, s0) (the paper's "project and reshape").
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(fc or latent.dim, c, s0, 1, 0, bias=False),
            nn.BatchNorm2d(c),
            nn.ReLU(),
        ]
        for _ in range(n - 1):  # (B, c, s, s) -> (B, c/2, 2s, 2s)
            layers += [
                nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(c // 2),
                nn.ReLU(),
            ]
            c //= 2
        layers.append(nn.ConvTranspose2d(c, shape[0], 4, 2, 1))  # (B, C, H, W), no batch norm
        self.net = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.fc is not None:
            z = self.fc(z)  # (B, fc)
        h = self.net(z.view(z.shape[0], -1, 1, 1))  # (B, C, H, W) pre-activation
        if self.output == "tanh":
            return torch.tanh(h)
        if self.output == "sigmoid":
            return torch.sigmoid(h)
        return h


class AuxiliaryHeads(nn.Module):
    """Extra outputs computed from D's trunk features h (B, F):

    - "class_logits" (B, K): AC-GAN's P(C | X) (Odena et al. 2017), one linear layer;
    - "code_logits" (B, sum K_i) and "code_mean" (B, n_cont): InfoGAN's Q(c | x) (Chen et al.
      2016), a hidden layer of 128 LeakyReLU(0.2) units shared by all codes, then the logits of
      each categorical code and the means of the continuous codes (fixed unit variance). The
      paper's Q also batch-normalises its hidden layer; this one does not, so Q adds no
      coupling between the examples of a batch.
    """

    def __init__(
        self,
        features: int,  # F, the width of the trunk's output
        num_classes: int = 0,  # K > 0: an AC-GAN class head
        latent: LatentSpec | None = None,  # with codes: an InfoGAN Q head
        q_hidden: int = 128,  # Q's hidden units
    ) -> None:
        super().__init__()
        self.classes = nn.Linear(features, num_classes) if num_classes else None
        self.n_logits = sum(latent.categorical) if latent is not None else 0
        n_out = self.n_logits + (latent.continuous if latent is not None else 0)
        self.q = (
            nn.Sequential(
                nn.Linear(features, q_hidden), nn.LeakyReLU(0.2), nn.Linear(q_hidden, n_out)
            )
            if n_out
            else None
        )

    def forward(self, h: torch.Tensor) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}
        if self.classes is not None:
            out["class_logits"] = self.classes(h)  # (B, K)
        if self.q is not None:
            q = self.q(h)  # (B, sum K_i + n_cont)
            out["code_logits"] = q[:, : self.n_logits]  # (B, sum K_i)
            out["code_mean"] = q[:, self.n_logits :]  # (B, n_cont)
        return out


def _norm(kind: str, channels: int, dims: int = 2) -> list[nn.Module]:
    """D's hidden-layer normalisation. Batch norm couples a batch's examples, which gradient
    penalties forbid (WGAN-GP, DRAGAN); Gulrajani et al. 2017 (section 4) suggest layer
    normalisation instead: GroupNorm with one group normalises each example over (C, H, W).
    dims: 2 for feature maps (B, C, H, W), 1 for an FC layer's (B, C)."""
    if kind == "batch":
        return [nn.BatchNorm2d(channels) if dims == 2 else nn.BatchNorm1d(channels)]
    if kind == "layer":
        return [nn.GroupNorm(1, channels)]
    return []


class DCGANDiscriminator(nn.Module):
    """D(x): (B, C, H, W) -> (B,) logits; `heads(x)` adds the AC-GAN / InfoGAN outputs.

    Layout shared with the conditional wrappers (nets.conditional): `features` maps x to the
    flattened trunk output phi(x) (B, F), `out` is the linear logit psi, `aux` the extra heads.
    """

    def __init__(
        self,
        shape: tuple[int, ...],  # one image, (C, H, W) with H = W = s0 * 2^n
        d_channels: int = 64,  # ndf: feature maps of the first layer
        num_classes: int = 0,  # K > 0: an AC-GAN class head
        latent: LatentSpec | None = None,  # with InfoGAN codes: a Q head
        norm: str = "batch",  # hidden layers: "batch" (the paper), "layer" or "none"
        fc: int = 0,  # > 0: an FC layer of fc LeakyReLU units after the convolutions (InfoGAN's)
    ) -> None:
        super().__init__()
        s0, n = dcgan_layout(shape)
        self.shape = tuple(shape)
        c = d_channels
        # Input layer: no batch norm (Radford et al.: applying it to every layer made training
        # unstable). (B, C, H, W) -> (B, ndf, H/2, W/2)
        layers: list[nn.Module] = [nn.Conv2d(shape[0], c, 4, 2, 1), nn.LeakyReLU(0.2)]
        for _ in range(n - 1):  # (B, c, s, s) -> (B, 2c, s/2, s/2)
            layers += [nn.Conv2d(c, 2 * c, 4, 2, 1, bias=norm == "none"), *_norm(norm, 2 * c)]
            layers.append(nn.LeakyReLU(0.2))
            c *= 2
        layers.append(nn.Flatten())  # (B, c * s0 * s0)
        width = c * s0 * s0  # F
        if fc:  # InfoGAN's MNIST D (Chen et al. 2016, Table 1): "FC 1024 lReLU BN"
            layers += [nn.Linear(width, fc, bias=norm == "none"), *_norm(norm, fc, dims=1)]
            layers.append(nn.LeakyReLU(0.2))
            width = fc
        self.features = nn.Sequential(*layers)
        # One logit from the whole last map: the paper's final s0 x s0 convolution to one unit.
        self.out = nn.Linear(width, 1)
        has_codes = latent is not None and latent.has_codes
        self.aux = AuxiliaryHeads(width, num_classes, latent) if num_classes or has_codes else None
        dcgan_init(self)

    def heads(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        h = self.features(x)  # (B, F)
        out = {"logits": self.out(h).squeeze(1)}  # (B,)
        if self.aux is not None:
            out.update(self.aux(h))
        return out

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.out(self.features(x)).squeeze(1)  # (B,)
