"""Benchmark: training throughput of the 2014 MLP GAN, against this machine's matmul peak and a
plain tutorial-style loop.

    .venv/bin/python benchmarks/throughput.py [--quick] [--threads N] [--repeats R]
                                              [--device cpu|cuda] [--out PATH]

Measured side by side in one run. Every round runs each variant once, in turn (A B C ... then
C B A ... in the next round), and each number below is the median over the rounds:

  peak         torch.mm on square matrices, in GFLOP/s (2 n^3 per product): float32 in every
               round at sizes 1024 and 2048 (CUDA: 2048, 4096, 8192) and in the three layouts
               nn.Linear uses (NN: a @ b, NT: a @ b.t() as in the forward pass, TN: a.t() @ b as in
               a weight gradient); bfloat16 once, at the start. "Peak" is the best single product
               of the run (best-of: the hardware's ceiling); the medians are recorded as well.
  saddlepoint  the real loop, `saddlepoint.train(config, out=tmp, progress=False)`, with the
               paper's networks (G 100-1200-1200-784 ReLU/sigmoid; D maxout 240x5 -> 240x5 -> 1,
               dropout 0.8/0.5), momentum SGD, k = 1, on the full MNIST, at batch 100 and 500, in
               float32 and with train.precision=bfloat16 (autocast; on CUDA float16 too, with
               its GradScaler).
  reference    benchmarks/reference_loop.py: the same networks trained the way tutorials write it
               (DataLoader over uint8, BCEWithLogitsLoss, a second G forward, D not frozen in the
               G step, loss.item() every iteration), float32, same batch, threads and optimiser.

How images/s is read. The loop writes its own rate, `images_per_s`, in each log.jsonl line: the
images of the iterations since the previous line over the time they took (time.monotonic inside
the loop). That excludes everything outside the iterations: data decoding and model building
before the loop, and the final checkpoint and sample grid that the loop always writes after it
(sample_every = checkpoint_every = 0, so nothing is written in between). The first line is a
warm-up (first-touch allocations, oneDNN primitive creation, caches) and is discarded; the rate
of a measurement is the images of the remaining lines over their summed time. The reference loop
is timed the same way, by perf_counter at the same chunk boundaries, first chunk discarded.
On CUDA the loop reads its clock just before the one host sync per log line, so a line's time is
right in the steady state, to within the queue depth of one line; the reference synchronises.

FLOPs per iteration are counted analytically from the layer shapes (see `flops_per_iteration`);
"GFLOP/s" and "share of peak" use saddlepoint's count for both loops' useful work, and the
reference's own (larger) count is recorded too. The share is given twice: over the best single
product of the run (the headline, and what the goal is judged on) and over the median of the
samples at that size and layout (what a typical large product reaches in the same run).

Writes benchmarks/results/throughput-{device}.json and a markdown table next to it (.md); with
--quick (a smoke test of every code path, seconds long) it writes to a temporary folder unless
--out is given.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))  # reference_loop.py

from reference_loop import run_reference  # noqa: E402

import saddlepoint as sp  # noqa: E402
from saddlepoint.config import Config, override  # noqa: E402
from saddlepoint.data import load_dataset  # noqa: E402
from saddlepoint.nets import build_discriminator, build_generator  # noqa: E402

MNIST_DIR = Path("/work/shared/data/mnist")
RESULTS = Path(__file__).resolve().parent / "results"
BATCHES = (100, 500)
TARGET_VS_REFERENCE = 1.3  # the issue: saddlepoint's loop >= 1.3x the plain loop at batch 100
GOAL_BF16_SPEEDUP = 1.5  # a later issue: bfloat16 autocast >= 1.5x float32 at batch 500
GOAL_SHARE_B100 = 0.60  # the same issue: the batch-100 float32 iteration above 60% of the peak


# ------------------------------------------------------------------------------------- FLOPs


def linear_shapes(net: nn.Module) -> list[tuple[int, int]]:
    """(fan-in a, fan-out b) of each nn.Linear in forward order; a maxout layer is one Linear
    holding all its pieces (784 -> 240 x 5 = 1200)."""
    return [(m.in_features, m.out_features) for m in net.modules() if isinstance(m, nn.Linear)]


def flops_per_iteration(
    g: list[tuple[int, int]], d: list[tuple[int, int]], m: int, *, reference: bool = False
) -> int:
    """Matmul FLOPs of one iteration of Algorithm 1 with k = 1 (elementwise work not counted).

    A Linear with fan-in a and fan-out b on n rows costs 2nab forward; backward 2nab for the weight
    gradient dW = dY^T X plus 2nab for the input gradient dX = dY W where one is needed (4nab with
    both, 2nab with one). Write ab(L) = sum of a*b over the layers L; a net's first layer needs no
    input gradient when its input is data x or noise z.

    saddlepoint (train.reuse_fakes=True: the G step reuses the D step's G(z); D frozen in G step):
      G forward, graph kept for the G step         2m ab(G)
      D step on real+fake, one batch of 2m rows    forward 2(2m) ab(D)
                                                   backward 2(2m) ab(D) + 2(2m) ab(D[1:])
      G step: D forward on the m fakes             2m ab(D)
              D backward, input gradients only     2m ab(D)
              G backward                           2m ab(G) + 2m ab(G[1:])
    reference (tutorial loop): all of the above, plus a second G forward for new fakes, 2m ab(G),
      and D's weight gradients in the G step, 2m ab(D). (D(real) and D(fake) as two passes of m
      rows cost the same as one of 2m.)
    """

    def ab(layers: list[tuple[int, int]]) -> int:
        return sum(a * b for a, b in layers)

    flops = (
        2 * m * ab(g)  # G forward
        + 2 * (2 * m) * ab(d)  # D step forward, real + fake
        + 2 * (2 * m) * ab(d)
        + 2 * (2 * m) * ab(d[1:])  # D step backward
        + 2 * m * ab(d)  # G step: D forward
        + 2 * m * ab(d)  # G step: D input gradients
        + 2 * m * ab(g)
        + 2 * m * ab(g[1:])  # G backward
    )
    if reference:
        flops += 2 * m * ab(g) + 2 * m * ab(d)  # second G forward; D weight grads in the G step
    return flops


# ------------------------------------------------------------------------------ matmul peak


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


LAYOUTS = ("NN", "NT", "TN")


def matmul_peak(
    dtype: torch.dtype,
    sizes: tuple[int, ...],
    device: torch.device,
    repeats: int,
    budget_s: float,
) -> dict[str, list[float] | str]:
    """GFLOP/s of torch.mm per (size, layout): `repeats` timed samples after one warm-up call.

    A sample times `inner` back-to-back products (enough for ~20 ms, so that GPU launches and
    timer resolution do not count). A size whose estimated time (from the previous size, n^3)
    would exceed `budget_s` is skipped and says so: bfloat16 on a CPU without bf16 instructions
    runs at ~1 GFLOP/s, where one 2048 product takes tens of seconds.
    """
    out: dict[str, list[float] | str] = {}
    per_call: dict[str, float] = {}  # layout -> seconds per product at the previous size
    prev_n = 0
    for n in sizes:
        a = torch.randn(n, n, device=device).to(dtype)
        b = torch.randn(n, n, device=device).to(dtype)
        products = {
            "NN": lambda a=a, b=b: torch.mm(a, b),  # a @ b
            "NT": lambda a=a, b=b: torch.mm(a, b.t()),  # x @ W.t(): Linear forward
            "TN": lambda a=a, b=b: torch.mm(a.t(), b),
        }  # dY.t() @ X: weight gradient
        for layout in LAYOUTS:
            key = f"{n}/{layout}"
            if prev_n and layout not in per_call:
                out[key] = "skipped: too slow at a smaller size"
                continue
            if prev_n:
                estimate = per_call[layout] * (n / prev_n) ** 3 * (repeats + 1)
                if estimate > budget_s:
                    out[key] = f"skipped: estimated {estimate:.0f} s"
                    del per_call[layout]
                    continue
            fn = products[layout]
            one = _seconds(fn, device)  # warm-up; may include library initialisation
            if one < 0.02:
                one = _seconds(fn, device)  # cheap: time a second call for the calibration
            inner = max(1, math.ceil(0.02 / one))
            rates = [2 * n**3 * inner / _seconds(fn, device, inner) / 1e9 for _ in range(repeats)]
            out[key] = rates
            per_call[layout] = 2 * n**3 / 1e9 / max(rates)
        prev_n = n
    return out


def _seconds(fn, device: torch.device, calls: int = 1) -> float:
    """Wall-clock seconds of `calls` back-to-back calls, synchronised on CUDA."""
    _sync(device)
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    _sync(device)
    return max(time.perf_counter() - start, 1e-9)


def peak_summary(calls: dict[str, list]) -> dict:
    """Best single product over sizes and layouts, and the median of the samples there."""
    measured = {k: v for k, v in calls.items() if isinstance(v, list) and v}
    best_key = max(measured, key=lambda k: max(measured[k]))
    nn_keys = [k for k in measured if k.endswith("/NN")]
    return {
        "best_gflops": max(measured[best_key]),
        "best_at": best_key,
        "median_gflops_at_best": statistics.median(measured[best_key]),
        "best_nn_gflops": max(max(measured[k]) for k in nn_keys) if nn_keys else None,
        "median_by_size_layout": {k: statistics.median(v) for k, v in measured.items()},
    }


# ------------------------------------------------------------------------ training loops


@dataclass(frozen=True)
class Variant:
    loop: str  # "saddlepoint" or "reference"
    batch: int
    precision: str  # "float32", "bfloat16" or (CUDA) "float16"

    @property
    def name(self) -> str:
        return f"{self.loop} {self.precision} b{self.batch}"


def schedule(device: torch.device, precision: str, batch: int, quick: bool) -> tuple[int, int]:
    """(iterations per log line or chunk, timed lines after the warm-up line).

    Sized in images per line, so both batch sizes get about the same time: on this 2-core CPU
    float32 runs ~2,000-3,000 images/s, CPU bfloat16 (no bf16 instructions) ~170 images/s.
    """
    if quick:
        return (2 if precision == "float32" else 1), 1
    if device.type == "cuda":
        images = 50_000
    else:
        images = 5_000 if precision == "float32" else 300
    return max(1, images // batch), 4


def time_saddlepoint(base: Config, v: Variant, log_every: int, lines: int, scratch: Path) -> dict:
    """One measurement of the real loop at this variant's batch and precision."""
    config = override(base, [f"train.batch_size={v.batch}", f"train.precision={v.precision}"])
    return time_real_loop(config, log_every, lines, scratch)


