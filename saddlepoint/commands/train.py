"""`saddlepoint train`: train a GAN by Algorithm 1 from a preset or a saved config, or resume a run.

Its options and the config they resolve to are here; the training itself is
`saddlepoint.train.train` (one Algorithm 1) or `saddlepoint.train.lapgan.train_lapgan` (one
per pyramid level). Under torchrun every rank runs this; rank 0 prints the run folder.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from saddlepoint.errors import SaddlepointError
from saddlepoint.progress import STATUS_EVERY

EPILOG = """examples:
  saddlepoint train                                   the demo preset on the bundled mnist5k
  saddlepoint train --preset goodfellow2014-mnist --set data.root=~/mnist
  saddlepoint train --set train.k=2 --set optim_d.lr=0.05 --dry-run
  saddlepoint train --data folder:~/faces --set train.iterations=2000
  saddlepoint train --preset goodfellow2014-mnist-fast --seeds 0-7   8 seeds as one ensemble
  saddlepoint train --resume runs/00001-demo-mnist5k-non_saturating --set train.iterations=8000
  saddlepoint sample runs/00001-demo-mnist5k-non_saturating -n 100 --seed 3
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """The train verb and its options."""
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
    t.add_argument(
        "--seeds",
        default=None,
        metavar="A-B",
        help="train the runs of seeds A..B together in one process as an ensemble (shortcut "
        "for --set train.seed=A --set train.ensemble=B-A+1; see docs/ensembles.md)",
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


def run(args: argparse.Namespace) -> int:
    from saddlepoint.train import train

    config = _config(args)
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


def _config(args: argparse.Namespace):
    """The config the options ask for: a preset's, a saved one's or the resumed run's, with
    --data, --objective, --device, --precision and each --set applied."""
    from saddlepoint.config import override
    from saddlepoint.presets import preset

    sets = list(args.sets)
    if args.data:
        sets.insert(0, f"data.name={args.data}")
    if args.objective:
        sets.insert(0, f"objective.name={args.objective}")
    if args.device:
        sets.append(f"train.device={args.device}")
    if args.precision:
        sets.append(f"train.precision={args.precision}")
    if args.seeds:
        sets += seed_range(args.seeds)
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
        from saddlepoint.runs import is_lapgan_run, lapgan_config

        if is_lapgan_run(args.resume):  # a LAPGAN run folder keeps its config at the top
            config = override(lapgan_config(args.resume), sets)
        else:
            state = load_training_state(Path(args.resume) / "checkpoint.pt")
            config = override(config_from_dict(json.loads(state["config"])), sets)
    else:
        from saddlepoint.data import absolute_paths

        start = _saved_config(args.config) if args.config else preset(args.preset or "demo")
        config = _fit_batch(absolute_paths(override(start, sets)), sets)
    return config


def seed_range(text: str) -> list[str]:
    """--seeds A-B (or one seed A) as the settings train.seed=A, train.ensemble=B-A+1."""
    import re

    match = re.fullmatch(r"(\d+)(?:-(\d+))?", text.strip())
    a = int(match[1]) if match else 0
    b = int(match[2] or match[1]) if match else -1
    if b < a:
        raise SaddlepointError(
            f"--seeds takes a range of seeds A-B with 0 <= A <= B, such as 0-7, not {text!r}."
        )
    return [f"train.seed={a}", f"train.ensemble={b - a + 1}"]


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
