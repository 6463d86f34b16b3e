"""`digits`: scikit-learn's 1,797 handwritten digits, 8x8 pixels (UCI optical recognition set).

`sklearn.datasets.load_digits` ships the data inside the wheel (no download). Pixels count
0..16 ink points and are divided by 16. The set is shuffled once with a fixed seed (0) and split
1,397 train / 200 valid / 200 test.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from saddlepoint.config import DataConfig
from saddlepoint.data.dataset import Dataset

SHUFFLE_SEED = 0
SPLIT_SIZES = {"train": (0, 1397), "valid": (1397, 1597), "test": (1597, 1797)}
CLASSES = tuple(str(i) for i in range(10))


@functools.lru_cache(maxsize=1)
def _load_all() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits  # imported here: scikit-learn is slow to import

    bunch = load_digits()
    images = bunch.images.astype(np.float32) / 16.0  # (1797, 8, 8) in [0, 1]
    order = np.random.default_rng(SHUFFLE_SEED).permutation(len(images))
    x = torch.from_numpy(images[order]).unsqueeze(1)  # (1797, 1, 8, 8)
    y = torch.from_numpy(bunch.target[order].astype(np.int64))  # (1797,)
    return x, y


def load(config: DataConfig, split: str) -> Dataset:
    x, y = _load_all()
    start, stop = SPLIT_SIZES[split]
    return Dataset("digits", split, x[start:stop].clone(), y[start:stop].clone(), CLASSES)
