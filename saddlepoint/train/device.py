"""Where a run computes and in what precision: device selection with fallbacks, autocast, and
the gradient scaler float16 needs.

train.device: "auto" picks CUDA, then Apple's MPS, then the CPU; a device that is asked for
but missing falls back to the CPU with one warning that says so. train.precision defaults to
float32 (on a lent H100, bfloat16 autocast ran the 2014 MLP at 0.84x and DCGAN at 32x32 at
0.82x of float32: these nets are too small for it to pay); "auto" is bfloat16 autocast on
CUDA (no scaler needed: bfloat16 keeps float32's exponent range) and float32 elsewhere;
"float16" autocast needs a GradScaler and CUDA; "bfloat16" on a CPU without bfloat16
instructions is allowed but warned about (0.05x float32 measured on an AVX2 CPU).
"""

from __future__ import annotations

import contextlib
import warnings

import torch

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "float32", "bfloat16", "float16")


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """The torch.device for train.device, falling back to the CPU with a warning."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    if name == "cuda":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        warnings.warn(
            "train.device=cuda but PyTorch sees no CUDA GPU here: training on the CPU instead "
            "(set train.device=cpu to silence this).",
            stacklevel=3,
        )
        return torch.device("cpu")
    if name == "mps":
        if _mps_available():
            return torch.device("mps")
        warnings.warn(
            "train.device=mps but this PyTorch has no usable Apple MPS device: training on the "
            "CPU instead (set train.device=cpu to silence this).",
            stacklevel=3,
        )
        return torch.device("cpu")
    return torch.device("cpu")


def resolve_precision(name: str, device: torch.device) -> str:
    """float32, bfloat16 or float16 for train.precision on this device."""
    if name == "auto":
        return "bfloat16" if device.type == "cuda" else "float32"
    if name == "float16" and device.type != "cuda":
        warnings.warn(
            f"train.precision=float16 needs CUDA; on {device.type} it would be slower and "
            "unscaled: training in float32 instead.",
            stacklevel=3,
        )
        return "float32"
    if name == "bfloat16" and device.type == "cpu" and not cpu_has_native_bfloat16():
        warnings.warn(
            "this CPU has no native bfloat16 arithmetic (no avx512_bf16 or amx_bf16), so "
            "bfloat16 autocast runs far slower than float32 here (0.05x measured on an AVX2 "
            "CPU, benchmarks/results/throughput-cpu.md): consider train.precision=float32.",
            stacklevel=3,
        )
    return name


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """The autocast context for a resolved precision (a no-op for float32)."""
    if precision == "float32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bfloat16" else torch.float16
    return torch.autocast(device.type, dtype=dtype)


def grad_scaler(precision: str, device: torch.device) -> torch.amp.GradScaler | None:
    """A GradScaler for float16 (its small exponent range underflows gradients), else None."""
    if precision != "float16":
        return None
    return torch.amp.GradScaler(device.type)


def cpu_has_native_bfloat16() -> bool:
    """True when the CPU advertises bfloat16 instructions (Linux /proc/cpuinfo flags), or
    when that cannot be read (then no warning is given)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return True
    return any(flag in flags for flag in ("avx512_bf16", "amx_bf16", "bf16"))
