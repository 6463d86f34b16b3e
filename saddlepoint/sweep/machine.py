"""What a sweep's result row records about the machine that produced it."""

from __future__ import annotations

import platform
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), else what the platform module says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def environment(device: str) -> dict[str, str | None]:
    """The CPU model, the versions that change numbers, and the GPU when one trained."""
    import torch

    import saddlepoint

    gpu = None
    if device in ("cuda", "auto") and torch.cuda.is_available():
        gpu = torch.cuda.get_device_name(0)
    return {
        "cpu": cpu_model(),
        "gpu": gpu,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "saddlepoint": saddlepoint.__version__,
    }
