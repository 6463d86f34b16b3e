"""The verbs of the `saddlepoint` command, one module each, its options beside its handler.

Every module has `add_parser(subparsers)`, which adds the verb and its options, and
`run(args) -> exit status`; `saddlepoint.cli` builds the program from `VERBS` and dispatches to
them. Heavy modules are imported inside the handlers, so `saddlepoint --help` stays quick.
"""

from __future__ import annotations

from types import ModuleType

from saddlepoint.commands import (
    average,
    data,
    datasets,
    evaluate,
    interpolate,
    lab,
    objectives,
    playground,
    presets,
    pretrained,
    report,
    sample,
    sweep,
    train,
)

# verb -> its module, in the order `saddlepoint --help` lists them
VERBS: dict[str, ModuleType] = {
    "train": train,
    "sample": sample,
    "interpolate": interpolate,
    "average": average,
    "eval": evaluate,
    "report": report,
    "sweep": sweep,
    "presets": presets,
    "pretrained": pretrained,
    "datasets": datasets,
    "objectives": objectives,
    "data": data,
    "lab": lab,
    "playground": playground,
}
