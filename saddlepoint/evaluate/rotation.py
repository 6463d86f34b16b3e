"""The rotation network: offline features for images without class labels, learned from the
images themselves.

Unlabelled data (a `folder:PATH` of faces, `eval fid --input1 DIR --input2 DIR`) has no classes
to train the dataset classifier on, and the Inception network's weights cannot be fetched on an
offline machine. So saddlepoint trains the dataset classifier's small CNN (`classifier.py`) on a
task that needs no labels: which of four rotations, 0, 90, 180 or 270 degrees, was applied to an
image (Gidaris, Singh and Komodakis 2018, "Unsupervised representation learning by predicting
image rotations", ICLR; the same task is the self-supervision of Chen et al. 2019's SS-GAN). To
tell an upright face from a turned one the network has to find where eyes, mouth and hair lie,
so its 128-d penultimate features describe the data's own structure.

Its scores are "rotation-feature" Frechet and kernel distances and precision/recall: not FIDs,
and comparable only with scores made with the same cached network, i.e. the same training
images (their SHA-256 is in the key), recipe and seed. docs/metrics.md says what they can and
cannot compare. They carry no class logits, so the Inception Score and class coverage are not
defined with them.

Training: Adam with a one-cycle learning rate; each step draws 128 images with replacement and
gives each a uniformly random rotation (the label). Steps: 3 passes over the 4 N rotated images,
at least 300 (small folders) and at most 2,000 (large ones). Images larger than 64x64 are
area-resized to 64x64 first, for speed. Cached at <cache>/rotation/<dataset>-<hash>.safetensors.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

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
from saddlepoint.evaluate.classifier import ARCHITECTURE as CNN
from saddlepoint.evaluate.classifier import Classifier, TrainedClassifier
from saddlepoint.progress import Progress

ARCHITECTURE = f"rotation-v1: {CNN}; 4 classes (0, 90, 180, 270 degrees)"
MAX_SIDE = 64  # larger images are area-resized to this side before the network
ROTATIONS = 4


@dataclass(frozen=True)
class RotationRecipe:
    epochs: int = 3  # passes over the 4 N rotated images, within [min_steps, max_steps]
    min_steps: int = 300  # small folders: at least this many Adam steps
    max_steps: int = 2000  # large ones: at most this many
    batch_size: int = 128  # images per step, drawn with replacement, each randomly rotated
    max_lr: float = 3e-3  # peak of the one-cycle learning rate
    seed: int = 0  # initialisation, draws, rotations and dropout

    def steps(self, n: int) -> int:
        """Adam steps for n training images."""
        passes = math.ceil(self.epochs * ROTATIONS * n / self.batch_size)
        return max(self.min_steps, min(self.max_steps, passes))


DEFAULT_RECIPE = RotationRecipe()  # what load_rotation_network uses when given no recipe


def fit(x: torch.Tensor, side: int) -> torch.Tensor:
    """Images (N, C, H, W) area-resized to (N, C, side, side) when they are larger."""
    return x if x.shape[-1] == side else F.interpolate(x, size=(side, side), mode="area")


def rotate(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Each image x[i] (N, C, S, S) turned k[i] quarter turns anticlockwise."""
    out = x.clone()
    for r in range(1, ROTATIONS):
        chosen = k == r
        if chosen.any():
            out[chosen] = torch.rot90(x[chosen], r, dims=(2, 3))
    return out


def _check(x: torch.Tensor, name: str) -> None:
    if x.dim() != 4 or x.shape[2] != x.shape[3]:
        raise SaddlepointError(
            f"the rotation features need square images, and {name} holds shape "
            f"{tuple(x.shape[1:])}: use --extractor inception --weights PATH."
        )
    if x.shape[0] < 2:
        raise SaddlepointError(
            f"{name} holds {x.shape[0]} image(s): the rotation network needs at least 2 to "
            "learn from."
        )


