"""Benchmark: the sample-quality metrics on real data, and their speed.

    .venv/bin/python benchmarks/metrics.py [--threads 1] [--cache DIR] [--mnist DIR] [--out PATH]

1. The dataset classifiers: trained once on MNIST and Fashion-MNIST (50,000 training images
   each, fixed seed), test accuracy on the 10,000 test images checked against the issue's bars
   (above 0.99 and above 0.90), with wall and CPU seconds.
2. The real-data sanity rows, with the classifier's features and the 10,000 test images as the
   reference: the first 10,000 training images (small distances), then shifted copies (1-3
   pixels right and down, zeros in) and Gaussian-blurred copies (sigma 0.5-2 pixels) of them,
   whose distances must grow with the damage. Every metric on every row.
3. Speed: feature extraction (classifier; the FID Inception-v3 with random weights, which costs
   what the real ones cost), mean and covariance, the Frechet distance (and the scipy.linalg.sqrtm
   route it replaces), KID (100 subsets of 1,000), precision/recall on 10,000 + 10,000 features.

Writes benchmarks/results/metrics.json and metrics.md. Classifiers are trained into a fresh
temporary cache unless --cache names one (then an earlier run's classifiers are reused and their
recorded training time is the earlier one's).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import scipy.linalg
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))  # throughput.py

from throughput import cpu_model  # noqa: E402

from saddlepoint.config import DataConfig
from saddlepoint.evaluate import inception
from saddlepoint.evaluate.classifier import load_classifier
from saddlepoint.evaluate.features import Extractor, get_extractor
from saddlepoint.evaluate.frechet import frechet_distance
from saddlepoint.evaluate.kid import kernel_distance
from saddlepoint.evaluate.metrics import METRICS, score_images
from saddlepoint.evaluate.precision_recall import precision_recall
from saddlepoint.evaluate.statistics import mean_and_covariance, split_images

BARS = {"mnist": 0.99, "fashion-mnist": 0.90}  # the test-accuracy bars
SECTIONS = ("classifiers", "sanity", "speed")
SHIFTS = (1, 2, 3)  # pixels, right and down
BLURS = (0.5, 1.0, 1.5, 2.0)  # Gaussian sigma in pixels


def shift(x: torch.Tensor, pixels: int) -> torch.Tensor:
    """Move images (N, C, H, W) `pixels` right and down, filling with zeros (background)."""
    out = torch.zeros_like(x)
    out[:, :, pixels:, pixels:] = x[:, :, : x.shape[2] - pixels, : x.shape[3] - pixels]
    return out


def blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur, kernel radius ceil(3 sigma), zero padding; stays in [0, 1]."""
    r = math.ceil(3 * sigma)
    t = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    k = k / k.sum()
    c = x.shape[1]
    x = F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1).contiguous(), padding=(r, 0), groups=c)
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1).contiguous(), padding=(0, r), groups=c)
    return x.clamp(0, 1)


def timed(fn, repeats: int = 1):
    """(result, best wall seconds, CPU seconds of the best) over `repeats` calls."""
    best = (math.inf, 0.0)
    result = None
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        wall, cpu = time.perf_counter() - w, time.process_time() - c
        best = min(best, (wall, cpu))
    return result, best[0], best[1]


def classifiers(datasets: dict[str, DataConfig], cache: str) -> dict:
    rows = {}
    for name, data in datasets.items():
        (trained, wall, cpu) = timed(lambda d=data: load_classifier(d, cache_dir=cache))
        rows[name] = {
            "test_accuracy": trained.test_accuracy,
            "bar": BARS[name],
            "passes": trained.test_accuracy > BARS[name],
            "train_images": trained.meta["train_images"],
            "test_images": trained.meta["test_images"],
            "train_seconds_recorded": trained.meta["train_seconds"],
            "this_call_wall_seconds": round(wall, 1),
            "this_call_cpu_seconds": round(cpu, 1),
            "threads": trained.meta["threads"],
            "file": str(trained.path),
            "sha256": trained.sha256,
        }
        print(
            f"{name}: test accuracy {trained.test_accuracy:.4f} "
            f"({wall:.0f} s wall, {cpu:.0f} s CPU)"
        )
    return rows


