"""Ensemble runs on the command line (docs/ensembles.md): which members a verb reads, one member
loaded as an ordinary run (`sample --member`, `eval ... --member`), and the per-member table with
its mean +/- sd that `eval` prints and writes for a whole ensemble."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from saddlepoint.errors import SaddlepointError, writing

if TYPE_CHECKING:  # torch is imported by the handlers only, so `--help` stays quick
    from saddlepoint.evaluate.members import MemberScores
    from saddlepoint.runs import Run


def add_member_option(parser: argparse.ArgumentParser, what: str) -> None:
    """`--member I`; `what` says what the verb does with it and without it."""
    parser.add_argument(
        "--member",
        type=int,
        default=None,
        metavar="I",
        help=f"an ensemble run (train.ensemble > 1, `train --seeds`): {what}",
    )


def member_run(run: str, member: int, device: str = "cpu") -> Run:
    """Member `member` of the run folder `run` as an ordinary Run (runs.load_member), or one
    sentence when `run` is not a folder or has no such member."""
    from saddlepoint.runs import load_member

    return load_member(_member_folder(run), member, device)


def _member_folder(run: str) -> str:
    if not Path(run).is_dir():
        raise SaddlepointError("--member reads a run folder's checkpoint: name the folder.")
    return run


def members_to_score(run: str, member: int | None) -> list[int] | None:
    """The members `eval` scores: [I] for --member I, every member of an ensemble run folder, or
    None for a run (or snapshot file) that holds one generator, which is scored as ever."""
    from saddlepoint.runs import ensemble_size

    if member is not None:
        _member_folder(run)
        return [member]
    size = ensemble_size(run) if Path(run).is_dir() else 1
    return list(range(size)) if size > 1 else None


def seeds_of(run: Run, members: list[int]) -> str:
    """The seeds of `members` in words: "seeds 3-5" for a contiguous range."""
    seeds = [run.config.train.seed + i for i in members]
    if seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 1:
        return f"seeds {seeds[0]}-{seeds[-1]}"
    return "seed" + ("s " if len(seeds) > 1 else " ") + ", ".join(map(str, seeds))


def member_table(scores: MemberScores) -> list[str]:
    """One row per member, then the mean +/- sd line."""
    lines = [f"  {'member':>6}  {'seed':>6}  {scores.label}"]
    lines += [f"  {m['member']:>6}  {m['seed']:>6}  {m['value']:.6g}" for m in scores.members]
    lines.append(
        f"  mean +/- sd over {len(scores.members)} members: {scores.mean:.6g} +/- "
        f"{scores.sd:.3g} (sample sd, n - 1)"
    )
    return lines


def write_members(scores: MemberScores, out: Path) -> None:
    """Write the members' rows and their summary as JSON to `out`, and say where."""
    with writing(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(scores.to_dict(), indent=2) + "\n")
    print(f"  {out}")
