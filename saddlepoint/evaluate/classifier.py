"""The dataset classifier: a small CNN trained once on a labelled dataset's training split, whose
penultimate features give the offline "classifier-feature" scores and whose predictions give the
class coverage of generated samples.

Offline stand-in for the Inception network on MNIST-like data, in the tradition of the "MNIST
score" of GAN papers that cannot use an ImageNet network on 28x28 digits (e.g. Li et al.
2017, MMD GAN; Odena et al. 2017, AC-GAN). Its numbers are not FIDs: they depend on this
network, its recipe and its seed, and are comparable only with numbers made by the same cached
classifier (the key below names all of it).

The network: (x - 0.5) -> [conv3x3 (no bias) -> batch norm -> ReLU -> maxpool 2] x 2 ->
flatten -> linear -> ReLU (the features, 128-d) -> dropout 0.25 -> linear (class logits). Trained
with Adam and a one-cycle learning rate (Smith and Topin 2019) for a few epochs with a fixed
seed; its accuracy on the dataset's test split is measured and stored with its weights.

Cached at <cache>/classifiers/<dataset>-<hash>.safetensors (see `saddlepoint.evaluate.cache`),
the hash naming the architecture, the recipe and the SHA-256 of the training images and labels.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from saddlepoint.config import DataConfig
from saddlepoint.data import load_dataset
from saddlepoint.errors import SaddlepointError
from saddlepoint.evaluate.cache import (
    cache_root,
    file_sha256,
    key_hash,
    load_entry,
    save_entry,
    slug,
    tensor_sha256,
)
from saddlepoint.progress import Progress

ARCHITECTURE = (
    "cnn-v1: x-0.5, [conv3x3 no bias, BN, ReLU, maxpool2] x2 (32, 64), fc 128, ReLU, drop 0.25, fc"
)
WIDTHS = (32, 64)  # channels of the two convolutions
FEATURES = 128  # width of the penultimate layer: the feature dimension


@dataclass(frozen=True)
class ClassifierRecipe:
    epochs: int = 3  # passes over the training split
    batch_size: int = 128  # images per Adam step
    max_lr: float = 3e-3  # peak of the one-cycle learning rate
    seed: int = 0  # initialisation, data order and dropout
    limit: int | None = None  # train on the first N training images only (None = all; tests)


DEFAULT_RECIPE = ClassifierRecipe()  # what load_classifier uses when given no recipe


class Classifier(nn.Module):
    """(N, C, H, W) in [0, 1] -> class logits (N, K); `features` gives the 128-d layer."""

    def __init__(
        self, shape: tuple[int, int, int], classes: int, widths: tuple[int, int] | None = None
    ) -> None:
        super().__init__()
        c, h, w = shape
        if h < 4 or w < 4:
            raise SaddlepointError(
                f"the classifier needs images of at least 4x4 pixels, got {h}x{w}: use "
                "--extractor inception for this dataset."
            )
        self.shape, self.classes = (c, h, w), classes
        c1, c2 = widths or WIDTHS
        self.conv1 = nn.Conv2d(c, c1, 3, padding=1, bias=False)  # (N, c1, H, W)
        self.bn1 = nn.BatchNorm2d(c1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1, bias=False)  # (N, c2, H/2, W/2)
        self.bn2 = nn.BatchNorm2d(c2)
        self.fc = nn.Linear(c2 * (h // 4) * (w // 4), FEATURES)
        self.dropout = nn.Dropout(0.25)
        self.head = nn.Linear(FEATURES, classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> (N, 128) penultimate activations (after the ReLU)."""
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x - 0.5))), 2)  # (N, c1, H/2, W/2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)  # (N, c2, H/4, W/4)
        return F.relu(self.fc(x.flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))


@dataclass
class TrainedClassifier:
    network: Classifier  # in eval mode, no gradients
    path: Path  # its cache file
    sha256: str  # SHA-256 of that file: the "weights checksum" of reference statistics keys
    meta: dict[str, Any]  # dataset, recipe, key, test_accuracy, train_seconds, classes

    @property
    def test_accuracy(self) -> float:
        return float(self.meta["test_accuracy"])


def _labelled(data: DataConfig, split: str) -> tuple[torch.Tensor, torch.Tensor, tuple | None]:
    dataset = load_dataset(dataclasses.replace(data, limit=None), split)
    if not dataset.is_image or dataset.y is None:
        what = "points, not images" if not dataset.is_image else "no class labels"
        raise SaddlepointError(
            f"the classifier extractor trains on labelled images, but {data.name} has {what}: "
            "use --extractor inception --weights PATH (images) or another dataset."
        )
    return dataset.x, dataset.y, dataset.classes


def classifier_key(data: DataConfig, recipe: ClassifierRecipe, x: torch.Tensor, y: torch.Tensor):
    """Everything that changes the trained weights: architecture, recipe, the exact data."""
    return {
        "format": 1,
        "architecture": ARCHITECTURE,
        "recipe": dataclasses.asdict(recipe),
        "dataset": data.name,
        "train_images_sha256": tensor_sha256(x),
        "train_labels_sha256": tensor_sha256(y),
    }


