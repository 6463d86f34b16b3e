"""`digits`: scikit-learn's 8x8 digits, scaled by 1/16 and split 1,397/200/200 after a shuffle."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.datasets import load_digits

from saddlepoint.config import DataConfig
from saddlepoint.data import load_dataset


def test_digits_split_values_and_labels():
    parts = [load_dataset(DataConfig(name="digits"), s) for s in ("train", "valid", "test")]
    assert [len(p) for p in parts] == [1397, 200, 200]
    assert parts[0].x.shape == (1397, 1, 8, 8) and parts[0].x.dtype == torch.float32
    assert parts[0].classes == tuple("0123456789")
    reference = load_digits()
    x = torch.cat([p.x for p in parts])  # (1797, 1, 8, 8)
    y = torch.cat([p.y for p in parts])
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0  # 16 ink points -> 1
    # the three splits are a permutation of the whole set, each image with its own label
    flat = (x.reshape(len(x), 64) * 16).round().to(torch.int64).numpy()
    rows = {tuple(r): int(t) for r, t in zip(reference.data.astype(np.int64), reference.target)}
    assert len({tuple(r) for r in flat}) == len(rows)
    assert all(rows[tuple(r)] == int(t) for r, t in zip(flat, y))
    # shuffled: the sklearn order (sorted in blocks 0, 1, 2, ...) is not kept
    assert not torch.equal(y[:10], torch.from_numpy(reference.target[:10]))
