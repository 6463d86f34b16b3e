"""The `saddlepoint` command: one program, a verb for each job.

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
    saddlepoint lab jsd                             the theory made runnable (`lab` lists all)
    saddlepoint presets | datasets | objectives     what can be chosen
    saddlepoint pretrained                          the pretrained generators installed
    saddlepoint data download mnist --to DIR        fetch a dataset (nothing else downloads)

User mistakes, damaged inputs and outputs that cannot be written print one line starting with
"saddlepoint: error:" and exit with status 2; a run stopped by a signal exits with 128 + its
number (130 for Ctrl-C, 143 for SIGTERM) after saving its checkpoint.
"""

from __future__ import annotations

import argparse
import inspect
import os
import signal
import sys
import warnings
from pathlib import Path

from saddlepoint import __version__
from saddlepoint.errors import SaddlepointError, cause, writing
from saddlepoint.evaluate.commands import (
    METRIC_VERBS,
    add_metric_parsers,
    eval_folder,
    run_metric_command,
)
from saddlepoint.progress import STATUS_EVERY

EPILOG = """examples:
  saddlepoint train                                   the demo preset on the bundled mnist5k
  saddlepoint train --preset goodfellow2014-mnist --set data.root=~/mnist
  saddlepoint train --set train.k=2 --set optim_d.lr=0.05 --dry-run
  saddlepoint train --data folder:~/faces --set train.iterations=2000
  saddlepoint train --resume runs/00001-demo-mnist5k-non_saturating --set train.iterations=8000
  saddlepoint sample runs/00001-demo-mnist5k-non_saturating -n 100 --seed 3
"""


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

    t = sub.add_parser(
        "train",
        help="train a GAN (Algorithm 1) and write a run folder",
        description="Train a GAN by Algorithm 1 of Goodfellow et al. 2014: k discriminator "
        "steps, then one generator step, per iteration. Settings come from a preset, then "
        "--data/--objective, then each --set key=value (see --dry-run for all keys).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    t.add_argument(
        "--preset",
        default=None,
        help="named starting config (default: demo); see `saddlepoint presets`",
    )
    t.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help="start from a saved config (a run's config.json, or `train --dry-run` output) "
        "in place of a preset; --data, --objective and --set apply on top",
    )
    t.add_argument(
        "--data",
        default=None,
        help="dataset name or folder:PATH (shortcut for --set data.name=...)",
    )
    t.add_argument(
        "--objective", default=None, help="objective name (shortcut for --set objective.name=...)"
    )
    t.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one setting, e.g. train.k=2 or model.g_hidden=1200,1200; repeatable",
    )
    t.add_argument("--out", default="runs", help="folder that holds run folders (default: runs)")
    t.add_argument(
        "--resume",
        default=None,
        metavar="RUN",
        help="continue this run folder from its checkpoint (only train.* durations and "
        "intervals, and optim_d/optim_g lr, lr_decay and lr_min may change)",
    )
    t.add_argument(
        "--dry-run",
        action="store_true",
        help="print the resolved config as JSON and exit without training",
    )
    t.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda", "mps"),
        default=None,
        help="where to train (shortcut for --set train.device=...; auto: CUDA, then MPS, then "
        "CPU; a missing device falls back to the CPU with a warning)",
    )
    t.add_argument(
        "--precision",
        choices=("auto", "float32", "bfloat16", "float16"),
        default=None,
        help="autocast precision (shortcut for --set train.precision=...; default float32, "
        "since autocast measured slower for these small nets even on an H100; auto: bfloat16 "
        "on CUDA, float32 elsewhere; float16 uses a gradient scaler)",
    )
    t.add_argument("--quiet", action="store_true", help="no progress bar or status lines")
    t.add_argument(
        "--status-every",
        type=float,
        default=STATUS_EVERY,
        metavar="SECONDS",
        help="when stderr is not a terminal (a batch job's log): one plain status line every "
        f"SECONDS in place of the bar (default: {STATUS_EVERY:g})",
    )

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

    ip = sub.add_parser(
        "interpolate",
        help="samples along straight lines in z-space (Figure 3)",
        description="Draw G(z) for z on straight lines between random pairs of "
        "noise vectors, one line per row.",
    )
    ip.add_argument("run", help="run folder or generator .safetensors file")
    ip.add_argument("--rows", type=int, default=8, help="lines, one per row (default: 8)")
    ip.add_argument(
        "--steps", type=int, default=10, help="samples along each line, ends included (default: 10)"
    )
    ip.add_argument("--seed", type=int, default=0, help="noise seed (default: 0)")
    ip.add_argument(
        "--out", default=None, help="PNG path (default: RUN/samples/interpolation-seed<SEED>.png)"
    )

    av = sub.add_parser(
        "average",
        help="average the weights of several generator snapshots (Polyak averaging)",
        description="Write the uniform average of the weights of generator snapshots of one "
        "run (e.g. RUN/snapshots/generator-*.safetensors) as a new snapshot that sample, "
        "interpolate and eval read like any other. Averaging the iterates of GAN training "
        "lands nearer the equilibrium than any one of them (docs/reproduction.md measures it).",
    )
    av.add_argument("snapshots", nargs="+", help="two or more .safetensors snapshots of one run")
    av.add_argument("--out", required=True, help="the averaged snapshot to write (.safetensors)")

    ev = sub.add_parser("eval", help="evaluate a run (parzen, fid, kid, is, pr, classes)")
    esub = ev.add_subparsers(dest="eval_verb", metavar="METRIC")
    esub.required = True
    pz = esub.add_parser(
        "parzen",
        help="the 2014 Parzen-window log-likelihood of the test set",
        description="Fit a Gaussian Parzen window to generator samples, choose its width on "
        "validation images, and report the mean log-likelihood of the test images with its "
        "standard error (Goodfellow et al. 2014; a coarse measure in high dimension: see "
        "docs/reproduction.md). Writes RUN/eval/parzen*.json and the sigma curve as PNG.",
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
    pz.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    add_metric_parsers(esub)  # fid, kid, is, pr, classes: saddlepoint/evaluate/commands.py

    rp = sub.add_parser(
        "report",
        help="write one self-contained HTML page about a run",
        description="Write RUN/report.html: the training curves (losses, D(x) and D(G(z)), "
        "gradient norms, sample diversity, throughput), the sample grids over training, the "
        "health warnings raised, the final metrics of any evaluation JSON in the run, and the "
        "config. Every image is embedded, so the file opens anywhere on its own.",
    )
    rp.add_argument("run", help="run folder that saddlepoint train wrote")
    rp.add_argument("--out", default=None, help="HTML path (default: RUN/report.html)")

    sub.add_parser("presets", help="list the named presets")
    sub.add_parser(
        "pretrained",
        help="list the pretrained generators shipped with saddlepoint",
        description="List the pretrained generators installed with saddlepoint (NAME.safetensors "
        "and NAME.json in saddlepoint/pretrained/, or $SADDLEPOINT_PRETRAINED): the command, "
        "preset, seed, iterations and scores that made each. Sample one with `saddlepoint "
        "sample --pretrained NAME`.",
    )
    sub.add_parser("datasets", help="list the dataset sources")
    sub.add_parser("objectives", help="list the objectives")

    d = sub.add_parser("data", help="dataset utilities (download)")
    dsub = d.add_subparsers(dest="data_verb", metavar="ACTION")
    dsub.required = True
    dl = dsub.add_parser(
        "download",
        help="fetch mnist, fashion-mnist or cifar10 from their public mirrors",
        description="Download a dataset's files, verify their checksums and place them in "
        "--to (default: the dataset's default folder). Nothing else in saddlepoint downloads.",
    )
    dl.add_argument("name", choices=["mnist", "fashion-mnist", "cifar10"])
    dl.add_argument("--to", default=None, help="target folder")

    lb = sub.add_parser(
        "lab",
        help="the theory made runnable: compute, check and plot a claim of the seed notes",
        description="Run one lab of the theory: it writes NAME.json (its numbers) and its "
        "figures into --out. Without a NAME, or with --list, list the labs.",
    )
    lb.add_argument("name", nargs="?", default=None, metavar="NAME", help="the lab to run")
    lb.add_argument("--out", default=None, help="folder for its files (default: runs/lab/NAME)")
    lb.add_argument("--list", action="store_true", help="list the labs and exit")
    # Options of the labs that train (each lab takes those its run() names; see `lab --list`).
    lb.add_argument("--data", default=None, help="mode-collapse: ring8 or grid25")
    lb.add_argument("--objective", default=None, help="the objective to train with")
    lb.add_argument("--k", type=int, default=None, help="D steps per G step (>= 1)")
    lb.add_argument("--iterations", type=int, default=None, help="generator steps (>= 1)")
    lb.add_argument("--seed", type=int, default=None, help="seed of the run")
    lb.add_argument("--frames", type=int, default=None, help="pictures taken over training")
    return p


def _positive(value: int, name: str) -> int:
    if value < 1:
        raise SaddlepointError(f"{name} must be at least 1, got {value}.")
    return value


def _cmd_train(args: argparse.Namespace) -> int:
    from saddlepoint.config import override
    from saddlepoint.presets import preset
    from saddlepoint.train import train

    sets = list(args.sets)
    if args.data:
        sets.insert(0, f"data.name={args.data}")
    if args.objective:
        sets.insert(0, f"objective.name={args.objective}")
    if args.device:
        sets.append(f"train.device={args.device}")
    if args.precision:
        sets.append(f"train.precision={args.precision}")
    if args.config and (args.preset or args.resume):
        raise SaddlepointError(
            "--config is the starting config in place of a preset, and --resume continues a "
            "run with its own: use one of --config, --preset and --resume."
        )
    if args.resume:
        if args.preset or args.data or args.objective:
            raise SaddlepointError(
                "--resume continues a run with its saved config: drop --preset/--data/--objective."
            )
        import json

        from saddlepoint.checkpoint import load_training_state
        from saddlepoint.config import config_from_dict
        from saddlepoint.train.lapgan import is_lapgan_run, lapgan_config

        if is_lapgan_run(args.resume):  # a LAPGAN run folder keeps its config at the top
            config = override(lapgan_config(args.resume), sets)
        else:
            state = load_training_state(Path(args.resume) / "checkpoint.pt")
            config = override(config_from_dict(json.loads(state["config"])), sets)
    else:
        from saddlepoint.data import absolute_paths

        start = _saved_config(args.config) if args.config else preset(args.preset or "demo")
        config = _fit_batch(absolute_paths(override(start, sets)), sets)
    if args.dry_run:
        print(config.to_json())
        return 0
    progress = dict(progress=not args.quiet)
    if config.model.generator == "lapgan":  # one Algorithm 1 per pyramid level
        from saddlepoint.train.lapgan import train_lapgan as train
    else:
        progress["status_every"] = args.status_every
    run = train(config, out=args.out, resume=args.resume, **progress)
    if os.environ.get("RANK", "0") == "0":  # under torchrun, rank 0 speaks for all
        print(f"run folder: {run.path}")
        print(f"samples:    {run.last_grid}")
    if run.interrupted:  # the shell's convention for a process stopped by a signal
        return 128 + int(run.stop_signal or signal.SIGINT)
    return 0


def _saved_config(path: str):
    """The config in a JSON file (a run's config.json, `train --dry-run` output), checked."""
    import json

    from saddlepoint.config import config_from_dict

    try:
        values = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SaddlepointError(f"no config file at {path}: give a run's config.json.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SaddlepointError(
            f"{path} is not a readable JSON config ({type(e).__name__}): give a run's "
            "config.json, or the output of `saddlepoint train --dry-run`."
        ) from None
    if not isinstance(values, dict):
        raise SaddlepointError(f"{path} holds no group of settings: give a run's config.json.")
    try:
        return config_from_dict(values)
    except SaddlepointError as e:
        raise SaddlepointError(f"{path}: {e}") from None


def _fit_batch(config, sets: list[str]):
    """A folder:PATH dataset whose training split is smaller than the preset's batch trains
    with the whole split as its batch, with a note (unless --set train.batch_size was given)."""
    if not config.data.name.startswith("folder:") or any(
        s.strip().startswith("train.batch_size=") for s in sets
    ):
        return config
    from saddlepoint.config import override
    from saddlepoint.data import load_dataset

    n, batch = len(load_dataset(config.data, "train")), config.train.batch_size
    if n >= batch:
        return config
    print(
        f"saddlepoint: note: the training split of {config.data.name} holds {n} images (the "
        "folder's shuffled 80%; 10% each are kept for validation and test), fewer than "
        f"train.batch_size={batch}: training with train.batch_size={n} (choose another with "
        "--set train.batch_size=N)",
        file=sys.stderr,
    )
    return override(config, [f"train.batch_size={n}"])


def _run_arg(run: str) -> str:
    """A run argument that names a file must be a .safetensors snapshot: one sentence if not."""
    path = Path(run)
    if path.is_file() and path.suffix != ".safetensors":
        what = (
            "a training checkpoint (for `saddlepoint train --resume` of its folder)"
            if path.suffix == ".pt"
            else "not a generator snapshot"
        )
        raise SaddlepointError(
            f"{path} is {what}: pass the run folder ({path.parent}) or a .safetensors snapshot."
        )
    return run


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
    from saddlepoint.train import load
    from saddlepoint.train.lapgan import is_lapgan_run, load_lapgan

    run_path = _run_arg(args.run)
    run = load_lapgan(run_path) if is_lapgan_run(run_path) else load(run_path)
    return run, run.path


def _class_names(data) -> tuple[str, ...] | None:
    """The dataset's class names for row labels, or None when it cannot be read here."""
    from saddlepoint.data import load_dataset

    try:
        return load_dataset(data, "test").classes
    except (SaddlepointError, OSError):
        return None


def _cmd_sample(args: argparse.Namespace) -> int:
    from saddlepoint.report import save_samples

    if args.neighbours + args.per_class + (args.sweep is not None) > 1:
        raise SaddlepointError("choose one of --neighbours, --per-class and --sweep.")
    n = None if args.n is None else _positive(args.n, "-n")
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
        from saddlepoint.data import load_dataset
        from saddlepoint.report.figures import neighbours_figure

        train_x = load_dataset(run.config.data, "train").x
        if train_x.dim() != 4:
            raise SaddlepointError("--neighbours draws images; this run's data are points.")
        out = args.out or home / "samples" / f"neighbours-seed{args.seed}.png"
        print(neighbours_figure(run.generator, train_x, out, n=n or 48, seed=args.seed))
        return 0
    samples = run.sample(n or 100, seed=args.seed)
    out = args.out or home / "samples" / f"sample-seed{args.seed}.png"
    print(save_samples(samples, out))
    return 0


def _cmd_interpolate(args: argparse.Namespace) -> int:
    from saddlepoint.report.figures import interpolation_figure
    from saddlepoint.train import load

    run = load(_run_arg(args.run))
    out = args.out or run.path / "samples" / f"interpolation-seed{args.seed}.png"
    rows, steps = _positive(args.rows, "--rows"), _positive(args.steps, "--steps")
    if steps < 2:
        raise SaddlepointError("--steps must be at least 2 (the two ends of each line).")
    print(interpolation_figure(run.generator, out, rows=rows, steps=steps, seed=args.seed))
    return 0


def _cmd_average(args: argparse.Namespace) -> int:
    from saddlepoint.train.average import average_snapshots

    print(average_snapshots([_run_arg(s) for s in args.snapshots], args.out))
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    if args.run is not None:
        _run_arg(args.run)
    if args.eval_verb in METRIC_VERBS:
        return run_metric_command(args)
    import torch

    from saddlepoint.evaluate.run_parzen import (
        ParzenSettings,
        counts_used,
        parzen_curve,
        parzen_of_run,
        save_curve,
    )
    from saddlepoint.train import load

    if args.threads:
        torch.set_num_threads(_positive(args.threads, "--threads"))
    sigmas = None
    if args.sigmas:
        try:
            sigmas = tuple(float(s) for s in args.sigmas.split(",") if s.strip())
        except ValueError:
            raise SaddlepointError(
                f"--sigmas takes comma-separated numbers, got {args.sigmas!r}."
            ) from None
    settings = ParzenSettings(
        samples=None if args.samples is None else _positive(args.samples, "--samples"),
        valid=None if args.valid is None else _positive(args.valid, "--valid"),
        test=None if args.test is None else _positive(args.test, "--test"),
        sigmas=sigmas,
        batch_size=args.batch_size,
        seed=args.seed,
    )
    if args.run is None:
        if not (args.real and args.data):
            raise SaddlepointError(
                "name a run folder, or score real images with --real --data NAME [--root DIR]."
            )
        from saddlepoint.config import DataConfig
        from saddlepoint.evaluate.run_parzen import parzen_of_real

        data = DataConfig(name=args.data, root=args.root)
        settings, notes = counts_used(data, settings, real=True)
        result = parzen_of_real(data, settings)
        folder = _folder(Path(args.out or "runs/eval"))
        stem = f"parzen-real-{args.data.replace(':', '-').replace('/', '-')}"
        return _report_parzen(
            result, folder, stem, f"{settings.samples} real training images", args.data, notes
        )
    if args.data or args.root:
        raise SaddlepointError("--data and --root are for --real without a run; drop them.")
    if args.snapshots:  # the kept snapshots, each loaded (or skipped) on its own
        from saddlepoint.train.run import resolve_run_path

        path = resolve_run_path(args.run)
        run_dir = path if path.is_dir() else path.parent
        folder = _folder(Path(args.out) if args.out else eval_folder(run_dir))
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
    run = load(args.run)
    folder = _folder(Path(args.out) if args.out else eval_folder(run.path))
    settings, notes = counts_used(run.config.data, settings, real=args.real)
    if args.real:
        from saddlepoint.evaluate.run_parzen import parzen_of_real

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


def _folder(folder: Path) -> Path:
    """An output folder, made if need be (or one sentence why it cannot be)."""
    with writing(folder):
        folder.mkdir(parents=True, exist_ok=True)
    return folder


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


def _cmd_report(args: argparse.Namespace) -> int:
    from saddlepoint.report.html import write_report

    print(write_report(args.run, args.out))
    return 0


def _cmd_presets(args: argparse.Namespace) -> int:
    from saddlepoint.presets import PRESETS

    for name, p in PRESETS.items():
        print(f"{name:24s} {p.description}")
    return 0


def _cmd_pretrained(args: argparse.Namespace) -> int:
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


def _cmd_datasets(args: argparse.Namespace) -> int:
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


def _cmd_objectives(args: argparse.Namespace) -> int:
    from saddlepoint.objectives import OBJECTIVES

    width = max(len(name) for name in OBJECTIVES)
    for name, objective in OBJECTIVES.items():
        print(f"{name:{width}s}  {objective.description}")
    return 0


def _cmd_data(args: argparse.Namespace) -> int:
    from saddlepoint.data.download import download

    print(download(args.name, args.to))
    return 0


LAB_OPTIONS = ("data", "objective", "k", "iterations", "seed", "frames")  # `lab` options -> run()


def _cmd_lab(args: argparse.Namespace) -> int:
    from saddlepoint.lab import LABS

    if args.list or args.name is None:
        for name, lab in LABS.items():
            print(f"{name:22s} {lab.description}")
        return 0
    lab = LABS.get(args.name)
    out = Path(args.out) if args.out else Path("runs") / "lab" / lab.name
    options = {k: getattr(args, k) for k in LAB_OPTIONS if getattr(args, k) is not None}
    takes = [k for k in LAB_OPTIONS if k in inspect.signature(lab.run).parameters]
    for key in options:
        if key not in takes:
            offered = ", ".join(f"--{k}" for k in takes) or "no options"
            raise SaddlepointError(
                f"the {lab.name} lab takes no --{key} option (it takes {offered}); drop it."
            )
    numbers = lab.run(out, **options)
    for line in lab.summary(numbers) if lab.summary else []:
        print(line)
    for path in sorted(out.glob(f"{lab.name}*")):
        print(f"wrote {path}")
    return 0


COMMANDS = {
    "train": _cmd_train,
    "sample": _cmd_sample,
    "interpolate": _cmd_interpolate,
    "average": _cmd_average,
    "eval": _cmd_eval,
    "report": _cmd_report,
    "presets": _cmd_presets,
    "pretrained": _cmd_pretrained,
    "datasets": _cmd_datasets,
    "objectives": _cmd_objectives,
    "data": _cmd_data,
    "lab": _cmd_lab,
}


def main(argv: list[str] | None = None) -> int:
    warnings.formatwarning = lambda message, *_args, **_kw: f"saddlepoint: warning: {message}\n"
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.verb](args)
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
