"""CUDA graphs for one run on a GPU (train.cuda_graph, issue #18): each pass that an iteration of
Algorithm 1 makes through G and D is recorded once as a CUDA graph and then replayed, so the GPU
runs a pass's kernels without the CPU launching them one by one. The 2014 nets at batch 100 are
so small that launching, not arithmetic, sets their speed on a GPU.

What is captured (torch.cuda.make_graphed_callables, fixed shapes, each call site its own graph
because a graph's outputs and saved activations are overwritten by its next replay):

    G               z (m, z_dim) [, y] -> G(z)       forward, and backward into G's weights
    D, D step       [x; G(z)] (2m, ...) -> scores    forward, and backward into D's weights;
                    for a batch-norm D (`separate`) x and G(z) in two m-row graphs, in turn
    D, G step       G(z) (m, ...) -> scores          forward, and backward into G(z) only (D frozen)

What is not captured, and runs eagerly as without graphs: the minibatch gather and the noise
draw, the objective's few element-wise kernels, zeroing the gradients, the optimiser steps
(fused where PyTorch has the kernel), the learning-rate and momentum schedules, weight clipping,
a gradient penalty (its double backward runs through the plain D: a graph has no double
backward), the EMA and the bookkeeping. The optimiser steps stay outside because the 2014 recipe's
learning rate and momentum change at every update and a captured step would bake one value in;
so the optimisers need no `capturable` flag. Capturing the whole iteration (optimiser steps
with tensor hyper-parameters, the gather and the noise inside the graph) is the next step if
this one measures short of issue #18's aim.

Refused in one sentence each (`check_cuda_graph`), before any run folder exists: an ensemble,
train.compile, LAPGAN, autocast precisions, DDP, devices other than CUDA, and extra loss terms
(`check_terms`: they read D's heads, which are not captured).

Status: built, and tested on a CPU only for refusing; not yet run or measured on a GPU
(benchmarks/cuda_graph.py, benchmarks/results/cuda-graph.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from saddlepoint.config import Config
from saddlepoint.errors import SaddlepointError
from saddlepoint.rng import global_generators


def check_cuda_graph(
    config: Config, distributed: bool = False, device: torch.device | None = None
) -> None:
    """Refuse, in one sentence, what train.cuda_graph cannot capture; `device` None checks the
    config alone (LAPGAN checks before it makes its run folder)."""
    t = config.train
    if not t.cuda_graph:
        return
    why = None
    if t.ensemble > 1:
        why = f"an ensemble (train.ensemble={t.ensemble}) is not captured yet (train one GAN)"
    elif t.compile:
        why = "train.compile captures graphs itself (set train.compile=false)"
    elif config.model.generator == "lapgan":
        why = "LAPGAN's levels are separate runs whose shapes change (train without graphs)"
    elif t.precision != "float32":
        why = f"graphs run in float32 only, not {t.precision} (set train.precision=float32)"
    elif distributed:
        why = "DDP's gradient all-reduce is not captured (train in one process)"
    elif device is not None and device.type != "cuda":
        seen = "" if torch.cuda.is_available() else ", and PyTorch sees no CUDA GPU here"
        why = f"CUDA graphs need a CUDA GPU, but this run trains on {device.type}{seen}"
    if why is not None:
        raise SaddlepointError(f"train.cuda_graph=true cannot be used here: {why}.")


def check_terms(names: Sequence[str]) -> None:
    """Extra loss terms (AC-GAN, InfoGAN, EBGAN's pulling-away term) are refused."""
    if names:
        raise SaddlepointError(
            "train.cuda_graph=true cannot be used here: the extra loss terms "
            f"({', '.join(names)}) read D's heads, which the graphs do not capture."
        )


class Pass(nn.Module):
    """net(*args) as a module of its own: each call site gets its own graph of the one net,
    and the plain net keeps its eager forward for samples, grids, evaluation and checkpoints."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, *args: torch.Tensor) -> torch.Tensor:
        return self.net(*args)


class InTurn(nn.Module):
    """A batch-norm D as d_step calls it: its real pass, then its fake pass, each through a graph
    of its own (both forwards run before the one backward)."""

    def __init__(self, real: nn.Module, fake: nn.Module) -> None:
        super().__init__()
        self.passes = nn.ModuleList([real, fake])
        self.calls = 0

    def forward(self, *args: torch.Tensor) -> torch.Tensor:
        out = self.passes[self.calls % 2](*args)
        self.calls += 1
        return out


def graph_passes(
    G: nn.Module,
    D: nn.Module,
    x: torch.Tensor,  # (N, *shape) the training split, on the GPU
    y: torch.Tensor | None,  # its labels or conditions
    m: int,  # examples per minibatch
    separate: bool,  # a batch-norm D: real and fake minibatches in separate passes
) -> tuple[nn.Module, nn.Module, nn.Module]:
    """The loop's passes through G and D recorded as CUDA graphs: (G as the loop calls it, D as
    the D step calls it, D as the G step calls it, frozen), for TrainState's G_train, D_train
    and D_frozen.

    Recording runs each pass a few times on copies of the first minibatch; the nets' state
    (batch-norm statistics) and the random streams are put back afterwards, so the run goes on
    exactly as it would have without graphs."""
    x = x[:m].clone()  # (m, *shape): a copy, as a graph copies its inputs into its own
    y = None if y is None else y[:m].clone()
    z = G.sample_z(m, torch.Generator(x.device).manual_seed(0))  # not the training stream
    kept = _Kept(x.device, G, D)
    with torch.no_grad():
        fake = G(z) if y is None else G(z, y)  # (m, *shape)

    def args(*tensors: torch.Tensor | None) -> tuple[torch.Tensor, ...]:
        return tuple(t.clone() for t in tensors if t is not None)  # each graph its own inputs

    G_train = _graph(G, args(z, y))
    if separate:
        D_train = InTurn(_graph(D, args(x, y)), _graph(D, args(fake, y)))
    else:
        both = torch.cat([x, fake]), None if y is None else torch.cat([y, y])
        D_train = _graph(D, args(*both))
    frozen = fake.clone().requires_grad_(True)  # the G step differentiates D(G(z)) in G(z)
    D_frozen = _graph(D, (frozen, *args(y)), frozen=True)
    kept.restore()
    return G_train, D_train, D_frozen


def _graph(net: nn.Module, args: tuple[torch.Tensor, ...], frozen: bool = False) -> nn.Module:
    """A Pass of `net` recorded as a CUDA graph for inputs shaped as `args`; `frozen` records it
    with net's weights not requiring gradients, as g_step calls D."""
    wanted = [p.requires_grad for p in net.parameters()]
    if frozen:
        net.requires_grad_(False)
    try:
        return torch.cuda.make_graphed_callables(Pass(net), args, allow_unused_input=True)
    finally:
        for p, want in zip(net.parameters(), wanted):
            p.requires_grad_(want)


class _Kept:
    """The nets' state and the random streams before recording, to put back after it."""

    def __init__(self, device: torch.device, *nets: nn.Module) -> None:
        self.tensors = [v for net in nets for v in net.state_dict().values()]
        self.values = [v.clone() for v in self.tensors]
        self.generators = global_generators(device)  # the CPU's, and the GPU's on CUDA
        self.states = [g.get_state() for g in self.generators]

    def restore(self) -> None:
        with torch.no_grad():
            for tensor, value in zip(self.tensors, self.values):
                tensor.copy_(value)  # in place: the graphs read these very tensors
        for g, state in zip(self.generators, self.states):
            g.set_state(state)
