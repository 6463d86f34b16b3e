"""Tiny configs that train in a second on CPU (importable from any test)."""

from __future__ import annotations

from saddlepoint.config import Config, override

# The 2014 networks shrunk to a few units, on the first 200 mnist5k digits.
TINY_SETS = (
    "data.limit=200",
    "model.z_dim=8",
    "model.g_hidden=32",
    "model.d_hidden=16",
    "model.d_pieces=2",
    "train.batch_size=20",
    "train.iterations=10",
    "train.log_every=5",
    "train.sample_every=0",
    "train.checkpoint_every=0",
    "train.grid_size=16",
    "train.threads=1",
)


def tiny_config(*sets: str) -> Config:
    """The demo preset's defaults with TINY_SETS, then `sets`."""
    return override(Config(preset="tiny"), [*TINY_SETS, *sets])


def tiny_argv(*sets: str) -> list[str]:
    """The same settings as `--set` arguments for the command line."""
    return [arg for s in (*TINY_SETS, *sets) for arg in ("--set", s)]
