"""The grid of a sweep: one Cell per (preset, overrides, seed), its key and its train command.

Each [[runs]] block gives presets x (the product of its axes' values); each of those is a
*group* (one row of the table), and each group runs once per seed (a *cell*). A cell's
overrides are the spec's `set`, then the block's `set`, then its axis values, a later value of
a key replacing an earlier one; they are kept canonical (each key once, sorted, the value as
the config reads it back: 1e-4 and 0.0001 are one value), so the key

    key = <preset>-s<seed>-<10 hex digits of SHA-256 of (preset, overrides, seed, settings)>

names the same experiment in every run of the sweep and on every machine. `settings` is the
whole resolved config (less the execution settings below), so editing a preset's definition
makes new cells instead of silently re-using results measured at its old settings. Settings that say
where and how a cell runs (`Execution`: the device, the data folders, one CPU thread) are added
to its train command but kept out of its key.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from saddlepoint.config import Config, override
from saddlepoint.errors import SaddlepointError
from saddlepoint.presets import preset
from saddlepoint.sweep.spec import Spec


@dataclass(frozen=True)
class Execution:
    """How this machine runs the cells (kept out of their keys)."""

    device: str | None = None  # train.device for every cell (--device), None = the config's
    data_roots: tuple[tuple[str, str], ...] = ()  # (dataset name or "*", folder): data.root


@dataclass(frozen=True)
class Group:
    """A preset with its overrides: one row of the table, run once per seed."""

    index: int  # its place in the spec's order
    preset: str
    overrides: tuple[str, ...]  # canonical key=value, sorted by key
    config: Config  # the resolved config for seed 0, with the execution settings
    sets: tuple[str, ...]  # execution settings: train.threads, train.device, data.root
    where: str  # the spec block it came from, for messages
    settings: str = ""  # SHA-256 of the resolved config without the execution settings

    @property
    def threads(self) -> int:
        """CPU threads a cell of this group uses (train.threads, 1 unless the spec says)."""
        return self.config.train.threads or 1


@dataclass(frozen=True)
class Cell:
    """One training run of the sweep: a group at one seed."""

    group: Group
    seed: int

    @property
    def preset(self) -> str:
        return self.group.preset

    @property
    def overrides(self) -> tuple[str, ...]:
        return self.group.overrides

    @property
    def key(self) -> str:
        return cell_key(self.preset, self.overrides, self.seed, self.group.settings)

    def train_argv(self, out: Path, ensemble: int = 1) -> list[str]:
        """`saddlepoint train` arguments (after the program name) that train this cell afresh
        into a run folder under `out`; with `ensemble` N > 1, as the first of N members, the
        seeds seed..seed+N-1 in one process (sweep/ensembles.py)."""
        members = [f"train.ensemble={ensemble}"] if ensemble > 1 else []
        sets = [*self.overrides, f"train.seed={self.seed}", *members, *self.group.sets]
        return ["train", "--preset", self.preset, *_set_args(sets), "--out", str(out)]


def _set_args(sets: list[str]) -> list[str]:
    return [arg for s in sets for arg in ("--set", s)]


def cell_key(preset_name: str, overrides: tuple[str, ...], seed: int, settings: str = "") -> str:
    """<preset>-s<seed>-<hash>: readable, and stable for the same experiment."""
    text = json.dumps(
        {"preset": preset_name, "overrides": sorted(overrides), "seed": seed, "settings": settings},
        sort_keys=True,
        separators=(",", ":"),
    )
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    return f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', preset_name)}-s{seed}-{digest}"


def expand(spec: Spec, execution: Execution = Execution()) -> list[Cell]:
    """Every cell of the spec, in its order (block, preset, axis values, seed); each group's
    config built and checked first, so a bad override fails before anything runs."""
    groups: list[Group] = []
    seen: dict[tuple[str, tuple[str, ...]], str] = {}
    for b, block in enumerate(spec.blocks):
        keys = [key for key, _ in block.axes]
        for name in block.presets:
            for values in itertools.product(*(texts for _, texts in block.axes)):
                axis_sets = [f"{k}={v}" for k, v in zip(keys, values)]
                where = f"{spec.path.name}: runs[{b}] ({' '.join([name, *axis_sets])})"
                group = _group(len(groups), name, [*spec.sets, *block.sets, *axis_sets], where)
                group = _with_execution(group, execution)
                _check_metrics(group, spec.metrics)
                earlier = seen.setdefault((group.preset, group.overrides), where)
                if earlier != where:
                    raise SaddlepointError(
                        f"{where} repeats the runs of {earlier}: remove one of them."
                    )
                groups.append(group)
    return [Cell(group, seed) for group in groups for seed in spec.seeds]


def _group(index: int, name: str, assignments: list[str], where: str) -> Group:
    """The group of preset `name` with `assignments` applied: canonical overrides, config."""
    latest: dict[str, str] = {}
    for assignment in assignments:
        key, value = assignment.split("=", 1)
        latest.pop(key.strip(), None)  # a later value of a key replaces the earlier one
        latest[key.strip()] = value
    try:
        config = override(preset(name), [f"{k}={v}" for k, v in latest.items()])
    except SaddlepointError as e:
        raise SaddlepointError(f"{where}: {e}") from None
    overrides = tuple(f"{k}={setting_text(_value(config, k))}" for k in sorted(latest))
    return Group(index, name, overrides, config, (), where, settings_digest(config))


# where and how a cell runs, not what it computes: kept out of settings_digest
EXECUTION_KEYS = (("train", "threads"), ("train", "device"), ("data", "root"))

# Config fields added after sweeps had recorded results, each with the value at which a run is
# what it was before the field existed. At that value the field is left out of the digest, so a
# new field does not change the keys of results recorded before it (which would run them all
# again); set to anything else, it makes a new key. Add every new config field here.
NEUTRAL_ADDITIONS = {
    ("model", "dcgan_fc"): 0,
    ("train", "ensemble"): 1,
    ("train", "cuda_graph"): False,
}


def settings_digest(config: Config) -> str:
    """SHA-256 of the config as JSON, without EXECUTION_KEYS, the seed, and the
    NEUTRAL_ADDITIONS at their neutral values."""
    values = config.to_dict()
    for section, key in (*EXECUTION_KEYS, ("train", "seed")):
        values[section].pop(key, None)
    for (section, key), neutral in NEUTRAL_ADDITIONS.items():
        if key in values[section] and values[section][key] == neutral:
            values[section].pop(key)
    text = json.dumps(values, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _check_metrics(group: Group, metrics: tuple[str, ...]) -> None:
    """Each metric can score this group's runs (metrics.CHECKS), or one sentence saying why."""
    from saddlepoint.sweep.metrics import CHECKS

    for name in metrics:
        if name in CHECKS:
            try:
                CHECKS[name](group.config)
            except SaddlepointError as e:
                raise SaddlepointError(f"{group.where}: {e}") from None


