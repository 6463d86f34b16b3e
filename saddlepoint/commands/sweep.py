"""`saddlepoint sweep SPEC`: train a grid of presets x overrides x seeds with N worker processes,
resumable, score each run by the spec's metrics and write the table (docs/sweep.md).

    saddlepoint sweep SPEC                     run what is not done yet, then print the table
    saddlepoint sweep SPEC --dry-run           list the cells and which are done
    saddlepoint sweep SPEC --print-commands    one `saddlepoint train ...` line per pending cell
    saddlepoint sweep SPEC --ensemble          a row's consecutive seeds as one ensemble process
    saddlepoint sweep SPEC --table             re-render the table from the results alone
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from saddlepoint.errors import SaddlepointError

EPILOG = """examples:
  saddlepoint sweep benchmarks/sweeps/example.toml --dry-run
  saddlepoint sweep benchmarks/sweeps/example.toml --workers 2
  saddlepoint sweep zoo.toml --device cuda --data-root ~/data/mnist
  saddlepoint sweep zoo.toml --print-commands > jobs.txt     (one job per line for a scheduler)
  saddlepoint sweep zoo.toml --ensemble --dry-run            (which seeds train as one process)
  saddlepoint sweep zoo.toml --table --docs docs/zoo.md
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """The sweep verb and its options."""
    p = sub.add_parser(
        "sweep",
        help="train a grid of presets x overrides x seeds, resumable, and tabulate metrics",
        description="Train every cell (preset, overrides, seed) of a TOML spec that has no "
        "result yet, each in a worker process of its own (resuming its checkpoint when a "
        "killed sweep left one), score it by the spec's metrics, append one JSON line per "
        "cell to the results file and print the table of mean ± sd over seeds (docs/sweep.md).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("spec", metavar="SPEC", help="the sweep's TOML spec file")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="cells trained at once (default: one per idle CPU core, each on one thread; "
        "4 with --device cuda, sharing the GPU)",
    )
    p.add_argument(
        "--device",
        choices=("cpu", "cuda", "mps", "auto"),
        default=None,
        help="train.device of every cell (not part of the cells' keys)",
    )
    p.add_argument(
        "--data-root",
        action="append",
        default=[],
        metavar="[DATASET=]DIR",
        help="data.root of every cell whose dataset reads files (or only DATASET's); "
        "repeatable; not part of the cells' keys",
    )
    p.add_argument(
        "--results",
        default=None,
        metavar="FILE",
        help="the results file (default: the spec's results, else runs/sweeps/NAME/results.jsonl)",
    )
    p.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="the folder of cell folders (default: the spec's out, else runs/sweeps/NAME)",
    )
    p.add_argument(
        "--docs",
        default=None,
        metavar="FILE",
        help="markdown file whose sweep:NAME block gets the table (default: the spec's docs)",
    )
    p.add_argument(
        "--ensemble",
        action="store_true",
        help="train each row's consecutive seeds together in one process (train.ensemble; "
        "member i is the run of seed first+i, exported and scored as that run would be), so "
        "a row of 8 seeds is one process; cells that cannot (BEGAN, snapshot metrics, ...) "
        "run alone, and --dry-run says which and why (docs/sweep.md)",
    )
    p.add_argument(
        "--ensemble-max",
        type=int,
        default=None,
        metavar="N",
        help="with --ensemble, at most N seeds per ensemble, so more workers share the seeds "
        "(default: every consecutive seed of a row in one)",
    )
    again = p.add_mutually_exclusive_group()
    again.add_argument(
        "--retry-failed",
        action="store_true",
        help="run failed and diverged cells again (resuming their checkpoints)",
    )
    again.add_argument(
        "--force",
        action="store_true",
        help="run every cell again, each into a new run folder beside its old one",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="list the cells and which are done")
    mode.add_argument(
        "--print-commands",
        action="store_true",
        help="print one `saddlepoint train` command per cell still to run, and exit",
    )
    mode.add_argument(
        "--table", action="store_true", help="re-render the table from the results; no training"
    )


