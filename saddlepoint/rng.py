"""The global random generators of a device: the ones code draws from without being handed a
torch.Generator (weight initialisation, dropout masks, torch.rand in a gradient penalty).

On the CPU that is torch's default CPU generator. On a CUDA device, work on CUDA tensors draws
from that device's own default generator (F.dropout, torch.rand(..., device="cuda")), while
weights are still initialised on the CPU; torch.manual_seed seeds both. Saving and restoring a
run's random state, and swapping an ensemble member's stream in and out
(saddlepoint.nets.ensemble.Streams), go through `global_generators(device)`, so neither needs a
branch per device. An MPS device's generator is not kept: ensembles refuse MPS
(saddlepoint.train.ensemble.check_ensemble), and a single run there keeps the CPU's state only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class GlobalGenerator:
    """One global generator: its name in checkpoints and how to read and set its state."""

    name: str  # "cpu" or "cuda": a checkpoint keeps its state under rng_<name>
    get_state: Callable[[], torch.Tensor]  # () -> a uint8 CPU tensor
    set_state: Callable[[torch.Tensor], None]


CPU = GlobalGenerator("cpu", lambda: torch.get_rng_state(), lambda s: torch.set_rng_state(s))


def cuda(device: torch.device) -> GlobalGenerator:
    """CUDA `device`'s default generator (its state: a 16-byte seed and offset)."""
    # torch.cuda looked up at each call, so that tests can stand in a fake of its rng API
    return GlobalGenerator(
        "cuda",
        lambda: torch.cuda.get_rng_state(device),
        lambda s: torch.cuda.set_rng_state(s, device),
    )


def global_generators(device: torch.device) -> tuple[GlobalGenerator, ...]:
    """The global generators whose states a run on `device` keeps: the CPU's, and on CUDA the
    device's own as well."""
    return (CPU, cuda(device)) if device.type == "cuda" else (CPU,)
