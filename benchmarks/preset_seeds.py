"""Benchmark: does a preset work for every seed and thread count? Train it over seeds x threads
and measure each run's health.

    .venv/bin/python benchmarks/preset_seeds.py --preset demo --seeds 0-7 --threads 1,2
        [--set key=value ...] [--tag NAME] [--score-every N] [--cores 2] [--force]

Each cell (seed, threads) is one `saddlepoint.train` run in its own process, with
train.threads and OMP_NUM_THREADS set to its thread count (a different thread count reduces
sums in another order, so it is another trajectory of the same chaotic game). Cells run side
by side while their threads fit in --cores (default: this machine's cores), so 1-thread cells
run in pairs on 2 cores and 2-thread cells alone; images/s are therefore comparable only
between cells of the same thread count.

After training, each run's final generator (and its snapshots every --score-every iterations,
for the trajectory) is scored by `saddlepoint.evaluate.health.generator_health` on 2,000
samples: classes covered (a class needs a fifth of its fair share of the classifier's
predictions), the classifier-feature Frechet distance to the test split, the diversity ratio,
and for conditional and InfoGAN generators the class and code accuracies. The run's
health warnings (warnings.jsonl) are recorded beside them. A run *works* when it raised no
mode-collapse warning, covers at least --min-covered classes and its distance is at most
--max-distance (set from the healthy runs: docs/presets.md says how).

Writes benchmarks/results/presets/<tag>.json (every cell, rewritten after each one: a killed
benchmark keeps what it finished, and a re-run skips finished cells unless --force) and
<tag>.md (the per-seed table and the summary), recording the CPU, library versions and the
command. A LAPGAN preset trains all its levels (each level's warnings count) and is scored on
its coarse-to-fine samples; its trajectory is not scored (snapshots belong to levels).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout
sys.path.insert(0, str(ROOT / "benchmarks"))  # throughput.cpu_model

RESULTS = ROOT / "benchmarks" / "results" / "presets"
DOCS = ROOT / "docs" / "presets.md"  # tables go between <!-- preset_seeds:TAG:begin/end -->
# Other machines round differently: these environments switch this machine's kernels to other
# numerically different code paths (each gave another trajectory of the demo from the first
# iterations), standing in for CPUs we do not have. "native" is the machine as it comes.
NUMERICS = {
    "native": {},
    "mkl-avx2": {"MKL_CBWR": "AVX2"},  # MKL's reproducible AVX2 code path for matmuls
    "mkl-compatible": {"MKL_CBWR": "COMPATIBLE"},  # MKL's SSE2-only reproducible path
    "aten-default": {"ATEN_CPU_CAPABILITY": "default"},  # PyTorch's unvectorised kernels
}
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"  # the project's copy, for benchmarks


def _seeds(text: str) -> list[int]:
    """'0-7' or '0,3,5' -> [0, ..., 7] or [0, 3, 5]."""
    out: list[int] = []
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-")
            out.extend(range(int(a), int(b) + 1))
        elif part.strip():
            out.append(int(part))
    return out


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", default="demo")
    p.add_argument("--seeds", default="0-7", help="e.g. 0-7 or 0,1,2")
    p.add_argument("--threads", default="1,2", help="thread counts to try, e.g. 1,2")
    p.add_argument("--numerics", default="native", help=f"kernel paths, of {', '.join(NUMERICS)}")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--tag", default=None, help="results name (default: the preset)")
    p.add_argument("--score-every", type=int, default=0, help="also score snapshots (0: final)")
    p.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    p.add_argument("--min-covered", type=int, default=9)
    p.add_argument("--max-distance", type=float, default=None)
    p.add_argument("--force", action="store_true", help="re-run finished cells")
    p.add_argument("--keep", default=None, help="copy each final generator into KEEP/TAG/")
    p.add_argument(
        "--parzen", action="store_true", help="also score the Parzen test log-likelihood"
    )
    p.add_argument(
        "--docs", action="store_true", help="also copy the table into docs/presets.md's markers"
    )
    p.add_argument("--cell", default=None, help=argparse.SUPPRESS)  # internal: one cell
    return p.parse_args(argv)


def _config(preset: str, overrides: list[str], seed: int, threads: int, score_every: int):
    import saddlepoint as sp

    config = sp.override(sp.preset(preset), overrides)
    extra = [f"train.seed={seed}", f"train.threads={threads}"]
    if config.data.name in ("mnist", "fashion-mnist") and config.data.root is None:
        if config.data.name == "mnist" and SHARED_MNIST.is_dir():
            extra.append(f"data.root={SHARED_MNIST}")
    if score_every:
        extra.append(f"train.snapshot_every={score_every}")
    return sp.override(config, extra)


def run_cell(cell: dict) -> dict:
    """Train one (seed, threads) cell and score it; runs inside its own process."""
    import torch

    import saddlepoint as sp
    from saddlepoint.evaluate.health import generator_health

    torch.set_num_threads(cell["threads"])
    config = _config(
        cell["preset"], cell["overrides"], cell["seed"], cell["threads"], cell["score_every"]
    )
    lapgan = config.model.generator == "lapgan"
    if lapgan:  # one ordinary run per pyramid level, in one folder
        from saddlepoint.train.lapgan import train_lapgan as trainer
    else:
        trainer = sp.train
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        run = trainer(config, out=out, progress=False)
        wall = time.perf_counter() - start
        folders = [level.path for level in run.levels] if lapgan else [run.path]
        logs = [sp.read_log(folder) for folder in folders]
        log = [r for level_log in logs for r in level_log]
        seconds = sum(_last(level_log, "seconds") for level_log in logs)
        warnings = [code for folder in folders for code in _warning_codes(folder)]
        trajectory = []
        for snap in sorted((run.path / "snapshots").glob("*.safetensors")):
            snapshot = sp.load(snap)
            health = generator_health(snapshot.generator, config.data)
            trajectory.append({"iteration": snapshot.iteration, **health.to_dict()})
        final = generator_health(run.generator, config.data).to_dict()
        raw = _raw_health(run, config) if config.train.ema_beta > 0 and not lapgan else None
        parzen = _parzen(run) if cell.get("parzen") else None
        if cell.get("keep") and not lapgan:  # the final generator, for pretrained snapshots
            keep = Path(cell["keep"]) / cell["tag"]
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(run.path / "generator.safetensors", keep / f"{_key(cell)}.safetensors")
    rates = [r["images_per_s"] for r in log if "images_per_s" in r][1:]  # first: warm-up
    last = next((r for r in reversed(log) if "d_real" in r), {})
    return {
        **{k: cell[k] for k in ("tag", "preset", "overrides", "seed", "threads", "numerics")},
        "iterations": run.iteration,
        "train_seconds": round(seconds, 1),  # all levels of a LAPGAN
        "wall_seconds": round(wall, 1),
        "images_per_s": round(statistics.median(rates), 1) if rates else None,
        "warnings": warnings,
        "final_log": {k: last.get(k) for k in ("d_real", "d_fake", "diversity_ratio")},
        "health": final,
        "health_raw": raw,  # with an EMA of G: the trained G itself (as without the EMA)
        "parzen": parzen,
        "trajectory": trajectory,
    }


def _last(log: list[dict], key: str) -> float:
    """The last value of `key` in a run's log (evaluation lines carry no timing), else 0."""
    return next((r[key] for r in reversed(log) if key in r), 0.0)


