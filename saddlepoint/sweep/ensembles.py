"""Which cells of a sweep train together (`saddlepoint sweep SPEC --ensemble`): consecutive seeds
of one group as one ensemble process (train.ensemble, docs/ensembles.md), the rest one by one.

`plan` turns the cells still to run into batches, each trained by one worker process. The cells of
one group (same preset and overrides, only the seed differs) whose seeds follow one another, at
most `most` of them, become one ensemble: `train.seed` = the first seed, `train.ensemble` = the
number of seeds, trained into the batch's own folder

    <out>/ensemble-<preset>-s<first>-<last>-<10 hex digits of SHA-256 of the members' keys>/

so the same cells make the same batch on the next run (a stopped ensemble resumes its checkpoint)
and other cells a new one (a partly finished ensemble's remaining seeds train again together).
Member i is the run of seed first + i up to float32 rounding; the worker exports it as a run folder
of its own in its cell's folder (sweep/members.py) and scores it there, as its separate run would
be scored. A cell trains on its own, with the reason `--dry-run` shows, when its group cannot train
as an ensemble (`why_separate`), when its own folder holds a checkpoint to resume, or when no
consecutive seed of its group is left to train with it.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from saddlepoint.config import override
from saddlepoint.sweep.cells import Cell, Group
from saddlepoint.sweep.folder import run_folder

ALONE = "no consecutive seed of its row is left to train with it"
RESUMES = "its own run folder holds a checkpoint, which it resumes"


@dataclass(frozen=True)
class Batch:
    """The cells one worker process trains: one cell, or an ensemble of consecutive seeds."""

    cells: tuple[Cell, ...]  # in seed order; the seeds consecutive when there are several
    reason: str | None = None  # why a cell trains on its own although --ensemble was asked for

    @property
    def size(self) -> int:
        """Cells (ensemble members) in the batch."""
        return len(self.cells)

    @property
    def first(self) -> Cell:
        return self.cells[0]

    @property
    def is_ensemble(self) -> bool:
        return self.size > 1

    @property
    def name(self) -> str:
        """The folder it trains in: its cell's key, or the ensemble's name (module docstring)."""
        if not self.is_ensemble:
            return self.first.key
        digest = hashlib.sha256("\n".join(c.key for c in self.cells).encode()).hexdigest()[:10]
        preset = re.sub(r"[^A-Za-z0-9_.-]+", "-", self.first.preset)
        return f"ensemble-{preset}-s{self.first.seed}-{self.cells[-1].seed}-{digest}"

    @property
    def seeds(self) -> str:
        """Its seeds in words: "seed 3", "seeds 0-7"."""
        last = self.cells[-1].seed
        return f"seeds {self.first.seed}-{last}" if self.is_ensemble else f"seed {last}"

    def together(self, spec_path: str) -> str:
        """What each cell's reason adds when the ensemble fails: why all fail, and the way on."""
        return (
            f"the ensemble of {self.seeds} fails as one: run `saddlepoint sweep {spec_path} "
            "--retry-failed` without --ensemble to train its seeds one by one"
        )

    def train_argv(self, out: Path) -> list[str]:
        """`saddlepoint train` arguments that train the batch afresh into a run folder under
        `out`: the first cell's, with train.ensemble = its size."""
        return self.first.train_argv(out, ensemble=self.size)


def separately(cells: list[Cell]) -> list[Batch]:
    """One batch per cell: a sweep without --ensemble."""
    return [Batch((cell,)) for cell in cells]


def plan(
    cells: list[Cell], metrics: tuple[str, ...], out: Path, *, most: int = 0, fresh: bool = False
) -> list[Batch]:
    """The batches that train `cells` (the cells still to run, in the spec's order): each group's
    consecutive seeds as ensembles of at most `most` (0: no limit), the others alone. A cell whose
    folder under `out` holds a checkpoint resumes it alone, unless `fresh` (--force)."""
    by_group: dict[int, list[Cell]] = {}
    for cell in cells:
        by_group.setdefault(cell.group.index, []).append(cell)
    batches = []
    for members in by_group.values():
        why = why_separate(members[0].group, metrics)
        if why is not None:
            batches += [Batch((cell,), why) for cell in members]
        else:
            batches += _consecutive(members, out, most, fresh)
    return batches


def _consecutive(cells: list[Cell], out: Path, most: int, fresh: bool) -> list[Batch]:
    """One group's cells as runs of consecutive seeds, each at most `most` long."""
    batches, run = [], []
    for cell in sorted(cells, key=lambda c: c.seed):
        if not fresh and run_folder(out / cell.key) is not None:
            batches.append(Batch((cell,), RESUMES))
            continue
        if run and (cell.seed != run[-1].seed + 1 or len(run) == most):
            batches.append(_batch(run))
            run = []
        run.append(cell)
    if run:
        batches.append(_batch(run))
    return batches


def _batch(run: list[Cell]) -> Batch:
    return Batch(tuple(run), None if len(run) > 1 else ALONE)


def why_separate(group: Group, metrics: tuple[str, ...]) -> str | None:
    """Why the cells of `group` cannot train as an ensemble, or None when they can: what training
    refuses to couple (train/ensemble.py: BEGAN, EBGAN's pulling-away term, compile, LAPGAN, a
    device other than the CPU and CUDA), and what an exported member's folder lacks for its
    metrics."""
    from saddlepoint.sweep.metrics import FINAL_GENERATOR
    from saddlepoint.train.device import resolve_device
    from saddlepoint.train.ensemble import ensemble_refusal

    config = override(group.config, ["train.ensemble=2"])
    with warnings.catch_warnings():  # train.device=cuda without CUDA: the warning is training's
        warnings.simplefilter("ignore")
        device = resolve_device(config.train.device)
    refusal = ensemble_refusal(config, False, device)
    if refusal is not None:
        return f"training refuses an ensemble of these runs: {refusal}"
    if config.train.eval_every > 0:
        return "train.eval_every evaluates, and keeps the best snapshot of, member 0 only"
    for name in metrics:
        if name not in FINAL_GENERATOR:
            return (
                f"the {name} metric reads more of a run folder than its final generator, and an "
                "ensemble keeps snapshots and logs for member 0 only"
            )
    return None
