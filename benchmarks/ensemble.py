"""Benchmark: an ensemble of N GANs in one process (train.ensemble = N) against the same N runs
trained one after another (issue #18, "many seeds at the price of one").

    .venv/bin/python benchmarks/ensemble.py [--device cpu|cuda] [--members 1,4,8] [--pairs 15]
                                            [--threads 1] [--families goodfellow2014,dcgan]
                                            [--out PATH]

Measured side by side in one run, for two families of nets at batch m = 100:

  goodfellow2014  goodfellow2014-mnist-fast's nets and optimisers: G 100-1200-1200-784, maxout D
                  240x5 -> 240x5 -> 1 with dropout, Adam, an EMA of G
  dcgan           dcgan-mnist's nets (28x28, 32 channels, batch norm), Adam

Both on the bundled mnist5k (the data's size does not change the cost of an iteration). For
each N, `ensemble` is one TrainState of train.ensemble = N, and `sequential` is N TrainStates of
the single seeds 0..N-1 (the runs the ensemble's members equal), each advanced in turn. Every
state has had two warm-up iterations. Then, `pairs` times, one iteration of the ensemble and one
iteration of each of the N sequential runs are timed back to back (Algorithm 1's body,
saddlepoint.train.loop.iteration; which side goes first alternates, and no state is timed right
after itself, which would find its weights still in the caches), so that both sides of a pair
see the same load on a shared machine; the ratio ensemble / sequential images/s is taken per
pair and its median is the headline. N = 1 is the control: both sides run the same work, so
the spread of its ratios is the noise of the measurement.

Then the matmul routes: the 2014 G's layers for N members as N chunked F.linear calls (what
nets.ensemble does) against stacked (N, a, b) weights and one torch.baddbmm per layer.

Each side's useful work is also counted in FLOPs (convolutions and linear layers from the layer
shapes, benchmarks/dcgan.py's count, here for k D steps per G step) and set against the
device's float32 torch.mm peak (benchmarks/throughput.py's `matmul_peak`: square products of
1024 and 2048 on the CPU, 2048 to 8192 on CUDA, TF32 as torch's default leaves it; the best
single product), measured once before the pairs.

With --device cuda (N = 1, 4, 8, 32 by default; torch's default thread count), every timing
synchronises the GPU before reading the clock, and the issue's GPU aims are checked at the
largest N measured (32): the 2014 nets' ensemble at >= 15x the images/s of one run (the ratio,
since the sequential side is N such runs), and DCGAN's ensemble above 30% of the matmul peak.
Without a CUDA GPU, --device cuda stops with one sentence.

Writes benchmarks/results/ensemble-DEVICE.json and a markdown table next to it (.md), with the
CPU model (lscpu) or GPU name, torch's version, the thread count and the load average before
and after.
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
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))  # dcgan.py, throughput.py

from dcgan import layer_flops  # noqa: E402
from throughput import matmul_peak, peak_summary  # noqa: E402

from saddlepoint.config import Config, override  # noqa: E402
from saddlepoint.presets import preset  # noqa: E402
from saddlepoint.train import distributed  # noqa: E402
from saddlepoint.train.loop import iteration  # noqa: E402
from saddlepoint.train.state import TrainState, setup  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
BATCH = 100
AIM = 1.15  # the issue: an ensemble of 8 of the 2014 nets >= 1.15x 8 sequential runs at batch 100
GPU_AIM_RATIO = 15.0  # on a GPU: the 2014 nets' ensemble of 32 >= 15x one run's images/s
GPU_AIM_SHARE = 0.30  # on a GPU: DCGAN's ensemble above 30% of the float32 matmul peak
PEAK_SIZES = {"cpu": (1024, 2048), "cuda": (2048, 4096, 8192)}
FAMILIES = {
    "goodfellow2014": "goodfellow2014-mnist-fast",
    "dcgan": "dcgan-mnist",
}
QUIET = (  # no periodic work: only Algorithm 1 is timed (iteration() runs none of it anyway)
    "data.name=mnist5k",
    f"train.batch_size={BATCH}",
    "train.eval_every=0",
    "train.sample_every=0",
    "train.checkpoint_every=0",
    "train.snapshot_every=0",
)


def config(family: str, seed: int, members: int, device: str) -> Config:
    sets = [*QUIET, f"train.seed={seed}", f"train.ensemble={members}", f"train.device={device}"]
    return override(preset(FAMILIES[family]), sets)


def state(family: str, seed: int, members: int, device: str) -> TrainState:
    """A ready TrainState after two warm-up iterations (allocations, oneDNN primitives, CUDA
    kernels)."""
    s = setup(config(family, seed, members, device), distributed.Context())
    s.G.train()
    s.D.train()
    for _ in range(2):
        iteration(s)
    return s


def sync(device: torch.device) -> None:
    """Wait for the GPU's queued work (nothing to wait for on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def seconds(states: list[TrainState]) -> float:
    """Wall-clock seconds of one iteration of each state, one state after another (the GPU's
    queue drained before and after)."""
    device = states[0].device
    sync(device)
    start = time.perf_counter()
    for s in states:
        iteration(s)
    sync(device)
    return time.perf_counter() - start


