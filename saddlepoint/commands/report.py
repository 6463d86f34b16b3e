"""`saddlepoint report`: one self-contained HTML page about a run."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    rp = sub.add_parser(
        "report",
        help="write one self-contained HTML page about a run",
        description="Write RUN/report.html: the training curves (losses, D(x) and D(G(z)), "
        "gradient norms, sample diversity, throughput), the sample grids over training, the "
        "health warnings raised, the final metrics of any evaluation JSON in the run, and the "
        "config. Every image is embedded, so the file opens anywhere on its own.",
    )
    rp.add_argument("run", help="run folder that saddlepoint train wrote")
    rp.add_argument("--out", default=None, help="HTML path (default: RUN/report.html)")


def run(args: argparse.Namespace) -> int:
    from saddlepoint.report.html import write_report

    print(write_report(args.run, args.out))
    return 0