def sanity_rows(data: DataConfig, cache: str, n: int) -> list[dict]:
    extractor = get_extractor("classifier", data, cache_dir=cache)
    real, _ = split_images(data, "train", n)
    variants = [("train images", 0.0, real)]
    variants += [(f"shifted {p} px", float(p), shift(real, p)) for p in SHIFTS]
    variants += [(f"blurred sigma {s}", s, blur(real, s)) for s in BLURS]
    rows = []
    for label, amount, images in variants:
        row = {"row": label, "damage": amount}
        for metric in METRICS:
            result = score_images(metric, images, data, extractor=extractor, cache_dir=cache)
            row[metric] = {
                "value": result.value,
                **result.extras,
                "seconds": result.settings["seconds"],
            }
        rows.append(row)
        print(
            f"{data.name:14s} {label:18s} fid {row['fid']['value']:9.3f}  kid "
            f"{row['kid']['value']:9.4f}  P {row['pr']['precision']:.3f} "
            f"R {row['pr']['recall']:.3f}"
            f"  is {row['is']['value']:.3f}  classes KL {row['classes']['value']:.4f}"
        )
    return rows


def monotone(rows: list[dict], prefix: str, metric: str) -> bool:
    values = [rows[0][metric]["value"]] + [
        r[metric]["value"] for r in rows if r["row"].startswith(prefix)
    ]
    return all(a < b for a, b in zip(values, values[1:]))


def speed(data: DataConfig, cache: str) -> dict:
    """Best of `repeats` wall seconds, with the CPU seconds of that call (1 thread: wall >= CPU;
    wall above CPU means other processes took the core)."""
    out: dict = {}

    def record(name: str, fn, repeats: int = 1, count: int | None = None):
        result, wall, cpu = timed(fn, repeats)
        row = {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3)}
        if count:
            row["images_per_cpu_s"] = round(count / cpu, 1)
        out[name] = row
        print(f"{name:34s} {wall:8.3f} s wall {cpu:8.3f} s CPU")
        return result

    images, _ = split_images(data, "test", 10_000)
    ex = get_extractor("classifier", data, cache_dir=cache)
    record("classifier features, 10000 images", lambda: ex.extract(images), 3, 10_000)

    torch.manual_seed(0)
    net = inception.FIDInceptionV3().eval().requires_grad_(False)  # random weights: speed only
    inc = Extractor(
        name="inception",
        standard=True,
        network=net,
        embed=lambda x: net(inception.preprocess(x)),
        preprocessing=inception.PREPROCESSING,
        weights_sha256="random",
        feature_dim=2048,
        classes=1008,
        batch_size=50,
    )
    few = images[:50]
    record("inception features, 50 images", lambda: inc.extract(few), 2, 50)

    g = torch.Generator().manual_seed(0)
    for d in (128, 2048):
        a = torch.rand(10_000, d, generator=g)
        b = torch.rand(10_000, d, generator=g) + 0.01
        sa = record(f"d={d} mean and covariance, 10000", lambda a=a: mean_and_covariance(a))
        sb = mean_and_covariance(b)
        record(
            f"d={d} frechet (eigh)",
            lambda sa=sa, sb=sb: frechet_distance(sa.mu, sa.sigma, sb.mu, sb.sigma),
            3,
        )
        if d <= 128 or os.environ.get("BENCH_SQRTM_2048"):
            s1, s2 = sa.sigma.numpy(), sb.sigma.numpy()
            record(f"d={d} scipy sqrtm(S1 S2)", lambda s1=s1, s2=s2: scipy.linalg.sqrtm(s1 @ s2))
        record(
            f"d={d} kid 100 subsets of 1000",
            lambda a=a, b=b: kernel_distance(a, b, subsets=100, subset_size=1000),
        )
        if d == 128:
            record(f"d={d} precision/recall 10000+10000", lambda a=a, b=b: precision_recall(a, b))
    return out


