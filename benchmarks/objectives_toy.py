"""Benchmark: every objective on the ring of 8 and the grid of 25 Gaussians (mode collapse).

    .venv/bin/python benchmarks/objectives_toy.py [--objectives a,b] [--data ring8,grid25]
        [--seeds 0,1,2] [--iterations N] [--threads 1] [--no-docs]

Protocol: for each objective in saddlepoint.objectives.OBJECTIVES (or --objectives), each toy
density and each seed, train the small MLPs of saddlepoint.lab.mode_collapse.toy_config (the
settings each objective needs come from its OBJECTIVE_SETS and TOY_DISCRIMINATORS tables) for
the same budget: --iterations generator steps, k = 1, batch 128, so every objective's D sees
the same number of real examples. Then 2,500 samples of the final G are scored by
saddlepoint.evaluate.modes.mode_coverage: the share within 3 standard deviations of their
nearest mode ("high quality", Srivastava et al. 2017) and the modes receiving at least a fifth
of their fair share of those (Lin et al. 2018). Means and standard deviations are over seeds.

An objective that cannot train with the toy settings (its config is refused, or its D does not
fit) is skipped with the reason printed and recorded; a run whose losses stop being finite
counts as covering no mode, marked diverged. Objectives registered later are picked up by
re-running the script.

Writes benchmarks/results/objectives_toy.json (every run; rewritten after each one, so an
interrupted benchmark keeps what it finished), benchmarks/results/objectives_toy.md (the table),
docs/figures/objectives_toy.png (the final samples of the first seed per objective), and the
table and command into docs/objectives.md between its objectives_toy markers (--no-docs: not).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

from saddlepoint.data import toy  # noqa: E402
from saddlepoint.errors import SaddlepointError  # noqa: E402
from saddlepoint.evaluate.modes import mode_coverage  # noqa: E402
from saddlepoint.lab import mode_collapse  # noqa: E402
from saddlepoint.objectives import OBJECTIVES  # noqa: E402
from saddlepoint.train.loop import train  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "objectives_toy.json"
TABLE = ROOT / "benchmarks" / "results" / "objectives_toy.md"
FIGURE = ROOT / "docs" / "figures" / "objectives_toy.png"
DOCS = ROOT / "docs" / "objectives.md"
BEGIN, END = "<!-- objectives_toy:begin -->", "<!-- objectives_toy:end -->"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--objectives", default=None, help="comma-separated (default: all registered)")
    p.add_argument("--data", default="ring8,grid25", help="comma-separated toy densities")
    p.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    p.add_argument("--iterations", type=int, default=5000, help="generator steps per run")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--no-docs", action="store_true", help="leave docs/objectives.md alone")
    args = p.parse_args(argv)
    args.objectives = args.objectives.split(",") if args.objectives else list(OBJECTIVES)
    args.data = args.data.split(",")
    args.seeds = [int(s) for s in args.seeds.split(",")]
    for name in args.objectives:
        OBJECTIVES.get(name)  # an unknown name stops here, listing the valid ones
    for name in args.data:
        if name not in mode_collapse.DATASETS:
            p.error(f"--data takes {', '.join(mode_collapse.DATASETS)}, not {name!r}")
    if args.iterations < 1 or args.threads < 1:
        p.error("--iterations and --threads must be at least 1")
    return args


def _one_run(objective: str, data: str, seed: int, args, runs_dir: Path) -> dict:
    """Train one (objective, data, seed) and score its final G; raises when it cannot train."""
    config = mode_collapse.toy_config(
        data,
        objective,
        iterations=args.iterations,
        seed=seed,
        sets=(f"train.threads={args.threads}",),
    )
    centres, std = toy.modes(data)
    started = time.monotonic()
    cpu = time.process_time()
    try:
        run = train(config, out=runs_dir, progress=False)
    except SaddlepointError as err:
        if "diverged" not in str(err):
            raise
        return {
            "objective": objective,
            "data": data,
            "seed": seed,
            "diverged": True,
            "reason": str(err),
            "modes_covered": 0,
            "high_quality_share": 0.0,
            "seconds": round(time.monotonic() - started, 1),
            "cpu_seconds": round(time.process_time() - cpu, 1),
        }
    points = run.sample(mode_collapse.SAMPLES, seed=mode_collapse.SAMPLE_SEED).double()
    finite = bool(torch.isfinite(points).all())
    cov = mode_coverage(points, centres, std) if finite else None
    t = config.train
    return {
        "objective": objective,
        "data": data,
        "seed": seed,
        "diverged": not finite,
        "iterations": run.iteration,
        "images_seen": run.iteration * t.k * t.batch_size,
        "modes_covered": cov.modes_covered if cov else 0,
        "high_quality_share": cov.high_quality_share if cov else 0.0,
        "counts": list(cov.counts) if cov else [],
        "points": points[:1000].numpy() if finite else None,  # for the figure; not saved
        "seconds": round(time.monotonic() - started, 1),  # wall clock, with this machine's load
        "cpu_seconds": round(time.process_time() - cpu, 1),
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,  # 1 minute
    }


def _summary(runs: list[dict], objectives: list[str], datasets: list[str]) -> list[dict]:
    rows = []
    for objective in objectives:
        for data in datasets:
            done = [r for r in runs if r["objective"] == objective and r["data"] == data]
            if not done:
                continue
            modes = [r["modes_covered"] for r in done]
            share = [r["high_quality_share"] for r in done]
            rows.append(
                {
                    "objective": objective,
                    "data": data,
                    "seeds": len(done),
                    "diverged": sum(r["diverged"] for r in done),
                    "modes_mean": statistics.fmean(modes),
                    "modes_std": statistics.stdev(modes) if len(modes) > 1 else 0.0,
                    "modes_per_seed": modes,
                    "hq_mean": statistics.fmean(share),
                    "hq_std": statistics.stdev(share) if len(share) > 1 else 0.0,
                }
            )
    return rows


def _table(rows: list[dict], datasets: list[str], skipped: dict[str, str]) -> str:
    """Markdown: one row per objective, modes covered and high-quality share per density."""
    n_modes = {d: len(toy.modes(d).centres) for d in datasets}
    head = "| objective | " + " | ".join(
        f"{d}: modes (of {n_modes[d]}) | {d}: high quality" for d in datasets
    )
    lines = [head + " |", "|---|" + "---:|---:|" * len(datasets)]
    for objective in dict.fromkeys(r["objective"] for r in rows):
        cells = []
        for d in datasets:
            row = next((r for r in rows if r["objective"] == objective and r["data"] == d), None)
            if row is None:
                cells += ["", ""]
                continue
            note = f" ({row['diverged']} diverged)" if row["diverged"] else ""
            per_seed = ", ".join(str(m) for m in row["modes_per_seed"])
            cells.append(f"{row['modes_mean']:.1f} ± {row['modes_std']:.1f} [{per_seed}]{note}")
            cells.append(f"{100 * row['hq_mean']:.1f}% ± {100 * row['hq_std']:.1f}")
        lines.append(f"| `{objective}` | " + " | ".join(cells) + " |")
    for objective, reason in skipped.items():
        lines.append(f"| `{objective}` | skipped: {reason} |" + " |" * (2 * len(datasets) - 1))
    return "\n".join(lines) + "\n"


def _figure(runs: list[dict], objectives: list[str], datasets: list[str], seed: int) -> None:
    from matplotlib.figure import Figure

    shown = [o for o in objectives if any(r["objective"] == o for r in runs)]
    if not shown:
        return
    fig = Figure(figsize=(2.0 * len(shown), 2.15 * len(datasets) + 0.3), layout="constrained")
    axes = fig.subplots(len(datasets), len(shown), squeeze=False)
    for i, data in enumerate(datasets):
        centres, _ = toy.modes(data)
        extent = float(centres.abs().max()) + 1.0
        for j, objective in enumerate(shown):
            ax = axes[i][j]
            run = next(
                (
                    r
                    for r in runs
                    if (r["objective"], r["data"], r["seed"]) == (objective, data, seed)
                ),
                None,
            )
            ax.scatter(
                centres[:, 0],
                centres[:, 1],
                s=40,
                facecolors="none",
                edgecolors="tab:red",
                linewidths=0.7,
            )
            if run is not None and run.get("points") is not None:
                pts = np.clip(np.asarray(run["points"]), -extent, extent)
                ax.scatter(pts[:, 0], pts[:, 1], s=1.2, color="tab:blue", alpha=0.5, linewidths=0)
                share = 100 * run["high_quality_share"]
                title = f"{objective}\n{run['modes_covered']}/{len(centres)} modes, HQ {share:.0f}%"
            else:
                title = f"{objective}\n(diverged)" if run else f"{objective}\n(not run)"
            ax.set_title(title, fontsize=7)
            ax.set_xlim(-extent, extent)
            ax.set_ylim(-extent, extent)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[i][0].set_ylabel(data, fontsize=8)
    fig.suptitle(f"final samples (blue, 1,000 of 2,500), seed {seed}; modes in red", fontsize=8)
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURE, dpi=110)


def _update_docs(block: str) -> None:
    """Replace the text between the markers of docs/objectives.md with block."""
    if not DOCS.is_file():
        print(f"{DOCS} is missing: the table was not copied into it")
        return
    text = DOCS.read_text()
    if BEGIN not in text or END not in text:
        print(f"{DOCS} has no {BEGIN} ... {END} markers: the table was not copied into it")
        return
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOCS.write_text(f"{head}{BEGIN}\n{block}{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    torch.set_num_threads(args.threads)
    command = "python benchmarks/objectives_toy.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    command = command.strip()
    started = time.monotonic()
    runs: list[dict] = []
    skipped: dict[str, str] = {}

    def save() -> None:
        rows = _summary(runs, args.objectives, args.data)
        record = {
            "command": command,
            "protocol": {
                "iterations": args.iterations,
                "k": 1,
                "batch_size": mode_collapse.toy_config().train.batch_size,
                "samples_scored": mode_collapse.SAMPLES,
                "high_quality": "within 3 std of the nearest mode",
                "covered": "at least ceil(N / 5M) high-quality samples on the mode",
                "toy_sets": list(mode_collapse.TOY_SETS),
                "toy_discriminators": mode_collapse.TOY_DISCRIMINATORS,
                "objective_sets": {k: list(v) for k, v in mode_collapse.OBJECTIVE_SETS.items()},
                "seeds": args.seeds,
                "threads": args.threads,
            },
            "machine": {
                "python": platform.python_version(),
                "torch": torch.__version__,
                "cpu": platform.processor() or platform.machine(),
                "cores": os.cpu_count(),
                "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
            },
            "seconds": round(time.monotonic() - started, 1),
            "summary": rows,
            "skipped": skipped,
            "runs": [{k: v for k, v in r.items() if k != "points"} for r in runs],
        }
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(record, indent=1) + "\n")

    with tempfile.TemporaryDirectory(prefix="objectives_toy-") as tmp:
        for objective in args.objectives:
            for data in args.data:
                for seed in args.seeds:
                    if objective in skipped:
                        break
                    try:
                        result = _one_run(objective, data, seed, args, Path(tmp))
                    except (SaddlepointError, RuntimeError, ValueError, TypeError) as err:
                        reason = f"{type(err).__name__}: {err}".splitlines()[0]
                        skipped[objective] = reason
                        print(f"skipped {objective}: {reason}", flush=True)
                        break
                    runs.append(result)
                    flag = " (diverged)" if result["diverged"] else ""
                    print(
                        f"{objective:20s} {data:7s} seed {seed}: "
                        f"{result['modes_covered']:2d} modes, "
                        f"{100 * result['high_quality_share']:5.1f}% high quality, "
                        f"{result['seconds']:.0f} s{flag}",
                        flush=True,
                    )
                    save()
    save()
    rows = _summary(runs, args.objectives, args.data)
    table = _table(rows, args.data, skipped)
    minutes = (time.monotonic() - started) / 60
    cpu_minutes = sum(r["cpu_seconds"] for r in runs) / 60
    loads = [r["load_average"] for r in runs if r.get("load_average") is not None]
    load = f", load average {min(loads):.1f}-{max(loads):.1f}" if loads else ""
    block = (
        f"Made by `{command}`: {len(runs)} runs, {cpu_minutes:.0f} CPU-minutes on "
        f"{args.threads} thread(s) ({minutes:.0f} minutes of wall-clock time on "
        f"{os.cpu_count()} cores{load}), torch {torch.__version__}; every run is in "
        f"`benchmarks/results/objectives_toy.json`.\n\n"
        f"{table}\n![final samples per objective](figures/objectives_toy.png)\n"
    )
    TABLE.write_text(block)
    _figure(runs, args.objectives, args.data, args.seeds[0])
    if not args.no_docs:
        _update_docs(block)
    print(table)
    print(f"wrote {RESULTS}, {TABLE} and {FIGURE} in {minutes:.1f} minutes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
