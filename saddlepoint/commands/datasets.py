"""`saddlepoint datasets`: the dataset sources."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("datasets", help="list the dataset sources")


def run(args: argparse.Namespace) -> int:
    from saddlepoint.data import DATASETS

    for name, source in DATASETS.items():
        root = source.default_root()
        where = f" [default folder: {root}]" if root else ""
        print(f"{name:16s} {source.description}{where}")
    print(
        f"{'folder:PATH':16s} a folder of PNG/JPEG images, sub-folders as classes; a seeded "
        "80/10/10% train/valid/test split (set data.image_size, data.channels)"
    )
    return 0
