"""The FID Inception-v3: the network of the original TensorFlow FID code (the 2015-12-05 Inception
graph), as ported to PyTorch by pytorch-fid and torch-fidelity, with its 2048-d pool features.

Szegedy et al., "Rethinking the Inception Architecture for Computer Vision", CVPR 2016; the graph
is the one Heusel et al. 2017 (FID) and Salimans et al. 2016 (Inception Score) computed with, so
features from it, with its weights, give numbers comparable with published ones. It differs from
torchvision's Inception-v3 in four places, all reproduced here: average pools that do not count
the zero padding (Mixed_5*, Mixed_6b-e, Mixed_7b), a max pool in the last block's pool branch
(Mixed_7c), 1008 output classes, and TensorFlow 1's bilinear resize to 299 x 299.

Why this file and not a library: torchmetrics' FID network (`NoTrainInceptionV3`) subclasses
torch-fidelity's `FeatureExtractorInceptionV3`, and torch-fidelity requires torchvision and
imports it when its package is imported (its CLIP and VGG extractors), which pulls a second torch
build onto a CPU-only install; pytorch-fid builds on torchvision's model. Neither installs here
beside the pinned CPU torch, so the network (about 150 lines) is written out, with the module
names of those ports, so that their weights file loads unchanged:

    pt_inception-2015-12-05-6726825d.pth        (pytorch-fid, FID_WEIGHTS_URL below)
    weights-inception-2015-12-05-6726825d.pth   (torch-fidelity, the same conversion)

Nothing here downloads: the file is read from a path the user gives (`--weights PATH`) or from
the torch hub cache (`torch.hub.get_dir()/checkpoints`, i.e. $TORCH_HOME/hub/checkpoints), where
either package leaves it after its own first download. It is loaded with
`torch.load(weights_only=True)`, which cannot execute code.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from saddlepoint.errors import SaddlepointError
from saddlepoint.evaluate.cache import file_sha256

INPUT_SIZE = 299  # the graph's input resolution
FEATURES = 2048  # the pool_3 features FID uses
CLASSES = 1008  # the graph's softmax classes (1000 ImageNet + 8 unused)
WEIGHT_FILES = (
    "pt_inception-2015-12-05-6726825d.pth",
    "weights-inception-2015-12-05-6726825d.pth",
)
FID_WEIGHTS_URL = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
    "pt_inception-2015-12-05-6726825d.pth"
)
TORCH_FIDELITY_URL = (
    "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
    "weights-inception-2015-12-05-6726825d.pth"
)
PUBLISHED_SHA256_PREFIX = "6726825d"  # torch hub names files <name>-<first 8 hex of SHA-256>
PREPROCESSING = (
    "round(255 x) to 8-bit levels; grey repeated to RGB; TensorFlow-1 bilinear resize "
    "(align_corners=False) to 299x299; (x - 128) / 128"
)


# ----------------------------------------------------------------------------------- the blocks


class BasicConv2d(nn.Module):
    """conv (no bias) -> batch norm (eps 1e-3, TensorFlow's) -> ReLU."""

    def __init__(self, c_in: int, c_out: int, **conv: object) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, bias=False, **conv)
        self.bn = nn.BatchNorm2d(c_out, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg_pool_tf(x: torch.Tensor) -> torch.Tensor:
    """3x3 stride-1 average pool that, like TensorFlow's, ignores the zero padding."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class InceptionA(nn.Module):
    """Mixed_5b/c/d, 35x35: 1x1 | 1x1-5x5 | 1x1-3x3-3x3 | avgpool-1x1 -> 224 + pool_features."""

    def __init__(self, c_in: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(c_in, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(c_in, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(c_in, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(c_in, pool_features, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(_avg_pool_tf(x))
        return torch.cat([b1, b5, b3, bp], 1)


class InceptionB(nn.Module):
    """Mixed_6a, 35x35 -> 17x17: stride-2 3x3 | 1x1-3x3-3x3/2 | maxpool/2 -> 768."""

    def __init__(self, c_in: int) -> None:
        super().__init__()
        self.branch3x3 = BasicConv2d(c_in, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(c_in, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3(x)
        b3d = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat([b3, b3d, bp], 1)


class InceptionC(nn.Module):
    """Mixed_6b-e, 17x17: factorised 7x7 convolutions (1x7 then 7x1) -> 768."""

    def __init__(self, c_in: int, channels_7x7: int) -> None:
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = BasicConv2d(c_in, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(c_in, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(c_in, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(c_in, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        b7d = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4):
            b7d = layer(b7d)
        b7d = self.branch7x7dbl_5(b7d)
        bp = self.branch_pool(_avg_pool_tf(x))
        return torch.cat([b1, b7, b7d, bp], 1)


class InceptionD(nn.Module):
    """Mixed_7a, 17x17 -> 8x8: 1x1-3x3/2 | 1x1-1x7-7x1-3x3/2 | maxpool/2 -> 1280."""

    def __init__(self, c_in: int) -> None:
        super().__init__()
        self.branch3x3_1 = BasicConv2d(c_in, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(c_in, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_1(x)
        for layer in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            b7 = layer(b7)
        bp = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat([b3, b7, bp], 1)


class InceptionE(nn.Module):
    """Mixed_7b (average pool) and Mixed_7c (max pool, as the TensorFlow graph has it), 8x8:
    1x1 | 1x1-(1x3, 3x1) | 1x1-3x3-(1x3, 3x1) | pool-1x1 -> 2048."""

    def __init__(self, c_in: int, max_pool: bool) -> None:
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = BasicConv2d(c_in, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(c_in, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(c_in, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(c_in, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        b3d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        b3d = torch.cat([self.branch3x3dbl_3a(b3d), self.branch3x3dbl_3b(b3d)], 1)
        if self.max_pool:
            pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        else:
            pooled = _avg_pool_tf(x)
        return torch.cat([b1, b3, b3d, self.branch_pool(pooled)], 1)


# ---------------------------------------------------------------------------------- the network


class FIDInceptionV3(nn.Module):
    """(N, 3, 299, 299) in [-1, 1] -> pool features (N, 2048) and logits (N, 1008)."""

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)  # -> 32 x 149 x 149
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)  # -> 32 x 147 x 147
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)  # -> 64 x 147 x 147
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)  # after max pool: 80 x 73 x 73
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)  # -> 192 x 71 x 71
        self.Mixed_5b = InceptionA(192, pool_features=32)  # after max pool: 256 x 35 x 35
        self.Mixed_5c = InceptionA(256, pool_features=64)  # -> 288 x 35 x 35
        self.Mixed_5d = InceptionA(288, pool_features=64)  # -> 288 x 35 x 35
        self.Mixed_6a = InceptionB(288)  # -> 768 x 17 x 17
        self.Mixed_6b = InceptionC(768, channels_7x7=128)
        self.Mixed_6c = InceptionC(768, channels_7x7=160)
        self.Mixed_6d = InceptionC(768, channels_7x7=160)
        self.Mixed_6e = InceptionC(768, channels_7x7=192)  # -> 768 x 17 x 17
        self.Mixed_7a = InceptionD(768)  # -> 1280 x 8 x 8
        self.Mixed_7b = InceptionE(1280, max_pool=False)  # -> 2048 x 8 x 8
        self.Mixed_7c = InceptionE(2048, max_pool=True)  # -> 2048 x 8 x 8
        self.fc = nn.Linear(FEATURES, CLASSES)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (N, 3, 299, 299), already scaled to [-1, 1]. Returns (pool (N, 2048), logits
        (N, 1008)); the logits omit fc's bias, as the original Inception Score code does."""
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)  # (N, 64, 73, 73)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, kernel_size=3, stride=2)  # (N, 192, 35, 35)
        for block in (
            self.Mixed_5b,
            self.Mixed_5c,
            self.Mixed_5d,
            self.Mixed_6a,
            self.Mixed_6b,
            self.Mixed_6c,
            self.Mixed_6d,
            self.Mixed_6e,
            self.Mixed_7a,
            self.Mixed_7b,
            self.Mixed_7c,
        ):
            x = block(x)
        pool = x.mean(dim=(2, 3))  # (N, 2048): pool_3
        logits = pool @ self.fc.weight.T  # (N, 1008): matmul(pool3, w), no bias
        return pool, logits