def markdown(result: dict) -> str:
    lines = ["# Sample-quality metrics: recorded results", ""]
    lines.append(
        f"Machine: {result['machine']['cpu']}, torch {result['machine']['torch']}, "
        f"{result['machine']['threads']} thread(s); load average "
        f"{result['machine']['loadavg_start']} at start, {result['machine']['loadavg_end']} at end."
    )
    lines += ["", "## Dataset classifiers (50,000 training images, 3 epochs, seed 0)", ""]
    lines += [
        "| dataset | test accuracy | bar | passes | training wall s | CPU s |",
        "|---|---:|---:|---|---:|---:|",
    ]
    for name, r in result["classifiers"].items():
        lines.append(
            f"| {name} | {r['test_accuracy']:.4f} | > {r['bar']} | {r['passes']} | "
            f"{r['train_seconds_recorded']} | {r['this_call_cpu_seconds']} |"
        )
    for name, rows in result["sanity"].items():
        lines += [
            "",
            f"## Sanity rows: {name}, 10,000 images vs the 10,000 test images "
            "(classifier features)",
            "",
        ]
        lines += [
            "| images | Frechet | kernel (KID) +/- std | precision | recall | classifier score "
            "| classes KL |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rows:
            lines.append(
                f"| {r['row']} | {r['fid']['value']:.3f} | {r['kid']['value']:.4f} +/- "
                f"{r['kid']['kid_std']:.4f} | {r['pr']['precision']:.3f} | "
                f"{r['pr']['recall']:.3f} | "
                f"{r['is']['value']:.3f} | {r['classes']['value']:.4f} |"
            )
        checks = result["checks"][name]
        lines.append("")
        lines.append("Grows with the damage: " + ", ".join(f"{k} {v}" for k, v in checks.items()))
    lines += ["", "## Speed (1 thread; best of the repeats, with that call's CPU seconds)", ""]
    if "remeasured" in result:
        m = result["remeasured"]["machine"]
        lines.append(
            f"Re-measured alone ({', '.join(result['remeasured']['sections'])}); load average "
            f"{m['loadavg_start']} at start, {m['loadavg_end']} at end."
        )
        lines.append("")
    lines += ["| what | wall s | CPU s | images per CPU s |", "|---|---:|---:|---:|"]
    for name, row in result["speed"].items():
        per = row.get("images_per_cpu_s", "")
        lines.append(f"| {name} | {row['wall_s']} | {row['cpu_s']} | {per} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--cache", default=None, help="classifier/statistics cache (default: fresh)")
    ap.add_argument("--mnist", default="/work/shared/data/mnist", help="MNIST IDX folder")
    ap.add_argument(
        "--fashion", default=None, help="Fashion-MNIST IDX folder (default: the dataset's)"
    )
    ap.add_argument("--samples", type=int, default=10_000)
    ap.add_argument(
        "--sections",
        nargs="+",
        default=list(SECTIONS),
        choices=SECTIONS,
        help="measure only these, keeping the others from the recorded --out file",
    )
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "metrics.json"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cache = args.cache or tempfile.mkdtemp(prefix="saddlepoint-metrics-")
    datasets = {
        "mnist": DataConfig(name="mnist", root=args.mnist),
        "fashion-mnist": DataConfig(name="fashion-mnist", root=args.fashion),
    }
    result: dict = {
        "machine": {
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "torch": torch.__version__,
            "threads": args.threads,
            "loadavg_start": [round(v, 2) for v in os.getloadavg()],
        }
    }
    start = time.perf_counter()
    out = Path(args.out)
    if set(args.sections) != set(SECTIONS):  # keep the other sections of the recorded file
        machine = result["machine"]
        result = json.loads(out.read_text())
        result["remeasured"] = {"sections": args.sections, "machine": machine}
    if "classifiers" in args.sections:
        result["classifiers"] = classifiers(datasets, cache)
    if "sanity" in args.sections:
        result["sanity"], result["checks"] = {}, {}
        for name, data in datasets.items():
            rows = sanity_rows(data, cache, args.samples)
            result["sanity"][name] = rows
            result["checks"][name] = {
                f"{metric} {prefix}": monotone(rows, prefix, metric)
                for metric in ("fid", "kid")
                for prefix in ("shifted", "blurred")
            }
    if "speed" in args.sections:
        result["speed"] = speed(datasets["mnist"], cache)
    machine = result.get("remeasured", result)["machine"]
    machine["loadavg_end"] = [round(v, 2) for v in os.getloadavg()]
    result.get("remeasured", result)["seconds"] = round(time.perf_counter() - start, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(result))
    print(f"wrote {out} and {out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
