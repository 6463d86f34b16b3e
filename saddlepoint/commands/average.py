"""`saddlepoint average`: the uniform average of several generator snapshots (Polyak averaging)."""

from __future__ import annotations

import argparse

from saddlepoint.commands.args import run_arg


def add_parser(sub: argparse._SubParsersAction) -> None:
    av = sub.add_parser(
        "average",
        help="average the weights of several generator snapshots (Polyak averaging)",
        description="Write the uniform average of the weights of generator snapshots of one "
        "run (e.g. RUN/snapshots/generator-*.safetensors) as a new snapshot that sample, "
        "interpolate and eval read like any other. Averaging the iterates of GAN training "
        "lands nearer the equilibrium than any one of them (docs/reproduction.md measures it).",
    )
    av.add_argument("snapshots", nargs="+", help="two or more .safetensors snapshots of one run")
    av.add_argument("--out", required=True, help="the averaged snapshot to write (.safetensors)")


def run(args: argparse.Namespace) -> int:
    from saddlepoint.train.average import average_snapshots

    print(average_snapshots([run_arg(s) for s in args.snapshots], args.out))
    return 0