# ------------------------------------------------------------------------------- preprocessing


def resize_bilinear_tf1(x: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear resize of (N, C, H, W) to (N, C, size, size) as TensorFlow 1's
    `tf.image.resize_bilinear(align_corners=False)` does: output pixel i reads the input at
    src = i * (in / out) (no half-pixel offset), between floor(src) and min(floor(src) + 1,
    in - 1), weighted by the fraction. torch's interpolate uses half-pixel centres and differs."""

    def axis(n_in: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        scale = torch.tensor(n_in / size, dtype=torch.float32)
        src = torch.arange(size, dtype=torch.float32) * scale  # (size,) source coordinates
        lo = src.floor().long().clamp(max=n_in - 1)
        hi = (lo + 1).clamp(max=n_in - 1)
        return lo, hi, (src - lo.float()).to(x.dtype)

    lo, hi, f = axis(x.shape[2])
    x = x[:, :, lo, :] * (1 - f)[:, None] + x[:, :, hi, :] * f[:, None]  # (N, C, size, W)
    lo, hi, f = axis(x.shape[3])
    return x[:, :, :, lo] * (1 - f) + x[:, :, :, hi] * f  # (N, C, size, size)


def preprocess(images: torch.Tensor) -> torch.Tensor:
    """[0, 1] images (N, 1 or 3, H, W) -> the graph's input (N, 3, 299, 299) in [-1, 1]."""
    x = (images.float() * 255).round().clamp(0, 255)  # 8-bit levels, as images saved to PNG
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    x = resize_bilinear_tf1(x, INPUT_SIZE)
    return (x - 128) / 128


# ------------------------------------------------------------------------------------- weights


def hub_checkpoints() -> Path:
    """Where torch hub keeps downloaded weights: $TORCH_HOME/hub/checkpoints by default."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def missing_weights_error(where: str) -> SaddlepointError:
    return SaddlepointError(
        f"no Inception-v3 weights {where}: download pt_inception-2015-12-05-6726825d.pth "
        f"(95 MB) from {FID_WEIGHTS_URL} and pass it with --weights PATH, or put it in "
        f"{hub_checkpoints()} (or use the default --extractor classifier for MNIST-like data)."
    )


def find_weights(path: str | os.PathLike | None = None) -> Path:
    """The weights file: `path` if given, else the first of WEIGHT_FILES in the hub cache."""
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise missing_weights_error(f"at {p}")
        return p
    for name in WEIGHT_FILES:
        candidate = hub_checkpoints() / name
        if candidate.is_file():
            return candidate
    raise missing_weights_error(f"were given and none is in {hub_checkpoints()}")


def load_inception(path: str | os.PathLike | None = None) -> tuple[FIDInceptionV3, Path, str]:
    """The network with its weights, in eval mode, and the weights' path and SHA-256."""
    file = find_weights(path)
    try:
        if file.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(file))
        else:
            state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as e:  # a truncated download or a file that is not a state dict
        raise SaddlepointError(
            f"{file} is not a readable PyTorch weights file ({type(e).__name__}): download it "
            f"again from {FID_WEIGHTS_URL}."
        ) from None
    network = FIDInceptionV3()
    if not isinstance(state, dict):
        raise SaddlepointError(
            f"{file} holds no state dict: download it again from {FID_WEIGHTS_URL}."
        )
    try:
        result = network.load_state_dict(state, strict=False)
    except RuntimeError as e:  # a tensor of the wrong shape
        raise SaddlepointError(
            f"{file} is not the FID Inception-v3 ({str(e).splitlines()[-1].strip()}): use "
            f"pt_inception-2015-12-05-6726825d.pth from {FID_WEIGHTS_URL}."
        ) from None
    if result.missing_keys or result.unexpected_keys:
        first = (result.missing_keys or result.unexpected_keys)[0]
        problem = "lacks" if result.missing_keys else "has the unexpected"
        raise SaddlepointError(
            f"{file} is not the FID Inception-v3 ({problem} tensor {first!r}): use "
            f"pt_inception-2015-12-05-6726825d.pth from {FID_WEIGHTS_URL}."
        )
    network.requires_grad_(False).eval()
    return network, file, file_sha256(file)