def flops_per_image(s: TrainState) -> int:
    """Matmul and convolution FLOPs of one iteration per image of a member's minibatch, for a
    single run's nets (benchmarks/dcgan.py's count; F the forward FLOPs of one example, F1 its
    first layer's): k D steps of G forward F_G, D forward and backward on real and fake
    2 (3 F_D - F_D1); the G step's D forward and input gradients 2 F_D and G backward
    2 F_G - F_G1; one more G forward F_G without train.reuse_fakes. k = 1 with reuse gives
    dcgan.py's 3 F_G - F_G1 + 8 F_D - 2 F_D1."""
    t = s.config.train
    g = layer_flops(s.G, s.fixed_z[:1])
    d = layer_flops(s.D, s.x[:1])
    fg, fd = sum(g), sum(d)
    per_d_step = fg + 2 * (3 * fd - d[0])
    return t.k * per_d_step + 2 * fd + 2 * fg - g[0] + (0 if t.reuse_fakes else fg)


def measure(family: str, members: list[int], pairs: int, device: str) -> list[dict]:
    """Per N: `pairs` paired timings, moments apart, of one ensemble iteration and one iteration
    of each of the N sequential runs (in alternating order); images/s of each and their ratio."""
    singles = [state(family, seed, 1, device) for seed in range(max(members))]
    ensembles = {n: state(family, 0, n, device) for n in members}
    per_image = flops_per_image(singles[0])
    rows = {n: {"ensemble": [], "sequential": [], "ratio": []} for n in members}
    for r in range(pairs):
        for n in members:  # in one order, so that no state is timed right after itself (warm)
            variants = [("ensemble", [ensembles[n]]), ("sequential", singles[:n])]
            times = {name: seconds(states) for name, states in variants[:: 1 - 2 * (r % 2)]}
            for name, t in times.items():
                rows[n][name].append(n * BATCH / t)
            rows[n]["ratio"].append(times["sequential"] / times["ensemble"])
    for n in members:
        ratios = rows[n]["ratio"]
        print(f"{family} N={n}: median ratio {statistics.median(ratios):.3f}", flush=True)
    return [
        {"family": family, "members": n, "flops_per_image": per_image, **rows[n]} for n in members
    ]


