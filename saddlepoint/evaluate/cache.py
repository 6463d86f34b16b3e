"""Where evaluation caches live, and how a cache entry is named and written.

Two things are cached, each under a key that names everything that changes it:

    <cache>/classifiers/<dataset>-<hash>.safetensors   a trained feature classifier
    <cache>/statistics/<dataset>-<split>-<n>-<extractor>-<hash>.safetensors   reference features

<cache> is $SADDLEPOINT_CACHE when set, else ~/.cache/saddlepoint; every function that writes
here also takes a `cache_dir` argument that overrides both (tests use a temporary folder). The
hash is the first 16 hex digits of the SHA-256 of the key, a JSON object written with sorted keys;
the key itself is stored in the file's metadata so a cache entry can be read back and checked.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, safe_open, save_file

from saddlepoint.errors import SaddlepointError


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """`cache_dir` if given, else $SADDLEPOINT_CACHE, else ~/.cache/saddlepoint."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("SADDLEPOINT_CACHE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "saddlepoint"


def key_hash(key: dict[str, Any]) -> str:
    """16 hex digits of SHA-256 over the key as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(key, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def slug(text: str) -> str:
    """A file-name-safe form of a dataset or extractor name (folder:/a/b -> folder-a-b)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "data"


def tensor_sha256(x: torch.Tensor) -> str:
    """SHA-256 of a tensor's bytes (contiguous, on the CPU): the fingerprint of a data split."""
    return hashlib.sha256(x.detach().cpu().contiguous().numpy().tobytes()).hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_entry(path: Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> Path:
    """Write tensors with JSON metadata as safetensors, atomically (temporary file, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    save_file(tensors, str(tmp), metadata={"saddlepoint": json.dumps(meta, sort_keys=True)})
    os.replace(tmp, path)
    return path


def load_entry(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read back what save_entry wrote; a damaged file is one clear error naming it."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads((f.metadata() or {})["saddlepoint"])
        return load_file(str(path)), meta
    except Exception as e:  # safetensors raises several types for a truncated or foreign file
        raise SaddlepointError(
            f"the cache file {path} is unreadable ({type(e).__name__}): delete it and it will "
            "be rebuilt."
        ) from None
