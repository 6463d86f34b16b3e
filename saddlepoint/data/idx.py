"""`mnist` and `fashion-mnist`: a folder holding the four standard IDX files, raw or gzipped.

IDX (LeCun et al., http://yann.lecun.com/exdb/mnist/) is a tiny format: a big-endian header
    magic (4 bytes: 0x00, 0x00, type code 0x08 = unsigned byte, number of dimensions)
    one big-endian uint32 per dimension
followed by the values, row-major. Images are 0x00000803 (N, H, W); labels are 0x00000801 (N,).

The split follows Goodfellow et al. (2014): train = the first 50,000 training images,
valid = the last 10,000 training images, test = the 10,000 t10k images. In general, valid is
always the last 10,000 images of the training file and train is everything before them.
"""

from __future__ import annotations

import functools
import gzip
import os
import zlib
from pathlib import Path

import numpy as np
import torch

from saddlepoint.config import DataConfig
from saddlepoint.data.dataset import Dataset
from saddlepoint.errors import SaddlepointError

IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions (N, H, W)
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension (N,)
VALID_SIZE = 10_000  # the last 10,000 training images are the validation split

FILES = {  # split -> (images file, labels file), each optionally with a .gz suffix
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
FILES["valid"] = FILES["train"]

CLASSES = {
    "mnist": tuple(str(i) for i in range(10)),
    "fashion-mnist": (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
}
DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"  # Debian's dataset-fashion-mnist


def cache_root(name: str) -> str:
    """Where `saddlepoint data download NAME` puts files by default: ~/.cache/saddlepoint/NAME."""
    return os.path.join(os.path.expanduser("~"), ".cache", "saddlepoint", name)


def default_root(name: str) -> str:
    """The folder looked in when data.root is unset (Debian's Fashion-MNIST if installed)."""
    if name == "fashion-mnist" and os.path.isdir(DEBIAN_FASHION_MNIST):
        return DEBIAN_FASHION_MNIST
    return cache_root(name)


def _redownload(name: str) -> str:
    return f"download it again with `saddlepoint data download {name} --to DIR`"


def missing_folder_error(name: str, root: str | os.PathLike, default: bool) -> SaddlepointError:
    """The error for a dataset folder that does not exist (or is a file); shared by every
    file-based source."""
    if os.path.exists(root):  # a file (or something else) where the folder should be
        return SaddlepointError(
            f"the {name} data.root {root} is a file, not a folder: point data.root at the "
            f"folder that holds the {name} files (e.g. `--set data.root={Path(root).parent}`)."
        )
    fill_default = f", or run `saddlepoint data download {name}` to fill {root}" if default else ""
    return SaddlepointError(
        f"the {name} folder {root} does not exist: fetch the files with "
        f"`saddlepoint data download {name} --to DIR` and point to them with "
        f"`--set data.root=DIR`{fill_default}."
    )


def find_file(root: Path, stem: str, name: str) -> Path:
    """`root/stem` if present, else `root/stem.gz`, else a SaddlepointError naming both."""
    for candidate in (root / stem, root / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    raise SaddlepointError(
        f"{root} has no {stem} (nor {stem}.gz): put the four {name} IDX files there, or fetch "
        f"them with `saddlepoint data download {name} --to DIR` and `--set data.root=DIR`."
    )


def read_idx(path: str | os.PathLike, magic: int, name: str = "this dataset") -> np.ndarray:
    """Decode one IDX file (raw or .gz) into a read-only uint8 array, checking magic and length.

    `magic` is IMAGES_MAGIC (returns (N, H, W)) or LABELS_MAGIC (returns (N,)). Decoded arrays
    are cached in this process per (path, modification time, size).
    """
    path = Path(path)
    stat = path.stat()
    return _read_idx_cached(str(path), stat.st_mtime_ns, stat.st_size, magic, name)


@functools.lru_cache(maxsize=8)
def _read_idx_cached(path: str, mtime_ns: int, size: int, magic: int, name: str) -> np.ndarray:
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as stream:
                raw = stream.read()
        else:
            with open(path, "rb") as stream:
                raw = stream.read()
    except (OSError, EOFError, zlib.error) as error:
        raise SaddlepointError(
            f"{path} could not be read ({error}): {_redownload(name)}."
        ) from None
    if len(raw) < 4:
        raise SaddlepointError(f"{path} is truncated (only {len(raw)} bytes): {_redownload(name)}.")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        kind = "image" if magic == IMAGES_MAGIC else "label"
        raise SaddlepointError(
            f"{path} is not an IDX {kind} file (magic number 0x{found:08x}, expected "
            f"0x{magic:08x}): check the file names or {_redownload(name)}."
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise SaddlepointError(f"{path} is truncated inside its header: {_redownload(name)}.")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(raw) != expected:
        problem = "truncated" if len(raw) < expected else "longer than its header says"
        raise SaddlepointError(
            f"{path} is {problem} ({len(raw):,} bytes, its header {dims} promises "
            f"{expected:,}): {_redownload(name)}."
        )
    array = np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)  # (N, H, W) or (N,)
    array.flags.writeable = False
    return array


def load_idx_folder(name: str, root: str | os.PathLike | None, split: str) -> Dataset:
    """One split of an MNIST-like IDX folder (None: the default folder) as a Dataset:
    x (N, 1, H, W) in [0, 1], y (N,) int64."""
    folder = Path(root or default_root(name)).expanduser()
    if not folder.is_dir():
        raise missing_folder_error(name, folder, default=root is None)
    image_stem, label_stem = FILES[split]
    image_path = find_file(folder, image_stem, name)
    label_path = find_file(folder, label_stem, name)
    images = read_idx(image_path, IMAGES_MAGIC, name)  # (N, H, W) uint8
    labels = read_idx(label_path, LABELS_MAGIC, name)  # (N,) uint8
    if len(images) != len(labels):
        raise SaddlepointError(
            f"{image_path} holds {len(images):,} images but {label_path} holds "
            f"{len(labels):,} labels: the two files must come from the same release; "
            f"{_redownload(name)}."
        )
    classes = CLASSES[name]
    if len(labels) and int(labels.max()) >= len(classes):
        raise SaddlepointError(
            f"{label_path} holds label {int(labels.max())} but {name} has {len(classes)} "
            f"classes: check that the folder holds {name}, or {_redownload(name)}."
        )
    if split != "test":
        if len(images) <= VALID_SIZE:
            raise SaddlepointError(
                f"{image_path} holds {len(images):,} images, but the last {VALID_SIZE:,} are "
                f"kept for validation, so it needs more than {VALID_SIZE:,}: use the full "
                f"training file."
            )
        cut = len(images) - VALID_SIZE
        rows = slice(0, cut) if split == "train" else slice(cut, None)
        images, labels = images[rows], labels[rows]
    pixels = images.astype(np.float32)  # (N, H, W), a writable copy
    pixels /= 255.0
    x = torch.from_numpy(pixels).unsqueeze(1)  # (N, 1, H, W) in [0, 1]
    y = torch.from_numpy(labels.astype(np.int64))  # (N,)
    return Dataset(name, split, x, y, classes)


def load_mnist(config: DataConfig, split: str) -> Dataset:
    return load_idx_folder("mnist", config.root, split)


def load_fashion_mnist(config: DataConfig, split: str) -> Dataset:
    return load_idx_folder("fashion-mnist", config.root, split)
