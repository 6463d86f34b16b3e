"""An ensemble of N GANs trained by the real d_step / g_step equals N separate runs.

Each separate run draws its minibatches from its own EpochSampler, its noise from its own
generator and its dropout masks (and penalty points) from the global generator; the ensemble's
members draw the same numbers from their own streams (nets.ensemble.Streams). Starting from the
same weights, after several iterations of Algorithm 1 every member's weights and EMA
equal its separate run's, within float32 rounding of the member-folded sums.
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass

import pytest
import torch

from saddlepoint.config import Config, override
from saddlepoint.nets import build_discriminator, build_generator
from saddlepoint.nets.ensemble import Ensemble, EnsembleGenerator, Streams
from saddlepoint.objectives import OBJECTIVES
from saddlepoint.objectives.penalties import batchnorm_in
from saddlepoint.objectives.terms import build_terms
from saddlepoint.train.batches import EpochSampler
from saddlepoint.train.ema import EMA
from saddlepoint.train.optim import build_optimizer
from saddlepoint.train.state import build_penalty
from saddlepoint.train.steps import d_step, g_step

SEEDS = (3, 4, 5)
M = 6  # examples per member's minibatch
NO_AUTOCAST = contextlib.nullcontext()
ATOL = 1e-5  # float32 rounding of member-folded sums (Adam amplifies it), weights 0.01-1

MLP = (
    "model.z_dim=5",
    "model.g_hidden=12",
    "model.d_hidden=6",
    "model.d_pieces=2",
    "model.d_init=0.1",  # big enough for G's gradient to move it visibly in 3 iterations
)
DCGAN = (
    "model.generator=dcgan",
    "model.discriminator=dcgan",
    "model.z_dim=6",
    "model.g_channels=4",
    "model.d_channels=4",
    "optim_d.name=adam",
    "optim_g.name=adam",
    "optim_d.lr=0.01",
    "optim_g.lr=0.01",
)
CASES = {
    # the 2014 nets: maxout D with dropout, momentum SGD
    "goodfellow2014": (MLP, (1, 4, 4), 0),
    # DCGAN with batch norm (real and fake in separate passes), Adam
    "dcgan-batchnorm": (DCGAN, (1, 16, 16), 0),
    # conditional: labels into both 2014 nets (Mirza & Osindero)
    "cgan": ((*MLP, "model.conditional=concat"), (1, 4, 4), 3),
    # AC-GAN: DCGAN D with a class head, the auxiliary term in both losses
    "acgan": ((*DCGAN, "model.conditional=acgan"), (1, 16, 16), 3),
    # AC-GAN with a layer-norm D: one joint pass over real and fake, heads split per member
    "acgan-joint": ((*DCGAN, "model.conditional=acgan", "model.d_norm=layer"), (1, 16, 16), 3),
    # spectral norm on the maxout D: each member's power iteration on its own forward passes
    "spectral-norm": ((*MLP, "model.spectral_norm=true"), (1, 4, 4), 0),
    # InfoGAN: a categorical and a continuous code, the Q head's term in both losses
    "infogan": ((*DCGAN, "model.info_categorical=3", "model.info_continuous=1"), (1, 16, 16), 0),
    # WGAN-GP on the maxout D: the penalty's random points and D's dropout share each stream
    "wgan-gp": (
        (
            *MLP,
            "objective.name=wasserstein",
            "objective.penalty=gradient",
            "optim_d.name=adam",
            "optim_g.name=adam",
            "optim_d.lr=0.001",
            "optim_g.lr=0.001",
        ),
        (1, 4, 4),
        0,
    ),
    # DRAGAN: its perturbation scale is each member's own batch's standard deviation
    "dragan": ((*MLP, "objective.penalty=dragan"), (1, 4, 4), 0),
    # WGAN with weight clipping and RMSProp
    "wgan-clip": (
        (
            *MLP,
            "objective.name=wasserstein",
            "objective.clip_weights=0.01",
            "optim_d.name=rmsprop",
            "optim_g.name=rmsprop",
            "optim_d.lr=0.0005",
            "optim_g.lr=0.0005",
        ),
        (1, 4, 4),
        0,
    ),
}


@dataclass
class Run:
    """One GAN's (or one ensemble's) training state for these tests."""

    G: torch.nn.Module
    D: torch.nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    ema: EMA


def _data(shape: tuple[int, ...], classes: int, tanh: bool):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(40, *shape, generator=g)
    x = x * 2 - 1 if tanh else x
    y = torch.randint(classes, (40,), generator=g) if classes else None
    return x, y


def _members(config: Config, shape, classes: int, x: torch.Tensor):
    """Each seed's (G, D, global generator state after building them), as setup() builds."""
    spec = {"num_classes": classes} if classes else {}
    output = "tanh" if config.model.generator == "dcgan" else "sigmoid"
    out = []
    for seed in SEEDS:
        torch.manual_seed(seed)
        G = build_generator(config.model, shape, x.mean(0), output, **spec)
        D = build_discriminator(config.model, shape, **spec)
        out.append((G, D, torch.get_rng_state()))
    return out


