"""A sweep spec: a TOML file naming the presets, overrides, seeds and metrics of a grid of runs.

    name = "zoo-toys"                        # names the results, the cell folders, the docs block
    description = "..."                      # one line, shown by --dry-run
    results = "benchmarks/results/zoo/toys.jsonl"   # default runs/sweeps/NAME/results.jsonl
    out = "runs/sweeps/zoo-toys"             # cell folders; default runs/sweeps/NAME
    docs = "docs/zoo.md"                     # optional: the table between the sweep's markers
    seeds = [0, 1, 2, 3, 4]                  # or "0-4", or "0,2,5"
    metrics = ["modes"]                      # names from saddlepoint.sweep.metrics.METRICS
    set = ["train.iterations=2000"]          # overrides for every run

    [[runs]]                                 # a block of rows: presets x axes (cartesian)
    presets = ["demo"]
    set = ["data.name=ring8"]                # overrides for this block's runs
    [runs.axes]                              # optional: each key's values multiply the block
    "optim_d.lr" = [1e-4, 2e-4]

Relative paths in a spec are relative to its *root*: the nearest folder at or above the spec
file that holds a pyproject.toml or a .git, else the spec file's own folder; so a spec kept in
a project names the project's files the same way wherever the sweep is started from.
Every key is checked here (its type, a known name); whether the overrides make valid configs
is checked when the grid is built (`cells.expand`).
"""

from __future__ import annotations

import difflib
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from saddlepoint.errors import SaddlepointError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TOP_KEYS = ("name", "description", "results", "out", "docs", "seeds", "metrics", "set", "runs")
BLOCK_KEYS = ("presets", "set", "axes")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # a sweep name: a file and marker name
ROOT_MARKERS = ("pyproject.toml", ".git")  # a folder holding one of these is a spec's root


@dataclass(frozen=True)
class Block:
    """One [[runs]] table: its presets, its overrides and its axes."""

    presets: tuple[str, ...]  # preset names, checked against the registry
    sets: tuple[str, ...]  # key=value overrides for this block's runs
    axes: tuple[tuple[str, tuple[str, ...]], ...]  # (config key, its values as --set text)


@dataclass(frozen=True)
class Spec:
    """A sweep spec, read and checked; paths made absolute against its root."""

    path: Path  # the spec file
    root: Path  # what its relative paths are relative to (module docstring)
    name: str
    description: str
    results: Path  # the JSON-lines results file
    out: Path  # the folder that holds one folder per cell
    docs: Path | None  # the markdown file the table is written into, if any
    seeds: tuple[int, ...]
    metrics: tuple[str, ...]
    sets: tuple[str, ...]  # overrides for every run
    blocks: tuple[Block, ...]

    def shown_path(self) -> str:
        """The spec file as a command that reproduces the sweep names it: relative to its
        project's root (run from there), else absolute."""
        if any((self.root / marker).exists() for marker in ROOT_MARKERS):
            try:
                return str(self.path.relative_to(self.root))
            except ValueError:
                pass
        return str(self.path)


def load_spec(path: str | Path) -> Spec:
    """Read and check the spec file at `path` (one sentence naming the key if it is wrong)."""
    path = Path(path)
    values = _read_toml(path)
    where = path.name
    _known_keys(values, TOP_KEYS, where)
    name = _text(values, "name", where, required=True)
    if not NAME.match(name):
        raise SaddlepointError(
            f"{where}: name {name!r} names files and a docs marker: use letters, digits, '-', "
            "'_' and '.' only, for example name = \"zoo-toys\"."
        )
    root = spec_root(path)
    default = Path("runs") / "sweeps" / name
    return Spec(
        path=path.resolve(),
        root=root,
        name=name,
        description=_text(values, "description", where) or "",
        results=root / (_text(values, "results", where) or default / "results.jsonl"),
        out=root / (_text(values, "out", where) or default),
        docs=root / values["docs"] if _text(values, "docs", where) else None,
        seeds=parse_seeds(values.get("seeds", [0]), f"{where}: seeds"),
        metrics=_metrics(values, where),
        sets=_sets(values, where, "set"),
        blocks=_blocks(values, where),
    )


def spec_root(path: Path) -> Path:
    """The nearest folder at or above the spec file holding pyproject.toml or .git, else the
    spec file's own folder."""
    folder = path.resolve().parent
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in ROOT_MARKERS):
            return candidate
    return folder


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise SaddlepointError(
            f"no sweep spec at {path}: give a TOML file (docs/sweep.md shows one)."
        ) from None
    except IsADirectoryError:
        raise SaddlepointError(f"{path} is a folder: give a sweep spec's TOML file.") from None
    except tomllib.TOMLDecodeError as e:
        raise SaddlepointError(f"{path} is not valid TOML ({e}): mend it there.") from None


def _known_keys(values: dict, allowed: tuple[str, ...], where: str) -> None:
    for key in values:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "remove it."
            raise SaddlepointError(
                f"{where}: unknown key {key!r} (the keys here are {', '.join(allowed)}): {hint}"
            )


def _text(values: dict, key: str, where: str, *, required: bool = False) -> str | None:
    value = values.get(key)
    if value is None:
        if required:
            raise SaddlepointError(f'{where}: {key} is missing: add {key} = "...".')
        return None
    if not isinstance(value, str) or not value.strip():
        raise SaddlepointError(f'{where}: {key} must be text, for example {key} = "...".')
    return value


