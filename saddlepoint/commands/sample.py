"""`saddlepoint sample`: a grid of samples from a run, a snapshot or a pretrained generator;
the paper's Figure 2 (--neighbours), one row per class (--per-class), an InfoGAN code swept
(--sweep)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from saddlepoint.commands.args import positive, run_arg
from saddlepoint.commands.data import DOWNLOADABLE
from saddlepoint.commands.members import add_member_option, member_run
from saddlepoint.errors import SaddlepointError


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser(
        "sample",
        help="draw samples from a trained run into a PNG grid",
        description="Draw samples G(z), z ~ p_z, from a run's latest snapshot.",
    )
    s.add_argument(
        "run",
        nargs="?",
        default=None,
        help="run folder or generator .safetensors file (omit with --pretrained)",
    )
    s.add_argument(
        "--pretrained",
        default=None,
        metavar="NAME",
        help="a generator shipped with saddlepoint in place of a run (`saddlepoint pretrained` "
        "lists them); pictures go to runs/pretrained/NAME/samples/",
    )
    s.add_argument(
        "-n",
        type=int,
        default=None,
        help="number of samples (default: 100; --neighbours: 48, in rows of 6; --per-class: "
        "per class, 10; --sweep: rows, 8)",
    )
    add_member_option(
        s,
        "sample member I, the run of seed train.seed + I, from the checkpoint (default: member "
        "0, the snapshot's)",
    )
    s.add_argument("--seed", type=int, default=0, help="noise seed (default: 0)")
    s.add_argument(
        "--out", default=None, help="PNG path (default: RUN/samples/sample-seed<SEED>.png)"
    )
    s.add_argument(
        "--neighbours",
        action="store_true",
        help="the paper's Figure 2: rows of 6 samples, a separator line, then the nearest "
        "training image (Euclidean, on pixels) of the row's last sample",
    )
    s.add_argument(
        "--data-root",
        default=None,
        metavar="DIR",
        help="--neighbours: the folder of the training images to search (default: the run's "
        "data.root, or the dataset's default folder for a pretrained generator)",
    )
    s.add_argument(
        "--per-class",
        action="store_true",
        help="class-conditional runs: one row per class, labelled with its name; the same "
        "noise down each column",
    )
    s.add_argument(
        "--sweep",
        default=None,
        metavar="CODE",
        help="InfoGAN runs: vary one latent code (cat0, cont0, ...) along each row with the "
        "noise and the other codes fixed; continuous codes run from -2 to 2; each column is "
        "labelled with the code's value",
    )


def run(args: argparse.Namespace) -> int:
    from saddlepoint.report import save_samples

    if args.neighbours + args.per_class + (args.sweep is not None) > 1:
        raise SaddlepointError("choose one of --neighbours, --per-class and --sweep.")
    n = None if args.n is None else positive(args.n, "-n")
    run, home = _source(args)
    if args.per_class or args.sweep is not None:
        from saddlepoint.report.conditional import code_sweep_grid, per_class_grid

        if args.per_class:
            out = args.out or home / "samples" / f"per-class-seed{args.seed}.png"
            names = (
                _class_names(run.config.data) if getattr(run.generator, "num_classes", 0) else None
            )
            print(
                per_class_grid(
                    run.generator, out, per_row=n or 10, seed=args.seed, class_names=names
                )
            )
        else:
            out = args.out or home / "samples" / f"sweep-{args.sweep}-seed{args.seed}.png"
            print(code_sweep_grid(run.generator, args.sweep, out, rows=n or 8, seed=args.seed))
        return 0
    if args.neighbours:
        from saddlepoint.report.figures import neighbours_figure

        train_x = _training_images(run.config.data, args.data_root)
        if train_x.dim() != 4:
            raise SaddlepointError("--neighbours draws images; this run's data are points.")
        out = args.out or home / "samples" / f"neighbours-seed{args.seed}.png"
        print(neighbours_figure(run.generator, train_x, out, n=n or 48, seed=args.seed))
        return 0
    samples = run.sample(n or 100, seed=args.seed)
    member = "" if args.member is None else f"member{args.member}-"
    out = args.out or home / "samples" / f"sample-{member}seed{args.seed}.png"
    print(save_samples(samples, out))
    return 0


def _source(args: argparse.Namespace):
    """(the Run to draw from, the folder its pictures go to) of `sample`: a run or --pretrained."""
    if (args.run is None) == (args.pretrained is None):
        raise SaddlepointError(
            "name a run folder (or .safetensors snapshot), or --pretrained NAME (see "
            "`saddlepoint pretrained`), but not both."
        )
    if args.pretrained is not None:
        from saddlepoint.pretrained import load_pretrained

        return load_pretrained(args.pretrained), Path("runs") / "pretrained" / args.pretrained
    from saddlepoint.runs import is_lapgan_run, load, load_lapgan

    run_path = run_arg(args.run)
    if args.member is not None:
        run = member_run(run_path, args.member)
        return run, run.path
    run = load_lapgan(run_path) if is_lapgan_run(run_path) else load(run_path)
    return run, run.path


def _training_images(data, root):
    """The training split's images that --neighbours searches, from --data-root if given."""
    from saddlepoint.data import load_dataset

    data = data if root is None else dataclasses.replace(data, root=root)
    try:
        return load_dataset(data, "train").x
    except SaddlepointError:
        if data.root is not None and Path(data.root).is_dir():
            raise  # the folder is there: the loader's sentence names the file at fault
        where = "" if data.root is None else f" at {data.root}"
        fetch = (
            f", or fill the default one with `saddlepoint data download {data.name}`"
            if data.name in DOWNLOADABLE
            else ""
        )
        raise SaddlepointError(
            f"--neighbours searches the {data.name} training images, which could not be read"
            f"{where}: pass their folder with --data-root DIR{fetch}."
        ) from None


def _class_names(data) -> tuple[str, ...] | None:
    """The dataset's class names for row labels, or None when it cannot be read here."""
    from saddlepoint.data import load_dataset

    try:
        return load_dataset(data, "test").classes
    except (SaddlepointError, OSError):
        return None