def time_real_loop(config: Config, log_every: int, lines: int, scratch: Path) -> dict:
    """Train `lines + 1` log lines of `log_every` iterations, writing nothing in between, and
    read the rate from the loop's own log.jsonl (the first line is the warm-up)."""
    config = override(
        config,
        [
            f"train.iterations={log_every * (lines + 1)}",
            f"train.log_every={log_every}",
            "train.sample_every=0",
            "train.checkpoint_every=0",
            "train.snapshot_every=0",
        ],
    )
    run = sp.train(config, out=scratch, progress=False)
    records = sp.read_log(run.path)
    shutil.rmtree(run.path)
    if len(records) != lines + 1:
        raise RuntimeError(f"expected {lines + 1} log lines, got {len(records)}")
    rates = [r["images_per_s"] for r in records[1:]]  # the first line is the warm-up
    return {
        "images_per_s": len(rates) / sum(1 / r for r in rates),  # equal images per line
        "line_rates": rates,
        "warmup_rate": records[0]["images_per_s"],
        "final_d_loss": records[-1]["d_loss"],
        "final_g_loss": records[-1]["g_loss"],
    }


def time_reference(
    images_u8: torch.Tensor, v: Variant, chunk: int, chunks: int, device: str
) -> dict:
    t = run_reference(images_u8, batch_size=v.batch, chunk=chunk, chunks=chunks, device=device)
    return {
        "images_per_s": t.mean_images_per_s,
        "line_rates": [round(r, 1) for r in t.images_per_s],
        "warmup_rate": round(t.warmup_images_per_s, 1),
        "final_d_loss": t.d_loss,
        "final_g_loss": t.g_loss,
    }


