"""Ensembles: N independent networks of one architecture, run as one module on a folded batch.

An ensemble of GANs trains N members with their own seeds in one process, through the one
Algorithm 1 loop (issue #18). Its input is the member-folded batch: N * m rows, of which rows
[i m, (i + 1) m) belong to member i. `Ensemble` splits the batch into its N chunks, runs chunk i
through member i alone, and concatenates the outputs in the same order, so members share
nothing: no weights, no batch statistics (member i's batch norm sees its own m rows only) and no
random numbers. Each member draws from its own streams of the device's global generators (the
CPU's; on CUDA the device's too; `Streams`): its dropout masks, and the random points of its
gradient penalty (`Ensemble.per_member`).

Nets stay plain modules: the losses, and their sum over members, are the training steps'
business (saddlepoint.train.steps, `members`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

from saddlepoint.nets.base import Generator
from saddlepoint.rng import CPU, GlobalGenerator


class Streams:
    """Each member's own state of the device's global random generators (saddlepoint.rng).

    In a separate run the global generators seed the weights and then draw dropout masks and
    penalty points (on the CPU, the CPU generator; on CUDA, the device's generator, which
    torch.manual_seed seeds too); member i's streams start where they stand in a separate run
    of its seed right after its nets are built, so both draw the same numbers.
    """

    def __init__(
        self,
        states: Sequence[torch.Tensor | Sequence[torch.Tensor]],
        generators: Sequence[GlobalGenerator] = (CPU,),
    ) -> None:
        self.generators = tuple(generators)
        # states[i][j]: member i's state of generator j (a bare tensor: the CPU's alone)
        self.states = [
            [s.clone() for s in ((row,) if isinstance(row, torch.Tensor) else row)]
            for row in states
        ]
        if any(len(row) != len(self.generators) for row in self.states):
            raise ValueError(f"each member needs one state per generator ({len(generators)})")

    def __len__(self) -> int:
        return len(self.states)

    @contextmanager
    def member(self, i: int) -> Iterator[None]:
        """Within: the global generators are member i's streams; outside, they are as they
        were."""
        outside = [g.get_state() for g in self.generators]
        for g, state in zip(self.generators, self.states[i]):
            g.set_state(state)
        try:
            yield
        finally:
            self.states[i] = [g.get_state() for g in self.generators]
            for g, state in zip(self.generators, outside):
                g.set_state(state)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """{generator name: (N, state bytes)}: row i is member i's stream."""
        return {
            g.name: torch.stack([row[j] for row in self.states])
            for j, g in enumerate(self.generators)
        }

    def load_state_dict(self, states: dict[str, torch.Tensor | Sequence[torch.Tensor]]) -> None:
        """Every generator's streams from `states`; a generator missing from it keeps its
        streams (a checkpoint saved on the CPU holds no CUDA streams), an extra one is ignored
        (CUDA streams resumed on the CPU)."""
        loaded = [list(row) for row in self.states]
        for j, g in enumerate(self.generators):
            if g.name not in states:
                continue
            rows = [torch.as_tensor(s, dtype=torch.uint8) for s in states[g.name]]
            if len(rows) != len(self.states):
                raise ValueError(
                    f"{len(rows)} random streams for {len(self.states)} members ({g.name} "
                    "generator)"
                )
            shape = tuple(self.states[0][j].shape)
            bad = [tuple(row.shape) for row in rows if tuple(row.shape) != shape]
            if bad:
                raise ValueError(
                    f"a {g.name} random stream of shape {bad[0]}, where this device's "
                    f"generator keeps {shape}"
                )
            for row, state in zip(loaded, rows):
                row[j] = state.clone()
        self.states = loaded


class Ensemble(nn.Module):
    """N member nets as one: (N m, ...) inputs (and y) -> (N m, ...) outputs, chunk by chunk."""

    def __init__(self, members: Sequence[nn.Module], streams: Streams) -> None:
        super().__init__()
        if len(members) != len(streams):
            raise ValueError(f"{len(members)} members but {len(streams)} random streams")
        self.members = nn.ModuleList(members)
        self.streams = streams

    @property
    def n(self) -> int:
        """Members in the ensemble."""
        return len(self.members)

    def split(self, t: torch.Tensor | None) -> list[torch.Tensor | None]:
        """Member i's rows of a member-folded batch: (N m, ...) -> N x (m, ...)."""
        if t is None:
            return [None] * self.n
        if t.shape[0] % self.n:
            raise ValueError(
                f"an ensemble of {self.n} takes a batch of N x m rows, got {t.shape[0]} rows"
            )
        return list(t.chunk(self.n))

    def per_member(self, fn: Callable, *batches: torch.Tensor | None) -> list:
        """[fn(member_i, *member i's rows of each batch)], each under member i's stream."""
        out = []
        for i, (member, *chunks) in enumerate(zip(self.members, *map(self.split, batches))):
            with self.streams.member(i):
                out.append(fn(member, *chunks))
        return out

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return torch.cat(self.per_member(_call, x, y))  # (N m, ...)

    def heads(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """The members' heads (discriminators with AC-GAN / InfoGAN / EBGAN heads), folded."""
        outs = self.per_member(_heads, x, y)
        return {key: torch.cat([o[key] for o in outs]) for key in outs[0]}


def _call(net: nn.Module, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    return net(x) if y is None else net(x, y)


def _heads(net: nn.Module, x: torch.Tensor, y: torch.Tensor | None) -> dict[str, torch.Tensor]:
    return net.heads(x) if y is None else net.heads(x, y)


class EnsembleGenerator(Ensemble, Generator):
    """An ensemble of generators; it has member 0's latent prior, output kind and conditions
    (every member has the same architecture), so sample_z(n) draws n rows from that prior."""

    def __init__(self, members: Sequence[Generator], streams: Streams) -> None:
        super().__init__(members, streams)
        first = members[0]
        self.latent, self.shape, self.output = first.latent, first.shape, first.output
        self.num_classes = first.num_classes
        self.condition_shape = first.condition_shape
