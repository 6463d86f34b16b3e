"""Data-parallel training with torch.distributed, started by torchrun; one process is the same code.

    torchrun --nproc_per_node=2 -m saddlepoint train --preset demo

Thin by design (EDM's torch_utils/distributed.py, nanoGPT): read torchrun's environment, open a
process group (gloo on CPU, NCCL on CUDA), and give the loop five things:

- `rank`, `world_size`, `is_main`: only rank 0 writes logs, grids, snapshots and checkpoints.
- shards: every rank draws the same global minibatch of m * world_size indices and noise
  vectors and keeps its own slice of m, so N ranks with train.batch_size=m train exactly what
  one process with batch m * N would (up to dropout masks and float summation order).
  `train.batch_size` is therefore the per-rank batch; the global batch is m * world_size.
- `wrap_generator` / `wrap_discriminator`: DistributedDataParallel, whose backward averages
  gradients across ranks. Algorithm 1 needs care here: the G step pushes gradients through D
  with D's weights frozen, so it must call the *unwrapped* D (a DDP forward would wait for D
  gradients that never come); the D step calls the wrapped D, and G's forward inside the D
  step runs without gradients, so only the G step's backward synchronises G.
- `mean`: logged scalars averaged over ranks; `gather`: per-rank RNG states for checkpoints;
  `any`: a stop decision (time limit) taken together.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from saddlepoint.errors import SaddlepointError


@dataclass(frozen=True)
class Context:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    def shard(self, global_batch: torch.Tensor) -> torch.Tensor:
        """This rank's slice of a tensor whose first dimension is m * world_size."""
        if not self.enabled:
            return global_batch
        m = global_batch.shape[0] // self.world_size
        return global_batch[self.rank * m : (self.rank + 1) * m]

    def mean(self, values: torch.Tensor) -> torch.Tensor:
        """Element-wise mean over ranks (values as on this rank when not distributed)."""
        if not self.enabled:
            return values
        values = values.clone()
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
        return values / self.world_size

    def any(self, flag: bool, device: torch.device) -> bool:
        """True on every rank when it is true on any rank."""
        if not self.enabled:
            return flag
        t = torch.tensor([1.0 if flag else 0.0], device=device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item() > 0)

    def gather(self, obj: object) -> list:
        """[obj of rank 0, obj of rank 1, ...] on every rank."""
        if not self.enabled:
            return [obj]
        out: list = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def broadcast(self, obj: object) -> object:
        """Rank 0's obj, on every rank."""
        if not self.enabled:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]


def under_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def setup(device_type: str) -> Context:
    """Join the process group torchrun describes (or return the one-process context)."""
    if not under_torchrun():
        return Context()
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local = int(os.environ.get("LOCAL_RANK", rank))
    if world == 1:
        return Context(rank, world, local)
    if not dist.is_initialized():
        backend = "nccl" if device_type == "cuda" else "gloo"
        if device_type == "cuda":
            torch.cuda.set_device(local)
        try:
            dist.init_process_group(backend)
        except (RuntimeError, ValueError) as err:
            raise SaddlepointError(
                f"could not join torchrun's process group with {backend} ({err}); check "
                "MASTER_ADDR/MASTER_PORT and that every rank was started."
            ) from None
    return Context(rank, world, local)


def teardown(ctx: Context) -> None:
    if ctx.enabled and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


class _Dispatch(nn.Module):
    """Lets DDP carry `heads` too: forward(x, y, heads=True) returns D.heads(x, y)."""

    def __init__(self, D: nn.Module) -> None:
        super().__init__()
        self.D = D

    def forward(self, x, y=None, heads: bool = False):
        if heads:
            return self.D.heads(x) if y is None else self.D.heads(x, y)
        return self.D(x) if y is None else self.D(x, y)


class _DiscriminatorDDP(DistributedDataParallel):
    def heads(self, x, y=None):
        return self(x, y, heads=True)


def wrap_generator(ctx: Context, G: nn.Module, device: torch.device) -> nn.Module:
    """G under DDP (the training copy; save and sample from the unwrapped G)."""
    if not ctx.enabled:
        return G
    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(G, device_ids=ids)


def wrap_discriminator(ctx: Context, D: nn.Module, device: torch.device) -> nn.Module:
    """D under DDP for the D step, with `heads` available through the wrapper."""
    if not ctx.enabled:
        return D
    ids = [device.index] if device.type == "cuda" else None
    return _DiscriminatorDDP(_Dispatch(D), device_ids=ids)
