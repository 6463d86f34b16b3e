"""What several verbs check in their arguments: counts, run arguments, output folders."""

from __future__ import annotations

from pathlib import Path

from saddlepoint.errors import SaddlepointError, writing


def positive(value: int, name: str) -> int:
    if value < 1:
        raise SaddlepointError(f"{name} must be at least 1, got {value}.")
    return value


def run_arg(run: str) -> str:
    """A run argument that names a file must be a .safetensors snapshot: one sentence if not."""
    path = Path(run)
    if path.is_file() and path.suffix != ".safetensors":
        what = (
            "a training checkpoint (for `saddlepoint train --resume` of its folder)"
            if path.suffix == ".pt"
            else "not a generator snapshot"
        )
        raise SaddlepointError(
            f"{path} is {what}: pass the run folder ({path.parent}) or a .safetensors snapshot."
        )
    return run


def output_folder(folder: Path) -> Path:
    """An output folder, made if need be (or one sentence why it cannot be)."""
    with writing(folder):
        folder.mkdir(parents=True, exist_ok=True)
    return folder
