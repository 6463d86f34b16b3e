"""`saddlepoint objectives`: the objectives."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("objectives", help="list the objectives")


def run(args: argparse.Namespace) -> int:
    from saddlepoint.objectives import OBJECTIVES

    width = max(len(name) for name in OBJECTIVES)
    for name, objective in OBJECTIVES.items():
        print(f"{name:{width}s}  {objective.description}")
    return 0
