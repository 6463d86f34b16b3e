"""Feature extractors, by name: stage one of features -> statistics -> formula.

    auto         (default) classifier for labelled images, rotation for unlabelled ones.
    classifier   the dataset's own small CNN (`classifier.py`), trained once on the
                 training split and cached: 128-d penultimate features and its class logits.
                 Offline; for labelled MNIST-like data. Its scores are "classifier-feature"
                 scores, comparable only with scores from the same cached classifier.
    rotation     the same CNN trained on the dataset's own training split (or the reference
                 folder) to tell images' rotations (`rotation.py`): self-supervised, offline,
                 for unlabelled images. "rotation-feature" scores; no class logits.
    inception    the FID Inception-v3 (`inception.py`) with weights the user supplies: 2048-d
                 pool features and 1008 logits. Scores are FID, KID and Inception Score proper,
                 comparable with published numbers when the weights are the published file.

An Extractor maps [0, 1] images (N, C, H, W) to `Features` in batches, and names itself for
cache keys by its weights' SHA-256 and its preprocessing.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from saddlepoint.config import DataConfig
from saddlepoint.data import load_dataset
from saddlepoint.errors import SaddlepointError

RANGE_TOLERANCE = 1e-4  # images may overshoot [0, 1] by this much (float rounding)


@dataclass(frozen=True)
class Features:
    features: torch.Tensor  # (N, D) float32 feature vectors
    logits: torch.Tensor  # (N, K) float32 class logits (Inception Score, class coverage)


@dataclass
class Extractor:
    name: str  # registry name: "classifier", "rotation" or "inception"
    standard: bool  # True for the Inception network: FID/KID/IS proper
    network: nn.Module  # in eval mode
    embed: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]  # images -> (feats, logits)
    preprocessing: str  # what is done to [0, 1] images before the network, in words
    weights_sha256: str  # SHA-256 of the weights file
    feature_dim: int  # D
    classes: int  # K
    batch_size: int  # images per forward pass
    input_shape: tuple[int, int, int] | None = None  # (C, H, W) required, or None = any
    info: dict[str, Any] = field(default_factory=dict)  # extra facts for a result's settings
    device: str = "cpu"
    class_logits: bool = True  # logits over classes (IS, class coverage); rotation's are not

    def key(self) -> dict[str, Any]:
        """What changes this extractor's features, for reference-statistics cache keys."""
        return {
            "extractor": self.name,
            "weights_sha256": self.weights_sha256,
            "preprocessing": self.preprocessing,
            "feature_dim": self.feature_dim,
        }

    def check(self, images: torch.Tensor) -> None:
        """One sentence if images are not (N, C, H, W) in [0, 1] of the shape this needs."""
        if images.dim() != 4:
            raise SaddlepointError(
                f"feature extraction needs images (N, C, H, W), got shape {tuple(images.shape)}."
            )
        if self.input_shape is not None and tuple(images.shape[1:]) != self.input_shape:
            c, h, w = self.input_shape
            raise SaddlepointError(
                f"the {self.name} extractor reads {c}x{h}x{w} images, got "
                f"{'x'.join(map(str, images.shape[1:]))}: score samples of the dataset the "
                f"{self.name} network was trained on, or use --extractor inception --weights PATH."
            )
        if images.shape[1] not in (1, 3):
            raise SaddlepointError(f"images need 1 or 3 channels, got {images.shape[1]}.")
        if images.numel() and (
            float(images.min()) < -RANGE_TOLERANCE or float(images.max()) > 1 + RANGE_TOLERANCE
        ):
            raise SaddlepointError(
                f"images must lie in [0, 1], got values from {float(images.min()):.3g} to "
                f"{float(images.max()):.3g}: map them to [0, 1] first (e.g. (x + 1) / 2 for "
                "tanh outputs)."
            )

    @torch.no_grad()
    def extract(self, images: torch.Tensor) -> Features:
        """[0, 1] images (N, C, H, W) -> Features (N, D) and logits (N, K), in batches."""
        self.check(images)
        feats, logits = [], []
        for start in range(0, images.shape[0], self.batch_size):
            batch = images[start : start + self.batch_size].to(self.device, torch.float32)
            f, z = self.embed(batch.clamp(0, 1))
            feats.append(f.float().cpu())
            logits.append(z.float().cpu())
        if not feats:
            return Features(torch.empty(0, self.feature_dim), torch.empty(0, self.classes))
        return Features(torch.cat(feats), torch.cat(logits))


# ------------------------------------------------------------------------------- the registry