def _parzen(run) -> dict:
    """The 2014 Parzen-window test log-likelihood of the run's best validation snapshot
    (best.safetensors, with train.eval_every), else of its final generator."""
    import saddlepoint as sp
    from saddlepoint.evaluate.run_parzen import ParzenSettings, parzen_of_run

    best = run.path / "best.safetensors"
    scored = sp.load(best) if best.is_file() else run
    result = parzen_of_run(scored, ParzenSettings())
    return {
        "snapshot": "best" if best.is_file() else "final",
        "iteration": scored.iteration,
        "test_mean": result.test_mean,
        "test_std_error": result.test_std_error,
        "sigma": result.sigma,
        "n_test": result.n_test,
    }


def _raw_health(run, config) -> dict:
    """Health of the trained G (not its EMA) from the final checkpoint: the same training
    run without train.ema_beta would have sampled from exactly these weights."""
    import copy

    from saddlepoint.checkpoint import load_training_state, load_weights
    from saddlepoint.evaluate.health import generator_health

    path = run.path / "checkpoint.pt"
    raw = copy.deepcopy(run.generator)
    load_weights(raw, load_training_state(path)["generator"], path, "generator")
    return generator_health(raw.eval(), config.data).to_dict()


def _warning_codes(folder: Path) -> list[str]:
    """The codes of the health warnings a run raised (warnings.jsonl), in order."""
    path = folder / "warnings.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line)["code"] for line in path.read_text().splitlines() if line.strip()]


