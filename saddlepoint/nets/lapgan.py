"""The networks of LAPGAN (Denton et al. 2015, "Deep Generative Image Models using a Laplacian
Pyramid of Adversarial Networks"): one conditional G and D per band-pass level of the pyramid,
and the coarse-to-fine sampler that chains trained levels into one generator.

Level k < L-1 models the band-pass image h_k given the upsampled coarser image u(l_{k+1})
(`saddlepoint.data.pyramid`):

    G_k(z_k, u(l_{k+1})) = h~_k     a convnet of 3 layers; the noise enters as one extra
                                    "colour plane" beside the condition, as in the paper
    D_k(h, u(l_{k+1})) = logit      a convnet of 2 layers and a linear output, on the level's
                                    whole image h + u(l_{k+1}) ("the low-pass image is explicitly
                                    added to h_k or h~_k before the first convolution layer")

The coarsest level is an ordinary GAN on the small low-pass images (the paper uses MLPs; the
driver, `saddlepoint.train.lapgan`, uses the registered `dcgan` nets there). Sampling runs
coarse to fine: l~_{L-1} = G_{L-1}(z), then l~_k = u(l~_{k+1}) + G_k(z_k, u(l~_{k+1})) (the
paper's Eq. 3).

Choices where the paper differs or says less, made for a 2-core CPU: the noise plane is a
learned linear map of a flat z (model.z_dim) rather than a full-resolution noise image; G's
convolutions are 3x3 (0.22 CPU-s per 32x32 iteration at 32 maps and batch 64, 0.39 with 5x5);
D's are 5x5 with stride 2 and leaky ReLUs (0.2), without dropout.
"""

from __future__ import annotations

import torch
from torch import nn

from saddlepoint.data.pyramid import crop, upsample
from saddlepoint.errors import SaddlepointError
from saddlepoint.nets.base import Generator, to_unit
from saddlepoint.nets.latent import LatentSpec

G_KERNEL = 3  # G: 3x3 convolutions, padding 1 ("same" size)
D_KERNEL = 5  # D: 5x5 convolutions, stride 2, padding 2: ceil(H / 2) per layer


def _image_shape(shape: tuple[int, ...], condition_shape: tuple[int, ...] | None, what: str):
    """(C, H, W) of a level, checking that the condition u(l_{k+1}) has the same shape."""
    if len(shape) != 3:
        raise SaddlepointError(
            f"the {what} takes images (C, H, W), not data of shape {tuple(shape)}: "
            "choose another network for points."
        )
    if condition_shape is not None and tuple(condition_shape) != tuple(shape):
        raise SaddlepointError(
            f"a LAPGAN level's condition u(l_k+1) has the band-pass image's shape "
            f"{tuple(shape)}, got {tuple(condition_shape)}: build it from one pyramid level."
        )
    return tuple(shape)


def _need_condition(y: torch.Tensor | None, shape: tuple[int, ...]) -> torch.Tensor:
    """y itself, after checking it is the (B, C, H, W) = shape condition u(l_{k+1})."""
    if y is None or tuple(y.shape) != tuple(shape):
        got = None if y is None else tuple(y.shape)
        raise ValueError(f"a LAPGAN level needs y = u(l_k+1) of shape {tuple(shape)}, got {got}")
    return y


def _half(n: int) -> int:
    """Output side of a stride-2 convolution with kernel 5 and padding 2: ceil(n / 2)."""
    return (n + 1) // 2


class LapganLevelGenerator(Generator):
    """G_k(z, y): (B, z_dim), (B, C, H, W) upsampled coarse image -> (B, C, H, W) band-pass."""

    def __init__(
        self,
        shape: tuple[int, int, int],  # (C, H, W) of this level's band-pass images
        latent: LatentSpec,  # the flat noise z (model.z_dim, model.z_prior)
        channels: int = 64,  # feature maps of the two hidden layers (model.g_channels)
        output: str = "linear",  # "linear": h unbounded; "tanh" or "sigmoid" bound it
        condition_shape: tuple[int, ...] | None = None,  # must equal shape; None = shape
    ) -> None:
        super().__init__()
        self.shape = _image_shape(shape, condition_shape, "lapgan-level generator")
        self.condition_shape = self.shape
        self.latent, self.output = latent, output
        c, h, w = self.shape
        self.noise = nn.Linear(latent.dim, h * w)  # z -> one noise plane (B, 1, H, W)
        pad = G_KERNEL // 2
        self.net = nn.Sequential(
            nn.Conv2d(c + 1, channels, G_KERNEL, padding=pad),  # condition + noise plane
            nn.ReLU(),
            nn.Conv2d(channels, channels, G_KERNEL, padding=pad),
            nn.ReLU(),
            nn.Conv2d(channels, c, G_KERNEL, padding=pad),  # (B, C, H, W) band-pass
        )

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        c, h, w = self.shape
        noise = self.noise(z).view(-1, 1, h, w)  # (B, 1, H, W)
        y = _need_condition(y, (z.shape[0], c, h, w))  # (B, C, H, W) in [0, 1]
        out = self.net(torch.cat([y * 2 - 1, noise], dim=1))  # condition centred on 0
        if self.output == "tanh":
            return torch.tanh(out)
        if self.output == "sigmoid":
            return torch.sigmoid(out)
        return out


