"""`saddlepoint eval METRIC`: the 2014 Parzen-window log-likelihood here; fid, kid, is, pr and
classes in `saddlepoint.commands.metrics`.

    saddlepoint eval parzen RUN                  the test set's log-likelihood under G's samples
    saddlepoint eval parzen RUN --snapshots      ... of every kept snapshot: the curve
    saddlepoint eval parzen --real --data NAME   real training images in place of samples
    saddlepoint eval parzen ENSEMBLE_RUN         every member, then their mean +/- sample sd
"""

from __future__ import annotations

import argparse
from pathlib import Path

from saddlepoint.commands.args import output_folder, positive, run_arg
from saddlepoint.commands.members import (
    add_member_option,
    member_run,
    member_table,
    members_to_score,
    seeds_of,
    write_members,
)
from saddlepoint.commands.metrics import (
    METRIC_VERBS,
    add_metric_parsers,
    eval_folder,
    run_metric_command,
)
from saddlepoint.errors import SaddlepointError


def add_parser(sub: argparse._SubParsersAction) -> None:
    """`eval` and its sub-verbs: parzen's options here, the other metrics' in metrics.py."""
    ev = sub.add_parser("eval", help="evaluate a run (parzen, fid, kid, is, pr, classes)")
    esub = ev.add_subparsers(dest="eval_verb", metavar="METRIC")
    esub.required = True
    pz = esub.add_parser(
        "parzen",
        help="the 2014 Parzen-window log-likelihood of the test set",
        description="Fit a Gaussian Parzen window to generator samples, choose its width on "
        "validation images, and report the mean log-likelihood of the test images with its "
        "standard error (Goodfellow et al. 2014; a coarse measure in high dimension: see "
        "docs/reproduction.md). Writes RUN/eval/parzen*.json and the sigma curve as PNG. Of an "
        "ensemble run (train.ensemble > 1) every member is scored alike, one row each, with their "
        "mean +/- sample sd, into RUN/eval/parzen-members-itN.json; --member I scores one.",
    )
    pz.add_argument(
        "run",
        nargs="?",
        default=None,
        help="run folder or generator .safetensors file (omit with --real --data)",
    )
    pz.add_argument(
        "--samples",
        type=int,
        default=None,
        help="generator samples (default: 10000; with --real: 10000 training images, or all "
        "when the split holds fewer)",
    )
    pz.add_argument(
        "--valid",
        type=int,
        default=None,
        help="validation images that choose sigma (default: 1000, or all when the split holds "
        "fewer)",
    )
    pz.add_argument(
        "--test", type=int, default=None, help="test images scored (default: the whole test split)"
    )
    pz.add_argument(
        "--sigmas",
        default=None,
        metavar="S1,S2,...",
        help="sigma grid (default: 10 values log-spaced from 0.1 to 1.0)",
    )
    pz.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="test points per distance block (default: automatic)",
    )
    pz.add_argument("--seed", type=int, default=0, help="noise seed (default: 0)")
    pz.add_argument(
        "--real",
        action="store_true",
        help="score real training images in place of samples (the ceiling); of "
        "RUN's dataset, or of --data/--root without a run",
    )
    pz.add_argument("--data", default=None, help="with --real and no RUN: the dataset")
    pz.add_argument("--root", default=None, help="with --data: the dataset's folder")
    pz.add_argument(
        "--out", default=None, help="folder for the JSON and PNG (default: RUN/eval, or runs/eval)"
    )
    pz.add_argument(
        "--snapshots",
        action="store_true",
        help="score every kept snapshot and write the curve over training time",
    )
    add_member_option(
        pz,
        "score member I alone (default: every member, each with the same samples, noise seed "
        "and splits, then their mean +/- sample sd)",
    )
    pz.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    add_metric_parsers(esub)  # fid, kid, is, pr, classes: saddlepoint/commands/metrics.py


def run(args: argparse.Namespace) -> int:
    if args.run is not None:
        run_arg(args.run)
    if args.eval_verb in METRIC_VERBS:
        return run_metric_command(args)
    import torch

    from saddlepoint.evaluate.run_parzen import counts_used, parzen_of_real, parzen_of_run
    from saddlepoint.runs import load

    if args.threads:
        torch.set_num_threads(positive(args.threads, "--threads"))
    settings = _parzen_settings(args)
    if args.run is None:
        return _parzen_of_real_data(args, settings)
    if args.data or args.root:
        raise SaddlepointError("--data and --root are for --real without a run; drop them.")
    if args.member is not None and (args.real or args.snapshots):
        raise SaddlepointError(
            "--member scores one member's generator: drop --real and --snapshots (the "
            "snapshots are member 0's)."
        )
    if args.snapshots:  # the kept snapshots, each loaded (or skipped) on its own
        return _parzen_curve(args, settings)
    members = None if args.real else members_to_score(args.run, args.member)
    if members is not None:  # an ensemble run: every member, or --member I
        return _parzen_of_members(args, settings, members)
    run = load(args.run)
    folder = output_folder(Path(args.out) if args.out else eval_folder(run.path))
    settings, notes = counts_used(run.config.data, settings, real=args.real)
    if args.real:
        result = parzen_of_real(run.config.data, settings)
        return _report_parzen(
            result,
            folder,
            "parzen-real",
            f"{settings.samples} real training images",
            run.config.data.name,
            notes,
        )
    result = parzen_of_run(run, settings)
    return _report_parzen(
        result,
        folder,
        f"parzen-it{run.iteration}",
        f"{settings.samples} samples of iteration {run.iteration}",
        run.config.data.name,
        notes,
    )


