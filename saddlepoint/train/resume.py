"""What a resumed run may change, and reading the checkpoint it resumes from.

A resumed run keeps the config it was trained with (saved in its checkpoint), except how long
and how often (`RESUMABLE_KEYS` of train.*) and the optimisers' learning rate and its decay
(`RESUMABLE_OPTIM_KEYS`, e.g. lower rates after a divergence); a rate change is printed and
logged in log.jsonl as an "event": "resume" line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from saddlepoint.checkpoint import load_training_state
from saddlepoint.config import Config, config_from_dict
from saddlepoint.errors import SaddlepointError
from saddlepoint.runs import CHECKPOINT

# Settings a resumed run may change: how long and how often, not what is trained.
RESUMABLE_KEYS = (
    "iterations",
    "max_minutes",
    "log_every",
    "sample_every",
    "checkpoint_every",
    "snapshot_every",
    "threads",
    "eval_every",
    "eval_samples",
)
# ... and of optim_d and optim_g: the learning rate and its decay (e.g. lower after divergence).
RESUMABLE_OPTIM_KEYS = ("lr", "lr_decay", "lr_min")


@dataclass
class Resumed:
    """A run folder's checkpoint, read and checked against the config wanted from here on."""

    run_dir: Path  # the run folder
    config: Config  # the saved config with the changes `wanted` may make
    checkpoint: dict  # the training state (saddlepoint.checkpoint.load_training_state)
    rate_changes: dict[str, dict[str, float]] = field(default_factory=dict)  # rate_changes()


def read_resume(run_dir: Path, wanted: Config | None) -> Resumed:
    """The checkpoint of `run_dir` and the config to go on with (one sentence if either will
    not do: no checkpoint, a change that is not allowed, fewer iterations than done)."""
    if not (run_dir / CHECKPOINT).is_file():
        raise SaddlepointError(
            f"cannot resume {run_dir}: it has no {CHECKPOINT} (pass a run folder that "
            "saddlepoint train wrote)."
        )
    checkpoint = load_training_state(run_dir / CHECKPOINT)
    saved = config_from_dict(json.loads(checkpoint["config"]))
    config = check_resume_config(saved, wanted)
    done = checkpoint["iteration"]
    if config.train.iterations < done:
        raise SaddlepointError(
            f"{run_dir} has already trained {done} iterations, more than "
            f"train.iterations={config.train.iterations}: to train on, resume with a "
            f"larger one (--set train.iterations={2 * done})."
        )
    return Resumed(run_dir, config, checkpoint, rate_changes(saved, config))


def check_resume_config(saved: Config, wanted: Config | None) -> Config:
    """A resumed run keeps its saved config except for RESUMABLE_KEYS of `wanted` and the
    RESUMABLE_OPTIM_KEYS of its optimisers."""
    if wanted is None:
        return saved
    saved_d, wanted_d = saved.to_dict(), wanted.to_dict()
    for section in ("optim_d", "optim_g"):
        for key in RESUMABLE_OPTIM_KEYS:
            saved_d[section][key] = wanted_d[section][key]
    for section, values in wanted_d.items():
        if section in ("train", "preset"):
            continue
        if values != saved_d[section]:
            raise SaddlepointError(
                f"a resumed run keeps its {section} settings; start a new run to change them "
                f"(only train.{', train.'.join(RESUMABLE_KEYS)} and the optimisers' "
                f"{', '.join(RESUMABLE_OPTIM_KEYS)} may change on resume)."
            )
    train = dict(saved_d["train"])
    for key, value in wanted_d["train"].items():
        if value != train[key] and key not in RESUMABLE_KEYS:
            raise SaddlepointError(
                f"train.{key} cannot change on resume; start a new run to change it."
            )
        train[key] = value
    saved_d["train"] = train
    return config_from_dict(saved_d)


def rate_changes(saved: Config, config: Config) -> dict[str, dict[str, float]]:
    """The optimiser settings a resume changes: {"optim_d.lr": {"from": 0.1, "to": 0.01}}."""
    changes = {}
    for section in ("optim_d", "optim_g"):
        for key in RESUMABLE_OPTIM_KEYS:
            old, new = getattr(getattr(saved, section), key), getattr(getattr(config, section), key)
            if old != new:
                changes[f"{section}.{key}"] = {"from": old, "to": new}
    return changes