def _environment() -> dict:
    import numpy
    import scipy
    import torch
    from throughput import cpu_flags, cpu_model

    return {
        "cpu": cpu_model(),
        "cpu_flags": cpu_flags(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "date": time.strftime("%Y-%m-%d"),
    }


def works(row: dict, min_covered: int, max_distance: float | None) -> bool:
    h = row["health"]
    return (
        "mode_collapse" not in row["warnings"]
        and h["covered"] >= min_covered
        and (max_distance is None or h["distance"] <= max_distance)
    )


def _schedule(cells: list[dict], cores: int, results: dict, path: Path) -> None:
    """Run cells as subprocesses while their threads fit in `cores`; save after each."""
    pending = sorted(cells, key=lambda c: (c["threads"], c["numerics"], c["seed"]))
    running: list[tuple[subprocess.Popen, dict, float]] = []
    while pending or running:
        busy = sum(c["threads"] for _, c, _ in running)
        while pending and (not running or busy + pending[0]["threads"] <= cores):
            cell = pending.pop(0)
            env = {
                **os.environ,
                "OMP_NUM_THREADS": str(cell["threads"]),
                **NUMERICS[cell["numerics"]],
            }
            proc = subprocess.Popen(
                [sys.executable, __file__, "--cell", json.dumps(cell)],
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            running.append((proc, cell, time.perf_counter()))
            busy += cell["threads"]
            print(f"started {_key(cell)}", flush=True)
        time.sleep(2)
        for entry in list(running):
            proc, cell, _ = entry
            if proc.poll() is None:
                continue
            running.remove(entry)
            out = proc.stdout.read() if proc.stdout else ""
            if proc.returncode != 0:
                print(f"{_key(cell)}: failed ({proc.returncode})")
                row = {**cell, "failed": True, "warnings": [], "health": None}
            else:
                row = json.loads(out.strip().splitlines()[-1])
            results["rows"][_key(cell)] = row
            path.write_text(json.dumps(results, indent=1))
            h = row.get("health") or {}
            print(
                f"{_key(cell)}: covered {h.get('covered')}, "
                f"distance {h.get('distance', float('nan')):.1f}, warnings {row['warnings']}",
                flush=True,
            )


def _key(cell: dict) -> str:
    numerics = "" if cell.get("numerics", "native") == "native" else f"-{cell['numerics']}"
    return f"{cell['seed']}x{cell['threads']}{numerics}"


def _step(t: dict) -> str:
    """One snapshot of a trajectory: iteration:covered/distance[/class or code accuracy]."""
    accuracy = t.get("conditional_accuracy")
    accuracy = t.get("code_accuracy") if accuracy is None else accuracy
    tail = "" if accuracy is None else f"/{accuracy:.2f}"
    return f"{t['iteration']}:{t['covered']}/{t['distance']:.0f}{tail}"


def _mean_sd(values: list[float], digits: int = 1) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} +/- {statistics.stdev(values):.{digits}f}"


def table(results: dict, min_covered: int, max_distance: float | None) -> str:
    rows = sorted(
        results["rows"].values(),
        key=lambda r: (
            r.get("numerics", "native") != "native",
            r.get("numerics"),
            r["threads"],
            r["seed"],
        ),
    )
    env = results["environment"]
    lines = [
        f"# `{results['preset']}` over seeds: {results['tag']}",
        "",
        f"Command: `{results['command']}`",
        "",
        f"Machine: {env['cpu']} ({', '.join(env['cpu_flags'])}), {env['cores']} cores; "
        f"python {env['python']}, torch {env['torch']}, numpy {env['numpy']}, "
        f"scipy {env['scipy']}; {env['date']}.",
        f"Overrides: {' '.join(results['overrides']) or '(none)'}.",
        "",
        "| seed | threads | numerics | covered (of 10) | distance | diversity | extra | warnings | "
        "images/s | works |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        h = r.get("health")
        if not h:
            lines.append(
                f"| {r['seed']} | {r['threads']} | {r.get('numerics')} | failed | | | | | | no |"
            )
            continue
        extra = []
        if h.get("conditional_accuracy") is not None:
            extra.append(f"class acc {h['conditional_accuracy']:.2f}")
        if h.get("code_accuracy") is not None:
            extra.append(f"code acc {h['code_accuracy']:.2f} ({h['code_classes']} classes)")
        traj = " ".join(_step(t) for t in r.get("trajectory", []))
        if traj:
            extra.append(f"trajectory {traj}")
        if r.get("parzen"):
            pz = r["parzen"]
            extra.append(
                f"Parzen {pz['test_mean']:.1f} +/- {pz['test_std_error']:.1f} "
                f"({pz['snapshot']}, iteration {pz['iteration']})"
            )
        if r.get("health_raw"):
            raw = r["health_raw"]
            extra.append(f"G without EMA: {raw['covered']} / {raw['distance']:.1f}")
        lines.append(
            f"| {r['seed']} | {r['threads']} | {r.get('numerics', 'native')} | {h['covered']} | "
            f"{h['distance']:.1f} | "
            f"{h['diversity']:.2f} | {'; '.join(extra)} | {', '.join(r['warnings']) or '-'} | "
            f"{r['images_per_s']} | {'yes' if works(r, min_covered, max_distance) else 'no'} |"
        )
    lines += ["", _summary(rows, min_covered, max_distance)]
    lines += [
        "",
        f"A run works when it raised no mode-collapse warning, covers at least {min_covered} "
        f"classes{'' if max_distance is None else f' and its distance is at most {max_distance}'}.",
    ]
    return "\n".join(lines) + "\n"


def _summary(rows: list[dict], min_covered: int, max_distance: float | None) -> str:
    """Mean +/- sd over seeds, one line per (threads, numerics) group."""
    optional = {  # columns shown when some run has them: name -> value of a row
        "class accuracy": lambda r: r["health"].get("conditional_accuracy"),
        "code accuracy": lambda r: r["health"].get("code_accuracy"),
        "Parzen": lambda r: (r.get("parzen") or {}).get("test_mean"),
    }
    shown = {k: f for k, f in optional.items() if any(r.get("health") and f(r) for r in rows)}
    head = ["threads", "numerics", "runs", "work", "covered", "distance", "diversity", *shown]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for threads, numerics in dict.fromkeys(_group(r) for r in rows):
        group = [r for r in rows if r.get("health") and _group(r) == (threads, numerics)]
        cells = [
            str(threads),
            numerics,
            str(len(group)),
            str(sum(works(r, min_covered, max_distance) for r in group)),
            _mean_sd([r["health"]["covered"] for r in group]),
            _mean_sd([r["health"]["distance"] for r in group]),
            _mean_sd([r["health"]["diversity"] for r in group], digits=2),
            *(
                _mean_sd([f(r) for r in group], digits=2 if k != "Parzen" else 1)
                for k, f in shown.items()
            ),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _group(r: dict) -> tuple[int, str]:
    return r["threads"], r.get("numerics", "native")


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.cell:
        print(json.dumps(run_cell(json.loads(args.cell))))
        return 0
    tag = args.tag or args.preset
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{tag}.json"
    results = json.loads(path.read_text()) if path.is_file() and not args.force else {}
    results.setdefault("rows", {})
    results.update(
        tag=tag,
        preset=args.preset,
        overrides=args.set,
        command="python benchmarks/preset_seeds.py " + " ".join(sys.argv[1:]),
        environment=_environment(),
    )
    cells = [
        {
            "tag": tag,
            "preset": args.preset,
            "overrides": args.set,
            "seed": seed,
            "threads": threads,
            "numerics": numerics,
            "score_every": args.score_every,
            "parzen": args.parzen,
            "keep": args.keep and str(Path(args.keep).resolve()),
        }
        for numerics in args.numerics.split(",")
        for threads in (int(t) for t in args.threads.split(","))
        for seed in _seeds(args.seeds)
    ]
    todo = [c for c in cells if _key(c) not in results["rows"]]
    if todo:  # the classifier is trained once here, not by several cells at the same time
        from saddlepoint.evaluate.health import real_health

        config = _config(args.preset, args.set, 0, 1, 0)
        results["real"] = real_health(config.data).to_dict()
        _schedule(todo, args.cores, results, path)
    path.write_text(json.dumps(results, indent=1))
    text = table(results, args.min_covered, args.max_distance)
    (RESULTS / f"{tag}.md").write_text(text)
    print(RESULTS / f"{tag}.md")
    if args.docs:
        _update_docs(tag, text.split("\n", 2)[2])  # without the title line
    return 0


def _update_docs(tag: str, block: str) -> None:
    """Replace the text between docs/presets.md's markers for `tag` with `block`."""
    begin, end = f"<!-- preset_seeds:{tag}:begin -->", f"<!-- preset_seeds:{tag}:end -->"
    text = DOCS.read_text()
    if begin not in text or end not in text:
        print(f"{DOCS} has no {begin} ... {end} markers: the table was not copied into it")
        return
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    DOCS.write_text(f"{head}{begin}\n{block.strip()}\n{end}{tail}")


if __name__ == "__main__":
    sys.exit(main())