def _parzen_of_members(args: argparse.Namespace, settings, members: list[int]) -> int:
    """`eval parzen RUN` of an ensemble run: each member scored with the same settings; one
    member reported as a run is, several as a row each with their mean +/- sd."""
    from saddlepoint.evaluate.members import member_scores
    from saddlepoint.evaluate.run_parzen import counts_used, parzen_of_run

    runs = [member_run(args.run, i) for i in members]  # every member checked before scoring
    first = runs[0]
    folder = output_folder(Path(args.out) if args.out else eval_folder(first.path))
    settings, notes = counts_used(first.config.data, settings)
    what = f"{settings.samples} samples of iteration {first.iteration}"
    if len(members) == 1:
        return _report_parzen(
            parzen_of_run(first, settings),
            folder,
            f"parzen-member{members[0]}-it{first.iteration}",
            f"{what} of member {members[0]} ({seeds_of(first, members)})",
            first.config.data.name,
            notes,
        )
    rows = []
    for i, run in zip(members, runs):
        result = parzen_of_run(run, settings)
        seed = run.config.train.seed + i
        rows.append(
            {
                "member": i,
                "seed": seed,
                "iteration": run.iteration,
                "value": result.test_mean,
                "result": result.to_dict(),
            }
        )
    scores = member_scores("parzen", "Parzen log-likelihood (nats)", rows)
    n_test = rows[0]["result"]["n_test"]
    print(
        f"Parzen log-likelihood of {n_test} {first.config.data.name} test images under "
        f"{len(members)} ensemble members ({seeds_of(first, members)}):"
    )
    for line in member_table(scores):
        print(line)
    print(f"  {what} of each member; sigma chosen per member on {settings.valid} validation images")
    for note in notes:
        print(f"  note: {note}")
    write_members(scores, folder / f"parzen-members-it{first.iteration}.json")
    return 0


def _parzen_settings(args: argparse.Namespace):
    """The ParzenSettings the options ask for (counts left unset fit the data later)."""
    from saddlepoint.evaluate.run_parzen import ParzenSettings

    sigmas = None
    if args.sigmas:
        try:
            sigmas = tuple(float(s) for s in args.sigmas.split(",") if s.strip())
        except ValueError:
            raise SaddlepointError(
                f"--sigmas takes comma-separated numbers, got {args.sigmas!r}."
            ) from None
    return ParzenSettings(
        samples=None if args.samples is None else positive(args.samples, "--samples"),
        valid=None if args.valid is None else positive(args.valid, "--valid"),
        test=None if args.test is None else positive(args.test, "--test"),
        sigmas=sigmas,
        batch_size=args.batch_size,
        seed=args.seed,
    )


def _parzen_of_real_data(args: argparse.Namespace, settings) -> int:
    """`eval parzen --real --data NAME` without a run: real training images as the samples."""
    if not (args.real and args.data):
        raise SaddlepointError(
            "name a run folder, or score real images with --real --data NAME [--root DIR]."
        )
    from saddlepoint.config import DataConfig
    from saddlepoint.evaluate.run_parzen import counts_used, parzen_of_real

    data = DataConfig(name=args.data, root=args.root)
    settings, notes = counts_used(data, settings, real=True)
    result = parzen_of_real(data, settings)
    folder = output_folder(Path(args.out or "runs/eval"))
    stem = f"parzen-real-{args.data.replace(':', '-').replace('/', '-')}"
    return _report_parzen(
        result, folder, stem, f"{settings.samples} real training images", args.data, notes
    )


def _parzen_curve(args: argparse.Namespace, settings) -> int:
    """`eval parzen RUN --snapshots`: every kept snapshot scored, the curve written."""
    from saddlepoint.evaluate.run_parzen import parzen_curve, save_curve
    from saddlepoint.runs import resolve_run_path

    path = resolve_run_path(args.run)
    run_dir = path if path.is_dir() else path.parent
    folder = output_folder(Path(args.out) if args.out else eval_folder(run_dir))
    curve = parzen_curve(run_dir, settings)
    save_curve(curve, folder / "parzen-curve.json", folder / "parzen-curve.png")
    for c in curve:
        when = f"{c['seconds'] / 60:7.1f} min" if c["seconds"] is not None else ""
        print(
            f"iteration {c['iteration']:>8d} {when}  {c['test_ll']:8.1f} +/- "
            f"{c['test_se']:.1f}  (sigma {c['sigma']:.3f})"
        )
    print(f"curve: {folder / 'parzen-curve.json'}, {folder / 'parzen-curve.png'}")
    return 0


def _report_parzen(
    result, folder: Path, stem: str, what: str, data_name: str, notes: list[str]
) -> int:
    from saddlepoint.evaluate.parzen import plot_sigma_curve, save_result

    save_result(result, folder / f"{stem}.json")
    plot_sigma_curve(result, folder / f"{stem}-sigma.png")
    print(
        f"Parzen log-likelihood of {result.n_test} {data_name} test images: "
        f"{result.test_mean:.1f} +/- {result.test_std_error:.1f} (std error)"
    )
    print(
        f"  {what}; sigma {result.sigma:.4f} chosen on {result.n_valid} validation images "
        f"from {len(result.sigmas)} values; {result.seconds:.1f} s"
    )
    for note in notes:
        print(f"  note: {note}")
    print(f"  {folder / (stem + '.json')}")
    return 0
