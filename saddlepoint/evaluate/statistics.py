"""Feature statistics: the Gaussian (mean, covariance) of a feature set, and the reference
features of a dataset split, cached on disk.

Stage two of features -> statistics -> formula (STYLE.md, principle 11). The Frechet distance
needs only (mu, Sigma); the kernel distance and precision/recall need the features themselves;
class coverage needs the split's labels. A reference entry holds all four, under a key naming
everything that changes them:

    dataset name, split, image count, the SHA-256 of exactly those images,
    the extractor, its weights' SHA-256, its preprocessing and its feature width.

Covariances are unbiased (divided by n - 1, as numpy.cov and pytorch-fid) and kept in float64.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from saddlepoint.config import DataConfig
from saddlepoint.data import load_dataset
from saddlepoint.errors import SaddlepointError
from saddlepoint.evaluate.cache import (
    cache_root,
    key_hash,
    load_entry,
    save_entry,
    slug,
    tensor_sha256,
)
from saddlepoint.evaluate.features import Extractor


@dataclass(frozen=True)
class GaussianStatistics:
    mu: torch.Tensor  # (D,) float64 mean
    sigma: torch.Tensor  # (D, D) float64 covariance, divided by n - 1
    n: int  # feature vectors they summarise


def mean_and_covariance(features: torch.Tensor) -> GaussianStatistics:
    """mu = mean_i f_i, Sigma = sum_i (f_i - mu)(f_i - mu)^T / (n - 1), from (n, D) features."""
    if features.dim() != 2 or features.shape[0] < 2:
        raise SaddlepointError(
            f"a covariance needs at least 2 feature vectors (n, D), got {tuple(features.shape)}: "
            "draw more samples."
        )
    f = features.detach().to("cpu", torch.float64)
    mu = f.mean(dim=0)  # (D,)
    centred = f - mu  # (n, D)
    sigma = centred.T @ centred / (f.shape[0] - 1)  # (D, D)
    return GaussianStatistics(mu, sigma, f.shape[0])


@dataclass(frozen=True)
class Reference:
    features: torch.Tensor  # (n, D) float32 features of the split's first n images
    labels: torch.Tensor | None  # (n,) int64 class labels, None for unlabelled data
    stats: GaussianStatistics  # their mean and covariance
    key: dict[str, Any]  # what the cache entry was made from
    path: Path  # the cache file

    @property
    def n(self) -> int:
        return self.features.shape[0]


def split_images(
    data: DataConfig, split: str, n: int | None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The first n images (all if None) of a split, and their labels; data.limit is ignored so
    that every run of a dataset is compared with the same reference."""
    dataset = load_dataset(dataclasses.replace(data, limit=None), split)
    if not dataset.is_image:
        raise SaddlepointError(
            f"{data.name} holds points, not images: these metrics score images; use the lab "
            "and Parzen tools for toy densities."
        )
    if n is not None and n > len(dataset):
        raise SaddlepointError(
            f"--reference {n} asks for more images than the {len(dataset)} in the {split} "
            f"split of {data.name}: ask for at most {len(dataset)}, or leave --reference out "
            "to use the whole split."
        )
    count = len(dataset) if n is None else n
    labels = None if dataset.y is None else dataset.y[:count]
    return dataset.x[:count], labels


def reference_key(
    data: DataConfig | str, split: str, images: torch.Tensor, extractor: Extractor
) -> dict[str, Any]:
    return {
        "format": 1,
        "dataset": data if isinstance(data, str) else data.name,
        "split": split,
        "images": int(images.shape[0]),
        "images_sha256": tensor_sha256(images),
        **extractor.key(),
    }


_MEMO: dict[tuple, Reference] = {}  # in-process: periodic evaluation reuses the loaded entry


def reference_statistics(
    data: DataConfig,
    split: str,
    extractor: Extractor,
    *,
    n: int | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> Reference:
    """Features, labels, mean and covariance of the first n images of `split` (all if None),
    read from the cache or extracted once and cached."""
    memo = (
        data.name,
        data.root,
        split,
        n,
        json.dumps(extractor.key(), sort_keys=True),
        str(cache_root(cache_dir)),
    )
    if memo in _MEMO and _MEMO[memo].path.is_file():
        return _MEMO[memo]
    images, labels = split_images(data, split, n)
    reference = images_reference(images, labels, data.name, split, extractor, cache_dir=cache_dir)
    _MEMO[memo] = reference
    return reference


def images_reference(
    images: torch.Tensor,
    labels: torch.Tensor | None,
    dataset: str,
    split: str,
    extractor: Extractor,
    *,
    cache_dir: str | os.PathLike | None = None,
) -> Reference:
    """Features, labels, mean and covariance of reference `images` (N, C, H, W) in [0, 1] named
    `dataset` and `split` (e.g. a folder, "all"), read from the cache or extracted and cached."""
    key = reference_key(dataset, split, images, extractor)
    name = f"{slug(dataset)}-{split}-{len(images)}-{extractor.name}-{key_hash(key)}"
    path = cache_root(cache_dir) / "statistics" / f"{name}.safetensors"
    if path.is_file():
        tensors, _meta = load_entry(path)
        stats = GaussianStatistics(tensors["mu"], tensors["sigma"], len(tensors["features"]))
        reference = Reference(tensors["features"], tensors.get("labels"), stats, key, path)
    else:
        features = extractor.extract(images).features
        stats = mean_and_covariance(features)
        tensors = {"features": features, "mu": stats.mu, "sigma": stats.sigma}
        if labels is not None:
            tensors["labels"] = labels.long()
        save_entry(path, tensors, {"key": key})
        reference = Reference(features, labels, stats, key, path)
    return reference
