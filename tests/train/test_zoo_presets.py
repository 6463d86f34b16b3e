"""Every zoo preset (docs/zoo.md) builds its networks and takes training steps with finite
losses: the toys on their own mixtures, the Lucic-table presets on a slice of the bundled
digits in place of MNIST (the nets and objectives are what is checked, not the data)."""

from __future__ import annotations

import json
import math

import pytest

from saddlepoint.config import override
from saddlepoint.presets import PRESETS, preset
from saddlepoint.train.loop import train

ZOO = [
    name
    for name in PRESETS
    if name.endswith(("-ring8", "-grid25"))
    or (
        name.endswith(("-mnist", "-fashion"))
        and name.split("-")[0] in {"gan", "lsgan", "wgan", "dragan", "began", "ebgan"}
    )
]


def test_the_zoo_has_every_system_of_the_seeds():
    systems = {"gan-minimax", "gan-ns", "gan-ml", "lsgan", "wgan", "wgan-gp", "dragan", "hinge"}
    for system in systems | {"ebgan", "began"}:
        assert f"{system}-ring8" in PRESETS and f"{system}-grid25" in PRESETS
    for system in ("gan-minimax", "lsgan", "wgan", "wgan-gp", "dragan", "began"):
        assert f"{system}-mnist" in PRESETS and f"{system}-fashion" in PRESETS
    assert "ebgan-mnist" in PRESETS


@pytest.mark.parametrize("name", ZOO)
def test_zoo_preset_trains(name, tmp_path):
    sets = ["train.iterations=2", "train.log_every=1", "train.threads=1"]
    if not name.endswith(("-ring8", "-grid25")):
        sets += ["data.name=mnist5k", "data.limit=256"]
    run = train(override(preset(name), sets), out=tmp_path, progress=False)
    rows = [json.loads(line) for line in (run.path / "log.jsonl").read_text().splitlines()]
    losses = [r[k] for r in rows for k in ("d_loss", "g_loss") if k in r]
    assert losses and all(math.isfinite(v) for v in losses)