def _run(config: Config, G, D) -> Run:
    return Run(
        G,
        D,
        build_optimizer(G.parameters(), config.optim_g),
        build_optimizer(D.parameters(), config.optim_d),
        EMA(G, 0.8),
    )


def _iterations(config, run: Run, n: int, draw, members: int) -> None:
    """Algorithm 1 as loop.iteration runs it (reuse_fakes): k D steps, one G step, the EMA."""
    objective = OBJECTIVES.get(config.objective.name)
    terms = build_terms(config, run.G)
    penalty = build_penalty(config, run.D)
    for _ in range(n):
        for j in range(config.train.k):
            real, y, z = draw()
            with torch.set_grad_enabled(j == config.train.k - 1):
                fake = run.G(z) if y is None else run.G(z, y)
            d_step(
                run.D,
                run.opt_d,
                objective,
                real=real,
                fake=fake.detach(),
                autocast=NO_AUTOCAST,
                y_real=y,
                y_fake=y,
                z=z,
                terms=terms,
                separate=batchnorm_in(run.D),
                clip_weights=config.objective.clip_weights,
                penalty=penalty,
                members=members,
            )
        g_step(
            run.D,
            run.opt_g,
            objective,
            fake=fake,
            autocast=NO_AUTOCAST,
            y_fake=y,
            z=z,
            terms=terms,
            members=members,
        )
        run.ema.update(run.G)


def _separate(config, built, x, y, n):
    """Each seed trained on its own, with the global generator as its dropout stream."""
    runs = []
    for seed, (G, D, rng) in zip(SEEDS, built):
        run = _run(config, G, D)
        sampler, noise = EpochSampler(len(x), M, seed), torch.Generator().manual_seed(seed + 1)

        def draw(sampler=sampler, noise=noise, G=G):
            i = sampler.next()
            return x[i], None if y is None else y[i], G.sample_z(M, noise)

        torch.set_rng_state(rng)
        _iterations(config, run, n, draw, members=1)
        runs.append(run)
    return runs


def _ensemble(config, built, x, y, n):
    """The same seeds as one ensemble, on member-folded batches."""
    G = EnsembleGenerator([b[0] for b in built], Streams([b[2] for b in built]))
    D = Ensemble([b[1] for b in built], G.streams)
    run = _run(config, G, D)
    samplers = [EpochSampler(len(x), M, seed) for seed in SEEDS]
    noises = [torch.Generator().manual_seed(seed + 1) for seed in SEEDS]

    def draw():
        idx = torch.cat([s.next() for s in samplers])
        z = torch.cat([g.sample_z(M, noise) for g, noise in zip(G.members, noises)])
        return x[idx], None if y is None else y[idx], z

    _iterations(config, run, n, draw, members=len(SEEDS))
    return run


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("case", sorted(CASES))
def test_ensemble_members_equal_separate_runs(case, k):
    torch.set_num_threads(1)
    sets, shape, classes = CASES[case]
    config = override(Config(), [*sets, f"train.k={k}"])
    x, y = _data(shape, classes, tanh=config.model.generator == "dcgan")
    built = _members(config, shape, classes, x)
    initial = [copy.deepcopy((G.state_dict(), D.state_dict())) for G, D, _ in built]
    ensemble = _ensemble(config, copy.deepcopy(built), x, y, n=3)
    separate = _separate(config, built, x, y, n=3)
    for i, run in enumerate(separate):
        pairs = [
            (ensemble.G.members[i], run.G),
            (ensemble.D.members[i], run.D),
            (ensemble.ema.module.members[i], run.ema.module),
        ]
        for mine, theirs in pairs:
            mine, theirs = mine.state_dict(), theirs.state_dict()
            assert mine.keys() == theirs.keys()
            for key in mine:
                torch.testing.assert_close(mine[key], theirs[key], atol=ATOL, rtol=0, msg=key)
        # both nets moved 20 x the tolerance: this compares trained weights, not initial ones
        for net, start in zip((run.G, run.D), initial[i]):
            moved = max((p - start[key]).abs().max().item() for key, p in net.named_parameters())
            assert moved > 20 * ATOL