def routes(n: int, pairs: int, device: torch.device) -> dict[str, list[float]]:
    """Seconds of one forward and backward of n of the 2014 G's matmul stacks (100-1200-1200-784
    ReLU, m rows each): `chunked`, each member's F.linear on its own rows (what nets.ensemble
    does), against `stacked`, the members' weights stacked (n, a, b) and one torch.baddbmm per
    layer (the vectorised route the issue suggests)."""
    widths = (100, 1200, 1200, 784)
    layers = list(zip(widths[:-1], widths[1:]))  # (fan-in, fan-out)
    on = {"device": device}
    weights = [
        [torch.randn(b, a, **on).mul_(0.05).requires_grad_() for a, b in layers] for _ in range(n)
    ]
    biases = [[torch.zeros(b, **on, requires_grad=True) for _, b in layers] for _ in range(n)]
    stacked_w = [torch.randn(n, a, b, **on).mul_(0.05).requires_grad_() for a, b in layers]
    stacked_b = [torch.zeros(n, 1, b, **on, requires_grad=True) for _, b in layers]
    z = torch.randn(n * BATCH, widths[0], **on)

    def chunked() -> None:
        outs = []
        for i, h in enumerate(z.chunk(n)):
            for w, b in zip(weights[i], biases[i]):
                h = torch.relu(torch.nn.functional.linear(h, w, b))
            outs.append(h)
        torch.cat(outs).sum().backward()

    def stacked() -> None:
        h = z.view(n, BATCH, widths[0])
        for w, b in zip(stacked_w, stacked_b):
            h = torch.relu(torch.baddbmm(b, h, w))
        h.sum().backward()

    out = {"chunked": [], "stacked": [], "ratio": []}  # seconds, and chunked / stacked per pair
    for fn in (chunked, stacked):
        fn()  # warm-up
    for r in range(pairs):
        times = {}
        for name, fn in (("chunked", chunked), ("stacked", stacked))[:: 1 - 2 * (r % 2)]:
            sync(device)
            start = time.perf_counter()
            fn()
            sync(device)
            times[name] = time.perf_counter() - start
            out[name].append(times[name])
        out["ratio"].append(times["chunked"] / times["stacked"])
    return out


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return platform.processor() or "unknown"
    names = [line.split(":", 1)[1].strip() for line in out.splitlines() if "Model name" in line]
    return names[0] if names else "unknown"


def gflops(row: dict) -> float:
    """The ensemble side's useful GFLOP/s (median images/s x FLOPs per image)."""
    return statistics.median(row["ensemble"]) * row["flops_per_image"] / 1e9