# ------------------------------------------------------------------------------ machine


def cpu_model() -> str:
    """The CPU's model name: one reader for the benchmarks and the sweeps' result rows."""
    from saddlepoint.sweep.machine import cpu_model as model

    return model()


def cpu_flags() -> list[str]:
    """The vector-extension flags that decide float32 and bfloat16 matmul speed."""
    wanted = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                have = set(line.split(":", 1)[1].split())
                return [f for f in wanted if f in have]
    except OSError:
        pass
    return []


def busy_cpu_seconds() -> tuple[float, float] | None:
    """(busy CPU-seconds of the whole machine from /proc/stat, CPU-seconds of this process)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    busy = (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    own = os.times()
    return busy, own.user + own.system


def other_share(before, after, wall: float) -> float | None:
    """Share of the machine's CPU time that other processes (and hypervisor steal) took between
    two readings."""
    if before is None or after is None or wall <= 0:
        return None
    other = max(0.0, (after[0] - before[0]) - (after[1] - before[1]))
    return other / (wall * (os.cpu_count() or 1))


def _mkldnn_bf16() -> bool | None:
    """Whether oneDNN finds native bfloat16 support on this CPU (None if torch cannot say)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return None


def machine_info(device: torch.device, threads: int) -> dict:
    info = {
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_flags": cpu_flags(),
        "torch_version": torch.__version__,
        "torch_threads": threads,
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "mkldnn_bf16_supported": _mkldnn_bf16(),
        "python": platform.python_version(),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "device": str(device),
    }
    if device.type == "cuda":
        info.update(
            gpu=torch.cuda.get_device_name(device),
            cuda=torch.version.cuda,
            float32_matmul_precision=torch.get_float32_matmul_precision(),
            allow_tf32=torch.backends.cuda.matmul.allow_tf32,
        )
    return info


