"""The `saddlepoint` command: one program, a verb for each job (`saddlepoint.commands`, one
module per verb with its options and its handler).

    saddlepoint train --preset demo                 train; writes runs/NNNNN-demo-mnist5k-.../
    saddlepoint train --config runs/.../config.json train from a saved config
    saddlepoint train --resume runs/00001-...       continue a run exactly where it stopped
    saddlepoint sample runs/00001-... -n 64         a PNG grid of samples (--neighbours: Figure 2)
    saddlepoint sample --pretrained NAME            samples of a generator shipped with saddlepoint
    saddlepoint interpolate runs/00001-...          lines in z-space (Figure 3)
    saddlepoint eval parzen runs/00001-...          the 2014 Parzen-window log-likelihood
    saddlepoint eval fid|kid|is|pr|classes RUN      sample-quality metrics (docs/metrics.md)
    saddlepoint eval fid --input1 DIR --input2 DIR  two folders of images, no run
    saddlepoint report runs/00001-...               one self-contained HTML page about a run
    saddlepoint sweep SPEC.toml                     presets x overrides x seeds, resumable, tabled
    saddlepoint lab jsd                             the theory made runnable (`lab` lists all)
    saddlepoint playground                          the game played in the browser, live
    saddlepoint presets | datasets | objectives     what can be chosen
    saddlepoint pretrained                          the pretrained generators installed
    saddlepoint data download mnist --to DIR        fetch a dataset (nothing else downloads)

User mistakes, damaged inputs and outputs that cannot be written print one line starting with
"saddlepoint: error:" and exit with status 2; a run stopped by a signal exits with 128 + its
number (130 for Ctrl-C, 143 for SIGTERM) after saving its checkpoint.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from saddlepoint import __version__
from saddlepoint.commands import VERBS
from saddlepoint.commands.train import EPILOG
from saddlepoint.errors import SaddlepointError, cause


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="saddlepoint",
        description="Generative adversarial networks as the papers specify them.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"saddlepoint {__version__}")
    sub = p.add_subparsers(dest="verb", metavar="VERB")
    sub.required = True
    for verb in VERBS.values():
        verb.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    warnings.formatwarning = lambda message, *_args, **_kw: f"saddlepoint: warning: {message}\n"
    args = _parser().parse_args(argv)
    try:
        return VERBS[args.verb].run(args)
    except SaddlepointError as e:
        print(f"saddlepoint: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("saddlepoint: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `saddlepoint train --dry-run | head`
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep Python's exit flush quiet
        return 0
    except OSError as e:  # a file the commands above did not name themselves
        where = f"{e.filename}: " if e.filename else ""
        print(f"saddlepoint: error: {where}{cause(e)}.", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