@torch.no_grad()
def accuracy(network: Classifier, x: torch.Tensor, y: torch.Tensor, batch: int = 1000) -> float:
    """Share of x whose arg-max logit is its label y."""
    network.eval()
    right = sum(
        int((network(x[i : i + batch]).argmax(1) == y[i : i + batch]).sum())
        for i in range(0, len(x), batch)
    )
    return right / len(x)


def train_classifier(
    x: torch.Tensor,
    y: torch.Tensor,
    classes: int,
    recipe: ClassifierRecipe,
    progress: Progress | None = None,
) -> Classifier:
    """Train the CNN on images x (N, C, H, W) in [0, 1] with labels y (N,); deterministic given
    recipe.seed on one thread. The global RNG is left as it was; works inside torch.no_grad().
    `progress` is advanced once per step (a bar, or status lines in a batch job's log)."""
    with torch.random.fork_rng(devices=[]), torch.enable_grad():
        torch.manual_seed(recipe.seed)  # initialisation and dropout
        network = Classifier(tuple(x.shape[1:]), classes)
        order = torch.Generator().manual_seed(recipe.seed)
        steps_per_epoch = max(1, len(x) // recipe.batch_size)
        optimiser = torch.optim.Adam(network.parameters(), lr=recipe.max_lr / 25)
        schedule = torch.optim.lr_scheduler.OneCycleLR(
            optimiser, max_lr=recipe.max_lr, total_steps=recipe.epochs * steps_per_epoch
        )
        network.train()
        for _ in range(recipe.epochs):
            perm = torch.randperm(len(x), generator=order)
            for step in range(steps_per_epoch):
                idx = perm[step * recipe.batch_size : (step + 1) * recipe.batch_size]
                loss = F.cross_entropy(network(x[idx]), y[idx])
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                schedule.step()
                if progress is not None:
                    progress.update()
                    progress.show({"loss": float(loss.detach())})
    network.eval().requires_grad_(False)
    return network


def _stderr(message: str) -> None:
    print(f"saddlepoint: {message}", file=sys.stderr, flush=True)


_LOADED: dict[tuple, TrainedClassifier] = {}  # in-process memo: periodic evaluation reuses it


def load_classifier(
    data: DataConfig,
    *,
    recipe: ClassifierRecipe | None = None,
    cache_dir: str | os.PathLike | None = None,
    log: Callable[[str], None] | None = _stderr,
) -> TrainedClassifier:
    """The classifier of `data`'s training split: from the cache, or trained once and cached
    (with `recipe`, default DEFAULT_RECIPE)."""
    recipe = recipe or DEFAULT_RECIPE
    memo = (data.name, data.root, recipe, str(cache_root(cache_dir)))
    if memo in _LOADED and _LOADED[memo].path.is_file():
        return _LOADED[memo]
    x, y, class_names = _labelled(data, "train")
    if recipe.limit is not None:
        x, y = x[: recipe.limit], y[: recipe.limit]
    key = classifier_key(data, recipe, x, y)
    path = cache_root(cache_dir) / "classifiers" / f"{slug(data.name)}-{key_hash(key)}.safetensors"
    if path.is_file():
        tensors, meta = load_entry(path)
        network = Classifier(tuple(meta["shape"]), meta["classes"])
        network.load_state_dict(tensors)
        network.eval().requires_grad_(False)
    else:
        classes = len(class_names) if class_names else int(y.max()) + 1
        if log:
            log(
                f"training the {data.name} feature classifier once ({len(x)} images, "
                f"{recipe.epochs} epoch(s); about a minute per epoch on one thread for 50,000 "
                f"28x28 images); it is cached in {path.parent}"
            )
        start = time.perf_counter()
        steps = recipe.epochs * max(1, len(x) // recipe.batch_size)
        with Progress(
            steps, noun="step", desc=f"saddlepoint: {data.name} classifier", prefix=True,
            enabled=log is not None,
        ) as progress:  # fmt: skip
            network = train_classifier(x, y, classes, recipe, progress)
        seconds = time.perf_counter() - start
        test_x, test_y, _ = _labelled(data, "test")
        meta = {
            "key": key,
            "dataset": data.name,
            "shape": list(x.shape[1:]),
            "classes": classes,
            "class_names": list(class_names) if class_names else None,
            "train_images": len(x),
            "test_images": len(test_x),
            "test_accuracy": accuracy(network, test_x, test_y),
            "train_seconds": round(seconds, 2),
            "threads": torch.get_num_threads(),
        }
        save_entry(path, network.state_dict(), meta)
        if log:
            log(
                f"{data.name} classifier: test accuracy {meta['test_accuracy']:.4f} on "
                f"{len(test_x)} images after {seconds:.0f} s"
            )
    trained = TrainedClassifier(network, path, file_sha256(path), meta)
    _LOADED[memo] = trained
    return trained