# --------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="seconds-long smoke test")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads for everything (default: torch's default)",
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="interleaved rounds (default 3; 1 with --quick)"
    )
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--out", default=None, help="JSON path; the .md is written beside it")
    parser.add_argument(
        "--data-root",
        default=str(MNIST_DIR),
        help=f"folder of the MNIST IDX files (default {MNIST_DIR}); "
        "without them the bundled mnist5k is used",
    )
    args = parser.parse_args()

    if args.threads is not None:
        if args.threads < 1:
            parser.error(f"--threads must be at least 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 3)
    if repeats < 1:
        parser.error(f"--repeats must be at least 1, got {repeats}")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda, but PyTorch sees no CUDA GPU here")
    device = torch.device(args.device)
    if args.out is not None:
        out = Path(args.out)
    elif args.quick:
        out = Path(tempfile.mkdtemp(prefix="throughput-quick-")) / f"throughput-{device.type}.json"
    else:
        out = RESULTS / f"throughput-{device.type}.json"

    wall_start = time.perf_counter()
    cpu_start = busy_cpu_seconds()
    load_start = os.getloadavg()

    # ---- data: the full MNIST if present, else the bundled mnist5k
    root = Path(args.data_root).resolve()
    if any((root / f"train-images-idx3-ubyte{ext}").is_file() for ext in ("", ".gz")):
        data_sets = ["data.name=mnist", f"data.root={root}"]
    else:
        print(f"!! MNIST not found under {root}: using the bundled mnist5k instead")
        data_sets = ["data.name=mnist5k"]
    base = override(
        sp.Config(), [*data_sets, f"train.threads={threads}", f"train.device={device.type}"]
    )
    data = load_dataset(base.data, "train")
    images_u8 = (data.x * 255).round().to(torch.uint8)  # the same images, as a tutorial stores them

    # ---- FLOPs per iteration, from the layer shapes of the nets the loop builds
    G = build_generator(base.model, data.shape, None, "sigmoid")
    D = build_discriminator(base.model, data.shape)
    g_layers, d_layers = linear_shapes(G), linear_shapes(D)
    del G, D
    flops = {
        loop: {
            b: flops_per_iteration(g_layers, d_layers, b, reference=loop == "reference")
            for b in BATCHES
        }
        for loop in ("saddlepoint", "reference")
    }
    print(
        f"data {data.name} ({len(data)} training images); device {device}; torch "
        f"{torch.__version__}, {threads} threads; {os.cpu_count()} CPUs ({cpu_model()})"
    )
    print(f"G layers {g_layers}, D layers {d_layers}")
    for loop, by_batch in flops.items():
        text = ", ".join(f"batch {b}: {f / 1e9:.3f} GFLOP" for b, f in by_batch.items())
        per_image = by_batch[BATCHES[0]] // BATCHES[0]
        print(f"matmul FLOPs per iteration, {loop}: {text} ({per_image:,} per image)")

    # ---- peaks
    if device.type == "cuda":
        sizes = (512, 1024) if args.quick else (2048, 4096, 8192)
    else:
        sizes = (256, 512) if args.quick else (1024, 2048)
    peak_repeats = 2 if args.quick else 3
    bf16_calls = matmul_peak(
        torch.bfloat16, sizes, device, peak_repeats, budget_s=2.0 if args.quick else 12.0
    )
    print(
        "bfloat16 torch.mm GFLOP/s (best sample): "
        + ", ".join(
            f"{k} {max(v):.1f}" if isinstance(v, list) else f"{k} {v}"
            for k, v in bf16_calls.items()
        )
    )
    fp32_calls: dict[str, list] = {}

    # ---- the interleaved rounds
    variants = [
        Variant(loop, b, "float32") for b in BATCHES for loop in ("saddlepoint", "reference")
    ]
    low_precisions = ("bfloat16", "float16") if device.type == "cuda" else ("bfloat16",)
    variants += [Variant("saddlepoint", b, p) for p in low_precisions for b in BATCHES]
    results: dict[str, list[dict]] = {v.name: [] for v in variants}
    scratch = Path(tempfile.mkdtemp(prefix="throughput-runs-"))
    try:
        for r in range(repeats):
            calls = matmul_peak(torch.float32, sizes, device, peak_repeats, budget_s=12.0)
            for key, rates in calls.items():
                if isinstance(rates, list):
                    fp32_calls.setdefault(key, []).extend(rates)
            best = max(max(v) for v in calls.values() if isinstance(v, list))
            print(f"round {r + 1}/{repeats}: float32 torch.mm best {best:.1f} GFLOP/s")
            for v in variants if r % 2 == 0 else variants[::-1]:
                every, lines = schedule(device, v.precision, v.batch, args.quick)
                before, start = busy_cpu_seconds(), time.perf_counter()
                if v.loop == "saddlepoint":
                    m = time_saddlepoint(base, v, every, lines, scratch)
                else:
                    m = time_reference(images_u8, v, every, lines, device.type)
                wall = time.perf_counter() - start
                m.update(
                    round=r + 1,
                    iterations_per_line=every,
                    timed_lines=lines,
                    wall_seconds=round(wall, 2),
                    other_processes_cpu_share=other_share(before, busy_cpu_seconds(), wall),
                )
                results[v.name].append(m)
                share = m["other_processes_cpu_share"]
                print(
                    f"  {v.name:28s} {m['images_per_s']:8.1f} images/s  ({lines} x {every} it"
                    f" timed, {wall:.1f} s wall"
                    + (f", other processes {share:.0%} of the CPUs" if share is not None else "")
                    + ")",
                    flush=True,
                )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    # ---- summary
    fp32_peak = peak_summary(fp32_calls)
    bf16_peak = peak_summary(bf16_calls)
    peak32 = fp32_peak["best_gflops"]
    measurements: dict[str, dict] = {}
    for v in variants:
        reps = results[v.name]
        med = statistics.median(m["images_per_s"] for m in reps)
        useful = flops["saddlepoint"][v.batch] / v.batch * med / 1e9
        executed = flops[v.loop][v.batch] / v.batch * med / 1e9
        entry = {
            "loop": v.loop,
            "batch": v.batch,
            "precision": v.precision,
            "images_per_s_median": med,
            "images_per_s_repeats": [m["images_per_s"] for m in reps],
            "useful_gflops": useful,  # saddlepoint's FLOP count: the work one iteration needs
            "executed_gflops": executed,  # this loop's own FLOP count
            "share_of_float32_peak": useful / peak32,
            "share_of_float32_peak_median": useful / fp32_peak["median_gflops_at_best"],
            "repeats": reps,
        }
        if v.precision != "float32":
            entry["share_of_bfloat16_peak"] = useful / bf16_peak["best_gflops"]
        measurements[v.name] = entry

    def med(loop: str, precision: str, batch: int) -> float:
        return measurements[f"{loop} {precision} b{batch}"]["images_per_s_median"]

    def paired(a: str, b: str) -> list[float]:
        return [x["images_per_s"] / y["images_per_s"] for x, y in zip(results[a], results[b])]

    ratios = {}
    for b in BATCHES:
        sp_name, ref_name = f"saddlepoint float32 b{b}", f"reference float32 b{b}"
        ratios[f"saddlepoint_over_reference_b{b}"] = {
            "ratio_of_medians": med("saddlepoint", "float32", b) / med("reference", "float32", b),
            "paired_by_round": paired(sp_name, ref_name),
        }
        for p in low_precisions:
            ratios[f"{p}_speedup_b{b}"] = {
                "ratio_of_medians": med("saddlepoint", p, b) / med("saddlepoint", "float32", b),
                "paired_by_round": paired(f"saddlepoint {p} b{b}", sp_name),
            }
    vs_ref = ratios["saddlepoint_over_reference_b100"]["ratio_of_medians"]
    bf16_500 = ratios["bfloat16_speedup_b500"]["ratio_of_medians"]
    share_100 = measurements["saddlepoint float32 b100"]["share_of_float32_peak"]

    wall = time.perf_counter() - wall_start
    report = {
        "machine": machine_info(device, threads),
        "settings": {
            "quick": args.quick,
            "repeats": repeats,
            "device": device.type,
            "data": data.name,
            "training_images": len(data),
            "batches": list(BATCHES),
            "matmul_sizes": list(sizes),
            "matmul_samples_per_size_layout_per_round": peak_repeats,
            "peak_method": "best single torch.mm sample over sizes, layouts and rounds "
            "(float32: every round; bfloat16: once at the start)",
            "rate_method": "loop's own images_per_s per log line, first line (warm-up) "
            "discarded, images over summed time of the rest; median over rounds",
            "config": {
                "optimizer": "SGD lr 0.1 momentum 0.5 (the 2014 schedule)",
                "k": 1,
                "reuse_fakes": True,
                "objective": base.objective.name,
            },
        },
        "flops_per_iteration": {
            "g_layers": g_layers,
            "d_layers": d_layers,
            "saddlepoint": flops["saddlepoint"],
            "reference": flops["reference"],
            "formula": flops_per_iteration.__doc__,
        },
        "peak_gflops": {
            "float32": {**fp32_peak, "samples": fp32_calls},
            "bfloat16": {**bf16_peak, "samples": bf16_calls},
        },
        "measurements": measurements,
        "ratios": ratios,
        "targets": {
            "saddlepoint_over_reference_b100_target": TARGET_VS_REFERENCE,
            "saddlepoint_over_reference_b100_met": vs_ref >= TARGET_VS_REFERENCE,
            "bfloat16_speedup_b500_goal": GOAL_BF16_SPEEDUP,
            "bfloat16_speedup_b500_met": bf16_500 >= GOAL_BF16_SPEEDUP,
            "share_of_float32_peak_b100_goal": GOAL_SHARE_B100,
            "share_of_float32_peak_b100_met": share_100 >= GOAL_SHARE_B100,
        },
        "load_average": {"start": load_start[0], "end": os.getloadavg()[0]},
        "other_processes_cpu_share": other_share(cpu_start, busy_cpu_seconds(), wall),
        "wall_seconds": wall,
    }
    markdown = render_markdown(report)
    print()
    print(markdown)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown)
    print(f"wrote {out} and {out.with_suffix('.md')} ({wall:.0f} s)")


