"""Set-up: a config (and a checkpoint to resume from) made into everything a run needs.

`setup` loads the training split onto the device, builds G and D (wrapped for DDP, compiled or
recorded as CUDA graphs when asked; checkpoints and samples always use the plain modules), the
objective with its terms, penalty and state, the EMA of G, both optimisers and the float16
gradient scalers, the data sampler and the noise streams, and the counters; given a checkpoint
it restores all of them, so the next iteration is the one the checkpointed run would have
taken. The result is one plain object, `TrainState`, which Algorithm 1 (`loop.iteration`) and
the bookkeeping (`schedule`) read and update; `checkpoint_state` is what a checkpoint keeps of
it.

Random numbers: the global generator seeds the weights (train.seed) and then drives dropout
(on CUDA, the GPU's own global generator does; saddlepoint.rng); `noise` draws z for training
(seed + 1), the grids' fixed z comes from seed + 2; under DDP every rank builds the same
weights, then reseeds its own dropout. An ensemble (train.ensemble = N) builds member i after
seeding seed + i and gives each member its own data order, noise and dropout streams
(saddlepoint.train.ensemble).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from saddlepoint.checkpoint import load_weights
from saddlepoint.config import Config
from saddlepoint.data import load_dataset
from saddlepoint.data.dataset import Dataset
from saddlepoint.errors import SaddlepointError
from saddlepoint.nets import (
    DISCRIMINATORS,
    build_discriminator,
    build_generator,
    from_unit,
    generator_output,
)
from saddlepoint.nets.ensemble import Ensemble
from saddlepoint.objectives import OBJECTIVES, Objective
from saddlepoint.objectives.compatibility import check_discriminator
from saddlepoint.objectives.penalties import PENALTIES, batchnorm_in
from saddlepoint.objectives.terms import Term, build_terms
from saddlepoint.rng import global_generators
from saddlepoint.train import distributed
from saddlepoint.train.batches import EpochSampler
from saddlepoint.train.cuda_graph import check_cuda_graph, check_terms, graph_passes
from saddlepoint.train.device import autocast as autocast_for
from saddlepoint.train.device import grad_scaler, resolve_device, resolve_precision
from saddlepoint.train.diagnostics import HealthMonitor, diversity
from saddlepoint.train.ema import EMA
from saddlepoint.train.ensemble import (
    FoldedNoise,
    FoldedSampler,
    build_members,
    check_ensemble,
    noise_for,
    sampler_for,
)
from saddlepoint.train.optim import build_optimizer


@dataclass(eq=False)
class TrainState:
    """Everything one run of Algorithm 1 needs between iterations; a checkpoint keeps it."""

    config: Config
    ctx: distributed.Context  # rank and world size (one process: rank 0 of 1)
    device: torch.device
    # ---- the training split, whole on the device
    x: torch.Tensor  # (N, *shape) examples in G's output range
    y: torch.Tensor | None  # (N,) labels or (N, *cshape) condition images, or None
    shape: tuple[int, ...]  # one example's shape
    is_image: bool
    output: str  # G's output kind: sigmoid, tanh or linear
    spec: dict  # what G and D are conditioned on: {num_classes} or {condition_shape} or {}
    # ---- the networks; G and D are the plain modules that checkpoints and samples use
    G: nn.Module
    D: nn.Module
    G_train: nn.Module  # G as the loop calls it: DDP-wrapped and compiled when asked
    D_train: nn.Module
    ema: EMA | None  # the moving average of G's weights (train.ema_beta > 0)
    # ---- the game: objective, extra terms, penalty and stateful parts
    objective: Objective
    objective_state: object | None  # e.g. BEGAN's k_t, or None
    terms: list[Term]  # AC-GAN, InfoGAN, pulling-away terms
    penalty: Callable | None  # (D, real, fake, y) -> scalar, weight x interval baked in
    separate: bool  # batch-norm D: real and fake minibatches in separate passes
    # ---- optimisation
    opt_d: torch.optim.Optimizer
    opt_g: torch.optim.Optimizer
    autocast: AbstractContextManager  # a no-op in float32
    scaler_d: torch.amp.GradScaler | None  # float16 only
    scaler_g: torch.amp.GradScaler | None
    # ---- random streams: minibatches, training noise, the grids' fixed noise
    sampler: EpochSampler | FoldedSampler  # indices of the global minibatch (every member's)
    noise: torch.Generator | FoldedNoise  # z for training (each member's own generator)
    global_m: int  # train.batch_size x world size: every rank draws it, keeps its slice
    fixed_z: torch.Tensor  # (grid_size, z_dim) the grids' noise
    fixed_y: torch.Tensor | None  # the grids' classes or condition images
    # ---- health, and where the run is
    monitor: HealthMonitor  # plain-words warnings: D overpowering G, mode collapse
    real_diversity: float  # mean pairwise distance of real data: the yardstick for G's
    it: int = 0  # iterations (generator steps) done
    d_updates: int = 0
    g_updates: int = 0
    elapsed: float = 0.0  # seconds of training before this session (across resumes)
    # D as the G step calls it, frozen: D itself, or its recorded pass (train.cuda_graph)
    D_frozen: nn.Module | None = None

    @property
    def G_eval(self) -> nn.Module:
        """What samples, grids and snapshots come from: the EMA copy, or G itself; member 0's
        (the run of train.seed) for an ensemble, whose checkpoint keeps every member."""
        G = self.ema.module if self.ema is not None else self.G
        return G.members[0] if isinstance(G, Ensemble) else G

    @property
    def nets(self) -> tuple[nn.Module, ...]:
        """All the modules a checkpoint keeps."""
        return (self.G, self.D) if self.ema is None else (self.G, self.D, self.ema.module)

    def minibatch(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """This rank's m examples of the next global minibatch, with their labels or
        conditions: ((m, *shape), (m,) or (m, *cshape) or None)."""
        batch = self.ctx.shard(self.sampler.next())
        return self.x[batch], None if self.y is None else self.y[batch]

    def sample_noise(self) -> torch.Tensor:
        """This rank's (m, z_dim) slice of a fresh global batch of noise (and codes); each
        member's m rows, (N m, z_dim), for an ensemble."""
        if isinstance(self.noise, FoldedNoise):
            return self.noise.sample(self.G, self.global_m)
        return self.ctx.shard(self.G.sample_z(self.global_m, self.noise))

    def generate(self, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """G(z), or G(z, y) given labels or conditions, through the training copy of G."""
        return self.G_train(z) if y is None else self.G_train(z, y)

    def d_kwargs(self) -> dict | None:
        """The objective state's current values for D's loss (BEGAN's k_t), or None."""
        return self.objective_state.d_kwargs() if self.objective_state is not None else None

    def g_kwargs(self) -> dict | None:
        return self.objective_state.g_kwargs() if self.objective_state is not None else None


def setup(
    config: Config,
    ctx: distributed.Context,
    checkpoint: dict | None = None,
    path: Path | None = None,
    data: Dataset | None = None,
) -> TrainState:
    """Build everything a run of `config` needs, and restore `checkpoint` (read from `path`) on
    resume. An incompatible setting fails in one sentence, before anything is written.

    `data` is a training split to use in place of the one config.data names (the playground's
    drawn or uploaded points); by default config.data's is loaded."""
    t = config.train
    device = resolve_device(t.device, ctx.local_rank)
    check_ensemble(config, ctx.enabled, device)
    check_cuda_graph(config, ctx.enabled, device)
    precision = resolve_precision(t.precision, device)
    objective = OBJECTIVES.get(config.objective.name)
    name = config.model.discriminator
    check_discriminator(objective, DISCRIMINATORS.get(name).kind, name)  # energies vs logits
    data = load_dataset(config.data, "train") if data is None else data
    if len(data) < t.batch_size:
        raise SaddlepointError(
            f"the {data.name} training split has {len(data)} examples, fewer than "
            f"train.batch_size={t.batch_size}: lower the batch size."
        )
    output = generator_output(config.model, data.is_image)
    spec, y_data = _conditions(config, data)
    x = from_unit(data.x, output).to(device)  # the whole training split in G's range, (N, *shape)
    y_all = None if y_data is None else y_data.to(device)  # (N,) labels or (N, *cshape) images
    G, D, G_train, D_train, x = _networks(config, ctx, device, data, x, output, spec)
    penalty = build_penalty(config, D)
    terms = build_terms(config, G)
    state = objective.state(config.objective) if objective.state else None
    ema = EMA(G, t.ema_beta, t.ema_rampup) if t.ema_beta > 0 else None
    opt_g = build_optimizer(G.parameters(), config.optim_g)
    opt_d = build_optimizer(D.parameters(), config.optim_d)
    global_m = t.batch_size * ctx.world_size  # every rank draws the global batch, keeps its slice
    if len(x) < global_m:
        raise SaddlepointError(
            f"{ctx.world_size} processes x train.batch_size={t.batch_size} exceeds the "
            f"{len(x)} training examples: lower the batch size."
        )
    s = TrainState(
        config=config,
        ctx=ctx,
        device=device,
        x=x,
        y=y_all,
        shape=tuple(data.shape),
        is_image=data.is_image,
        output=output,
        spec=spec,
        G=G,
        D=D,
        G_train=G_train,
        D_train=D_train,
        ema=ema,
        objective=objective,
        objective_state=state,
        terms=terms,
        penalty=penalty,
        separate=batchnorm_in(D),  # batch-norm D: real and fake minibatches in separate passes
        opt_d=opt_d,
        opt_g=opt_g,
        autocast=autocast_for(precision, device),
        scaler_d=grad_scaler(precision, device),
        scaler_g=grad_scaler(precision, device),
        sampler=sampler_for(t, len(x), global_m),
        noise=noise_for(t, device),  # z for training: seed + 1 (member i: seed + i + 1)
        global_m=global_m,
        fixed_z=G.sample_z(t.grid_size, torch.Generator(device).manual_seed(t.seed + 2)),
        fixed_y=_grid_conditions(t.grid_size, spec, y_all, device),
        monitor=HealthMonitor(),
        # the yardstick for the generator's diversity: real data's mean pairwise distance
        real_diversity=diversity(
            x[torch.randperm(len(x), generator=torch.Generator().manual_seed(t.seed))[:256]]
        ),
    )
    if checkpoint is not None:
        restore(s, checkpoint, path)
    if t.cuda_graph:  # after restoring: the graphs read the nets' tensors in place
        check_terms([term.name for term in terms])
        s.G_train, s.D_train, s.D_frozen = graph_passes(G, D, x, y_all, global_m, s.separate)
    return s


def _networks(
    config: Config,
    ctx: distributed.Context,
    device: torch.device,
    data: Dataset,
    x: torch.Tensor,
    output: str,
    spec: dict,
) -> tuple[nn.Module, nn.Module, nn.Module, nn.Module, torch.Tensor]:
    """(G, D, G as trained, D as trained, x): the plain networks, seeded by train.seed, and the
    copies the loop calls (DDP-wrapped under torchrun, compiled with train.compile); x in
    channels-last memory when the convolutions run so."""
    t = config.train

    def build() -> tuple[nn.Module, nn.Module]:
        G = build_generator(config.model, data.shape, x.mean(0), output, **spec).to(device)
        return G, build_discriminator(config.model, data.shape, **spec).to(device)

    if t.ensemble > 1:  # member i built after manual_seed(seed + i), with its own stream
        G, D = build_members(t, build, device)
    else:
        torch.manual_seed(t.seed)
        G, D = build()
    if ctx.enabled:  # same initial weights everywhere; own dropout masks per rank
        torch.manual_seed(t.seed + 1_000_003 * ctx.rank)
    if t.channels_last and data.is_image and _convolutional(G, D):  # NHWC convolutions
        G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    G_train = distributed.wrap_generator(ctx, G, device)  # what the loop calls; saves use G
    D_train = distributed.wrap_discriminator(ctx, D, device)
    if t.compile:  # the training copies only: checkpoints and samples use the plain modules
        G_train, D_train = torch.compile(G_train), _compiled_discriminator(D_train)
    return G, D, G_train, D_train, x


def _grid_conditions(
    n: int, spec: dict, y: torch.Tensor | None, device: torch.device
) -> torch.Tensor | None:
    """The grids' conditions: classes in turn along each row, or the first condition images."""
    if "num_classes" in spec:
        return torch.arange(n, device=device) % spec["num_classes"]
    if y is not None:
        return y[torch.arange(n, device=device) % len(y)]
    return None


def restore(s: TrainState, checkpoint: dict, path: Path) -> None:
    """Put the state a checkpoint (read from `path`) kept back into `s`; a damaged part fails
    in one sentence naming the file."""
    ctx = s.ctx
    load_weights(s.G, checkpoint["generator"], path, "generator")
    if s.ema is not None:
        load_weights(s.ema.module, checkpoint.get("generator_ema"), path, "EMA generator")
    load_weights(s.D, checkpoint["discriminator"], path, "discriminator")
    saved_world = checkpoint.get("world_size", 1)
    if saved_world != ctx.world_size:
        raise SaddlepointError(
            f"{path.parent} was trained by {saved_world} process(es); resume it with the same "
            f"number (torchrun --nproc_per_node={saved_world}), not {ctx.world_size}."
        )
    with _restoring(path, "optimiser states"):
        s.opt_g.load_state_dict(checkpoint["optim_g"])
        s.opt_d.load_state_dict(checkpoint["optim_d"])
    if s.objective_state is not None:
        with _restoring(path, "objective state"):
            s.objective_state.load_state_dict(checkpoint["objective_state"])
    with _restoring(path, "data position"):
        s.sampler = sampler_for(s.config.train, len(s.x), s.global_m, **checkpoint["sampler"])
    with _restoring(path, "random number generator states"):
        rng = checkpoint["rng_ranks"][ctx.rank] if ctx.enabled else checkpoint
        restore_rng(s, rng, path)
    s.it, s.d_updates, s.g_updates = (
        checkpoint["iteration"],
        checkpoint["d_updates"],
        checkpoint["g_updates"],
    )
    s.elapsed = checkpoint["elapsed"]
    if "health" in checkpoint:
        with _restoring(path, "health monitor state"):
            s.monitor.load_state_dict(checkpoint["health"])
    if s.scaler_d is not None and "scaler_d" in checkpoint:  # float16: the loss scales reached
        s.scaler_d.load_state_dict(checkpoint["scaler_d"])
        s.scaler_g.load_state_dict(checkpoint["scaler_g"])


def checkpoint_state(s: TrainState, seconds: float, ranks: list[dict] | None = None) -> dict:
    """What a checkpoint keeps: both nets, the EMA, both optimisers, the objective state, the
    scalers, the data position, the random streams (with `ranks`, every rank's `rng_states`
    under DDP), the counters, the health monitor and the config; `seconds` of training."""
    return {
        "generator": s.G.state_dict(),
        **({"generator_ema": s.ema.module.state_dict()} if s.ema else {}),
        "discriminator": s.D.state_dict(),
        "optim_g": s.opt_g.state_dict(),
        "optim_d": s.opt_d.state_dict(),
        **(
            {"objective_state": s.objective_state.state_dict()}
            if s.objective_state is not None
            else {}
        ),
        # float16: the loss scales reached, so a resumed run steps the same
        **(
            {"scaler_d": s.scaler_d.state_dict(), "scaler_g": s.scaler_g.state_dict()}
            if s.scaler_d is not None
            else {}
        ),
        "sampler": s.sampler.state_dict(),
        **rng_states(s),
        **({"rng_ranks": ranks, "world_size": s.ctx.world_size} if ranks else {}),
        "iteration": s.it,
        "d_updates": s.d_updates,
        "g_updates": s.g_updates,
        "elapsed": seconds,
        "health": s.monitor.state_dict(),
        "config": s.config.to_json(),
    }


def rng_states(s: TrainState) -> dict:
    """This process's random streams: the device's global generators (rng_cpu, and rng_cuda on
    a GPU: dropout, penalty points), the training noise, and an ensemble's member streams
    (rng_members: the CPU's, rng_members_cuda: the GPU's, (N, state bytes) each)."""
    out = {f"rng_{g.name}": g.get_state() for g in global_generators(s.device)}
    out["rng_noise"] = s.noise.get_state()  # (N, state bytes) for an ensemble
    if isinstance(s.G, Ensemble):
        for name, states in s.G.streams.state_dict().items():
            out[_members_key(name)] = states
    return out


def restore_rng(s: TrainState, rng: dict, path: Path) -> None:
    """Put back the random streams `rng_states` saved. rng_cpu is required; a device's own
    generator (rng_cuda, rng_members_cuda) is absent from a checkpoint saved on the CPU, and
    then keeps its state, as it does on the CPU for one saved on a GPU. Member streams of the
    wrong count or shape fail in one sentence."""
    for g in global_generators(s.device):
        if g.name == "cpu" or f"rng_{g.name}" in rng:
            g.set_state(rng[f"rng_{g.name}"])
    s.noise.set_state(rng["rng_noise"])
    if isinstance(s.G, Ensemble):  # each member's dropout and penalty streams
        streams = s.G.streams
        saved = {g.name: rng.get(_members_key(g.name)) for g in streams.generators}
        saved = {name: states for name, states in saved.items() if states is not None}
        if "cpu" not in saved:
            raise KeyError("rng_members")
        try:
            streams.load_state_dict(saved)
        except ValueError as e:
            raise SaddlepointError(
                f"{path} cannot be resumed as this ensemble of {len(streams)}: it holds {e}; "
                "resume from an intact copy, or start a new run."
            ) from None


def _members_key(name: str) -> str:
    """A checkpoint's key for the member streams of generator `name`: rng_members for the
    CPU's (as checkpoints kept it before GPU ensembles), rng_members_cuda for CUDA's."""
    return "rng_members" if name == "cpu" else f"rng_members_{name}"


def finite(*modules: nn.Module) -> bool:
    """Every parameter of every module finite (one host sync)."""
    params = [p for module in modules for p in module.parameters()]
    return bool(torch.isfinite(torch.stack(torch._foreach_norm(params))).all())


@contextmanager
def _restoring(path: Path, part: str) -> Iterator[None]:
    """Around restoring one part of a checkpoint: a damaged part gives one sentence."""
    try:
        yield
    except (KeyError, TypeError, ValueError, RuntimeError, IndexError, AttributeError) as e:
        raise SaddlepointError(
            f"{path} is damaged: its {part} cannot be restored ({type(e).__name__}); resume "
            "from an intact copy, or start a new run."
        ) from None


def build_penalty(config: Config, D: nn.Module) -> Callable | None:
    """The configured gradient penalty as (D, real, fake, y) -> scalar, the penalty of D( . | y)
    (y None when unconditional), weight x interval baked in; for an ensemble D, the sum of its
    members' penalties, each on its own rows and drawing from its own random stream."""
    o = config.objective
    if o.penalty == "none":
        return None
    if batchnorm_in(D):
        raise SaddlepointError(
            f"objective.penalty={o.penalty} needs a discriminator without batch normalisation "
            "(it couples the examples whose gradients are penalised): set model.d_norm=layer "
            "(dcgan D), choose another model.discriminator, or objective.penalty=none."
        )
    fn, weight = PENALTIES[o.penalty], o.penalty_weight * o.penalty_every

    def penalty(D: nn.Module, real: torch.Tensor, fake: torch.Tensor, y) -> torch.Tensor:
        return fn(D if y is None else (lambda x: D(x, y)), real, fake, weight)

    if isinstance(D, Ensemble):
        return lambda D, real, fake, y: sum(D.per_member(penalty, real, fake, y))
    return penalty


def _conditions(config: Config, data: Dataset) -> tuple[dict, torch.Tensor | None]:
    """What G and D are conditioned on: ({num_classes} or {condition_shape} or {}, y or None).

    Class labels when model.conditional asks for them; condition images when the dataset
    carries them (a LAPGAN pyramid level: y is the upsampled coarser image).
    """
    m = config.model
    if data.y is not None and data.y.is_floating_point():  # image conditions
        return {"condition_shape": tuple(data.y.shape[1:])}, data.y
    if m.conditional == "none":
        return {}, None
    if data.y is None:
        raise SaddlepointError(
            f"model.conditional={m.conditional} needs class labels, but {data.name} has none: "
            "use a labelled dataset (mnist, fashion-mnist, cifar10, a folder with one "
            "sub-folder per class) or model.conditional=none."
        )
    classes = len(data.classes) if data.classes else int(data.y.max()) + 1
    return {"num_classes": classes}, data.y


def _convolutional(*nets: nn.Module) -> bool:
    """Whether any of the nets convolves (channels-last changes nothing for the others)."""
    kinds = (nn.Conv2d, nn.ConvTranspose2d)
    return any(isinstance(m, kinds) for net in nets for m in net.modules())


def _compiled_discriminator(D: nn.Module) -> nn.Module:
    """torch.compile(D), keeping `heads` reachable (compiled separately) for extra terms."""
    compiled = torch.compile(D)
    if hasattr(D, "heads"):
        compiled.heads = torch.compile(D.heads)
    return compiled
