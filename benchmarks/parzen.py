"""Benchmark: the Parzen-window evaluation of Goodfellow et al. 2014, fast versus straightforward.

    .venv/bin/python benchmarks/parzen.py [--threads N] [--repeats R] [--out PATH]

Protocol (the paper's, with real images standing in for generator samples): 10,000 MNIST
training images 0-9,999 as the kernel centres, training images 50,000-50,999 as the validation
points that choose sigma among numpy.logspace(-1, 0, 10), and the 10,000 MNIST test images
scored at the chosen sigma; 784-d, pixels in [0, 1]. Real images score the estimator's ceiling.

Measured side by side in one run:
  fast           saddlepoint.evaluate.parzen.evaluate_parzen (float32, distances by one matmul
                 per batch, shared by the 10 sigmas, exponent floor against denormals)
  fast float64   the same in float64
  no floor       the same with the exponent floor removed (float32 exp of denormals)
  logsumexp      the same matmul distances, then torch.logsumexp with no floor
  per sigma      the fast estimator called once per sigma (distances recomputed 10 times)
  straightforward  the original parzen_ll.py written in numpy float32: a (10, M, d) broadcast
                 difference per batch of 10 points, recomputed for every sigma. Only a slice of
                 test points is timed and the time extrapolated to the whole protocol
                 (1,000 x 10 + 10,000 = 20,000 point-sigma evaluations), as stated in the output.
Accuracy: the float32 estimator against a float64 direct-difference reference on a slice.
Writes benchmarks/results/parzen.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from saddlepoint.evaluate import parzen
from saddlepoint.evaluate.parzen import (
    ParzenResult,
    default_sigmas,
    evaluate_parzen,
    parzen_log_likelihood,
)

MNIST_DIR = Path("/work/shared/data/mnist")
NOTES_REAL_IMAGES = {"test_mean": 242.4, "test_std_error": 2.1, "sigma": 0.167}  # reproducing-2014


def read_idx_images(path: Path) -> np.ndarray:
    """(N, 784) float32 in [0, 1] from an IDX3 gz file (magic 2051, then N, rows, cols)."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic, n, rows, cols = np.frombuffer(raw, dtype=">i4", count=4)
    assert magic == 2051, f"{path} is not an IDX image file"
    pixels = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, rows * cols)
    return pixels.astype(np.float32) / 255.0


def load_data() -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    train_path = MNIST_DIR / "train-images-idx3-ubyte.gz"
    test_path = MNIST_DIR / "t10k-images-idx3-ubyte.gz"
    if train_path.is_file() and test_path.is_file():
        train, test = read_idx_images(train_path), read_idx_images(test_path)
        return "mnist", train[:10_000], train[50_000:51_000], test[:10_000]
    print(
        f"!! MNIST not found under {MNIST_DIR}: using uniform random data in [0, 1] instead;"
        " the timings still hold, the log-likelihoods mean nothing."
    )
    rng = np.random.default_rng(0)
    return ("random-uniform",) + tuple(
        rng.random((n, 784), dtype=np.float32) for n in (10_000, 1_000, 10_000)
    )


# ------------------------------------------------------------------------------------------------
# Comparison implementations (not library code).


def straightforward_ll(x: np.ndarray, mu: np.ndarray, sigma: float, dtype=np.float32) -> np.ndarray:
    """parzen_ll.py's theano_parzen in numpy: broadcast (B, M, d) difference, then log-mean-exp."""
    x, mu = x.astype(dtype), mu.astype(dtype)
    a = (x[:, None, :] - mu[None, :, :]) / dtype(sigma)  # (B, M, d)
    e = -0.5 * (a**2).sum(axis=2)  # (B, M)
    top = e.max(axis=1)
    log_mean = top + np.log(np.exp(e - top[:, None]).mean(axis=1))
    z = mu.shape[1] * np.log(sigma * np.sqrt(np.pi * 2))
    return log_mean - z


def straightforward_batches(x: np.ndarray, mu: np.ndarray, sigma: float, batch: int) -> np.ndarray:
    return np.concatenate(
        [straightforward_ll(x[i : i + batch], mu, sigma) for i in range(0, len(x), batch)]
    )


