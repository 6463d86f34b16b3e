"""`saddlepoint interpolate`: the paper's Figure 3, samples along straight lines in z-space."""

from __future__ import annotations

import argparse

from saddlepoint.commands.args import positive, run_arg
from saddlepoint.errors import SaddlepointError


def add_parser(sub: argparse._SubParsersAction) -> None:
    ip = sub.add_parser(
        "interpolate",
        help="samples along straight lines in z-space (Figure 3)",
        description="Draw G(z) for z on straight lines between random pairs of "
        "noise vectors, one line per row.",
    )
    ip.add_argument("run", help="run folder or generator .safetensors file")
    ip.add_argument("--rows", type=int, default=8, help="lines, one per row (default: 8)")
    ip.add_argument(
        "--steps", type=int, default=10, help="samples along each line, ends included (default: 10)"
    )
    ip.add_argument("--seed", type=int, default=0, help="noise seed (default: 0)")
    ip.add_argument(
        "--out", default=None, help="PNG path (default: RUN/samples/interpolation-seed<SEED>.png)"
    )


def run(args: argparse.Namespace) -> int:
    from saddlepoint.report.figures import interpolation_figure
    from saddlepoint.runs import load

    run = load(run_arg(args.run))
    out = args.out or run.path / "samples" / f"interpolation-seed{args.seed}.png"
    rows, steps = positive(args.rows, "--rows"), positive(args.steps, "--steps")
    if steps < 2:
        raise SaddlepointError("--steps must be at least 2 (the two ends of each line).")
    print(interpolation_figure(run.generator, out, rows=rows, steps=steps, seed=args.seed))
    return 0