def run(args: argparse.Namespace) -> int:
    from saddlepoint.sweep.cells import Execution, expand
    from saddlepoint.sweep.results import latest, read_rows

    spec = _spec(args)
    if args.workers is not None and args.workers < 1:
        raise SaddlepointError(f"--workers must be at least 1, got {args.workers}.")
    cells = expand(spec, Execution(args.device, _data_roots(args.data_root)))
    if args.table and not spec.results.is_file():
        raise SaddlepointError(
            f"no results at {spec.results} yet: run `saddlepoint sweep {args.spec}` first."
        )
    rows = latest(read_rows(spec.results))
    todo = _todo(cells, rows, args)
    batches = _batches(spec, todo, args)
    if args.dry_run:
        _list(spec, cells, rows, todo, args.force)
        if args.ensemble:
            _list_batches(spec, cells, batches)
        return 0
    if args.print_commands:
        _print_commands(spec, batches, args.force)
        return 0
    status = 0
    if todo and not args.table:
        status = _sweep(spec, cells, rows, todo, batches, args)
    if status == 0:
        _table(spec, cells, args)
    return status


def _spec(args: argparse.Namespace):
    """The spec, with the paths the command line gives in place of its own."""
    import dataclasses

    from saddlepoint.sweep.spec import load_spec

    spec = load_spec(args.spec)
    changes = {}
    for name in ("results", "out", "docs"):
        if getattr(args, name):
            changes[name] = Path(getattr(args, name)).expanduser().resolve()
    return dataclasses.replace(spec, **changes)


def _data_roots(values: list[str]) -> tuple[tuple[str, str], ...]:
    """--data-root DIR (any dataset that reads files) or DATASET=DIR (that one)."""
    from saddlepoint.data import DATASETS

    roots = []
    for value in values:
        name, _, folder = value.partition("=")
        if folder and name in DATASETS:
            roots.append((name, folder))
        elif folder and "/" not in name:  # an unknown dataset: one sentence naming them
            try:
                DATASETS.get(name)
            except SaddlepointError as e:
                raise SaddlepointError(f"--data-root {value}: {e}") from None
        else:
            roots.append(("*", value))
    return tuple(roots)


def _todo(cells, rows: dict[str, dict], args: argparse.Namespace) -> list:
    """The cells this run trains: those without a row, and the failed ones or all on demand."""
    if args.force:
        return list(cells)
    again = ("failed", "diverged") if args.retry_failed else ()
    return [c for c in cells if c.key not in rows or rows[c.key]["status"] in again]


def _batches(spec, todo, args: argparse.Namespace) -> list:
    """The worker processes' batches: each cell alone, or with --ensemble consecutive seeds
    together (sweep/ensembles.py)."""
    from saddlepoint.sweep.ensembles import plan, separately

    most = args.ensemble_max
    if most is not None and (most < 2 or not args.ensemble):
        raise SaddlepointError(
            f"--ensemble-max {most}: give --ensemble with a limit of at least 2 seeds per "
            "ensemble (or leave --ensemble-max out)."
        )
    if not args.ensemble:
        return separately(todo)
    return plan(todo, spec.metrics, spec.out, most=most or 0, fresh=args.force)


def _state(spec, cell, rows: dict[str, dict], todo_keys: set[str], force: bool) -> str:
    from saddlepoint.sweep.folder import run_folder

    row = rows.get(cell.key)
    if cell.key not in todo_keys:
        return row["status"]
    if force and row:
        return "again"
    if run_folder(spec.out / cell.key) is not None:
        return "resume"
    return "retry" if row else "pending"


def _list(spec, cells, rows: dict[str, dict], todo, force: bool) -> None:
    """--dry-run: the spec's cells, one line each (with the overrides that tell them apart),
    and what a run would do with each."""
    keys = {c.key for c in todo}
    common = set.intersection(*(set(c.overrides) for c in cells))
    print(f"sweep {spec.name}: {spec.description}".rstrip(": "))
    print(f"results: {spec.results}")
    print(f"cells:   {spec.out}/<key>/")
    print(f"every cell: {' '.join(sorted(common)) or '(no overrides)'}")
    print(f"{len(cells)} cells: {len(cells) - len(keys)} done, {len(keys)} to run")
    for cell in cells:
        state = _state(spec, cell, rows, keys, force)
        own = " ".join(o for o in cell.overrides if o not in common)
        print(f"  {state:<9} {cell.key}  {cell.preset} seed={cell.seed} {own}".rstrip())


