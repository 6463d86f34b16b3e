"""Sweep specs for tests: tiny toy runs on ring8 that train in a second or two."""

from __future__ import annotations

from pathlib import Path

import pytest

# The demo preset shrunk to 16-unit networks on the ring of 8 Gaussians.
TOY_SETS = (
    "data.name=ring8",
    "model.z_dim=4",
    "model.z_prior=normal",
    "model.g_hidden=16",
    "model.d_hidden=16",
    "model.d_pieces=2",
    "model.d_keep_input=1",
    "model.d_keep_hidden=1",
    "objective.penalty=none",
    "train.ema_beta=0",
    "train.ema_rampup=0",
    "train.batch_size=32",
    "train.log_every=50",
    "train.sample_every=0",
    "train.checkpoint_every=0",
    "train.grid_size=16",
)


def spec_text(
    *,
    name: str = "t",
    seeds: str = "[0, 1]",
    metrics: str = '["modes"]',
    sets: tuple[str, ...] = (),
    runs: str = '[[runs]]\npresets = ["demo"]\n',
    extra: str = "",
) -> str:
    quoted = ", ".join(f'"{s}"' for s in (*TOY_SETS, *sets))
    return (
        f'name = "{name}"\nseeds = {seeds}\nmetrics = {metrics}\nset = [{quoted}]\n{extra}\n{runs}'
    )


@pytest.fixture
def write_spec(tmp_path):
    """write_spec(**spec_text kwargs) -> the path of a spec file in tmp_path/specs/."""

    def write(filename: str = "sweep.toml", **kwargs) -> Path:
        path = tmp_path / "specs" / filename
        path.parent.mkdir(exist_ok=True)
        path.write_text(spec_text(**kwargs))
        return path

    return write