class LapganLevelDiscriminator(nn.Module):
    """D_k(h, y): (B, C, H, W) band-pass, (B, C, H, W) upsampled coarse image -> (B,) logits."""

    def __init__(
        self,
        shape: tuple[int, int, int],  # (C, H, W) of this level's band-pass images
        channels: int = 64,  # feature maps of the first layer, twice that in the second
        condition_shape: tuple[int, ...] | None = None,  # must equal shape; None = shape
    ) -> None:
        super().__init__()
        self.shape = _image_shape(shape, condition_shape, "lapgan-level discriminator")
        self.condition_shape = self.shape
        c, h, w = self.shape
        pad = D_KERNEL // 2
        self.features = nn.Sequential(
            nn.Conv2d(c, channels, D_KERNEL, stride=2, padding=pad),  # (B, ch, H/2, W/2)
            nn.LeakyReLU(0.2),
            nn.Conv2d(
                channels, 2 * channels, D_KERNEL, stride=2, padding=pad
            ),  # (B, 2ch, H/4, W/4)
            nn.LeakyReLU(0.2),
            nn.Flatten(),
        )
        self.out = nn.Linear(2 * channels * _half(_half(h)) * _half(_half(w)), 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        image = x + _need_condition(y, x.shape)  # l_k = h_k + u(l_{k+1}), in [0, 1] for real data
        return self.out(self.features(image * 2 - 1)).squeeze(1)  # (B,)


class LapganGenerator(Generator):
    """Coarse-to-fine sampling through trained levels: z -> (B, C, H, W) images in [0, 1].

    z is the concatenation [z_{L-1} | z_{L-2} | ... | z_0] of the levels' latents (coarsest
    first). Each level's image is clamped to [0, 1], the range its real counterpart lies in,
    before it is upsampled to condition the next; the result is cropped to `shape` (the
    padding of `pyramid.pad` removed).
    """

    def __init__(
        self,
        levels: list[nn.Module],  # index k = level k's generator (0 finest, L-1 the coarsest)
        shape: tuple[int, int, int],  # (C, H, W) of the samples after cropping
    ) -> None:
        super().__init__()
        priors = {g.latent.prior for g in levels}
        if len(priors) != 1 or any(g.latent.has_codes for g in levels):
            raise ValueError("LAPGAN levels must share one noise prior and have no codes")
        self.levels = nn.ModuleList(levels)
        self.latent = LatentSpec(sum(g.z_dim for g in levels), priors.pop())
        self.shape, self.output = tuple(shape), "sigmoid"  # "sigmoid": images in [0, 1]

    def pyramid(self, z: torch.Tensor) -> list[torch.Tensor]:
        """The images l~_{L-1}, ..., l~_0 made on the way (coarsest first), uncropped."""
        coarse_first = list(reversed(self.levels))
        parts = z.split([g.z_dim for g in coarse_first], dim=1)
        top = coarse_first[0]
        images = [to_unit(top(parts[0]), top.output).clamp(0, 1)]  # (B, C, H_{L-1}, W_{L-1})
        for g, z_k in zip(coarse_first[1:], parts[1:]):
            coarse_up = upsample(images[-1])  # u(l~_{k+1}), (B, C, H_k, W_k)
            images.append((coarse_up + g(z_k, coarse_up)).clamp(0, 1))  # l~_k = u(.) + h~_k
        return images

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return crop(self.pyramid(z)[-1], self.shape[1:])  # (B, C, H, W)
