"""`saddlepoint presets`: the named presets."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("presets", help="list the named presets")


def run(args: argparse.Namespace) -> int:
    from saddlepoint.presets import PRESETS

    for name, p in PRESETS.items():
        print(f"{name:24s} {p.description}")
    return 0
