"""Benchmark helper: screen settings of one objective on a toy mixture before a sweep.

    .venv/bin/python benchmarks/toy_screen.py TAG OBJECTIVE ring8|grid25 SEEDS ITERATIONS
        [key=value ...]

Trains saddlepoint.lab.mode_collapse.toy_config(DATA, OBJECTIVE, iterations, seed, sets)
(the lab's small nets: ReLU G 64-64, maxout D 64x2-64x2, Adam 1e-3, k = 1, batch 128, with
the key=value overrides on top) for each comma-separated seed, scores 2,500 samples of the
final G (noise seed 12345) with saddlepoint.evaluate.modes.mode_coverage, and prints one JSON
line per run: modes covered, high-quality share, the median and 90th-percentile distance to
the nearest mode, the per-mode counts, the mean radius and the CPU-seconds. Appends the same
lines to benchmarks/results/zoo/screening.jsonl with the tag, the overrides and the CPU.

This is how the toy presets' settings were chosen (docs/zoo.md, "How the toy settings were
chosen"); the zoo's own numbers come from `saddlepoint sweep benchmarks/sweeps/zoo-toys.toml`.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout
sys.path.insert(0, str(ROOT / "benchmarks"))  # throughput.cpu_model

from throughput import cpu_model  # noqa: E402

from saddlepoint.data import toy  # noqa: E402
from saddlepoint.errors import SaddlepointError  # noqa: E402
from saddlepoint.evaluate.modes import mode_coverage  # noqa: E402
from saddlepoint.lab import mode_collapse  # noqa: E402
from saddlepoint.train.loop import train  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "zoo" / "screening.jsonl"


def _score(points: torch.Tensor, data: str) -> dict:
    centres, std = toy.modes(data)
    if not bool(torch.isfinite(points).all()):
        return {"modes": 0, "hq": 0.0, "diverged": True}
    cov = mode_coverage(points, centres, std)
    nearest = torch.cdist(points, centres).min(dim=1).values
    return {
        "modes": cov.modes_covered,
        "hq": round(cov.high_quality_share, 3),
        "median_distance": round(float(nearest.median()), 3),
        "q90_distance": round(float(nearest.quantile(0.9)), 3),
        "counts": list(cov.counts),
        "radius": round(float(points.norm(dim=1).mean()), 2),
    }


def main(argv: list[str]) -> int:
    if len(argv) < 5:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    tag, objective, data, seeds, iterations, *sets = argv
    for seed in (int(s) for s in seeds.split(",")):
        config = mode_collapse.toy_config(
            data, objective, iterations=int(iterations), seed=seed, sets=tuple(sets)
        )
        cpu = time.process_time()
        with tempfile.TemporaryDirectory() as out:
            try:
                run = train(config, out=out, progress=False)
                row = _score(run.sample(2500, seed=12345).double(), data)
            except SaddlepointError as e:
                row = {"modes": 0, "hq": 0.0, "error": str(e)}
        row = {"tag": tag, "objective": objective, "data": data, "seed": seed, **row}
        row.update(
            iterations=int(iterations),
            sets=list(sets),
            cpu_seconds=round(time.process_time() - cpu, 1),
            cpu=cpu_model(),
            torch=torch.__version__,
        )
        print(json.dumps(row), flush=True)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        with RESULTS.open("a") as f:
            f.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
