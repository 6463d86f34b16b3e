"""Benchmark: DCGAN training throughput at 32x32 on the CPU (or a CUDA GPU), against the same
machine's float32 matmul peak, in float32, channels-last and bfloat16 autocast.

    .venv/bin/python benchmarks/dcgan.py [--quick] [--threads 1,2] [--batch 64] [--rounds 3]
                                         [--device cpu|cuda] [--out PATH]

The model is the registered `dcgan` pair at 3x32x32 with the paper's widths (ngf = ndf = 64,
z of 100): G 100 -> 256@4x4 -> 128@8x8 -> 64@16x16 -> 3@32x32, D 3@32 -> 64@16 -> 128@8 ->
256@4 -> 1, Adam(2e-4, beta1 0.5), the non-saturating objective, k = 1, batch 64. Data are
random images in [-1, 1] (the throughput does not depend on the pixels).

Variants, each timed through the loop's own `train.steps.d_step` / `g_step` (batch-norm D:
real and fake in separate passes; the G step reuses the D step's G(z), as the loop does):

  float32         the default
  channels_last   both nets and the data in torch.channels_last memory format (NHWC), which
                  oneDNN's convolutions prefer on x86
  bfloat16        torch.autocast("cpu", bfloat16) around the forward passes (train.precision)
  loop float32    the real loop, `saddlepoint.train(config)`, on a folder of random 32x32 PNGs,
                  its rate read from its own log.jsonl (warm-up line dropped): checks that the
                  step-level numbers are what a user gets
  loop channels_last  the same with train.channels_last=true

at 1 and 2 threads. With --device cuda: one thread count (torch's default), the float32 peak
on CUDA sizes (2048-8192, TF32 off as torch's default), and one more variant, float16
autocast with a GradScaler per optimiser (train.precision=float16).

Every round runs each variant once, in turn (reversed in odd rounds), and
measures the float32 torch.mm peak (square 1024 and 2048, best single product; 2 n^3 FLOPs)
at each thread count; reported numbers are medians over rounds, peaks the best product.

FLOPs per iteration are counted exactly from the layer shapes (forward hooks on one example):
a convolution costs 2 * output elements * C_in * k^2 multiply-adds per example, a transposed
convolution 2 * input elements * C_out * k^2 (what its col2im implementation computes,
including the products that land in the cropped border), a linear layer 2 * in * out. Batch
norm, activations and biases are not counted. One iteration of m images:

  D step  G forward m F_G; D forward on real and fake 2m F_D; D backward 2m F_D (weight
          gradients) + 2m (F_D - F_D1) (input gradients, none needed at D's first layer)
  G step  D forward m F_D; D backward, input gradients only (D frozen) m F_D;
          G backward m F_G (weights) + m (F_G - F_G1) (inputs, none at G's first layer)
  total   m (3 F_G - F_G1 + 8 F_D - 2 F_D1)

i.e. forward plus twice forward for each backward, less the input gradients nobody needs.
Writes benchmarks/results/dcgan-cpu.json (dcgan-cuda.json) and a markdown table beside it
(.md); --quick (a seconds-long smoke test of every path) writes to a temporary folder unless
--out is given.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))  # throughput.py

from throughput import (  # noqa: E402
    busy_cpu_seconds,
    cpu_flags,
    cpu_model,
    matmul_peak,
    other_share,
    peak_summary,
    time_real_loop,
)

from saddlepoint.config import Config, DataConfig, ModelConfig, OptimConfig, override  # noqa: E402
from saddlepoint.nets import build_discriminator, build_generator  # noqa: E402
from saddlepoint.objectives import OBJECTIVES  # noqa: E402
from saddlepoint.train.optim import build_optimizer  # noqa: E402
from saddlepoint.train.steps import d_step, g_step  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SHAPE = (3, 32, 32)
MODEL = ModelConfig(generator="dcgan", discriminator="dcgan", z_dim=100)  # ngf = ndf = 64
ADAM = OptimConfig(name="adam", lr=2e-4, lr_decay=1.0, betas=(0.5, 0.999))
STEP_VARIANTS = ("float32", "channels_last", "bfloat16")
CUDA_STEP_VARIANTS = (*STEP_VARIANTS, "float16")


# ------------------------------------------------------------------------------------ FLOPs


def layer_flops(module: nn.Module, example: torch.Tensor) -> list[int]:
    """Forward FLOPs of one example through each conv / transposed conv / linear layer, in
    the order they run (see the module docstring for the formulas)."""
    flops: list[int] = []

    def hook(m: nn.Module, inputs, output) -> None:
        if isinstance(m, nn.Conv2d):
            k = math.prod(m.kernel_size)
            flops.append(2 * output[0].numel() * (m.in_channels // m.groups) * k)
        elif isinstance(m, nn.ConvTranspose2d):
            k = math.prod(m.kernel_size)
            flops.append(2 * inputs[0][0].numel() * (m.out_channels // m.groups) * k)
        elif isinstance(m, nn.Linear):
            flops.append(2 * m.in_features * m.out_features)

    handles = [m.register_forward_hook(hook) for m in module.modules()]
    was_training = module.training
    module.eval()  # batch norm on one example
    try:
        with torch.no_grad():
            module(example)
    finally:
        module.train(was_training)
        for h in handles:
            h.remove()
    return flops


def flops_per_image(g_layers: list[int], d_layers: list[int]) -> int:
    """FLOPs of one training iteration per image: 3 F_G - F_G1 + 8 F_D - 2 F_D1."""
    fg, fd = sum(g_layers), sum(d_layers)
    return 3 * fg - g_layers[0] + 8 * fd - 2 * d_layers[0]


# ------------------------------------------------------------------------------ timing


def time_steps(
    variant: str, batch: int, iterations: int, warmup: int, device: torch.device
) -> dict:
    """images/s of `iterations` d_step + g_step pairs after `warmup` untimed ones."""
    torch.manual_seed(0)
    G = build_generator(MODEL, SHAPE).to(device)
    D = build_discriminator(MODEL, SHAPE).to(device)
    real = torch.rand(batch * 4, *SHAPE, device=device) * 2 - 1  # a few random "minibatches"
    if variant == "channels_last":
        G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
        real = real.contiguous(memory_format=torch.channels_last)
    low = {"bfloat16": torch.bfloat16, "float16": torch.float16}.get(variant)
    autocast = (
        torch.autocast(device.type, dtype=low) if low is not None else contextlib.nullcontext()
    )
    scaler_d = scaler_g = None
    if variant == "float16":  # as the loop does: one scaler per optimiser
        scaler_d, scaler_g = torch.amp.GradScaler(device.type), torch.amp.GradScaler(device.type)
    opt_g, opt_d = build_optimizer(G.parameters(), ADAM), build_optimizer(D.parameters(), ADAM)
    objective = OBJECTIVES.get("non_saturating")
    noise = torch.Generator(device).manual_seed(1)
    seconds = []
    for i in range(warmup + iterations):
        start = time.perf_counter()
        x = real[(i % 4) * batch : (i % 4 + 1) * batch]
        z = G.sample_z(batch, noise)
        with autocast:
            fake = G(z)
        d = d_step(
            D,
            opt_d,
            objective,
            real=x,
            fake=fake.detach(),
            autocast=autocast,
            separate=True,
            scaler=scaler_d,
        )
        g = g_step(D, opt_g, objective, fake=fake, autocast=autocast, scaler=scaler_g)
        float(g.loss)  # wait for the work (synchronises CUDA; cheap on the CPU)
        if i >= warmup:
            seconds.append(time.perf_counter() - start)
    assert math.isfinite(float(d.loss)), f"{variant}: D loss not finite"
    return {"images_per_s": batch * len(seconds) / sum(seconds), "seconds": seconds}


def random_image_folder(path: Path, count: int) -> Path:
    """`count` random 32x32 RGB PNGs (a folder:PATH dataset for the real loop)."""
    path.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        pixels = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(path / f"{i:05d}.png")
    return path


def time_loop(
    folder: Path,
    batch: int,
    threads: int,
    lines: int,
    every: int,
    scratch: Path,
    device: torch.device,
    channels_last: bool = False,
):
    """images/s of the real loop on `folder`, from its log (the first line is a warm-up)."""
    config = override(
        Config(
            model=MODEL,
            data=DataConfig(name=f"folder:{folder}", image_size=32, channels=3),
            optim_d=ADAM,
            optim_g=ADAM,
        ),
        [
            f"train.batch_size={batch}",
            f"train.threads={threads}",
            f"train.device={device.type}",
            f"train.channels_last={channels_last}",
            "train.precision=float32",
            "train.grid_size=4",
        ],
    )
    return time_real_loop(config, every, lines, scratch)


# --------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="seconds-long smoke test")
    parser.add_argument("--threads", default="1,2", help="thread counts to compare (default 1,2)")
    parser.add_argument(
        "--batch", type=int, default=None, help="minibatch size (default 64; 8 with --quick)"
    )
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 3; 1 quick)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--out", default=None, help="JSON path; the .md is written beside it")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda, but PyTorch sees no CUDA GPU here")
    cuda = device.type == "cuda"
    threads_list = [torch.get_num_threads()] if cuda else [int(t) for t in args.threads.split(",")]
    step_variants = CUDA_STEP_VARIANTS if cuda else STEP_VARIANTS
    rounds = args.rounds or (1 if args.quick else 3)
    batch = args.batch or (8 if args.quick else 64)
    if args.out is not None:
        out = Path(args.out)
    elif args.quick:
        out = Path(tempfile.mkdtemp(prefix="dcgan-quick-")) / f"dcgan-{device.type}.json"
    else:
        out = RESULTS / f"dcgan-{device.type}.json"
    # iterations timed per measurement (float32 ~0.3-0.6 s per iteration of 64 on this CPU;
    # bfloat16 without native instructions far slower, so fewer)
    plan = {"float32": (1, 6), "channels_last": (1, 6), "bfloat16": (1, 1)}
    lines, every = (2, 3) if not args.quick else (1, 1)
    if cuda:  # ~1-3 ms per iteration: many more, and warm-ups for cuDNN's choices
        plan = {v: (20, 200) for v in step_variants}
        lines, every = 2, 200
    if args.quick:
        plan = {v: (1, 1) for v in plan}

    G, D = build_generator(MODEL, SHAPE), build_discriminator(MODEL, SHAPE)
    g_layers = layer_flops(G, torch.zeros(1, MODEL.z_dim))
    d_layers = layer_flops(D, torch.zeros(1, *SHAPE))
    per_image = flops_per_image(g_layers, d_layers)
    print(f"G layer FLOPs {g_layers}\nD layer FLOPs {d_layers}")
    print(f"FLOPs per image per iteration: {per_image / 1e6:.1f} M; batch {batch}")

    load_start, wall_start, cpu_start = os.getloadavg(), time.perf_counter(), busy_cpu_seconds()
    scratch = Path(tempfile.mkdtemp(prefix="dcgan-bench-"))
    folder = random_image_folder(scratch / "images", max(4 * batch, 20) * 5 // 4)
    loops = ("loop", "loop_channels_last")
    names = [f"{v} t{t}" for t in threads_list for v in (*step_variants, *loops)]
    results: dict[str, list[dict]] = {n: [] for n in names}
    peaks: dict[int, dict[str, list]] = {t: {} for t in threads_list}
    if cuda:
        peak_sizes = (512, 1024) if args.quick else (2048, 4096, 8192)
    else:
        peak_sizes = (256, 512) if args.quick else (1024, 2048)
    bf16_peak = {}  # once per thread count, before the rounds
    for t in threads_list:
        torch.set_num_threads(t)
        calls = matmul_peak(torch.bfloat16, peak_sizes, device, 3, budget_s=12.0)
        bf16_peak[t] = peak_summary(calls)
    try:
        for r in range(rounds):
            order = names if r % 2 == 0 else names[::-1]
            for t in threads_list:
                torch.set_num_threads(t)
                calls = matmul_peak(torch.float32, peak_sizes, device, 3, budget_s=12.0)
                for key, rates in calls.items():
                    if isinstance(rates, list):
                        peaks[t].setdefault(key, []).extend(rates)
            for name in order:
                variant, t = name.rsplit(" t", 1)
                t = int(t)
                torch.set_num_threads(t)
                before, start = busy_cpu_seconds(), time.perf_counter()
                if variant in loops:
                    cl = variant == "loop_channels_last"
                    m = time_loop(folder, batch, t, lines, every, scratch, device, cl)
                else:
                    warmup, iterations = plan[variant]
                    m = time_steps(variant, batch, iterations, warmup, device)
                wall = time.perf_counter() - start
                m["other_processes_cpu_share"] = other_share(before, busy_cpu_seconds(), wall)
                m["load_average_1min_after"] = os.getloadavg()[0]
                results[name].append(m)
                share = m["other_processes_cpu_share"]
                print(
                    f"round {r + 1}: {name:18s} {m['images_per_s']:7.1f} images/s "
                    f"({wall:.1f} s wall, other processes {share:.0%} of the CPUs, "
                    f"load {m['load_average_1min_after']:.1f})",
                    flush=True,
                )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    summary = {}
    peak_by_threads = {t: peak_summary(peaks[t]) for t in threads_list}
    for name in names:
        variant, t = name.rsplit(" t", 1)
        t = int(t)
        rates = [m["images_per_s"] for m in results[name]]
        med = statistics.median(rates)
        gflops = per_image * med / 1e9
        peak = peak_by_threads[t]["best_gflops"]
        base = statistics.median(m["images_per_s"] for m in results[f"float32 t{t}"])
        summary[name] = {
            "variant": variant,
            "threads": t,
            "images_per_s_median": med,
            "images_per_s_rounds": rates,
            "gflops": gflops,
            "share_of_float32_peak": gflops / peak,
            "share_of_float32_peak_median": gflops / peak_by_threads[t]["median_gflops_at_best"],
            "share_of_bfloat16_peak": gflops / bf16_peak[t]["best_gflops"],
            "x_float32_steps": med / base,
            "other_processes_cpu_share": [m["other_processes_cpu_share"] for m in results[name]],
        }
    wall = time.perf_counter() - wall_start
    record = {
        "benchmark": "DCGAN 3x32x32 training throughput (benchmarks/dcgan.py)",
        "machine": {
            "device": device.type,
            "gpu": torch.cuda.get_device_name(device) if cuda else None,
            "cpu_model": cpu_model(),
            "cpu_count": os.cpu_count(),
            "cpu_flags": cpu_flags(),
            "torch_version": torch.__version__,
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "load_average_before": load_start,
            "load_average_after": os.getloadavg(),
            "other_processes_cpu_share": other_share(cpu_start, busy_cpu_seconds(), wall),
        },
        "batch": batch,
        "rounds": rounds,
        "flops": {"g_layers": g_layers, "d_layers": d_layers, "per_image": per_image},
        "float32_matmul_peak": {str(t): peak_by_threads[t] for t in threads_list},
        "bfloat16_matmul_peak": {str(t): bf16_peak[t] for t in threads_list},
        "results": summary,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(record))
    print(out.with_suffix(".md").read_text())
    print(f"wrote {out} and {out.with_suffix('.md')}")


def _rounded(values) -> tuple:
    return tuple(round(v, 2) for v in values)


def markdown(record: dict) -> str:
    mach = record["machine"]
    where = f"{mach['cpu_model']}, {mach['cpu_count']} CPUs ({', '.join(mach['cpu_flags'])})"
    if mach.get("gpu"):
        where = f"{mach['gpu']} (host: {where})"
    bf16 = record.get("bfloat16_matmul_peak")
    lines = [
        f"# DCGAN training throughput, 3x32x32 ({mach.get('device', 'cpu')})",
        "",
        f"{where}; "
        f"torch {mach['torch_version']}; {mach['date']}; batch {record['batch']}; "
        f"{record['rounds']} interleaved rounds, medians.",
        "",
        f"Load average (1, 5, 15 min) before {_rounded(mach['load_average_before'])}, after "
        f"{_rounded(mach['load_average_after'])}; other processes "
        f"used {mach['other_processes_cpu_share']:.0%} of the CPUs during the run.",
        "",
        "Float32 torch.mm peak (best single product): "
        + "; ".join(
            f"{t} thread{'s' if t != '1' else ''} **{p['best_gflops']:.1f}** GFLOP/s "
            f"({p['best_at']})"
            for t, p in record["float32_matmul_peak"].items()
        )
        + "."
        + (
            " bfloat16 peak (best product): "
            + "; ".join(
                f"{t} thread{'s' if t != '1' else ''} **{p['best_gflops']:.1f}** GFLOP/s "
                f"({p['best_at']})"
                for t, p in bf16.items()
            )
            + "."
            if bf16 and "best_gflops" not in bf16  # older records held one peak
            else ""
        ),
        "",
        f"FLOPs per image per iteration (convolutions and linear layers, counted from the "
        f"shapes): {record['flops']['per_image'] / 1e6:.1f} M.",
        "",
        "| variant | threads | images/s (median) | rounds | GFLOP/s | share of fp32 peak "
        "| of its median | x float32 |",
        "|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in record["results"].values():
        rounds = ", ".join(f"{v:.1f}" for v in r["images_per_s_rounds"])
        name = {"loop": "loop (float32)", "loop_channels_last": "loop (channels_last)"}.get(
            r["variant"], r["variant"]
        )
        lines.append(
            f"| {name} | {r['threads']} | {r['images_per_s_median']:.1f} | {rounds} | "
            f"{r['gflops']:.1f} | {r['share_of_float32_peak']:.0%} | "
            f"{r.get('share_of_float32_peak_median', float('nan')):.0%} | "
            f"{r['x_float32_steps']:.2f} |"
        )
    lines += [
        "",
        "Share of fp32 peak: over the best single product; 'of its median': over the median "
        "of the samples at that size and layout.",
    ]
    lines += ["", "Per-round ratios to float32 (same round, same thread count):", ""]
    results = record["results"]
    for t in sorted({r["threads"] for r in results.values()}):
        base = results[f"float32 t{t}"]["images_per_s_rounds"]
        for variant in ("channels_last", "bfloat16", "float16", "loop", "loop_channels_last"):
            if f"{variant} t{t}" not in results:
                continue
            rates = results[f"{variant} t{t}"]["images_per_s_rounds"]
            ratios = ", ".join(f"{a / b:.2f}" for a, b in zip(rates, base))
            lines.append(f"- {variant}, {t} thread{'s' if t > 1 else ''}: {ratios}")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