def parse_seeds(value: Any, where: str) -> tuple[int, ...]:
    """A list of seeds, one seed, "0-4" or "0,2,5" -> (0, 1, 2, 3, 4) or (0, 2, 5)."""
    seeds: list[int] = []
    if isinstance(value, int) and not isinstance(value, bool):
        seeds = [value]
    elif isinstance(value, list) and all(
        isinstance(s, int) and not isinstance(s, bool) for s in value
    ):
        seeds = list(value)
    elif isinstance(value, str):
        for part in value.split(","):
            match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
            if not match or (match[2] and int(match[2]) < int(match[1])):
                seeds = []
                break
            seeds.extend(range(int(match[1]), int(match[2] or match[1]) + 1))
    if not seeds or any(s < 0 for s in seeds):
        raise SaddlepointError(
            f'{where} must be seeds >= 0: a list such as [0, 1, 2], or "0-4", got {value!r}.'
        )
    if len(set(seeds)) != len(seeds):
        raise SaddlepointError(f"{where} names a seed twice ({value!r}): list each seed once.")
    return tuple(seeds)


def _metrics(values: dict, where: str) -> tuple[str, ...]:
    from saddlepoint.sweep.metrics import METRICS

    names = values.get("metrics", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise SaddlepointError(f'{where}: metrics must be a list of names, e.g. ["modes"].')
    for name in names:
        if name not in METRICS:
            close = difflib.get_close_matches(name, METRICS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise SaddlepointError(
                f"{where}: unknown metric {name!r} in metrics{hint}: choose from "
                f"{', '.join(METRICS)}."
            )
    if len(set(names)) != len(names):
        raise SaddlepointError(f"{where}: metrics names a metric twice: list each once.")
    return tuple(names)


def _sets(values: dict, where: str, key: str) -> tuple[str, ...]:
    sets = values.get(key, [])
    if not isinstance(sets, list) or not all(isinstance(s, str) for s in sets):
        raise SaddlepointError(
            f'{where}: {key} must be a list of "key=value" texts, e.g. '
            f'{key} = ["train.iterations=2000"].'
        )
    for s in sets:
        if "=" not in s:
            raise SaddlepointError(
                f"{where}: {key} holds {s!r}, which is not key=value: write it as, for "
                'example, "train.k=2".'
            )
        if s.split("=", 1)[0].strip() == "train.seed":
            raise SaddlepointError(
                f"{where}: {key} sets train.seed, which the sweep sets from seeds: remove it "
                "and list the seeds in seeds = [...]."
            )
    return tuple(sets)


def _blocks(values: dict, where: str) -> tuple[Block, ...]:
    runs = values.get("runs")
    if not isinstance(runs, list) or not runs or not all(isinstance(b, dict) for b in runs):
        raise SaddlepointError(
            f"{where}: runs is missing or not a list of tables: add a [[runs]] table with "
            'presets = ["..."].'
        )
    return tuple(_block(b, f"{where}: runs[{i}]") for i, b in enumerate(runs))


def _block(values: dict, where: str) -> Block:
    _known_keys(values, BLOCK_KEYS, where)
    presets = values.get("presets")
    if isinstance(presets, str):
        presets = [presets]
    if not isinstance(presets, list) or not presets or not all(isinstance(p, str) for p in presets):
        raise SaddlepointError(
            f'{where}: presets must be a list of preset names, e.g. presets = ["demo"] '
            "(`saddlepoint presets` lists them)."
        )
    from saddlepoint.presets import PRESETS

    for name in presets:
        try:
            PRESETS.get(name)
        except SaddlepointError as e:
            raise SaddlepointError(f"{where}.presets: {e}") from None
    if len(set(presets)) != len(presets):
        raise SaddlepointError(f"{where}.presets names a preset twice: list each once.")
    return Block(tuple(presets), _sets(values, where, "set"), _axes(values.get("axes", {}), where))


def _axes(axes: Any, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(axes, dict):
        raise SaddlepointError(
            f"{where}: axes must be a table of key = [values], e.g. [runs.axes] then "
            '"optim_d.lr" = [1e-4, 2e-4].'
        )
    out = []
    for key, values in axes.items():
        if not isinstance(values, list) or not values:
            raise SaddlepointError(
                f'{where}.axes: {key!r} must be a non-empty list of values, e.g. "{key}" = [1, 2].'
            )
        if key == "train.seed":
            raise SaddlepointError(
                f"{where}.axes: train.seed is set from seeds: list the seeds in seeds = [...]."
            )
        texts = tuple(value_text(v, f"{where}.axes.{key!r}") for v in values)
        if len(set(texts)) != len(texts):
            raise SaddlepointError(f"{where}.axes: {key!r} lists a value twice: list each once.")
        out.append((key, texts))
    return tuple(out)


def value_text(value: Any, where: str) -> str:
    """A TOML value as the text of a --set (lists comma-separated, booleans true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, list) and all(
        isinstance(v, (int, float, str)) and not isinstance(v, bool) for v in value
    ):
        return ",".join(value_text(v, where) for v in value)
    raise SaddlepointError(
        f"{where}: {value!r} is not a value a setting takes: use a number, text, true/false or "
        "a list of numbers."
    )