def logsumexp_ll(x: torch.Tensor, mu: torch.Tensor, sigmas, batch: int) -> torch.Tensor:
    """Plain torch: matmul distances shared by the sigmas, then torch.logsumexp, no floor."""
    m, d = mu.shape
    mu_sq = (mu * mu).sum(1)
    out = torch.empty(len(sigmas), len(x), dtype=torch.float64)
    for start in range(0, len(x), batch):
        xb = x[start : start + batch]
        dist = torch.addmm(mu_sq[None], xb, mu.T, alpha=-2.0) + (xb * xb).sum(1, keepdim=True)
        dist.clamp_(min=0.0)  # (B, M)
        for i, s in enumerate(sigmas):
            lse = torch.logsumexp(dist * (-0.5 / (s * s)), dim=1).double()
            log_const = -math.log(m) - d * math.log(s * math.sqrt(2 * math.pi))
            out[i, start : start + batch] = lse + log_const
    return out


def logsumexp_protocol(samples, valid, test, sigmas, batch) -> float:
    valid_ll = logsumexp_ll(valid, samples, sigmas, batch).mean(1)
    best = sigmas[int(torch.argmax(valid_ll))]
    return float(logsumexp_ll(test, samples, [best], batch).mean())


def per_sigma_protocol(samples, valid, test, sigmas) -> float:
    means = [float(parzen_log_likelihood(valid, samples, s).mean()) for s in sigmas]
    best = sigmas[int(np.argmax(means))]
    return float(parzen_log_likelihood(test, samples, best).mean())


def cpu_seconds() -> tuple[float, float] | None:
    """(busy CPU-seconds of the whole machine from /proc/stat, CPU-seconds of this process)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    busy = (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    own = os.times()
    return busy, own.user + own.system


def timed(fn, repeats: int = 1):
    """(result of the last call, min seconds, all seconds)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return result, min(times), times