def train_rotation(
    x: torch.Tensor, recipe: RotationRecipe, progress: Progress | None = None
) -> Classifier:
    """Train the CNN to tell the rotation of images x (N, C, S, S) in [0, 1], already fitted
    to at most MAX_SIDE; deterministic given recipe.seed on one thread. The global RNG is left
    as it was; works inside torch.no_grad()."""
    steps = recipe.steps(len(x))
    with torch.random.fork_rng(devices=[]), torch.enable_grad():
        torch.manual_seed(recipe.seed)  # initialisation and dropout
        network = Classifier(tuple(x.shape[1:]), ROTATIONS)
        draws = torch.Generator().manual_seed(recipe.seed)
        optimiser = torch.optim.Adam(network.parameters(), lr=recipe.max_lr / 25)
        schedule = torch.optim.lr_scheduler.OneCycleLR(
            optimiser, max_lr=recipe.max_lr, total_steps=steps
        )
        network.train()
        for _ in range(steps):
            idx = torch.randint(len(x), (recipe.batch_size,), generator=draws)
            k = torch.randint(ROTATIONS, (recipe.batch_size,), generator=draws)
            loss = F.cross_entropy(network(rotate(x[idx], k)), k)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            if progress is not None:
                progress.update()
                progress.show({"loss": float(loss.detach())})
    network.eval().requires_grad_(False)
    return network


@torch.no_grad()
def rotation_accuracy(network: Classifier, x: torch.Tensor, batch: int = 500) -> float:
    """Share of the 4 N rotated copies of x whose rotation the network names."""
    right = 0
    for r in range(ROTATIONS):
        k = torch.full((len(x),), r)
        for i in range(0, len(x), batch):
            turned = rotate(x[i : i + batch], k[i : i + batch])
            right += int((network(turned).argmax(1) == r).sum())
    return right / (ROTATIONS * len(x))


def rotation_key(name: str, recipe: RotationRecipe, x: torch.Tensor) -> dict:
    """Everything that changes the trained weights: architecture, recipe, the exact images."""
    return {
        "format": 1,
        "architecture": ARCHITECTURE,
        "max_side": MAX_SIDE,
        "recipe": dataclasses.asdict(recipe),
        "dataset": name,
        "train_images_sha256": tensor_sha256(x),
    }


def _stderr(message: str) -> None:
    print(f"saddlepoint: {message}", file=sys.stderr, flush=True)


_LOADED: dict[tuple, TrainedClassifier] = {}  # in-process memo


def load_rotation_network(
    images: torch.Tensor,
    name: str,
    *,
    held_out: torch.Tensor | None = None,
    recipe: RotationRecipe | None = None,
    cache_dir: str | os.PathLike | None = None,
    log: Callable[[str], None] | None = _stderr,
) -> TrainedClassifier:
    """The rotation network of `images` (N, C, S, S) in [0, 1] (a dataset's training split, or
    every image of a folder), named `name` in messages and file names: from the cache, or
    trained once and cached. Its rotation accuracy is measured on `held_out` images when given
    (else on the training images) and stored with it."""
    recipe = recipe or DEFAULT_RECIPE
    _check(images, name)
    side = min(MAX_SIDE, images.shape[-1])
    x = fit(images.float(), side)
    key = rotation_key(name, recipe, x)
    path = cache_root(cache_dir) / "rotation" / f"{slug(name)}-{key_hash(key)}.safetensors"
    memo = (str(path), key_hash(key))
    if memo in _LOADED and path.is_file():
        return _LOADED[memo]
    if path.is_file():
        tensors, meta = load_entry(path)
        network = Classifier(tuple(meta["shape"]), ROTATIONS)
        network.load_state_dict(tensors)
        network.eval().requires_grad_(False)
    else:
        steps = recipe.steps(len(x))
        if log:
            log(
                f"training the rotation network of {name} once ({len(x)} images, {steps} "
                f"steps; it learns their features by telling their rotation); cached in "
                f"{path.parent}"
            )
        start = time.perf_counter()
        with Progress(
            steps, noun="step", desc=f"saddlepoint: {name} rotation network", prefix=True,
            enabled=log is not None,
        ) as progress:  # fmt: skip
            network = train_rotation(x, recipe, progress)
        seconds = time.perf_counter() - start
        scored = x if held_out is None else fit(held_out.float(), side)
        meta = {
            "key": key,
            "dataset": name,
            "shape": list(x.shape[1:]),
            "train_images": len(x),
            "accuracy": rotation_accuracy(network, scored),
            "accuracy_on": "training images" if held_out is None else "held-out images",
            "accuracy_images": len(scored),
            "train_seconds": round(seconds, 2),
            "threads": torch.get_num_threads(),
        }
        save_entry(path, network.state_dict(), meta)
        if log:
            log(
                f"{name} rotation network: rotation accuracy {meta['accuracy']:.4f} on "
                f"{len(scored)} {meta['accuracy_on']} after {seconds:.0f} s"
            )
    trained = TrainedClassifier(network, path, file_sha256(path), meta)
    _LOADED[memo] = trained
    return trained
