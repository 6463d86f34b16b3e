"""`saddlepoint data download NAME`: fetch a dataset from its public mirrors (nothing else
downloads)."""

from __future__ import annotations

import argparse

DOWNLOADABLE = ["mnist", "fashion-mnist", "cifar10"]  # the datasets `data download` fetches


def add_parser(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("data", help="dataset utilities (download)")
    dsub = d.add_subparsers(dest="data_verb", metavar="ACTION")
    dsub.required = True
    dl = dsub.add_parser(
        "download",
        help="fetch mnist, fashion-mnist or cifar10 from their public mirrors",
        description="Download a dataset's files, verify their checksums and place them in "
        "--to (default: the dataset's default folder). Nothing else in saddlepoint downloads.",
    )
    dl.add_argument("name", choices=DOWNLOADABLE)
    dl.add_argument("--to", default=None, help="target folder")


def run(args: argparse.Namespace) -> int:
    from saddlepoint.data.download import download

    print(download(args.name, args.to))
    return 0