def _list_batches(spec, cells, batches) -> None:
    """--dry-run --ensemble: which cells train together as one ensemble, which alone and why."""
    from saddlepoint.sweep.folder import run_folder

    common = set.intersection(*(set(c.overrides) for c in cells))
    together = [b for b in batches if b.is_ensemble]
    members = sum(b.size for b in together)
    print(
        f"--ensemble: {_count(len(batches), 'worker process', 'es')}: {_count(members, 'cell')} "
        f"in {_count(len(together), 'ensemble')}, {len(batches) - len(together)} alone"
    )
    for b in batches:
        own = " ".join(o for o in b.first.overrides if o not in common)
        if b.is_ensemble:
            resume = " (resumes its checkpoint)" if run_folder(spec.out / b.name) else ""
            print(f"  ensemble  {b.name}  {b.first.preset} {b.seeds} {own}".rstrip() + resume)
        else:
            what = f"{b.first.key}  {b.first.preset} seed={b.first.seed} {own}".rstrip()
            print(f"  alone     {what}: {b.reason}")


def _count(n: int, noun: str, plural: str = "s") -> str:
    return f"{n} {noun}{plural if n != 1 else ''}"


def _print_commands(spec, batches, force: bool) -> None:
    """--print-commands: the `saddlepoint train` line of each batch still to run (one cell, or
    with --ensemble an ensemble's seeds; one with a checkpoint resumes it, unless --force)."""
    from saddlepoint.sweep.folder import train_argv

    for batch in batches:
        argv = train_argv(batch, spec.out / batch.name, fresh=force)
        print(shlex.join(["saddlepoint", *argv]))


def _sweep(spec, cells, rows: dict[str, dict], todo, batches, args: argparse.Namespace) -> int:
    """Train and score `todo`, batch by batch; the exit status (130 after Ctrl-C)."""
    from saddlepoint.commands.args import output_folder
    from saddlepoint.sweep.scheduler import Sweep

    output_folder(spec.out)
    workers = args.workers or default_workers(args.device, max(c.group.threads for c in todo))
    workers = min(workers, len(batches))
    done = sum(1 for c in cells if c.key in rows) - sum(1 for c in todo if c.key in rows)
    ensembles = _count(sum(1 for b in batches if b.is_ensemble), "ensemble")
    processes = _count(len(batches), "process", "es")
    grouped = f" ({ensembles}, {processes})" if args.ensemble else ""
    print(
        f"sweep {spec.name}: {len(todo)} of {len(cells)} cells{grouped} to run on {workers} "
        f"worker{'s' if workers > 1 else ''}; results: {spec.results}",
        file=sys.stderr,
    )
    fresh = {c.key for c in todo} if args.force else set()
    sweep = Sweep(spec, list(batches), workers, len(cells), done, fresh)
    return sweep.run()


def default_workers(device: str | None, threads: int) -> int:
    """4 on a GPU; on the CPU one per idle core (train/threads.py measures them), divided by
    the threads each cell uses."""
    import math
    import os

    if device == "cuda":
        return 4
    from saddlepoint.train.threads import SLACK, idle_cores, usable_cores

    try:
        idle = idle_cores() * usable_cores() / (os.cpu_count() or 1)
    except (OSError, ValueError, IndexError):  # no /proc/stat: every usable core
        idle = float(usable_cores())
    return max(1, math.floor(idle + SLACK) // max(1, threads))


def _table(spec, cells, args: argparse.Namespace) -> None:
    """Print the table and write it into the docs file's block, if there is one."""
    from saddlepoint.sweep.results import latest, read_rows
    from saddlepoint.sweep.table import render, write_block

    command = f"saddlepoint sweep {spec.shown_path()}"
    if args.device:
        command += f" --device {args.device}"
    text = render(cells, latest(read_rows(spec.results)), command)
    print(text, end="")
    if spec.docs is not None:
        write_block(spec.docs, spec.name, text)
        print(f"table written into {spec.docs}", file=sys.stderr)
