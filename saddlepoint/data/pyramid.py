"""The Laplacian pyramid of LAPGAN (Denton et al. 2015, "Deep Generative Image Models using a
Laplacian Pyramid of Adversarial Networks"), and the per-level datasets LAPGAN trains on.

With d() halving and u() doubling an image's size, the Gaussian pyramid is l_0 = x,
l_{k+1} = d(l_k), and the Laplacian pyramid of L levels is

    h_k = l_k - u(l_{k+1})    for k = 0 .. L-2   (band-pass images, finest first)
    l_{L-1}                                      (the coarsest low-pass image)

Reconstruction runs the recurrence backwards, l_k = u(l_{k+1}) + h_k, so it returns x to float
precision whatever d and u are (only u must be the same function both ways).

Here d is 2x2 average pooling (a box blur, then keeping every second pixel) and u is bilinear
upsampling (half-pixel centres, edges clamped); the paper's d and u are a smoothing blur with
decimation and its expanding counterpart. Both are convex combinations of pixels, so on images
in [0, 1] every l_k and u(l_{k+1}) lies in [0, 1] and every band-pass h_k in [-1, 1].

Images whose side is not a power of two are padded with zeros (black) to the next power of two,
split evenly between both sides: MNIST's 28x28 becomes 32x32 (2 pixels each side), and
32 -> 16 -> 8 with three levels. `crop` undoes the padding on samples.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from saddlepoint.data.dataset import Dataset
from saddlepoint.errors import SaddlepointError

MIN_COARSE = 2  # the coarsest low-pass image must be at least 2x2 pixels


def downsample(x: torch.Tensor) -> torch.Tensor:
    """d(x): 2x2 average pooling, (N, C, H, W) -> (N, C, H/2, W/2); H and W must be even."""
    return F.avg_pool2d(x, 2)


def upsample(x: torch.Tensor) -> torch.Tensor:
    """u(x): bilinear upsampling by 2, (N, C, H, W) -> (N, C, 2H, 2W)."""
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


def padded_size(size: int) -> int:
    """The side an image of side `size` is padded to: the next power of two (28 -> 32)."""
    return 1 << max(size - 1, 0).bit_length()


def pad(x: torch.Tensor) -> torch.Tensor:
    """Zero-pad (N, C, H, W) images to padded_size(H) x padded_size(W), centred."""
    h, w = x.shape[-2:]
    dh, dw = padded_size(h) - h, padded_size(w) - w
    if dh == dw == 0:
        return x
    return F.pad(x, (dw // 2, dw - dw // 2, dh // 2, dh - dh // 2))  # (left, right, top, bottom)


def crop(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Undo `pad`: the centred (H, W) = size window of (N, C, H', W') padded images."""
    h, w = size
    top, left = (x.shape[-2] - h) // 2, (x.shape[-1] - w) // 2
    return x[..., top : top + h, left : left + w]


def check_levels(size: tuple[int, int], levels: int) -> None:
    """Refuse a pyramid whose coarsest image would be smaller than MIN_COARSE or fractional."""
    h, w = size

    def fits(n: int) -> bool:
        step = 2 ** (n - 1)
        return h % step == 0 and w % step == 0 and min(h, w) // step >= MIN_COARSE

    if not fits(levels):
        step, most = 2 ** (levels - 1), 1
        while fits(most + 1):
            most += 1
        fix = f"use data.pyramid_levels={most} or fewer" if most >= 2 else "use larger images"
        raise SaddlepointError(
            f"a {levels}-level pyramid of {h}x{w} images would leave a coarsest image of "
            f"{h / step:g}x{w / step:g} pixels: {fix}."
        )


def lowpass(x: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """The Gaussian pyramid [l_0 = x, l_1 = d(x), ..., l_{levels-1}], finest first."""
    check_levels(tuple(x.shape[-2:]), levels)
    out = [x]
    for _ in range(levels - 1):
        out.append(downsample(out[-1]))
    return out


def decompose(x: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """The Laplacian pyramid [h_0, ..., h_{L-2}, l_{L-1}] of (N, C, H, W) images x.

    h_k = l_k - u(l_{k+1}) is (N, C, H / 2^k, W / 2^k); the last entry is the low-pass
    l_{L-1}, (N, C, H / 2^(L-1), W / 2^(L-1)). H and W must be multiples of 2^(L-1).
    """
    if levels < 1:
        raise ValueError(f"a pyramid has at least one level, got {levels}")
    ls = lowpass(x, levels)
    return [ls[k] - upsample(ls[k + 1]) for k in range(levels - 1)] + [ls[-1]]


def reconstruct(bands: list[torch.Tensor]) -> torch.Tensor:
    """Invert `decompose`: l_{L-1}, then l_k = u(l_{k+1}) + h_k down to l_0 = x."""
    x = bands[-1]
    for h in reversed(bands[:-1]):
        x = upsample(x) + h
    return x


def padded_shape(dataset: Dataset, levels: int) -> tuple[int, int, int]:
    """(C, H, W) of `dataset`'s images after `pad`, checked to carry a `levels`-level pyramid."""
    if not dataset.is_image:
        raise SaddlepointError(
            f"a Laplacian pyramid needs images, but {dataset.name} holds points of shape "
            f"{dataset.shape}: choose an image dataset or drop data.pyramid_level."
        )
    c, h, w = dataset.shape
    check_levels((padded_size(h), padded_size(w)), levels)
    return c, padded_size(h), padded_size(w)


def level_dataset(dataset: Dataset, level: int, levels: int) -> Dataset:
    """One level of the pyramid of `dataset`'s (zero-padded) images, as LAPGAN trains it.

    Band-pass levels k < levels - 1: x = h_k in [-1, 1] and y = u(l_{k+1}) in [0, 1], the
    upsampled coarser image that conditions G_k and D_k, both (N, C, H_k, W_k) float.
    The top level k = levels - 1: x = l_{levels-1} in [0, 1], y = the class labels (or None).
    """
    padded_shape(dataset, levels)
    if not 0 <= level < levels:
        raise SaddlepointError(
            f"data.pyramid_level must lie in 0..{levels - 1} (0 = finest), got {level}."
        )
    x = pad(dataset.x)  # (N, C, H_0, W_0), sides a power of two
    ls = lowpass(x, min(level + 2, levels))  # l_0 .. l_{level+1} (or .. the top)
    if level == levels - 1:
        return Dataset(dataset.name, dataset.split, ls[level], dataset.y, dataset.classes)
    coarse_up = upsample(ls[level + 1])  # (N, C, H_k, W_k) the condition u(l_{k+1})
    return Dataset(dataset.name, dataset.split, ls[level] - coarse_up, coarse_up, None)