def table(rows: list[dict], peak_gflops: float) -> str:
    lines = [
        "| nets | N | ensemble images/s | N sequential runs images/s | ratio (median) | "
        "ratio quartiles | ensemble GFLOP/s | share of peak |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        q = statistics.quantiles(row["ratio"], n=4)
        ratios = f"{q[0]:.3f} - {q[2]:.3f}"
        lines.append(
            f"| {row['family']} | {row['members']} | {statistics.median(row['ensemble']):.0f} | "
            f"{statistics.median(row['sequential']):.0f} | "
            f"{statistics.median(row['ratio']):.3f}x | {ratios} | {gflops(row):.1f} | "
            f"{gflops(row) / peak_gflops:.1%} |"
        )
    return "\n".join(lines)


def aims(device: str) -> list[dict]:
    """The issue's aims on this kind of device: the ratio for the 2014 nets (and, on a GPU,
    DCGAN's share of the matmul peak) at one N."""
    if device == "cuda":
        return [
            {"family": "goodfellow2014", "members": 32, "ratio": GPU_AIM_RATIO},
            {"family": "dcgan", "members": 32, "share_of_peak": GPU_AIM_SHARE},
        ]
    return [{"family": "goodfellow2014", "members": 8, "ratio": AIM}]


def verdict(aim: dict, rows: list[dict], peak_gflops: float) -> str:
    """One line: the aim, the median measured against it, met or not (or not measured)."""
    name, n = aim["family"], aim["members"]
    row = next((r for r in rows if r["family"] == name and r["members"] == n), None)
    if "ratio" in aim:
        wanted = f"{name} at N = {n}: ratio >= {aim['ratio']}x"
        got = None if row is None else statistics.median(row["ratio"])
        text = None if got is None else f"{got:.2f}x"
        met = got is not None and got >= aim["ratio"]
    else:
        wanted = f"{name} at N = {n}: above {aim['share_of_peak']:.0%} of the matmul peak"
        got = None if row is None else gflops(row) / peak_gflops
        text = None if got is None else f"{got:.1%}"
        met = got is not None and got > aim["share_of_peak"]
    if got is None:
        return f"- {wanted}: not measured (N = {n} or {name} not in this run)"
    return f"- {wanted}: {text}, **{'met' if met else 'not met'}**"


def machine(device: torch.device) -> dict:
    """What the numbers were measured on."""
    out = {"cpu": cpu_model(), "cores": os.cpu_count(), "torch": torch.__version__}
    if device.type == "cuda":
        out |= {
            "gpu": torch.cuda.get_device_name(device),
            "cuda": torch.version.cuda,
            "allow_tf32": torch.backends.cuda.matmul.allow_tf32,
        }
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument(
        "--members", default=None, help="ensemble sizes N (default: 1,4,8; on cuda 1,4,8,32)"
    )
    p.add_argument("--families", default="goodfellow2014,dcgan")
    p.add_argument("--pairs", type=int, default=15, help="paired timings per N")
    p.add_argument("--threads", type=int, default=1, help="CPU threads (cpu only)")
    p.add_argument("--out", default=None, help="default: benchmarks/results/ensemble-DEVICE.json")
    args = p.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit(
            f"benchmarks/ensemble.py: --device cuda, but this PyTorch ({torch.__version__}) sees "
            "no CUDA GPU here: run it on a machine with one, or with --device cpu."
        )
    device = torch.device(args.device)
    if device.type == "cpu":
        torch.set_num_threads(args.threads)
    default_members = "1,4,8,32" if device.type == "cuda" else "1,4,8"
    members = [int(n) for n in (args.members or default_members).split(",")]
    load_before = os.getloadavg()
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    peak = peak_summary(matmul_peak(torch.float32, PEAK_SIZES[device.type], device, 3, 30.0))
    print(f"float32 torch.mm peak: {peak['best_gflops']:.1f} GFLOP/s ({peak['best_at']})")
    rows = []
    for family in args.families.split(","):
        rows += measure(family, members, args.pairs, args.device)
    matmuls = routes(max(members), 2 * args.pairs, device)
    record = {
        "started": started,
        "device": args.device,
        **machine(device),
        "threads": torch.get_num_threads(),
        "batch": BATCH,
        "pairs": args.pairs,
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "peak": peak,
        "aims": aims(args.device),
        "rows": rows,
        "routes": {"members": max(members), "seconds": matmuls},
    }
    out = Path(args.out or RESULTS / f"ensemble-{args.device}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(record))
    print(table(rows, peak["best_gflops"]))
    print("\n".join(verdict(aim, rows, peak["best_gflops"]) for aim in record["aims"]))


def markdown(r: dict) -> str:
    load = f"{r['load_before'][0]:.1f} before, {r['load_after'][0]:.1f} after"
    n, sec = r["routes"]["members"], r["routes"]["seconds"]
    q = statistics.quantiles(sec["ratio"], n=4)
    peak = r["peak"]["best_gflops"]
    where = f"{r['cpu']} ({r['cores']} cores)"
    if r["device"] == "cuda":
        where = f"{r['gpu']} (CUDA {r['cuda']}, TF32 {r['allow_tf32']}; host {where})"
    verdicts = "\n".join(verdict(aim, r["rows"], peak) for aim in r["aims"])
    return (
        "# Ensembles of GANs in one process against the same runs in sequence (issue #18)\n\n"
        f"{r['started']}, {where}, torch {r['torch']}, "
        f"{r['threads']} thread(s), batch {r['batch']} per member, {r['pairs']} paired timings "
        "of one iteration per N (after 2 warm-up iterations); 1-minute load "
        f"average {load}. The ratio is taken per pair, its median is the headline; N = 1 is "
        "the control (the same work on both sides: its spread is the noise); bare images/s "
        "are only comparable within this table. Float32 torch.mm peak (best single product): "
        f"{peak:.1f} GFLOP/s ({r['peak']['best_at']}); GFLOP/s count convolutions and linear "
        "layers from the layer shapes.\n\n"
        f"{table(r['rows'], peak)}\n\n"
        f"The issue's aims on {r['device']}:\n\n{verdicts}\n\n"
        f"The two routes to an ensemble's matmuls, for the 2014 G's layers at N = {n}, m = "
        f"{r['batch']}, one forward and backward timed in {len(sec['ratio'])} alternating "
        f"pairs: chunked (each member's F.linear on its rows, what saddlepoint does) "
        f"{statistics.median(sec['chunked']):.3f} s, stacked weights with one torch.baddbmm per "
        f"layer {statistics.median(sec['stacked']):.3f} s (medians); chunked / stacked time per "
        f"pair: median {statistics.median(sec['ratio']):.3f}, quartiles {q[0]:.3f} - "
        f"{q[2]:.3f}.\n\nWritten by benchmarks/ensemble.py.\n"
    )


if __name__ == "__main__":
    main()
