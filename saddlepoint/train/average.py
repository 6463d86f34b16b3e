"""Averaging generator weights across snapshots (Polyak-Ruppert averaging of GAN iterates).

GAN training rarely settles at the equilibrium: the iterates circle it (seed 004's a*b game),
and an average of the iterates lies closer to it than any one of them (Yazici et al. 2019,
"The Unusual Effectiveness of Averaging in GAN Training"). `train.ema_beta` averages during
training with a horizon of about 1 / (1 - beta) steps; this averages saved snapshots after the
fact, over as long a stretch as the user picks: the uniform mean of each weight tensor.
Normalisation statistics (batch norm's running means) are averaged like weights; integer
buffers (batch counts) are taken from the last snapshot.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import torch

from saddlepoint.checkpoint import load_snapshot, save_snapshot
from saddlepoint.config import config_from_dict
from saddlepoint.errors import SaddlepointError
from saddlepoint.nets import build_generator


def average_snapshots(paths: Sequence[str | os.PathLike], out: str | os.PathLike) -> Path:
    """Write the uniform average of the generator snapshots `paths` to `out`; returns out."""
    if len(paths) < 2:
        raise SaddlepointError("give at least two snapshots to average.")
    loaded = [load_snapshot(p) for p in paths]
    first_tensors, first_meta = loaded[0]
    for path, (tensors, meta) in zip(paths[1:], loaded[1:]):
        if meta["config"]["model"] != first_meta["config"]["model"] or tensors.keys() != (
            first_tensors.keys()
        ):
            raise SaddlepointError(
                f"{path} holds another model than {paths[0]}: average snapshots of one run."
            )
    averaged = {}
    for key, first in first_tensors.items():
        if first.is_floating_point():
            stack = torch.stack([t[key].double() for t, _ in loaded])
            averaged[key] = stack.mean(0).to(first.dtype)
        else:
            averaged[key] = loaded[-1][0][key]
    last_meta = loaded[-1][1]
    config = config_from_dict(last_meta["config"])
    spec = {k: last_meta[k] for k in ("num_classes",) if last_meta.get(k)}
    if last_meta.get("condition_shape"):
        spec["condition_shape"] = tuple(last_meta["condition_shape"])
    G = build_generator(config.model, tuple(last_meta["shape"]), None, last_meta["output"], **spec)
    G.load_state_dict(averaged)
    iterations = [meta.get("iteration", 0) for _, meta in loaded]
    info = {k: v for k, v in last_meta.items() if k not in ("config", "iteration")}
    return save_snapshot(
        out,
        G,
        json.dumps(last_meta["config"]),
        iteration=max(iterations),
        averaged_iterations=iterations,
        **info,
    )
