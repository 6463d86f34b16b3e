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

from saddlepoint.checkpoint import save_snapshot
from saddlepoint.errors import SaddlepointError
from saddlepoint.runs import load_generator


def average_snapshots(paths: Sequence[str | os.PathLike], out: str | os.PathLike) -> Path:
    """Write the uniform average of the generator snapshots `paths` to `out`; returns out.

    Each snapshot is checked as `load` checks it (a damaged or non-finite one is refused)."""
    if len(paths) < 2:
        raise SaddlepointError("give at least two snapshots to average.")
    loaded = [load_generator(p) for p in paths]  # (generator, config, metadata)
    first_G, first_config, _ = loaded[0]
    for path, (G, config, _) in zip(paths[1:], loaded[1:]):
        if config.model != first_config.model or G.state_dict().keys() != (
            first_G.state_dict().keys()
        ):
            raise SaddlepointError(
                f"{path} holds another model than {paths[0]}: average snapshots of one run."
            )
    states = [G.state_dict() for G, _, _ in loaded]
    averaged = {}
    for key, first in states[0].items():
        if first.is_floating_point():
            stack = torch.stack([state[key].double() for state in states])
            averaged[key] = stack.mean(0).to(first.dtype)
        else:
            averaged[key] = states[-1][key]
    G, _, last_meta = loaded[-1]
    G.load_state_dict(averaged)
    iterations = [meta["iteration"] for _, _, meta in loaded]
    skip = ("config", "iteration", "averaged_iterations")
    info = {k: v for k, v in last_meta.items() if k not in skip}
    return save_snapshot(
        out,
        G,
        json.dumps(last_meta["config"]),
        iteration=max(iterations),
        averaged_iterations=iterations,
        **info,
    )