def _classifier(
    data: DataConfig,
    weights: str | None,
    cache_dir: str | os.PathLike | None,
    device: str,
    images: torch.Tensor | None,
) -> Extractor:
    from saddlepoint.evaluate.classifier import FEATURES, load_classifier

    if weights is not None:
        raise SaddlepointError(
            "--weights is for --extractor inception; the classifier is trained by saddlepoint "
            "and cached: drop --weights."
        )
    if images is not None:
        raise SaddlepointError(
            "the classifier trains on a labelled dataset's splits; to compare two folders use "
            "the rotation features (the default) or --extractor inception --weights PATH."
        )
    trained = load_classifier(data, cache_dir=cache_dir)
    network = trained.network.to(device)

    def embed(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = network.features(x)  # (B, 128)
        return f, network.head(f)  # (B, K): dropout is off in eval mode

    return Extractor(
        name="classifier",
        standard=False,
        network=network,
        embed=embed,
        preprocessing="none: [0, 1] images as loaded, (x - 0.5) inside the network",
        weights_sha256=trained.sha256,
        feature_dim=FEATURES,
        classes=network.classes,
        batch_size=100,  # 1 thread, 10,000 MNIST images: 3.8 s CPU at 100 per batch, 9.5 at 1,000
        input_shape=network.shape,
        info={
            "classifier_dataset": trained.meta["dataset"],
            "classifier_test_accuracy": trained.test_accuracy,
            "classifier_train_images": trained.meta["train_images"],
            "weights_file": str(trained.path),
        },
        device=device,
    )


def _rotation(
    data: DataConfig,
    weights: str | None,
    cache_dir: str | os.PathLike | None,
    device: str,
    images: torch.Tensor | None,
) -> Extractor:
    """The rotation network of `images` (e.g. a reference folder), else of data's train split
    (its rotation accuracy measured on the valid split)."""
    from saddlepoint.evaluate.classifier import FEATURES
    from saddlepoint.evaluate.rotation import fit, load_rotation_network

    if weights is not None:
        raise SaddlepointError(
            "--weights is for --extractor inception; the rotation network is trained by "
            "saddlepoint and cached: drop --weights."
        )
    held_out = None
    if images is None:
        whole = dataclasses.replace(data, limit=None)
        train = load_dataset(whole, "train")
        if not train.is_image:
            raise SaddlepointError(
                f"{data.name} holds points, not images: the rotation features need images."
            )
        images, held_out = train.x, load_dataset(whole, "valid").x
    trained = load_rotation_network(images, data.name, held_out=held_out, cache_dir=cache_dir)
    network = trained.network.to(device)
    side = network.shape[1]

    def embed(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = network.features(fit(x, side))  # (B, 128)
        return f, network.head(f)  # (B, 4): rotation logits, not classes

    meta = trained.meta
    resized = f", area-resized to {side}x{side}" if side != images.shape[-1] else ""
    return Extractor(
        name="rotation",
        standard=False,
        network=network,
        embed=embed,
        preprocessing=f"[0, 1] images as loaded{resized}, (x - 0.5) inside the network",
        weights_sha256=trained.sha256,
        feature_dim=FEATURES,
        classes=4,
        batch_size=100,
        input_shape=tuple(images.shape[1:]),
        info={
            "rotation_dataset": meta["dataset"],
            "rotation_train_images": meta["train_images"],
            "rotation_accuracy": meta["accuracy"],
            "rotation_accuracy_on": f"{meta['accuracy_images']} {meta['accuracy_on']}",
            "weights_file": str(trained.path),
        },
        device=device,
        class_logits=False,
    )


def _inception(
    data: DataConfig,
    weights: str | None,
    cache_dir: str | os.PathLike | None,
    device: str,
    images: torch.Tensor | None,
) -> Extractor:
    from saddlepoint.evaluate import inception

    network, path, sha256 = inception.load_inception(weights)
    network = network.to(device)

    def embed(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return network(inception.preprocess(x))

    return Extractor(
        name="inception",
        standard=True,
        network=network,
        embed=embed,
        preprocessing=inception.PREPROCESSING,
        weights_sha256=sha256,
        feature_dim=inception.FEATURES,
        classes=inception.CLASSES,
        batch_size=50,
        info={
            "weights_file": str(path),
            # torch hub file names end in the first 8 hex digits of the file's SHA-256
            "weights_are_published_file": sha256.startswith(inception.PUBLISHED_SHA256_PREFIX),
        },
        device=device,
    )


# (data, weights, cache_dir, device, images to train on or None) -> Extractor
Build = Callable[
    [DataConfig, str | None, str | os.PathLike | None, str, torch.Tensor | None], Extractor
]


@dataclass(frozen=True)
class ExtractorSource:
    name: str
    description: str  # one line for --help
    standard: bool  # True: the Inception network (FID proper); False: saddlepoint's own CNNs
    build: Build
    class_logits: bool = True  # its logits are over classes (Inception Score, class coverage)


EXTRACTORS: dict[str, ExtractorSource] = {
    "classifier": ExtractorSource(
        "classifier",
        "the dataset's own small CNN, trained once on its labels and cached (offline; "
        "labelled data)",
        False,
        _classifier,
    ),
    "rotation": ExtractorSource(
        "rotation",
        "the same CNN trained once on the data's own images to tell their rotation and cached "
        "(offline, self-supervised; unlabelled data)",
        False,
        _rotation,
        class_logits=False,
    ),
    "inception": ExtractorSource(
        "inception",
        "the FID Inception-v3 with weights you supply (--weights PATH)",
        True,
        _inception,
    ),
}
AUTO = "auto"  # classifier for labelled images, rotation for unlabelled ones


def get_source(name: str) -> ExtractorSource:
    source = EXTRACTORS.get(name)
    if source is None:
        raise SaddlepointError(
            f"unknown extractor {name!r}; choose one of: {AUTO}, {', '.join(EXTRACTORS)}."
        )
    return source


def resolve_extractor(name: str, data: DataConfig) -> str:
    """The extractor `name` stands for: "auto" is the classifier when data's training split has
    class labels, the rotation network when it has none; other names stand for themselves."""
    if name != AUTO:
        return name
    return _auto(dataclasses.replace(data, limit=None))


@functools.lru_cache(maxsize=16)  # periodic evaluation asks at every evaluation
def _auto(data: DataConfig) -> str:
    train = load_dataset(data, "train")
    return "classifier" if train.y is not None or not train.is_image else "rotation"


def get_extractor(
    name: str,
    data: DataConfig,
    *,
    weights: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    device: str = "cpu",
    images: torch.Tensor | None = None,
) -> Extractor:
    """Build the named extractor (or "auto") for `data`: the classifier and the rotation network
    are trained on data's train split, or the rotation network on `images` when given."""
    if name == AUTO:  # given images (a reference folder) have no labels to classify by
        name = "rotation" if images is not None else resolve_extractor(name, data)
    weights = None if weights is None else str(weights)
    return get_source(name).build(data, weights, cache_dir, device, images)
