"""Benchmark: training throughput with and without train.cuda_graph on a CUDA GPU (issue #18).

    .venv/bin/python benchmarks/cuda_graph.py [--quick] [--rounds R] [--data NAME] [--out PATH]

Measured side by side in one run, each number the median over interleaved rounds (eager then
graphs, graphs then eager in the next round), read from the loop's own log.jsonl rate exactly as
benchmarks/throughput.py reads it (`time_real_loop`: first log line discarded as warm-up):

  goodfellow2014  the 2014 nets (preset goodfellow2014-mnist: maxout D with dropout, momentum
                  SGD with its schedules, k = 1) at batch 100, float32
  dcgan           preset dcgan-mnist (batch-norm D, Adam) at its batch 64, float32

The aim (issue #18): the 2014 nets with graphs at 5x the 22,006 images/s that
results/throughput-cuda.md measured eagerly on an H100, i.e. 110,030 images/s; the ratio to the
eager loop of the same run is reported beside it. A variant that fails (capture is untested
until a GPU runs this) is recorded with its error, and the others still run.

Writes benchmarks/results/cuda-graph.json and cuda-graph.md. Without a CUDA GPU it measures
nothing: it says so and exits with status 1; results/cuda-graph.md then still says that the
measurement awaits a GPU.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput import machine_info, time_real_loop  # noqa: E402

from saddlepoint.config import Config, override  # noqa: E402
from saddlepoint.presets import preset  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
EAGER_H100 = 22_006  # images/s, the 2014 nets at batch 100 eagerly (results/throughput-cuda.md)
AIM = 5.0  # x EAGER_H100
FAMILIES = {  # name: (preset, batch)
    "goodfellow2014": ("goodfellow2014-mnist", 100),
    "dcgan": ("dcgan-mnist", 64),
}
AWAITS = """# CUDA graphs (`train.cuda_graph`): throughput

Awaits a GPU. `train.cuda_graph` is built and tested to refuse cleanly on a CPU, but has not yet
been run or measured on a CUDA GPU: no session with one has run `benchmarks/cuda_graph.py`, so
this file holds no numbers. The aim (issue #18) is the 2014 nets at batch 100 at 5x the 22,006
images/s measured eagerly on an H100 (`results/throughput-cuda.md`), i.e. 110,030 images/s.
"""


def config_for(name: str, graphs: bool, data: str | None) -> Config:
    preset_name, batch = FAMILIES[name]
    sets = [
        "train.device=cuda",
        "train.precision=float32",
        f"train.batch_size={batch}",
        "train.eval_every=0",
        f"train.cuda_graph={str(graphs).lower()}",
    ]
    if data is not None:
        sets.append(f"data.name={data}")
    return override(preset(preset_name), sets)


def measure(config: Config, log_every: int, lines: int, scratch: Path) -> dict:
    """One measurement, or its error (capture is untested until a GPU runs this)."""
    try:
        return time_real_loop(config, log_every, lines, scratch)
    except Exception as e:  # noqa: BLE001 - recorded, and the other variants still run
        return {"error": f"{type(e).__name__}: {e}"}


def summary(samples: list[dict]) -> dict:
    rates = [s["images_per_s"] for s in samples if "images_per_s" in s]
    errors = sorted({s["error"] for s in samples if "error" in s})
    if not rates:
        return {"errors": errors}
    return {
        "images_per_s": statistics.median(rates),
        "range": [min(rates), max(rates)],
        "samples": rates,
        **({"errors": errors} if errors else {}),
    }


def render_markdown(report: dict) -> str:
    info = report["machine"]
    lines = [
        "# CUDA graphs (`train.cuda_graph`): throughput",
        "",
        f"{info.get('gpu')}; torch {info['torch_version']}; {info['date']}; "
        f"{report['rounds']} interleaved rounds, medians; float32.",
        "",
        "| nets | batch | eager images/s | graphs images/s | graphs / eager |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in report["families"].items():
        eager, graphs = row["eager"], row["graphs"]
        e = f"{eager['images_per_s']:.0f}" if "images_per_s" in eager else "failed"
        g = f"{graphs['images_per_s']:.0f}" if "images_per_s" in graphs else "failed"
        ratio = f"{row['ratio']:.2f}" if row.get("ratio") else ""
        lines.append(f"| {name} | {row['batch']} | {e} | {g} | {ratio} |")
    lines.append("")
    aim = report["aim"]
    verdict = "met" if aim["met"] else "not met"
    lines.append(
        f"Aim: the 2014 nets at batch 100 with graphs >= {aim['target']:.0f} images/s "
        f"({AIM:g}x the {EAGER_H100:,} measured eagerly on an H100): {verdict}."
    )
    for name, row in report["families"].items():
        for part in ("eager", "graphs"):
            for error in row[part].get("errors", []):
                lines.append(f"\n{name} {part} failed: `{error}`")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="seconds-long smoke test")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 3; 1 quick)")
    parser.add_argument("--data", default=None, help="dataset in place of the presets' mnist")
    parser.add_argument("--out", default=None, help="JSON path; the .md is written beside it")
    args = parser.parse_args()
    md = RESULTS / "cuda-graph.md"
    if not torch.cuda.is_available():
        if not (RESULTS / "cuda-graph.json").exists():  # never overwrite a measurement
            md.write_text(AWAITS)
        print(
            "benchmarks/cuda_graph.py measures CUDA graphs and needs a CUDA GPU, but PyTorch "
            f"sees none here: nothing measured ({md.relative_to(RESULTS.parents[1])} says so).",
            file=sys.stderr,
        )
        sys.exit(1)
    rounds = args.rounds or (1 if args.quick else 3)
    log_every, lines = (5, 1) if args.quick else (500, 4)  # 50,000 images a line at batch 100
    if args.out is not None:
        out = Path(args.out)
    elif args.quick:
        out = Path(tempfile.mkdtemp(prefix="cuda-graph-quick-")) / "cuda-graph.json"
    else:
        out = RESULTS / "cuda-graph.json"
    samples = {(name, graphs): [] for name in FAMILIES for graphs in (False, True)}
    with tempfile.TemporaryDirectory() as scratch:
        for r in range(rounds):
            for name in FAMILIES:
                for graphs in (False, True) if r % 2 == 0 else (True, False):
                    config = config_for(name, graphs, args.data)
                    result = measure(config, log_every, lines, Path(scratch))
                    samples[name, graphs].append(result)
                    print(name, "graphs" if graphs else "eager", result, flush=True)
    families = {}
    for name, (_, batch) in FAMILIES.items():
        eager, graphs = summary(samples[name, False]), summary(samples[name, True])
        both = "images_per_s" in eager and "images_per_s" in graphs
        ratio = graphs["images_per_s"] / eager["images_per_s"] if both else None
        families[name] = {"batch": batch, "eager": eager, "graphs": graphs, "ratio": ratio}
    reached = families["goodfellow2014"]["graphs"].get("images_per_s", 0.0)
    report = {
        "machine": machine_info(torch.device("cuda"), torch.get_num_threads()),
        "rounds": rounds,
        "log_every": log_every,
        "lines": lines,
        "families": families,
        "aim": {"target": AIM * EAGER_H100, "reached": reached, "met": reached >= AIM * EAGER_H100},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    out.with_suffix(".md").write_text(render_markdown(report))
    print(out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