def _value(config: Config, key: str) -> Any:
    node: Any = config
    for part in key.split("."):
        node = getattr(node, part)
    return node


def setting_text(value: Any) -> str:
    """A config value as `--set` text that reads back to the same value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return ",".join(setting_text(v) for v in value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _with_execution(group: Group, execution: Execution) -> Group:
    """The group with this machine's settings added to its config and command, checked."""
    keys = {o.split("=", 1)[0] for o in group.overrides}
    sets = []
    if "train.threads" not in keys:  # one thread per worker unless the spec says otherwise
        sets.append("train.threads=1")
    if execution.device:
        sets.append(f"train.device={execution.device}")
    root = _data_root(group.config, execution)
    if root and "data.root" not in keys:
        sets.append(f"data.root={root}")
    try:
        config = override(group.config, sets)
        check_names(config)
    except SaddlepointError as e:
        raise SaddlepointError(f"{group.where}: {e}") from None
    return Group(
        group.index, group.preset, group.overrides, config, tuple(sets), group.where, group.settings
    )


def _data_root(config: Config, execution: Execution) -> str | None:
    """The --data-root folder for the group's dataset, if it reads files from a folder."""
    from saddlepoint.data import DATASETS

    name = config.data.name
    if name.startswith("folder:") or name not in DATASETS:
        return None
    if DATASETS.get(name).default_root() is None:  # bundled or generated: no folder
        return None
    roots = dict(execution.data_roots)
    root = roots.get(name, roots.get("*"))
    return os.path.abspath(os.path.expanduser(root)) if root else None


def check_names(config: Config) -> None:
    """The dataset, objective and networks a config names exist (one sentence if not)."""
    from saddlepoint.data import DATASETS
    from saddlepoint.nets import DISCRIMINATORS, GENERATORS
    from saddlepoint.objectives import OBJECTIVES

    if not config.data.name.startswith("folder:"):
        DATASETS.get(config.data.name)
    OBJECTIVES.get(config.objective.name)
    if config.model.generator != "lapgan":  # LAPGAN picks each level's networks itself
        GENERATORS.get(config.model.generator)
        DISCRIMINATORS.get(config.model.discriminator)
