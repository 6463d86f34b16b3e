"""`folder:PATH`: any folder of PNG or JPEG images, searched recursively, read with Pillow.

Each image is turned upright (EXIF orientation), converted to grey (L) or RGB, centre-cropped to
a square and resized (bicubic, antialiased) to `data.image_size`. Defaults:

- channels: `data.channels`, else 3 if any image is in colour, else 1 (alpha is dropped);
- size: `data.image_size`, else the shorter side when every image shares it, else 64.

Labels: when PATH holds no images itself but two or more sub-folders with images, each such
sub-folder is a class and y is its index among the sorted sub-folder names; otherwise the set is
unlabelled (y = None). Hidden files and folders (names starting with ".") are skipped.

Split: the sorted file list is shuffled with a fixed seed (0); valid and test are the last
2 x (N // 10) images (N // 10 each, so at least one when N >= 10) and train is the rest. Folders
of fewer than 10 images use every image in every split.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from saddlepoint.config import DataConfig
from saddlepoint.data.dataset import Dataset
from saddlepoint.errors import SaddlepointError

PREFIX = "folder:"
EXTENSIONS = (".png", ".jpg", ".jpeg")  # compared case-insensitively
DEFAULT_SIZE = 64  # used when the images' shorter sides differ and data.image_size is unset
SHUFFLE_SEED = 0
MIN_FOR_SPLIT = 10  # smaller folders use every image in every split
WIDE_GREY_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N"}  # 16-bit PNGs open as one of these
GREY_MODES = {"1", "L", "LA", "F"} | WIDE_GREY_MODES
READ_ERRORS = (
    OSError,
    UnidentifiedImageError,
    ValueError,
    SyntaxError,
    Image.DecompressionBombError,
)


def folder_path(name: str) -> Path:
    """The PATH of a `folder:PATH` dataset name, with ~ expanded."""
    path = name.removeprefix(PREFIX)
    if not path:
        raise SaddlepointError(
            "folder: needs a path after the colon, for example --set data.name=folder:~/faces."
        )
    return Path(path).expanduser()


def _is_hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def find_images(root: Path) -> tuple[list[Path], list[int] | None, tuple[str, ...] | None]:
    """Image files under root (sorted), and their class indices and names when labelled."""
    if not root.is_dir():
        what = "is a file, not a folder" if root.exists() else "does not exist"
        raise SaddlepointError(
            f"the image folder {root} {what}: give a folder of PNG/JPEG images as "
            f"--set data.name=folder:PATH."
        )
    files = sorted(
        path
        for path in root.rglob("*")
        if path.suffix.lower() in EXTENSIONS
        and path.is_file()
        and not _is_hidden(path.relative_to(root))
    )
    if not files:
        raise SaddlepointError(
            f"no images found in {root} or its sub-folders (only files ending in "
            f"{', '.join(EXTENSIONS)} are read): check the path."
        )
    top_level = [p for p in files if p.parent == root]
    class_names = sorted({p.relative_to(root).parts[0] for p in files if p.parent != root})
    if top_level or len(class_names) < 2:
        return files, None, None
    index = {name: i for i, name in enumerate(class_names)}
    labels = [index[p.relative_to(root).parts[0]] for p in files]
    return files, labels, tuple(class_names)


def _unreadable(path: Path, error: Exception) -> SaddlepointError:
    return SaddlepointError(
        f"{path} is not a readable image ({error}): delete or replace it, "
        f"or move it out of the folder."
    )


def _header(path: Path) -> tuple[int, int, bool]:
    """(width, height, is colour) from the file's header (palette images: from the palette)."""
    try:
        with Image.open(path) as image:
            width, height = image.size
            if image.mode in ("P", "PA"):
                palette = np.asarray(image.getpalette() or [0, 0, 0], dtype=np.uint8)
                rgb = palette.reshape(-1, 3)  # (colours, 3)
                colour = bool((rgb != rgb[:, :1]).any())
            else:
                colour = image.mode not in GREY_MODES
    except READ_ERRORS as error:
        raise _unreadable(path, error) from None
    return width, height, colour


