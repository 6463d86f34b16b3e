"""User-facing errors: one sentence that names the problem and the fix.

The command line prints these without a traceback; anything else that escapes is a bug.
`writing(path)` turns the operating system's refusals to write an output (a read-only folder, a
file where a folder should be, a full disk) into one of these, naming the path and the cause.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class SaddlepointError(Exception):
    """A mistake in the user's input (config, data, paths) that they can mend."""


# errno -> the cause in plain words (anything else: the system's own words, e.strerror)
_CAUSES = {
    getattr(errno, name): text
    for name, text in (
        ("ENOSPC", "the disk is full"),
        ("EDQUOT", "the disk quota is used up"),
        ("EFBIG", "the file would exceed the size this process may write (ulimit -f)"),
        ("EROFS", "the file system is read-only"),
        ("EACCES", "permission denied"),
        ("EPERM", "the operation is not permitted there"),
        ("ENOTDIR", "a file stands where a folder of that path should be"),
        ("EEXIST", "a file stands where a folder of that path should be"),
        ("EISDIR", "a folder stands where that file should be"),
        ("ENOENT", "a folder on that path does not exist and cannot be made"),
    )
    if hasattr(errno, name)
}


def cause(error: BaseException, path: str | os.PathLike | None = None) -> str:
    """Why a write (of `path`) failed, in a few plain words (no library message cut
    mid-word)."""
    if isinstance(error, OSError) and error.errno in _CAUSES:
        return _CAUSES[error.errno]
    if isinstance(error, OSError) and error.strerror:
        return error.strerror[0].lower() + error.strerror[1:]
    # PyTorch's zip writer reports a short write as "[enforce fail at inline_container.cc:...]
    # unexpected pos N vs M", without the reason; safetensors as "... I/O error: ...".
    if "No space left" in str(error) or (path is not None and _full(Path(path))):
        return "the disk is full"
    return "the write stopped part-way (is the disk full?)"


def _full(path: Path) -> bool:
    """Whether the file system that holds `path` has (next to) no free space left."""
    for folder in (path.parent, *path.parents):
        if folder.is_dir():
            try:
                return shutil.disk_usage(folder).free < 64 * 1024
            except OSError:
                return False
    return False


def output_error(path: str | os.PathLike, error: BaseException) -> SaddlepointError:
    """The one-sentence error for an output that could not be written."""
    return SaddlepointError(
        f"cannot write {path}: {cause(error, path)}; free some space or choose a writable "
        "folder (anything written before stays as it was)."
    )


@contextmanager
def writing(path: str | os.PathLike) -> Iterator[None]:
    """Turn an OSError raised while writing `path` into a SaddlepointError naming it."""
    try:
        yield
    except OSError as e:
        raise output_error(path, e) from None
