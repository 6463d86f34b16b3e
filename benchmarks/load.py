"""Benchmark: the demo's training loop on an idle and on a loaded machine, by thread count and
OpenMP wait policy, side by side.

    .venv/bin/python benchmarks/load.py [--rounds 3] [--log-every 25] [--lines 4]

Why: with two torch threads on a 2-core machine and one other busy process, each OpenMP
parallel region waits for the thread that shares its core with the other process, and the
waiting thread spins (GNU OpenMP's default active wait) instead of yielding the core: the
loop's throughput was seen to fall about 10x. This measures that collapse, and what the
remedies buy: one thread fewer, or OMP_WAIT_POLICY=PASSIVE (threads sleep at barriers).

Variants, each a fresh process (OpenMP reads its environment once, when torch loads):
    threads 1 or the machine's core count  x  OMP_WAIT_POLICY default or PASSIVE
    x  idle, or loaded by one busy process (a pure-Python spin loop, like any CPU-bound job
       of another user) running for the whole measurement.
Every round runs every variant once, in turn (the order reversed in every other round), and
each figure is the median over rounds of the loop's own images/s (log.jsonl, first line
discarded as warm-up: benchmarks/throughput.py's time_real_loop). Ratios are taken within a
round, against that round's idle 1-thread default-policy figure.

Also times `saddlepoint.train.threads.choose_threads` (how long the idle-core probe takes)
and records what it chose under each load.

Writes benchmarks/results/load-cpu.json and load-cpu.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

RESULTS = ROOT / "benchmarks" / "results"
SPIN = "while True: pass"  # one CPU-bound process of another user


def _arguments(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--log-every", type=int, default=25)
    p.add_argument("--lines", type=int, default=4, help="timed log lines after the warm-up")
    p.add_argument("--probe-only", action="store_true", help="re-measure only the probe")
    p.add_argument("--variant", default=None, help=argparse.SUPPRESS)  # internal
    return p.parse_args(argv)


def measure(threads: int, log_every: int, lines: int) -> dict:
    """Inside a fresh process: the demo loop's images/s at this thread count."""
    import torch
    from throughput import time_real_loop

    import saddlepoint as sp

    torch.set_num_threads(threads)
    config = sp.override(sp.preset("demo"), [f"train.threads={threads}"])
    with tempfile.TemporaryDirectory() as scratch:
        return time_real_loop(config, log_every, lines, Path(scratch))


def _variant(threads: int, policy: str, loaded: bool, args) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    env.pop("OMP_WAIT_POLICY", None)
    if policy != "default":
        env["OMP_WAIT_POLICY"] = policy
    spinner = subprocess.Popen([sys.executable, "-c", SPIN]) if loaded else None
    try:
        spec = json.dumps({"threads": threads, "log_every": args.log_every, "lines": args.lines})
        out = subprocess.run(
            [sys.executable, __file__, "--variant", spec],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()
    return json.loads(out.strip().splitlines()[-1])


def _probe(loaded: bool) -> dict:
    """What choose_threads picks, and how long it takes, idle or beside one busy process."""
    from saddlepoint.train import threads

    threads._last = None  # measure now, not reuse the last probe of this process
    spinner = subprocess.Popen([sys.executable, "-c", SPIN]) if loaded else None
    try:
        time.sleep(1.0)  # let the spinner take its core
        start = time.perf_counter()
        choice = threads.choose_threads(None)
        return {"threads": choice.threads, "seconds": round(time.perf_counter() - start, 3)}
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()


def table(results: dict) -> str:
    env = results["environment"]
    lines = [
        "# The demo loop on an idle and a loaded machine",
        "",
        f"Command: `{results['command']}`",
        "",
        f"Machine: {env['cpu']} ({', '.join(env['cpu_flags'])}), {env['cores']} cores; "
        f"torch {env['torch']}; {env['date']}. Loaded: one other process spinning on a core "
        "for the whole measurement. Median over rounds of the loop's images/s; the ratio is "
        "against the same round's idle, 1-thread, default-policy figure.",
        "",
        "| load | threads | OMP_WAIT_POLICY | images/s (per round) | median | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for name, rows in results["variants"].items():
        load, threads, policy = name.split("/")
        rates = [r["images_per_s"] for r in rows]
        ratios = [r["ratio"] for r in rows]
        lines.append(
            f"| {load} | {threads} | {policy} | {', '.join(f'{x:.0f}' for x in rates)} | "
            f"{statistics.median(rates):.0f} | {statistics.median(ratios):.2f}x |"
        )
    lines += ["", "`choose_threads` (the default when train.threads is unset):", ""]
    for load, probe in results["probe"].items():
        lines.append(f"- {load}: {probe['threads']} thread(s), probe took {probe['seconds']} s")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    args = _arguments(argv)
    if args.variant:
        spec = json.loads(args.variant)
        print(json.dumps(measure(spec["threads"], spec["log_every"], spec["lines"])))
        return 0
    from preset_seeds import _environment

    if args.probe_only:  # keep the recorded rates, measure the probe again
        results = json.loads((RESULTS / "load-cpu.json").read_text())
        results["probe"] = {"idle": _probe(False), "loaded": _probe(True)}
        (RESULTS / "load-cpu.json").write_text(json.dumps(results, indent=1))
        (RESULTS / "load-cpu.md").write_text(table(results))
        print(RESULTS / "load-cpu.md")
        return 0
    cores = os.cpu_count() or 1
    variants = [
        (loaded, threads, policy)
        for loaded in (False, True)
        for threads in sorted({1, cores})
        for policy in ("default", "PASSIVE")
    ]
    results = {
        "command": "python benchmarks/load.py " + " ".join(sys.argv[1:]),
        "environment": _environment(),
        "variants": {},
        "probe": {},
    }
    for r in range(args.rounds):
        order = variants if r % 2 == 0 else variants[::-1]
        got = {}
        for loaded, threads, policy in order:
            name = f"{'loaded' if loaded else 'idle'}/{threads}/{policy}"
            got[name] = _variant(threads, policy, loaded, args)
            print(f"round {r}: {name}: {got[name]['images_per_s']:.0f} images/s", flush=True)
        base = got["idle/1/default"]["images_per_s"]
        for name, row in got.items():
            row["ratio"] = row["images_per_s"] / base
            results["variants"].setdefault(name, []).append(row)
    results["probe"] = {"idle": _probe(False), "loaded": _probe(True)}
    (RESULTS / "load-cpu.json").write_text(json.dumps(results, indent=1))
    (RESULTS / "load-cpu.md").write_text(table(results))
    print(RESULTS / "load-cpu.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
