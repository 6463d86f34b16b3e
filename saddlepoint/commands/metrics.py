"""`saddlepoint eval fid|kid|is|pr|classes`: the sample-quality metrics' options and handler.

    saddlepoint eval fid runs/00001-...                      classifier-feature Frechet distance
    saddlepoint eval fid runs/00002-demo-faces-...           rotation-feature (unlabelled data)
    saddlepoint eval kid runs/00001-... --samples 5000       kernel distance, mean and std
    saddlepoint eval fid runs/... --extractor inception --weights PATH   FID (docs/metrics.md)
    saddlepoint eval fid --real --data mnist --root DIR      the sanity row: train vs test images
    saddlepoint eval fid --input1 DIR --input2 DIR           two folders of images, no run

Each prints the number, then the settings that made it (samples, reference split and count,
extractor and its weights' checksum, preprocessing, the metric's own parameters), and writes
the whole result as JSON into the run, RUN/eval/METRIC-EXTRACTOR-itN.json (where `saddlepoint
report` finds it), or to --out. An ensemble run's members are each scored alike and reported
with their mean +/- sample sd (`_score_members`; docs/ensembles.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from saddlepoint.commands.members import (
    add_member_option,
    member_table,
    members_to_score,
    write_members,
)
from saddlepoint.errors import SaddlepointError, writing
from saddlepoint.evaluate.features import AUTO, EXTRACTORS
from saddlepoint.evaluate.metrics import DEFAULT_SAMPLES, METRICS, MetricResult

METRIC_VERBS = tuple(METRICS)  # fid, kid, is, pr, classes


def add_metric_parsers(esub: argparse._SubParsersAction) -> None:
    """Add one sub-command per metric to the `eval` sub-parsers."""
    extractors = "; ".join(
        [f"{AUTO}: classifier for labelled data, rotation for unlabelled"]
        + [f"{name}: {source.description}" for name, source in EXTRACTORS.items()]
    )
    for name, metric in METRICS.items():
        direction = "higher" if metric.higher_is_better else "lower"
        p = esub.add_parser(
            name,
            help=metric.description,
            description=f"{metric.description} ({direction} is better). Scores a run's samples "
            "against a split of its own dataset, or the images of --input1 against those of "
            "--input2, with offline features (a classifier of labelled data, 'classifier-"
            "feature'; a rotation network self-trained on unlabelled data, 'rotation-feature'; "
            "never called FID) or the FID Inception-v3 with weights you supply. Writes the "
            "result into RUN/eval/ (or --out). Of an ensemble run (train.ensemble > 1) every "
            "member is scored alike, one row each, with their mean +/- sample sd (n - 1), into "
            "RUN/eval/METRIC-EXTRACTOR-members-itN.json; --member I scores one. Reference "
            "features are cached under "
            "$SADDLEPOINT_CACHE or ~/.cache/saddlepoint. See docs/metrics.md.",
        )
        p.add_argument(
            "run",
            nargs="?",
            default=None,
            help="run folder or generator .safetensors file (omit with --real --data, or with "
            "--input1)",
        )
        p.add_argument(
            "--samples",
            type=int,
            default=None,
            help=f"samples scored (default: {DEFAULT_SAMPLES}; with --real at most the split's "
            "images; with --input1 all its images)",
        )
        p.add_argument(
            "--extractor",
            default=AUTO,
            choices=[AUTO, *EXTRACTORS],
            help=f"feature network (default: {AUTO}). {extractors}",
        )
        p.add_argument(
            "--weights",
            default=None,
            metavar="PATH",
            help="Inception weights pt_inception-2015-12-05-6726825d.pth (default: the torch "
            "hub cache); see docs/metrics.md for where the file comes from",
        )
        if metric.uses_reference:
            p.add_argument(
                "--split",
                default="test",
                choices=["train", "valid", "test"],
                help="reference split of the run's dataset (default: test)",
            )
            p.add_argument(
                "--reference",
                type=int,
                default=None,
                metavar="N",
                help="reference images: the split's first N (default: the whole split)",
            )
        p.add_argument(
            "--seed", type=int, default=0, help="noise seed of the samples and KID subsets"
        )
        p.add_argument(
            "--real",
            action="store_true",
            help="score real images in place of samples (the sanity row): the first --samples "
            "images of the training split, or of the test split when --split train",
        )
        p.add_argument(
            "--real-split",
            default=None,
            choices=["train", "valid", "test"],
            help="with --real: the split the real images come from (default: train, or test "
            "when --split train); valid gives a row of images held out from training",
        )
        p.add_argument("--data", default=None, help="with --real and no RUN: the dataset")
        p.add_argument("--root", default=None, help="with --data: the dataset's folder")
        p.add_argument(
            "--input1",
            default=None,
            metavar="DIR",
            help="score the images of this folder (no run needed), against --input2",
        )
        p.add_argument(
            "--input2",
            default=None,
            metavar="DIR",
            help="with --input1: the reference folder; the rotation features are trained on it",
        )
        p.add_argument(
            "--out",
            default=None,
            metavar="FILE",
            help="write the result as JSON here (default: RUN/eval/METRIC-EXTRACTOR-itN.json "
            "for a run, nowhere otherwise)",
        )
        add_member_option(
            p,
            "score member I alone (default: every member, each with the same samples count, "
            "noise seed and reference, then their mean +/- sample sd)",
        )
        p.add_argument(
            "--device", default="cpu", choices=["cpu", "cuda"], help="where features are computed"
        )
        p.add_argument("--threads", type=int, default=None, help="torch CPU threads")


def _positive(value: int | None, name: str) -> int | None:
    if value is not None and value < 1:
        raise SaddlepointError(f"{name} must be at least 1, got {value}.")
    return value


def describe(result: MetricResult) -> list[str]:
    """The printout: the number first, then the settings that made it."""
    s, e = result.settings, result.extras
    head = f"{s['label']}: {result.value:.6g}"
    if result.name == "kid":
        head += f" +/- {e['kid_std']:.3g} (std over {s['subsets']} subsets of {s['subset_size']})"
    elif result.name == "is":
        head += f" +/- {e['is_std']:.3g} (std over {s['splits']} splits of {s['per_split']})"
    elif result.name == "pr":
        head += f" F1 (precision {e['precision']:.4f}, recall {e['recall']:.4f})"
    elif result.name == "classes":
        head += (
            f"; {e['covered']} of {e['classes']} classes covered; samples per class {e['counts']}"
        )
    lines = [head]
    if "run" in s:
        member = f"member {s['member']} (seed {s['member_seed']}) of " if "member" in s else ""
        what = (
            f"{s['samples']} samples of {member}{s['run']} (iteration {s['iteration']}, "
            f"noise seed {s['seed']})"
        )
    elif "real_split" in s:
        what = f"{s['samples']} real {s['dataset']} {s['real_split']} images (the sanity row)"
    elif "input1" in s:
        what = f"the {s['samples']} images of {s['input1']}"
    else:
        what = f"{s['samples']} images"
    if "split" in s:
        what += f" vs the first {s['reference_images']} {s['dataset']} {s['split']} images"
    elif "input2" in s:
        what += f" vs the {s['reference_images']} images of {s['input2']}"
    lines.append(f"  {what}")
    if s["extractor"] == "classifier":
        lines.append(
            f"  features: dataset classifier, {s['feature_dim']}-d penultimate layer; trained on "
            f"{s['classifier_train_images']} {s['classifier_dataset']} training images, test "
            f"accuracy {s['classifier_test_accuracy']:.4f}"
        )
    elif s["extractor"] == "rotation":
        lines.append(
            f"  features: rotation network (self-supervised), {s['feature_dim']}-d penultimate "
            f"layer; trained on {s['rotation_train_images']} {s['rotation_dataset']} images to "
            f"tell their rotation, accuracy {s['rotation_accuracy']:.4f} on "
            f"{s['rotation_accuracy_on']}; comparable only with scores of the same network"
        )
    else:
        published = (
            "the published file"
            if s["weights_are_published_file"]
            else "NOT the published file: not comparable with published numbers"
        )
        lines.append(
            f"  features: FID Inception-v3, {s['feature_dim']}-d pool; weights {published}"
        )
    lines.append(f"  weights: {s['weights_file']} (sha256 {s['weights_sha256'][:16]}...)")
    lines.append(f"  preprocessing: {s['preprocessing']}")
    skip = {
        "metric", "label", "dataset", "samples", "seed", "extractor", "feature_dim",
        "weights_sha256", "preprocessing", "weights_file", "weights_are_published_file",
        "classifier_dataset", "classifier_test_accuracy", "classifier_train_images", "run",
        "iteration", "real_split", "split", "reference_images", "subsets", "subset_size",
        "splits", "per_split", "rotation_dataset", "rotation_train_images", "rotation_accuracy",
        "rotation_accuracy_on", "input1", "input2", "notes", "member", "member_seed",
    }  # fmt: skip
    rest = ", ".join(f"{k} {v}" for k, v in s.items() if k not in skip)
    lines.append(f"  {rest}")
    lines += [f"  note: {note}" for note in s.get("notes", [])]
    return lines


def run_metric_command(args: argparse.Namespace) -> int:
    """`saddlepoint eval METRIC ...`: score, print, write the JSON (into the run, or --out);
    returns the exit code."""
    import torch

    from saddlepoint.config import DataConfig
    from saddlepoint.evaluate.metrics import score_folders, score_real, score_run

    if args.threads:
        torch.set_num_threads(_positive(args.threads, "--threads"))
    samples = _positive(args.samples, "--samples")
    common = dict(
        extractor=args.extractor,
        seed=args.seed,
        weights=args.weights,
        device=args.device,
    )
    out = Path(args.out) if args.out else None
    if args.member is not None and (args.run is None or args.real or args.input1):
        raise SaddlepointError(
            "--member scores one member of an ensemble run folder: name the folder, without "
            "--real or --input1."
        )
    if args.input1 or args.input2:
        if args.run or args.real or args.data or args.root:
            raise SaddlepointError(
                "--input1/--input2 compare two folders without a run: drop the run and "
                "--real/--data/--root."
            )
        if not args.input1:
            raise SaddlepointError("--input2 is the reference for --input1 DIR: give both.")
        if getattr(args, "split", "test") != "test" or getattr(args, "reference", None):
            raise SaddlepointError(
                "--split and --reference choose a dataset's reference images; with --input2 "
                "every image of that folder is the reference: drop them."
            )
        result = score_folders(args.eval_verb, args.input1, args.input2, n=samples, **common)
        return _finish(result, out)
    if hasattr(args, "split"):
        common.update(split=args.split, reference_images=_positive(args.reference, "--reference"))
    real = {}
    if args.real_split is not None:
        if not args.real:
            raise SaddlepointError("--real-split chooses the images of --real: add --real.")
        if args.real_split == getattr(args, "split", None):
            raise SaddlepointError(
                f"--real-split {args.real_split} is the reference split too: choose another "
                "(a split compared with itself scores 0)."
            )
        real["real_split"] = args.real_split
    if args.run is None:
        if not (args.real and args.data):
            raise SaddlepointError(
                "name a run folder, score real images with --real --data NAME [--root DIR], or "
                "compare two folders with --input1 DIR --input2 DIR."
            )
        data = DataConfig(name=args.data, root=args.root)
        result = score_real(args.eval_verb, data, n=samples, **real, **common)
    elif args.data or args.root:
        raise SaddlepointError("--data and --root are for --real without a run; drop them.")
    elif args.real:
        from saddlepoint.runs import load

        run = load(args.run)
        result = score_real(args.eval_verb, run.config.data, n=samples, **real, **common)
        result.settings["run_dataset_of"] = str(run.path)
        real_split = result.settings["real_split"]
        out = out or eval_folder(run.path) / f"{_stem(result)}-real-{real_split}.json"
    elif (members := members_to_score(args.run, args.member)) is not None:
        return _score_members(args, members, samples or DEFAULT_SAMPLES, common, out)
    else:
        result = score_run(args.eval_verb, args.run, n=samples or DEFAULT_SAMPLES, **common)
        it = result.settings["iteration"]
        out = out or eval_folder(Path(result.settings["run"])) / f"{_stem(result)}-it{it}.json"
    return _finish(result, out)


def _score_members(
    args: argparse.Namespace, members: list[int], n: int, common: dict, out: Path | None
) -> int:
    """`eval METRIC RUN` of an ensemble run: every member (or --member I) scored alike; for
    several, a row each and their mean +/- sd, written as one JSON."""
    from saddlepoint.evaluate.members import member_scores
    from saddlepoint.evaluate.metrics import score_run

    results = [score_run(args.eval_verb, args.run, n=n, member=i, **common) for i in members]
    first = results[0].settings
    it, run_dir = first["iteration"], eval_folder(Path(first["run"]))
    if len(members) == 1:
        stem = f"{_stem(results[0])}-member{members[0]}-it{it}"
        return _finish(results[0], out or run_dir / f"{stem}.json")
    rows = [
        {
            "member": r.settings["member"],
            "seed": r.settings["member_seed"],
            "value": r.value,
            "iteration": r.settings["iteration"],
            "result": r.to_dict(),
        }
        for r in results
    ]
    scores = member_scores(args.eval_verb, first["label"], rows)
    print(f"{first['label']} of {len(members)} ensemble members:")
    for line in member_table(scores):
        print(line)
    for line in describe(results[0])[1:]:  # the settings, the same for every member
        print(line.replace(f"member 0 (seed {rows[0]['seed']}) of ", "each member of "))
    write_members(scores, out or run_dir / f"{_stem(results[0])}-members-it{it}.json")
    sys.stdout.flush()
    return 0


def eval_folder(run_path: Path) -> Path:
    """Where a run's evaluations go: RUN/eval, for a run folder or a snapshot inside it
    (RUN/snapshots/generator-*.safetensors and RUN/best.safetensors alike)."""
    for folder in (run_path, run_path.parent):
        if (folder / "config.json").is_file():
            return folder / "eval"
    return run_path / "eval"


def _stem(result: MetricResult) -> str:
    return f"{result.name}-{result.settings['extractor']}"


def _finish(result: MetricResult, out: Path | None) -> int:
    """Print the result; write it as JSON to `out` when there is one."""
    for line in describe(result):
        print(line)
    if out is not None:
        with writing(out):
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(result.to_dict(), indent=2) + "\n")
        print(f"  {out}")
    sys.stdout.flush()
    return 0
