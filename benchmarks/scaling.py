"""Benchmark: data-parallel scaling of the 2014 MLP GAN from 1 to N processes under torchrun.

    .venv/bin/python benchmarks/scaling.py [--processes 1 2] [--iterations 400] [--rounds 3]

Every configuration trains the paper's networks on MNIST with the real command line,
`torchrun --standalone --nproc_per_node=P -m saddlepoint train ...`, with the machine's cores
split evenly between the processes (train.threads = cores / P), and reads the loop's own
`images_per_s` (global images: all ranks) from log.jsonl, first line discarded as warm-up.
Two scalings are measured side by side, each round running every configuration in turn:

  strong  the global batch fixed at 100 (train.batch_size = 100 / P per rank): the same
          training as one process, faster or not;
  weak    100 images per rank (global batch 100 P): more images per step.

Speed-up is the ratio to one process (also under torchrun, so start-up is alike) measured in the
same round. Writes benchmarks/results/scaling-cpu.json and .md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
MNIST_DIR = Path("/work/shared/data/mnist")


def run_once(processes: int, per_rank_batch: int, iterations: int, threads: int) -> float:
    """Global images/s of one torchrun training, first log line discarded."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc_per_node={processes}",
            "-m",
            "saddlepoint",
            "train",
            "--preset",
            "goodfellow2014-mnist",
            "--quiet",
            "--out",
            out,
            "--set",
            f"data.root={MNIST_DIR}",
        ]
        for s in (
            f"train.batch_size={per_rank_batch}",
            f"train.iterations={iterations}",
            f"train.log_every={iterations // 8}",
            "train.sample_every=0",
            "train.checkpoint_every=0",
            f"train.threads={threads}",
        ):
            cmd += ["--set", s]
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        subprocess.run(cmd, check=True, env=env, capture_output=True, text=True)
        (log,) = Path(out).glob("*/log.jsonl")
        lines = [json.loads(line) for line in log.read_text().splitlines()][1:]
        # the steady state: the median of the per-line rates after the warm-up line
        return statistics.median(r["images_per_s"] for r in lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    p.add_argument("--iterations", type=int, default=400)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    p.add_argument("--out", type=Path, default=RESULTS / "scaling-cpu.json")
    args = p.parse_args()

    configs = []
    for procs in args.processes:
        threads = max(1, args.cores // procs)
        configs.append(("strong", procs, 100 // procs, threads))
        configs.append(("weak", procs, 100, threads))
    rates: dict[tuple, list[float]] = {c: [] for c in configs}
    load = []
    for r in range(args.rounds):
        order = configs if r % 2 == 0 else configs[::-1]
        for c in order:
            rates[c].append(run_once(c[1], c[2], args.iterations, c[3]))
            load.append(os.getloadavg()[0])
            print(f"round {r + 1}: {c[0]:6s} P={c[1]} batch/rank={c[2]}: {rates[c][-1]:.0f} img/s")

    rows = []
    for kind in ("strong", "weak"):
        base = [c for c in configs if c[0] == kind and c[1] == 1]
        for c in configs:
            if c[0] != kind:
                continue
            per_round = (
                [a / b for a, b in zip(rates[c], rates[base[0]])] if base else [float("nan")]
            )
            rows.append(
                {
                    "scaling": kind,
                    "processes": c[1],
                    "batch_per_rank": c[2],
                    "global_batch": c[1] * c[2],
                    "threads_per_rank": c[3],
                    "images_per_s_median": statistics.median(rates[c]),
                    "images_per_s_rounds": rates[c],
                    "speedup_vs_1_median": statistics.median(per_round),
                    "speedup_rounds": per_round,
                }
            )
    result = {
        "benchmark": "scaling",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform()},
        "iterations": args.iterations,
        "rounds": args.rounds,
        "load_average_during": load,
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Data-parallel scaling (torchrun, gloo), 2014 MLP GAN on MNIST",
        "",
        f"{result['date']}, {os.cpu_count()} cores, {args.rounds} rounds x {args.iterations} "
        f"iterations; load average during the runs {min(load):.1f}-{max(load):.1f}.",
        "",
        "| scaling | processes | batch/rank | threads/rank | images/s (median) | speed-up vs 1 |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['scaling']} | {row['processes']} | {row['batch_per_rank']} | "
            f"{row['threads_per_rank']} | {row['images_per_s_median']:.0f} | "
            f"{row['speedup_vs_1_median']:.2f}x |"
        )
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
