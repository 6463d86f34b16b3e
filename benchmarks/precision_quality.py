"""Benchmark: does bfloat16 (or float16) autocast cost Parzen log-likelihood?

    .venv/bin/python benchmarks/precision_quality.py [--device cpu|cuda] [--batch 500]
        [--iterations 6000] [--seeds 0,1,2] [--precisions float32,bfloat16] [--data-root DIR]
        [--out PATH] [--quick]

For every seed, the same run is trained once per precision (`train.precision=...`, autocast
around the forward passes; everything else identical, the same seed, so the same initial
weights, minibatches and noise) and its final generator (the EMA of G's weights) is scored by
the 2014 Parzen protocol: 10,000 samples, sigma chosen on the first 1,000 validation images,
all 10,000 test images scored. The recipe is the preset `goodfellow2014-mnist-fast` (the 2014
networks, Adam D 2e-4 / G 1e-3) at the chosen batch, with an EMA of beta 0.999, since larger
batches take fewer steps.

The question the issue asks is whether the low precision loses log-likelihood "beyond its
standard error". Two runs of one seed differ by more than rounding after a few hundred steps
(training is chaotic), so the comparison that means something is the per-seed difference set
against the spread that float32 shows between seeds: the report gives each run's score with
its standard error, the mean paired difference, and the float32 seed-to-seed spread.

Writes benchmarks/results/precision-quality-<device>.json and .md beside it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import saddlepoint as sp  # noqa: E402
from saddlepoint.config import override  # noqa: E402
from saddlepoint.evaluate.run_parzen import ParzenSettings, parzen_of_run  # noqa: E402
from saddlepoint.presets import preset  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
COLLAPSED = 0.0  # nats: healthy runs of this recipe score 200-230, collapsed ones about -250


def train_and_score(args, seed: int, precision: str, scratch: Path) -> dict:
    config = override(
        preset("goodfellow2014-mnist-fast"),
        [
            f"data.root={args.data_root}",
            f"train.device={args.device}",
            f"train.precision={precision}",
            f"train.seed={seed}",
            f"train.batch_size={args.batch}",
            f"train.iterations={args.iterations}",
            "train.ema_beta=0.999",
            f"train.log_every={max(1, args.iterations // 10)}",
            "train.eval_every=0",
            "train.sample_every=0",
            "train.snapshot_every=0",
            "train.checkpoint_every=0",
        ],
    )
    start = time.perf_counter()
    run = sp.train(config, out=scratch, progress=False)
    train_s = time.perf_counter() - start
    log = sp.read_log(run.path)
    settings = ParzenSettings(
        samples=1000 if args.quick else 10_000, test=1000 if args.quick else None
    )
    result = parzen_of_run(sp.load(run.path, device="cpu"), settings)
    rates = [r["images_per_s"] for r in log[1:]] or [log[-1]["images_per_s"]]
    return {
        "seed": seed,
        "precision": precision,
        "test_mean": result.test_mean,
        "test_std_error": result.test_std_error,
        "sigma": result.sigma,
        "train_seconds": train_s,
        "images_per_s": statistics.median(rates),
        "final_d_loss": log[-1]["d_loss"],
        "final_g_loss": log[-1]["g_loss"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--iterations", type=int, default=6000)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--precisions", default="float32,bfloat16")
    parser.add_argument("--data-root", default="/work/shared/data/mnist")
    parser.add_argument("--out", default=None, help="JSON path; the .md is written beside it")
    parser.add_argument("--quick", action="store_true", help="seconds-long smoke test")
    parser.add_argument(
        "--merge",
        nargs="+",
        metavar="JSON",
        help="combine the runs of earlier results (same settings, other seeds) into --out",
    )
    args = parser.parse_args()
    if args.merge:
        records = [json.loads(Path(f).read_text()) for f in args.merge]
        runs = [r for rec in records for r in rec["runs"]]
        precisions = list(dict.fromkeys(r["precision"] for r in runs))
        settings = {k: v for k, v in records[0]["settings"].items() if k != "seeds"}
        out = Path(
            args.out or RESULTS / f"precision-quality-{records[0]['machine']['device']}.json"
        )
        write(summarize(runs, precisions, settings, records[0]["machine"]), out)
        return
    if args.quick:
        args.iterations, args.seeds = 20, "0"
    seeds = [int(s) for s in args.seeds.split(",")]
    precisions = args.precisions.split(",")
    if args.out is not None:
        out = Path(args.out)
    elif args.quick:
        out = Path(tempfile.mkdtemp(prefix="precision-quick-")) / "precision-quality.json"
    else:
        out = RESULTS / f"precision-quality-{args.device}.json"

    scratch = Path(tempfile.mkdtemp(prefix="precision-runs-"))
    runs = []
    for seed in seeds:
        for precision in precisions:
            r = train_and_score(args, seed, precision, scratch)
            runs.append(r)
            print(
                f"seed {seed} {precision:9s} Parzen {r['test_mean']:7.1f} +/- "
                f"{r['test_std_error']:.1f} (sigma {r['sigma']:.3f}); "
                f"{r['images_per_s']:.0f} images/s",
                flush=True,
            )

    machine = {
        "device": args.device,
        "gpu": torch.cuda.get_device_name() if args.device == "cuda" else None,
        "torch_version": torch.__version__,
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    settings = {
        "preset": "goodfellow2014-mnist-fast",
        "batch": args.batch,
        "iterations": args.iterations,
        "ema_beta": 0.999,
        "quick": args.quick,
    }
    write(summarize(runs, precisions, settings, machine), out)


def summarize(runs: list[dict], precisions: list[str], settings: dict, machine: dict) -> dict:
    """Per-seed differences from the first precision, over all seeds and over the seeds where
    neither run collapsed (a score below COLLAPSED nats: D won and G's samples degenerated)."""
    base = precisions[0]
    by = {(r["seed"], r["precision"]): r for r in runs}
    seeds = sorted({r["seed"] for r in runs})
    trained = [s for s in seeds if all(by[(s, p)]["test_mean"] > COLLAPSED for p in precisions)]
    summary = {}
    for p in precisions:
        scores = [by[(s, p)]["test_mean"] for s in seeds]
        healthy = [x for x in scores if x > COLLAPSED]
        summary[p] = {
            "collapsed_runs": len(scores) - len(healthy),
            "mean_score_of_healthy_runs": statistics.mean(healthy) if healthy else None,
            "seed_spread_of_healthy_runs": statistics.stdev(healthy) if len(healthy) > 1 else None,
            "mean_std_error": statistics.mean(by[(s, p)]["test_std_error"] for s in seeds),
        }
        if p == base:
            continue
        diffs = {s: by[(s, p)]["test_mean"] - by[(s, base)]["test_mean"] for s in seeds}
        summary[p].update(
            paired_differences=list(diffs.values()),
            mean_difference_where_both_trained=(
                statistics.mean(diffs[s] for s in trained) if trained else None
            ),
            seeds_where_both_trained=trained,
            speedup=statistics.mean(
                by[(s, p)]["images_per_s"] / by[(s, base)]["images_per_s"] for s in seeds
            ),
        )
    return {
        "benchmark": "Parzen log-likelihood by autocast precision (precision_quality.py)",
        "machine": machine,
        "settings": {**settings, "seeds": seeds},
        "collapsed_below_nats": COLLAPSED,
        "runs": runs,
        "baseline": base,
        "summary": summary,
    }


def write(record: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(record))
    print(out.with_suffix(".md").read_text())


def markdown(record: dict) -> str:
    s, m = record["settings"], record["machine"]
    lines = [
        f"# Parzen log-likelihood by autocast precision ({m['device']})",
        "",
        f"{m['gpu'] or 'CPU'}; torch {m['torch_version']}; {m['date']}. Preset {s['preset']} "
        f"at batch {s['batch']}, {s['iterations']} iterations, EMA beta {s['ema_beta']}; the "
        "final EMA generator scored by the 2014 protocol (10,000 samples, sigma on 1,000 "
        "validation images, 10,000 test images)"
        + (" (QUICK smoke test: not a measurement)" if s["quick"] else "")
        + ".",
        "",
        "| seed | precision | Parzen (nats) | std. error | sigma | images/s |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for r in record["runs"]:
        lines.append(
            f"| {r['seed']} | {r['precision']} | {r['test_mean']:.1f} | "
            f"{r['test_std_error']:.1f} | {r['sigma']:.3f} | {r['images_per_s']:.0f} |"
        )
    lines.append("")

    def num(v, fmt=".1f"):
        return "n/a" if v is None else format(v, fmt)

    for p, v in record["summary"].items():
        lines.append(
            f"- {p}: {v['collapsed_runs']} of {len(record['settings']['seeds'])} runs "
            f"collapsed (below {record['collapsed_below_nats']:.0f} nats); the others average "
            f"{num(v['mean_score_of_healthy_runs'])} nats, seed-to-seed std "
            f"{num(v['seed_spread_of_healthy_runs'])}; mean standard error "
            f"{v['mean_std_error']:.1f}."
        )
        if "paired_differences" in v:
            diffs = ", ".join(f"{d:+.1f}" for d in v["paired_differences"])
            lines.append(
                f"  - minus {record['baseline']}, per seed: {diffs}; mean over the seeds "
                f"where both trained ({v['seeds_where_both_trained']}): "
                f"{num(v['mean_difference_where_both_trained'], '+.1f')} nats; speed "
                f"{v['speedup']:.2f}x."
            )
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