def render_markdown(report: dict) -> str:
    mach, peaks, meas = report["machine"], report["peak_gflops"], report["measurements"]
    ratios, settings = report["ratios"], report["settings"]
    p32, p16 = peaks["float32"], peaks["bfloat16"]
    where = mach.get("gpu") or f"{mach['cpu_model']}, {mach['cpu_count']} CPUs"
    lines = [
        f"# Training throughput, 2014 MLP GAN ({settings['device']})",
        "",
        f"{where}; torch {mach['torch_version']}, {mach['torch_threads']} threads; "
        f"{mach['date']}; data {settings['data']}; {settings['repeats']} interleaved rounds, "
        "medians" + (" (QUICK smoke test: not a measurement)" if settings["quick"] else "") + ".",
        "",
        f"Matmul peak (torch.mm, best single product): float32 **{p32['best_gflops']:.1f}** "
        f"GFLOP/s ({p32['best_at']}; median there {p32['median_gflops_at_best']:.1f}); "
        f"bfloat16 **{p16['best_gflops']:.1f}** GFLOP/s ({p16['best_at']}; a @ b: "
        f"{p16['best_nn_gflops']:.1f}).",
        "",
        "FLOPs per iteration (matmuls): saddlepoint "
        + ", ".join(
            f"b{b} {f / 1e9:.3f} G" for b, f in report["flops_per_iteration"]["saddlepoint"].items()
        )
        + "; reference "
        + ", ".join(
            f"b{b} {f / 1e9:.3f} G" for b, f in report["flops_per_iteration"]["reference"].items()
        )
        + ".",
        "",
        "| loop | precision | batch | images/s (median) | range | GFLOP/s | share of fp32 peak "
        "| of its median | x reference | x float32 |",
        "|---|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for m in meas.values():
        reps, batch = m["images_per_s_repeats"], m["batch"]
        vs_ref = vs_32 = ""
        if m["loop"] == "saddlepoint" and m["precision"] == "float32":
            vs_ref = f"{ratios[f'saddlepoint_over_reference_b{batch}']['ratio_of_medians']:.2f}"
        if m["precision"] != "float32":
            key = f"{m['precision']}_speedup_b{batch}"
            vs_32 = f"{ratios[key]['ratio_of_medians']:.2f}"
        gflops = f"{m['useful_gflops']:.1f}"
        if m["loop"] == "reference":
            gflops += f" ({m['executed_gflops']:.1f} executed)"
        lines.append(
            f"| {m['loop']} | {m['precision']} | {m['batch']} | {m['images_per_s_median']:.0f} "
            f"| {min(reps):.0f}-{max(reps):.0f} | {gflops} | "
            f"{m['share_of_float32_peak']:.0%} | "
            f"{m.get('share_of_float32_peak_median', float('nan')):.0%} | {vs_ref} | {vs_32} |"
        )
    t = report["targets"]
    other = report["other_processes_cpu_share"]
    lines += [
        "",
        f"saddlepoint / reference at batch 100: "
        f"{ratios['saddlepoint_over_reference_b100']['ratio_of_medians']:.2f}x (target "
        f"{t['saddlepoint_over_reference_b100_target']}x: "
        f"{'met' if t['saddlepoint_over_reference_b100_met'] else 'not met'}); bfloat16 / "
        f"float32 at batch 500: {ratios['bfloat16_speedup_b500']['ratio_of_medians']:.2f}x (goal "
        f"{t['bfloat16_speedup_b500_goal']}x: "
        f"{'met' if t['bfloat16_speedup_b500_met'] else 'not met'})"
        + (
            "; float32 at batch 100: "
            f"{meas['saddlepoint float32 b100']['share_of_float32_peak']:.0%}"
            f" of the peak (goal {t['share_of_float32_peak_b100_goal']:.0%}: "
            f"{'met' if t['share_of_float32_peak_b100_met'] else 'not met'})."
            if "share_of_float32_peak_b100_goal" in t
            else "."
        ),
        "",
        "Share of fp32 peak: over the best single torch.mm product of the run; 'of its "
        "median': over the median of the samples at that size and layout (the peak a typical "
        "product reaches).",
        "",
        "GFLOP/s counts the matmul work one saddlepoint iteration needs (for the reference too; "
        "its own larger count, with a second G forward and D's weight gradients in the G step, "
        "is in brackets). Images/s is the loop's own log rate, warm-up line discarded; "
        "benchmarks/throughput.py's docstring says how everything is measured."
        + (f" Other processes used {other:.0%} of the CPUs during the run." if other else ""),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
