"""An ensemble run: N independent GANs, member i seeded train.seed + i, trained together in one
process by the one Algorithm 1 loop (issue #18, "many seeds at the price of one").

Member i is the run `train.seed = seed + i` would be: its weights are built after
torch.manual_seed(seed + i), its minibatches come from EpochSampler(seed + i), its noise from a
generator seeded seed + i + 1, and its dropout masks and penalty points from its own streams of
the device's global generators (nets.ensemble.Streams; the CPU's, and on CUDA the device's),
which start where those generators stand after its nets are built. Batches are member-folded,
N x m rows (`FoldedSampler`, `FoldedNoise`), and the steps sum the members' mean losses
(saddlepoint.train.steps, `members`), so each member's weights follow its separate run's, up to
float32 rounding.

What does not separate per member is refused in one sentence (`check_ensemble`): BEGAN's shared
k_t, EBGAN's pulling-away term (it couples the examples of a batch), DDP, devices other than the
CPU and CUDA (MPS: untested), torch.compile and LAPGAN (`ensemble_refusal` says why, for a
sweep that runs such cells separately).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from saddlepoint.config import Config, TrainConfig
from saddlepoint.errors import SaddlepointError
from saddlepoint.nets.ensemble import Ensemble, EnsembleGenerator, Streams
from saddlepoint.rng import global_generators
from saddlepoint.train.batches import EpochSampler


def member_seeds(t: TrainConfig) -> list[int]:
    """Member i's seed: train.seed + i (an ensemble of 1 is the plain run of train.seed)."""
    return [t.seed + i for i in range(t.ensemble)]


def check_ensemble(config: Config, distributed: bool, device: torch.device) -> None:
    """Refuse, in one sentence, what would couple an ensemble's members."""
    t = config.train
    if t.ensemble == 1:
        return
    why = ensemble_refusal(config, distributed, device)
    if why is not None:
        raise SaddlepointError(f"train.ensemble={t.ensemble} cannot be used here: {why}.")


def ensemble_refusal(config: Config, distributed: bool, device: torch.device) -> str | None:
    """Why `config` cannot train as an ensemble (what would couple its members), or None."""
    t, o = config.train, config.objective
    why = None
    if o.name == "began":
        why = "BEGAN's k_t is one state that every member's losses would share"
    elif o.name == "ebgan" and o.pt_weight > 0:
        why = "EBGAN's pulling-away term couples a batch's examples (set objective.pt_weight=0)"
    elif distributed:
        why = "DDP averages gradients across processes, not per member (use one process)"
    elif device.type not in ("cpu", "cuda"):  # MPS: no machine to test its streams on
        why = f"each member's own random streams are kept on the CPU and CUDA, not {device.type}"
    elif t.compile:
        why = "torch.compile of the ensemble is untested (set train.compile=false)"
    elif config.model.generator == "lapgan":
        why = "LAPGAN trains one run per pyramid level"
    return why


def build_members(
    t: TrainConfig, build: Callable[[], tuple[nn.Module, nn.Module]], device: torch.device
) -> tuple[EnsembleGenerator, Ensemble]:
    """(G, D) ensembles of `build()`'s nets on `device`, member i built after
    torch.manual_seed(seed + i); its random streams start where the device's global generators
    then stand, as in its separate run."""
    generators, discriminators, states = [], [], []
    globals_ = global_generators(device)  # the CPU's; on CUDA, the device's too
    for seed in member_seeds(t):
        torch.manual_seed(seed)  # seeds the CUDA generators too
        G, D = build()
        generators.append(G)
        discriminators.append(D)
        states.append([g.get_state() for g in globals_])
    streams = Streams(states, globals_)
    return EnsembleGenerator(generators, streams), Ensemble(discriminators, streams)


class FoldedSampler:
    """Each member's EpochSampler(seed + i); next() is their minibatches' indices, member-folded
    ((N m,) indices). They move in lock-step, so the data position is one (epoch, position)."""

    def __init__(
        self, n: int, batch_size: int, seeds: Sequence[int], epoch: int = 0, position: int = 0
    ) -> None:
        self.samplers = [EpochSampler(n, batch_size, seed, epoch, position) for seed in seeds]

    def next(self) -> torch.Tensor:
        return torch.cat([s.next() for s in self.samplers])  # (N m,)

    @property
    def epochs_done(self) -> float:
        return self.samplers[0].epochs_done

    def state_dict(self) -> dict[str, int]:
        return self.samplers[0].state_dict()


class FoldedNoise:
    """Each member's noise generator, seeded seed + i + 1 as its separate run's."""

    def __init__(self, seeds: Sequence[int], device: torch.device) -> None:
        self.generators = [torch.Generator(device).manual_seed(seed + 1) for seed in seeds]

    def sample(self, G: EnsembleGenerator, m: int) -> torch.Tensor:
        """m draws of each member's noise, member-folded: (N m, z_dim)."""
        return torch.cat([g.sample_z(m, noise) for g, noise in zip(G.members, self.generators)])

    def get_state(self) -> torch.Tensor:
        """(N, state bytes): row i is member i's generator state (one tensor, as a checkpoint's
        rng_noise is)."""
        return torch.stack([g.get_state() for g in self.generators])

    def set_state(self, states: torch.Tensor) -> None:
        if len(states) != len(self.generators):
            raise ValueError(f"{len(states)} noise states for {len(self.generators)} members")
        for g, state in zip(self.generators, states):
            g.set_state(state.clone())  # a row of its own: set_state misreads a view


def sampler_for(t: TrainConfig, n: int, m: int, **position: int) -> EpochSampler | FoldedSampler:
    """The run's data order over n examples, m per minibatch (per member for an ensemble)."""
    if t.ensemble == 1:
        return EpochSampler(n, m, t.seed, **position)
    return FoldedSampler(n, m, member_seeds(t), **position)


def noise_for(t: TrainConfig, device: torch.device) -> torch.Generator | FoldedNoise:
    """The training noise: one generator seeded seed + 1, or one per member."""
    if t.ensemble == 1:
        return torch.Generator(device).manual_seed(t.seed + 1)
    return FoldedNoise(member_seeds(t), device)
