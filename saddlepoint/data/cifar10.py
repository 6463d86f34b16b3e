"""`cifar10`: the CIFAR-10 python release (Krizhevsky, 2009), the `cifar-10-batches-py` folder.

Each batch file (data_batch_1..5, test_batch) is a pickle of a dict: b"data" is uint8 (N, 3072),
each row 1,024 red then 1,024 green then 1,024 blue values of a 32x32 image in row-major order
(so it reshapes to (N, 3, 32, 32) directly); b"labels" is a list of N ints in 0..9.
batches.meta holds b"label_names".

The pickles are read with a restricted unpickler that can rebuild numpy arrays and nothing
else, so a tampered file cannot run code.

Split: train = the first 45,000 of the 50,000 training images (batches 1-5 in order), valid =
the last 5,000 (in general: the last tenth of the training images), test = test_batch.
`data.root` may name the `cifar-10-batches-py` folder itself or the folder that holds it.
"""

from __future__ import annotations

import codecs
import functools
import io
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from saddlepoint.config import DataConfig
from saddlepoint.data.dataset import Dataset
from saddlepoint.data.idx import cache_root, missing_folder_error
from saddlepoint.errors import SaddlepointError

FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
META = "batches.meta"
PIXELS = 3 * 32 * 32  # values per image: (C, H, W) = (3, 32, 32)
VALID_FRACTION = 10  # valid = the last 1/10 of the training images (5,000 of 50,000)


def default_root() -> str:
    return os.path.join(cache_root("cifar10"), FOLDER)


def _numpy_reconstructors() -> dict[tuple[str, str], Any]:
    """The (module, name) globals a numpy-array pickle may name, and what each resolves to."""
    try:
        from numpy._core import multiarray, numeric  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray, numeric
    allowed: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): codecs.encode,  # how Python 3 writes bytes at protocol 2
    }
    for package in ("numpy.core", "numpy._core"):  # the name depends on the writer's numpy
        allowed[(f"{package}.multiarray", "_reconstruct")] = multiarray._reconstruct
        allowed[(f"{package}.multiarray", "scalar")] = multiarray.scalar
        allowed[(f"{package}.numeric", "_frombuffer")] = numeric._frombuffer
    return allowed


class SafeUnpickler(pickle.Unpickler):
    """An Unpickler whose find_class allows numpy's array reconstruction and nothing else."""

    allowed = _numpy_reconstructors()

    def __init__(self, stream: io.BufferedIOBase, path: str) -> None:
        super().__init__(stream, encoding="bytes")
        self.path = path

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise SaddlepointError(
                f"{self.path} asks to load {module}.{name}, which a CIFAR-10 batch never "
                f"contains, so it was not opened: replace it with a fresh copy from "
                f"`saddlepoint data download cifar10 --to DIR`."
            ) from None


def _redownload() -> str:
    return "download a fresh copy with `saddlepoint data download cifar10 --to DIR`"


def read_pickle(path: str | os.PathLike) -> Any:
    """Unpickle one CIFAR file safely (see SafeUnpickler); errors name the file."""
    path = str(path)
    try:
        with open(path, "rb") as stream:
            return SafeUnpickler(stream, path).load()
    except SaddlepointError:
        raise
    except Exception as error:  # noqa: BLE001 - a damaged pickle can raise nearly anything
        raise SaddlepointError(
            f"{path} is not a readable CIFAR-10 pickle ({type(error).__name__}: {error}): "
            f"{_redownload()}."
        ) from None


def read_batch(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """One batch file as (images (N, 3, 32, 32) uint8, labels (N,) int64), checked."""
    path = Path(path)
    stat = path.stat()
    return _read_batch_cached(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _read_batch_cached(path: str, mtime_ns: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    batch = read_pickle(path)
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise SaddlepointError(
            f"{path} is not a CIFAR-10 batch (no data and labels inside): {_redownload()}."
        )
    data, labels = batch[b"data"], batch[b"labels"]
    if (
        not isinstance(data, np.ndarray)
        or data.dtype != np.uint8
        or data.ndim != 2
        or data.shape[1] != PIXELS
    ):
        shape = getattr(data, "shape", type(data).__name__)
        raise SaddlepointError(
            f"{path} holds data of shape {shape}, not (N, {PIXELS}) uint8: {_redownload()}."
        )
    try:
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)  # (N,)
    except (TypeError, ValueError):
        raise SaddlepointError(
            f"{path} holds labels that are not integers: {_redownload()}."
        ) from None
    if len(labels) != len(data):
        raise SaddlepointError(
            f"{path} holds {len(data):,} images but {len(labels):,} labels: {_redownload()}."
        )
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise SaddlepointError(f"{path} holds labels outside 0..9: {_redownload()}.")
    images = data.reshape(-1, 3, 32, 32)  # (N, C, H, W): the rows are stored channel-major
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def find_folder(root: str | os.PathLike | None) -> Path:
    """The cifar-10-batches-py folder: root itself, or root/cifar-10-batches-py (None: the
    default folder)."""
    folder = Path(root or default_root()).expanduser()
    if (folder / FOLDER).is_dir() and not (folder / TEST_BATCH).exists():
        folder = folder / FOLDER
    if not folder.is_dir():
        raise missing_folder_error("cifar10", folder, default=root is None)
    for name in (*TRAIN_BATCHES, TEST_BATCH, META):
        if not (folder / name).is_file():
            raise SaddlepointError(
                f"{folder} has no {name}: point data.root at the complete {FOLDER} folder, "
                f"or {_redownload()} and `--set data.root=DIR`."
            )
    return folder


def class_names(folder: Path) -> tuple[str, ...]:
    meta = read_pickle(folder / META)
    names = meta.get(b"label_names") if isinstance(meta, dict) else None
    if not isinstance(names, list) or len(names) != 10:
        raise SaddlepointError(f"{folder / META} does not list ten label_names: {_redownload()}.")
    return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)


def load(config: DataConfig, split: str) -> Dataset:
    folder = find_folder(config.root)
    if split == "test":
        images, labels = read_batch(folder / TEST_BATCH)
    else:
        parts = [read_batch(folder / name) for name in TRAIN_BATCHES]
        images = np.concatenate([p[0] for p in parts])  # (50000, 3, 32, 32)
        labels = np.concatenate([p[1] for p in parts])  # (50000,)
        cut = len(images) - len(images) // VALID_FRACTION
        rows = slice(0, cut) if split == "train" else slice(cut, None)
        images, labels = images[rows], labels[rows]
    pixels = images.astype(np.float32)  # (N, 3, 32, 32), a writable copy
    pixels /= 255.0
    return Dataset(
        "cifar10",
        split,
        torch.from_numpy(pixels),
        torch.from_numpy(labels.copy()),
        class_names(folder),
    )
