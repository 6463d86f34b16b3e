"""`saddlepoint lab [NAME]`: the theory made runnable (saddlepoint.lab)."""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path

from saddlepoint.errors import SaddlepointError


def add_parser(sub: argparse._SubParsersAction) -> None:
    lb = sub.add_parser(
        "lab",
        help="the theory made runnable: compute, check and plot a claim of the seed notes",
        description="Run one lab of the theory: it writes NAME.json (its numbers) and its "
        "figures into --out. Without a NAME, or with --list, list the labs.",
    )
    lb.add_argument("name", nargs="?", default=None, metavar="NAME", help="the lab to run")
    lb.add_argument("--out", default=None, help="folder for its files (default: runs/lab/NAME)")
    lb.add_argument("--list", action="store_true", help="list the labs and exit")
    # Options of the labs that train (each lab takes those its run() names; see `lab --list`).
    lb.add_argument("--data", default=None, help="mode-collapse: ring8 or grid25")
    lb.add_argument("--objective", default=None, help="the objective to train with")
    lb.add_argument("--k", type=int, default=None, help="D steps per G step (>= 1)")
    lb.add_argument("--iterations", type=int, default=None, help="generator steps (>= 1)")
    lb.add_argument("--seed", type=int, default=None, help="seed of the run")
    lb.add_argument("--frames", type=int, default=None, help="pictures taken over training")


LAB_OPTIONS = ("data", "objective", "k", "iterations", "seed", "frames")  # `lab` options -> run()


def run(args: argparse.Namespace) -> int:
    from saddlepoint.lab import LABS

    if args.list or args.name is None:
        for name, lab in LABS.items():
            print(f"{name:22s} {lab.description}")
        return 0
    lab = LABS.get(args.name)
    out = Path(args.out) if args.out else Path("runs") / "lab" / lab.name
    options = {k: getattr(args, k) for k in LAB_OPTIONS if getattr(args, k) is not None}
    takes = [k for k in LAB_OPTIONS if k in inspect.signature(lab.run).parameters]
    for key in options:
        if key not in takes:
            offered = ", ".join(f"--{k}" for k in takes) or "no options"
            raise SaddlepointError(
                f"the {lab.name} lab takes no --{key} option (it takes {offered}); drop it."
            )
    numbers = lab.run(out, **options)
    for line in lab.summary(numbers) if lab.summary else []:
        print(line)
    for path in sorted(out.glob(f"{lab.name}*")):
        print(f"wrote {path}")
    return 0