def _read(path: Path, mode: str, size: int) -> np.ndarray:
    """One image upright, in `mode`, centre-cropped to a square, resized: (size, size[, 3])."""
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            if image.mode in WIDE_GREY_MODES:  # 16-bit grey: scale 0..65535 to 0..255
                wide = np.asarray(image, dtype=np.float64) / 257.0
                image = Image.fromarray(np.clip(np.rint(wide), 0, 255).astype(np.uint8), "L")
            image = image.convert(mode)
    except READ_ERRORS as error:
        raise _unreadable(path, error) from None
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    image = image.crop((left, top, left + side, top + side))
    if side != size:
        image = image.resize((size, size), Image.Resampling.BICUBIC)
    return np.asarray(image, dtype=np.uint8)


@functools.lru_cache(maxsize=2)
def _load_all(
    root: Path, channels: int | None, image_size: int | None, signature: tuple
) -> tuple[torch.Tensor, torch.Tensor | None, tuple[str, ...] | None]:
    """Every image in the folder as uint8 (N, C, S, S), in sorted-file order, with labels and
    class names when labelled; `signature` (the files' names, times, sizes) only keys the cache."""
    files, labels, classes = find_images(root)
    headers = [_header(path) for path in files]  # (width, height, colour) per file
    if channels is None:
        channels = 3 if any(colour for _, _, colour in headers) else 1
    if image_size is None:
        sides = {min(width, height) for width, height, _ in headers}
        image_size = sides.pop() if len(sides) == 1 else DEFAULT_SIZE
    mode = "RGB" if channels == 3 else "L"
    pixels = np.stack([_read(path, mode, image_size) for path in files])  # (N, S, S[, 3]) uint8
    if channels == 1:
        pixels = pixels[:, None]  # (N, 1, S, S)
    else:
        pixels = pixels.transpose(0, 3, 1, 2)  # (N, 3, S, S)
    y = None if labels is None else torch.tensor(labels, dtype=torch.int64)  # (N,)
    return torch.from_numpy(np.ascontiguousarray(pixels)), y, classes  # uint8: 4x smaller


def split_rows(n: int, split: str) -> np.ndarray:
    """Row indices of `split` among n images: a seeded shuffle, then train / valid / test."""
    if n < MIN_FOR_SPLIT:
        return np.arange(n)
    order = np.random.default_rng(SHUFFLE_SEED).permutation(n)
    held = n // 10  # valid and test size each
    bounds = {"train": (0, n - 2 * held), "valid": (n - 2 * held, n - held), "test": (n - held, n)}
    start, stop = bounds[split]
    return order[start:stop]


def load(config: DataConfig, split: str) -> Dataset:
    """One split of the `folder:PATH` dataset that config.name names."""
    pixels, y, classes = _pixels(config)
    rows = torch.from_numpy(split_rows(len(pixels), split))
    x = pixels[rows].to(torch.float32) / 255.0  # (N, C, S, S) in [0, 1]
    return Dataset(config.name, split, x, None if y is None else y[rows], classes)


def load_all(config: DataConfig) -> Dataset:
    """Every image of the folder, unsplit, in sorted-file order (split "all"): what
    `saddlepoint eval fid --input1 DIR --input2 DIR` compares."""
    pixels, y, classes = _pixels(config)
    return Dataset(config.name, "all", pixels.to(torch.float32) / 255.0, y, classes)


def _pixels(config: DataConfig) -> tuple[torch.Tensor, torch.Tensor | None, tuple | None]:
    root = folder_path(config.name)
    if root.is_dir():
        signature = tuple(
            (str(p), s.st_mtime_ns, s.st_size)
            for p in sorted(root.rglob("*"))
            if p.is_file()
            for s in (p.stat(),)
        )
    else:
        signature = ()
    return _load_all(root, config.channels, config.image_size, signature)
