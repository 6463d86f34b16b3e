"""`saddlepoint pretrained`: the pretrained generators installed."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    sub.add_parser(
        "pretrained",
        help="list the pretrained generators shipped with saddlepoint",
        description="List the pretrained generators installed with saddlepoint (NAME.safetensors "
        "and NAME.json in saddlepoint/pretrained/, or $SADDLEPOINT_PRETRAINED): the command, "
        "preset, seed, iterations and scores that made each. Sample one with `saddlepoint "
        "sample --pretrained NAME`.",
    )


def run(args: argparse.Namespace) -> int:
    from saddlepoint.pretrained import available, folder

    found = available()
    if not found:
        print(
            f"no pretrained generators are installed (none in {folder()}); train your own with "
            "`saddlepoint train`, or see the README for the ones a release ships."
        )
        return 0
    for name, record in found.items():
        if "problem" in record:
            print(f"{name}: {record['problem']}")
            continue
        print(f"{name}: {record.get('description', '')}")
        facts = ", ".join(
            f"{key} {record[key]}" for key in ("preset", "seed", "iterations") if key in record
        )
        print(f"  {facts}")
        scores = record.get("scores") or {}
        if scores:
            print("  scores: " + ", ".join(f"{k} {v}" for k, v in scores.items()))
        if "command" in record:
            print(f"  made by: {record['command']}")
    print(f"sample one: saddlepoint sample --pretrained {next(iter(found))}")
    return 0