# ------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: keep)")
    parser.add_argument("--repeats", type=int, default=3, help="timing rounds (min is kept)")
    parser.add_argument("--slice", type=int, default=100, help="test points, straightforward")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "parzen.json"))
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    load_start = os.getloadavg()
    cpu_start = cpu_seconds()
    wall_start = time.perf_counter()
    source, samples_np, valid_np, test_np = load_data()
    samples, valid, test = (torch.from_numpy(a) for a in (samples_np, valid_np, test_np))
    sigmas = default_sigmas()
    n_evals = len(valid) * len(sigmas) + len(test)  # point-sigma evaluations in the protocol
    print(
        f"data: {source}; samples {tuple(samples.shape)}, valid {tuple(valid.shape)}, "
        f"test {tuple(test.shape)}; {len(sigmas)} sigmas; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, {os.cpu_count()} CPUs, load {load_start[0]:.2f}"
    )

    times: dict[str, float] = {}
    notes: dict[str, str] = {}

    # (a) the fast estimator and its ablations, each over the whole protocol. The variants run
    # interleaved, round after round, and each keeps its fastest round, so that a burst of load
    # from other processes does not fall on one variant only.
    def no_floor_protocol() -> ParzenResult:
        floor = parzen.EXPONENT_FLOOR
        parzen.EXPONENT_FLOOR = float("-inf")  # read at call time: the clamp becomes a no-op
        try:
            return evaluate_parzen(samples, valid, test, sigmas)
        finally:
            parzen.EXPONENT_FLOOR = floor

    variants = {
        "fast": lambda: evaluate_parzen(samples, valid, test, sigmas),
        "fast_float64": lambda: evaluate_parzen(samples, valid, test, sigmas, dtype=torch.float64),
        "fast_no_floor": no_floor_protocol,
        "torch_logsumexp": lambda: logsumexp_protocol(samples, valid, test, sigmas, 1024),
        "fast_per_sigma": lambda: per_sigma_protocol(samples, valid, test, sigmas),
    }
    descriptions = {
        "fast": "whole protocol, float32",
        "fast_float64": "whole protocol with dtype=torch.float64",
        "fast_no_floor": "whole protocol, exponent floor removed (denormal exp)",
        "torch_logsumexp": "whole protocol, matmul distances then torch.logsumexp, no floor",
        "fast_per_sigma": "whole protocol, distances recomputed for each sigma",
    }
    outputs: dict[str, object] = {}
    rounds: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, fn in variants.items():
            outputs[name], _, seconds = timed(fn)
            rounds[name] += seconds
    for name in variants:
        times[name] = min(rounds[name])
        runs = ", ".join(f"{t:.2f}" for t in rounds[name])
        notes[name] = f"{descriptions[name]}; min of {args.repeats} rounds: {runs}"
    result, res64, no_floor = outputs["fast"], outputs["fast_float64"], outputs["fast_no_floor"]
    lse_mean, per_sigma_mean = outputs["torch_logsumexp"], outputs["fast_per_sigma"]
    print(
        f"fast: sigma {result.sigma:.4f}, test LL {result.test_mean:.2f} +/- "
        f"{result.test_std_error:.2f}; {times['fast']:.2f} s"
    )
    print(
        f"ablations: float64 {times['fast_float64']:.2f} s, no floor {times['fast_no_floor']:.2f}"
        f" s, torch.logsumexp {times['torch_logsumexp']:.2f} s, per sigma "
        f"{times['fast_per_sigma']:.2f} s"
    )

    # (b) the straightforward original, on a slice, extrapolated.
    x_slice = test_np[: args.slice]
    sf_ll, sf_seconds, _ = timed(
        lambda: straightforward_batches(x_slice, samples_np, result.sigma, batch=10), 3
    )
    times["straightforward_extrapolated"] = sf_seconds / args.slice * n_evals
    notes["straightforward_extrapolated"] = (
        f"numpy float32 broadcast (10, {len(samples)}, 784), batches of 10: {args.slice} test"
        f" points for one sigma took {sf_seconds:.2f} s (min of 3), x {n_evals} / {args.slice}"
    )
    fast_slice = parzen_log_likelihood(test[: args.slice], samples, result.sigma).numpy()
    sf_vs_fast = float(np.abs(sf_ll - fast_slice).max())
    print(
        f"straightforward: {args.slice} points x 1 sigma in {sf_seconds:.2f} s -> "
        f"extrapolated {times['straightforward_extrapolated']:.0f} s for {n_evals} evaluations; "
        f"max |difference| from fast on the slice {sf_vs_fast:.2e}"
    )

    # Accuracy: float32 estimator vs float64 direct differences (no expansion) on a slice.
    n_acc = 200
    x64, mu64 = test[:n_acc].double(), samples.double()
    sq = torch.stack([((x64[i : i + 1] - mu64) ** 2).sum(1) for i in range(n_acc)])  # (n, M)
    ref = torch.stack(
        [
            torch.logsumexp(-sq / (2 * s * s), dim=1)
            - math.log(len(samples))
            - samples.shape[1] * math.log(s * math.sqrt(2 * math.pi))
            for s in sigmas
        ]
    )  # (S, n)
    got = parzen_log_likelihood(test[:n_acc], samples, sigmas)
    err = (got - ref).abs()
    big = ref.abs() > 1
    accuracy = {
        "reference": f"float64 direct differences and torch.logsumexp, {n_acc} test points x "
        f"{len(sigmas)} sigmas",
        "max_abs_error_nats": float(err.max()),
        "max_rel_error_where_abs_ll_gt_1": float((err[big] / ref.abs()[big]).max()),
        "max_abs_error_of_mean_nats": float((got.mean(1) - ref.mean(1)).abs().max()),
        "max_abs_error_at_chosen_sigma": float(err[sigmas.index(result.sigma)].max()),
    }
    print(
        f"float32 accuracy: max |error| {accuracy['max_abs_error_nats']:.1e} nats per point, "
        f"max relative {accuracy['max_rel_error_where_abs_ll_gt_1']:.1e} (|LL| > 1), "
        f"error of a mean {accuracy['max_abs_error_of_mean_nats']:.1e} nats"
    )

    ratios = {
        "straightforward_over_fast": times["straightforward_extrapolated"] / times["fast"],
        "no_floor_over_fast": times["fast_no_floor"] / times["fast"],
        "torch_logsumexp_over_fast": times["torch_logsumexp"] / times["fast"],
        "per_sigma_over_fast": times["fast_per_sigma"] / times["fast"],
        "float64_over_fast": times["fast_float64"] / times["fast"],
    }
    load_end = os.getloadavg()
    # CPU time other processes took while this ran: they slow every measurement here alike.
    cpu_end, wall = cpu_seconds(), time.perf_counter() - wall_start
    other_cpu = None
    if cpu_start is not None and cpu_end is not None:
        other_cpu = max(0.0, (cpu_end[0] - cpu_start[0]) - (cpu_end[1] - cpu_start[1]))

    print()
    print(f"{'implementation':<32}{'seconds':>10}{'x fast':>10}")
    for key, ratio_key in [
        ("fast", None),
        ("fast_float64", "float64_over_fast"),
        ("fast_no_floor", "no_floor_over_fast"),
        ("torch_logsumexp", "torch_logsumexp_over_fast"),
        ("fast_per_sigma", "per_sigma_over_fast"),
        ("straightforward_extrapolated", "straightforward_over_fast"),
    ]:
        ratio = 1.0 if ratio_key is None else ratios[ratio_key]
        print(f"{key:<32}{times[key]:>10.2f}{ratio:>10.1f}")
    print()
    print(
        f"headline: fast is {ratios['straightforward_over_fast']:.0f}x the straightforward "
        f"implementation (extrapolated); the exponent floor is worth "
        f"{ratios['no_floor_over_fast']:.1f}x, sharing distances across sigmas "
        f"{ratios['per_sigma_over_fast']:.1f}x"
    )
    print(
        f"real-image LL: {result.test_mean:.1f} +/- {result.test_std_error:.1f} at sigma "
        f"{result.sigma:.3f}; notes/reproducing-2014.md: {NOTES_REAL_IMAGES['test_mean']} +/- "
        f"{NOTES_REAL_IMAGES['test_std_error']} at sigma {NOTES_REAL_IMAGES['sigma']}"
    )
    if other_cpu is not None:
        share = other_cpu / (wall * (os.cpu_count() or 1))
        print(
            f"other processes used {other_cpu:.1f} CPU-seconds during this {wall:.0f} s run "
            f"({share:.0%} of the machine)"
            + ("; absolute times are inflated, ratios less so" if share > 0.1 else "")
        )
    report = {
        "machine": {
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "torch_version": torch.__version__,
            "numpy_version": np.__version__,
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            "load_average_start": load_start[0],
            "load_average_end": load_end[0],
            "other_processes_cpu_seconds": other_cpu,
            "benchmark_wall_seconds": wall,
        },
        "inputs": {
            "source": source,
            "samples": "MNIST train[0:10000]" if source == "mnist" else "random",
            "valid": "MNIST train[50000:51000]" if source == "mnist" else "random",
            "test": "MNIST t10k[0:10000]" if source == "mnist" else "random",
            "n_samples": len(samples),
            "n_valid": len(valid),
            "n_test": len(test),
            "dim": samples.shape[1],
            "sigmas": list(sigmas),
            "point_sigma_evaluations": n_evals,
        },
        "seconds": times,
        "notes": notes,
        "ratios": ratios,
        "result": result.to_dict(),
        "consistency": {
            "float64_test_mean": res64.test_mean,
            "float64_sigma": res64.sigma,
            "no_floor_test_mean": no_floor.test_mean,
            "torch_logsumexp_test_mean": lse_mean,
            "per_sigma_test_mean": per_sigma_mean,
            "straightforward_max_abs_difference_on_slice": sf_vs_fast,
        },
        "accuracy_float32": accuracy,
        "reference_notes": {"real_images": NOTES_REAL_IMAGES},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
