"""Named presets: small overrides of the config defaults, each with a line saying what it is for.

The defaults in config.py are the 2014 MNIST recipe, so `goodfellow2014-mnist` only names its
data and duration.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from saddlepoint.config import (
    Config,
    DataConfig,
    ModelConfig,
    ObjectiveConfig,
    OptimConfig,
    TrainConfig,
)
from saddlepoint.registry import Registry


@dataclass(frozen=True)
class Preset:
    name: str
    description: str  # what a user gets, and after how long on a 2-core CPU
    config: Config


PRESETS: Registry[Preset] = Registry("preset")


def _register(name: str, description: str, **sections) -> None:
    PRESETS.register(name, Preset(name, description, Config(preset=name, **sections)))


_register(
    "goodfellow2014-mnist",
    "the paper's MNIST recipe (maxout D, momentum SGD, k=1, batch 100) on the full MNIST; "
    "about 20 s per epoch on 2 cores, 300 epochs",
    data=DataConfig(name="mnist"),
    train=TrainConfig(
        iterations=150_000, checkpoint_every=500, sample_every=5000, snapshot_every=5000
    ),
)

# The fastest route to the paper's Parzen table found so far (docs/reproduction.md): the 2014
# networks with Adam (D 2e-4, G 1e-3, both divided by 1.0001 per update) and a slow EMA of G's
# weights (beta 0.9997, a horizon of about 3,300 iterations), scored on the validation split
# every 2,500 iterations with the best generator kept as best.safetensors. Over 3 seeds the
# best snapshot (7,500 iterations in each) scored 239.2, 244.3 and 243.3 nats on the test set
# (the paper: 225 +/- 2; docs/presets.md).
_register(
    "goodfellow2014-mnist-fast",
    "the 2014 networks on the full MNIST with Adam, lr decay and a slow EMA of G: 10,000 "
    "iterations, about 7 minutes at the 24 it/s measured on 2 idle cores; the best "
    "validation snapshot is kept (best.safetensors): Parzen 239.2, 244.3 and 243.3 nats on "
    "the test set for seeds 0-2, each chosen at 7,500 iterations (the paper: 225 +/- 2)",
    data=DataConfig(name="mnist"),
    optim_d=OptimConfig(name="adam", lr=2e-4, lr_decay=1.0001, betas=(0.5, 0.999)),
    optim_g=OptimConfig(name="adam", lr=1e-3, lr_decay=1.0001, betas=(0.5, 0.999)),
    train=TrainConfig(
        iterations=10_000,
        ema_beta=0.9997,
        checkpoint_every=2500,
        snapshot_every=2500,
        sample_every=2500,
        eval_every=2500,
    ),
)

# Adam with a generator learning rate 5x the discriminator's (two time-scale updates; equal
# rates let the maxout D win), a lazy R1 penalty on D (Mescheder et al. 2018: gamma 2 every 4th
# D step) and an EMA of G with a ramp-up. Chosen over seeds and kernel paths (docs/presets.md):
# without R1 one trajectory in 20 collapsed with D overpowering G (the failure a user saw on
# an Intel Xeon), and a lower D rate made it worse; with R1 D stays near chance and the EMA
# turns G's jitter into clean samples.
_register(
    "demo",
    "the 2014 networks on the bundled mnist5k: Adam (D 2e-4, G 1e-3), a lazy R1 penalty on D "
    "and an EMA of G: samples of all 10 digit classes in each of 18 measured runs (8 seeds at "
    "1 and at 2 threads, 2 on another kernel path), classifier-feature distance 35-56 (real "
    "digits 7.5; docs/presets.md); 6,000 iterations, 3.3-3.7 minutes of training on 2 idle cores",
    data=DataConfig(name="mnist5k"),
    objective=ObjectiveConfig(penalty="r1", penalty_weight=2.0, penalty_every=4),
    optim_d=OptimConfig(name="adam", lr=2e-4, lr_decay=1.0, betas=(0.5, 0.999)),
    optim_g=OptimConfig(name="adam", lr=1e-3, lr_decay=1.0, betas=(0.5, 0.999)),
    train=TrainConfig(
        iterations=6000, checkpoint_every=500, sample_every=1000, ema_beta=0.999, ema_rampup=0.1
    ),
)

# DCGAN family (Radford et al. 2016): the dcgan nets, Adam(2e-4, beta1 0.5), batch 64. On the
# 28x28 sets at half the paper's widths (ngf = ndf = 32: a quarter of the FLOPs of 64, for a
# 2-core CPU); CIFAR-10 at the paper's 64. Times measured as docs/presets.md says.
_DCGAN_ADAM = OptimConfig(name="adam", lr=2e-4, lr_decay=1.0, betas=(0.5, 0.999))
_DCGAN_28 = ModelConfig(generator="dcgan", discriminator="dcgan", g_channels=32, d_channels=32)
_DCGAN_TRAIN = TrainConfig(batch_size=64, iterations=3000, sample_every=250, checkpoint_every=250)


def _register_dcgan(
    name: str, description: str, data: str, train=_DCGAN_TRAIN, optim_g=_DCGAN_ADAM, **model
) -> None:
    _register(
        name,
        description,
        data=DataConfig(name=data),
        model=dataclasses.replace(_DCGAN_28, **model),
        optim_d=_DCGAN_ADAM,
        optim_g=optim_g,
        train=train,
    )


# The class-conditional rows and InfoGAN: 4,000 iterations and an EMA of G's weights (Yazici
# et al. 2019), which settles the class accuracy that the raw G swings around (0.89-0.96
# between 1,800 and 3,000 iterations without it, docs/presets.md).
_CONDITIONAL_TRAIN = dataclasses.replace(
    _DCGAN_TRAIN, iterations=4000, ema_beta=0.999, ema_rampup=0.1
)
# cGAN trains twice as long: at 4,000 iterations its class accuracy was 0.922-0.958 over seeds
# 0-2, at 8,000 0.985-0.992 (docs/zoo.md).
_CLASS_CONDITIONAL_TRAIN = dataclasses.replace(_CONDITIONAL_TRAIN, iterations=8000)
# AC-GAN's class accuracy was 0.981, 0.939 and 0.958 at 8,000 iterations (seeds 0-2): seed 1
# needed twice the G steps to pass 0.95 (docs/zoo.md).
_ACGAN_TRAIN = dataclasses.replace(_CONDITIONAL_TRAIN, iterations=16000)
# InfoGAN at its authors' MNIST batch and length (batch 128, 5,000 updates): code accuracy
# 0.999, 0.854 and 0.829 over seeds 0-2, against 0.918, 0.747 and 0.798 at batch 64 for 4,000.
_INFOGAN_TRAIN = dataclasses.replace(_CONDITIONAL_TRAIN, batch_size=128, iterations=5000)


_register_dcgan(
    "dcgan-mnist",
    "DCGAN (ngf = ndf = 32) on the full MNIST: samples of 9 or 10 digit classes from 300 "
    "iterations on and of all 10 at 3,000, closer to the data all the way (classifier-feature "
    "distance about 800 at 300, 275-312 at 3,000; 3 seeds, docs/presets.md); 3,000 "
    "iterations, about 2.5 minutes on 1 thread",
    "mnist",
)
_register_dcgan(
    "dcgan-fashion",
    "DCGAN (ngf = ndf = 32) on Fashion-MNIST: samples of all 10 garment classes at 3,000 "
    "iterations and from 900 on (at 600 trousers are scarce: 9 classes), classifier-feature "
    "distance about 500 at 300, 185-194 at 3,000 (3 seeds, docs/presets.md); 3,000 "
    "iterations, about 2.5 minutes on 1 thread",
    "fashion-mnist",
)
_register_dcgan(
    "cgan-mnist",
    "conditional DCGAN (one-hot label into G's input and as 10 maps into D's), with an EMA of "
    "G: rows of `sample --per-class` show their own digit: 0.992, 0.992 and 0.985 of the "
    "samples drawn for a class are of that class (seeds 0-2, docs/zoo.md); 8,000 iterations, "
    "about 9 minutes on 1 thread",
    "mnist",
    train=_CLASS_CONDITIONAL_TRAIN,
    conditional="concat",
)
_register_dcgan(
    "acgan-mnist",
    "AC-GAN (DCGAN nets, D also classifies), with an EMA of G: `sample --per-class` rows "
    "follow their class: 0.983, 0.987 and 0.986 of the samples drawn for a class are of that "
    "class (seeds 0-2, docs/zoo.md); 16,000 iterations, about 18 minutes on 1 thread",
    "mnist",
    train=_ACGAN_TRAIN,
    conditional="acgan",
)
# InfoGAN at its paper's MNIST settings (Chen et al. 2016, Table 1 and the authors' code): an
# FC layer of 1024 units in G (before the projection) and in D (after the convolutions, Q's
# input), G's Adam at 1e-3 against D's 2e-4; widths at the half scale of the other 28x28 rows
# and the paper's batch 128 for 5,000 iterations (its nets have 64/128 maps). Without the FC
# layers and G's faster rate the code reached 0.27-0.31 accuracy at 3,000 iterations; with them,
# 0.82 and 0.74 at 2,000 (seeds 0, 1; batch 64; docs/zoo.md).
_register_dcgan(
    "infogan-mnist",
    "InfoGAN at its paper's MNIST settings (62 noise dims, a 10-way and 2 continuous codes, FC "
    "1024 layers in G and D, G's Adam 1e-3, D's 2e-4, batch 128): the 10-way code comes to "
    "track the digit class, 0.999, 0.854 and 0.829 of a code value's samples in its majority "
    "class (seeds 0-2, docs/zoo.md; the paper about 0.95); `sample --sweep cont0/cont1` varies "
    "the style; 5,000 iterations and an EMA of G, about 40 minutes on 1 thread",
    "mnist",
    train=_INFOGAN_TRAIN,
    optim_g=dataclasses.replace(_DCGAN_ADAM, lr=1e-3),
    z_dim=62,
    info_categorical=(10,),
    info_continuous=2,
    dcgan_fc=1024,
)

# The objective table of Lucic et al. 2018 ("Are GANs created equal?") at this scale: each
# objective on the DCGAN nets above (ngf = ndf = 32, batch 64) at its own paper's optimiser
# settings; the non-saturating row is dcgan-mnist / dcgan-fashion. Penalised critics get layer
# norm in place of batch norm (Gulrajani et al. 2017, section 4). Critics that take 5 steps
# per G step get a third of the G steps, so every row's D sees a similar number of batches.
# Measurements over seeds: docs/zoo.md.
_LUCIC_DATA = {"mnist": "the full MNIST", "fashion": "Fashion-MNIST"}


# What the zoo's sweeps measured (docs/zoo.md; classes covered by the classifier of the data,
# and its feature distance to the test split, for seeds 0-2).
_LUCIC_MEASURED = {
    "gan-minimax-mnist": "collapses onto 1 class in each of seeds 0-2 (classifier-feature "
    "distance 1,856-1,863)",
    "lsgan-mnist": "10, 10 and 9 classes for seeds 0-2, classifier-feature distance 314, 332, 334",
    "wgan-mnist": "9, 10 and 10 classes for seeds 0-2, classifier-feature distance 879, 951, 862",
    "wgan-gp-mnist": "all 10 classes for seeds 0-2, classifier-feature distance 540, 663, 523",
    "dragan-mnist": "all 10 classes for seeds 0-2, classifier-feature distance 421, 383, 400",
    "began-mnist": "collapses: 1, 5 and 1 classes for seeds 0-2 (and onto 1-3 classes for seed 0 "
    "in every variant screened: lambda_k, gamma, BEGAN's own generator, faster Adam; "
    "docs/zoo.md)",
    "gan-minimax-fashion": "collapses onto 3 classes in each of seeds 0-2 (classifier-feature "
    "distance 817-844)",
    "lsgan-fashion": "all 10 classes for seeds 0-2, classifier-feature distance 207, 238, 213",
    "wgan-fashion": "9, 10 and 9 classes for seeds 0-2, classifier-feature distance 519, 510, 503",
    "wgan-gp-fashion": "all 10 classes for seeds 0-2, classifier-feature distance 362, 347, 334",
    "dragan-fashion": "10, 9 and 9 classes for seeds 0-2, classifier-feature distance 340, 343, "
    "344",
    "began-fashion": "collapses: 2, 2 and 3 classes for seeds 0-2 (as on MNIST)",
    "ebgan-mnist": "9, 10 and 10 classes for seeds 0-2, classifier-feature distance 353, 311, 319",
}


def _register_lucic(name: str, settings: str, iterations: int = 3000, k: int = 1, **sections):
    model = dataclasses.replace(_DCGAN_28, **sections.pop("model", {}))
    for suffix, data in (("mnist", "mnist"), ("fashion", "fashion-mnist")):
        _register(
            f"{name}-{suffix}",
            f"{settings}, DCGAN nets (ngf = ndf = 32) on {_LUCIC_DATA[suffix]}: "
            f"{iterations:,} G steps at k = {k}; "
            + _LUCIC_MEASURED.get(
                f"{name}-{suffix}",
                "not yet measured over seeds (docs/zoo.md gives the sweep that measures it)",
            ),
            data=DataConfig(name=data),
            model=model,
            optim_d=sections.get("optim_d", _DCGAN_ADAM),
            optim_g=sections.get("optim_g", _DCGAN_ADAM),
            objective=sections.get("objective", ObjectiveConfig()),
            train=dataclasses.replace(_DCGAN_TRAIN, iterations=iterations, k=k),
        )


_GP_ADAM = OptimConfig(name="adam", lr=1e-4, lr_decay=1.0, betas=(0.5, 0.9))
_WGAN_RMSPROP = OptimConfig(name="rmsprop", lr=5e-5, lr_decay=1.0)
_register_lucic(
    "gan-minimax",
    "Goodfellow et al. 2014's minimax cost for G (MM), Adam 2e-4 beta1 0.5",
    objective=ObjectiveConfig(name="minimax"),
)
_register_lucic(
    "lsgan",
    "LSGAN (Mao et al. 2017), Adam 2e-4 beta1 0.5",
    objective=ObjectiveConfig(name="least_squares"),
)
_register_lucic(
    "wgan",
    "WGAN (Arjovsky et al. 2017): clipping at 0.01, RMSProp 5e-5, 5 critic steps",
    iterations=1000,
    k=5,
    objective=ObjectiveConfig(name="wasserstein", clip_weights=0.01),
    optim_d=_WGAN_RMSPROP,
    optim_g=_WGAN_RMSPROP,
)
_register_lucic(
    "wgan-gp",
    "WGAN-GP (Gulrajani et al. 2017): penalty 10, 5 critic steps, Adam 1e-4 betas (0.5, 0.9), "
    "layer norm in the critic",
    iterations=1000,
    k=5,
    model={"d_norm": "layer"},
    objective=ObjectiveConfig(name="wasserstein", penalty="gradient", penalty_weight=10.0),
    optim_d=_GP_ADAM,
    optim_g=_GP_ADAM,
)
_register_lucic(
    "dragan",
    "DRAGAN (Kodali et al. 2017): the non-saturating GAN with a penalty of 10 at perturbed "
    "data, Adam 1e-4 betas (0.5, 0.9), layer norm in D",
    model={"d_norm": "layer"},
    objective=ObjectiveConfig(name="non_saturating", penalty="dragan", penalty_weight=10.0),
    optim_d=_GP_ADAM,
    optim_g=_GP_ADAM,
)
_BEGAN_ADAM = OptimConfig(name="adam", lr=1e-4, lr_decay=1.0, betas=(0.5, 0.999))
_register_lucic(
    "began",
    "BEGAN (Berthelot et al. 2017): its convolutional auto-encoder D (n = 32, code 64, L1 "
    "energy), gamma 0.5, lambda_k 0.001, z ~ U(-1, 1)^64, Adam 1e-4",
    model={
        "discriminator": "conv_autoencoder",
        "d_energy": "l1",
        "d_code": 64,
        "z_dim": 64,
    },
    objective=ObjectiveConfig(name="began", began_gamma=0.5, began_lambda_k=0.001),
    optim_d=_BEGAN_ADAM,
    optim_g=_BEGAN_ADAM,
)
_register_lucic(
    "ebgan",
    "EBGAN (Zhao et al. 2017): a convolutional auto-encoder D (n = 32, code 64, squared "
    "energy), margin 1.2 (the mnist5k margin 0.3 scaled by 4 for data in [-1, 1], "
    "docs/energy.md), pulling-away term 0.1, Adam 2e-4 beta1 0.5",
    model={"discriminator": "conv_autoencoder", "d_code": 64},
    objective=ObjectiveConfig(name="ebgan", margin=1.2, pt_weight=0.1),
)
_register(
    "dcgan-cifar10",
    "DCGAN at the paper's widths (64) on CIFAR-10, which you supply (data.root, or `saddlepoint "
    "data download cifar10`): about 55 images/s on 1 thread here, 19 min per 1,000 iterations "
    "(benchmarks/results/dcgan-cpu.md); samples not checked (no CIFAR-10 on this machine)",
    data=DataConfig(name="cifar10"),
    model=ModelConfig(generator="dcgan", discriminator="dcgan"),
    optim_d=_DCGAN_ADAM,
    optim_g=_DCGAN_ADAM,
    train=_DCGAN_TRAIN,
)


# LAPGAN (Denton et al. 2015): one Algorithm 1 per pyramid level (saddlepoint.train.lapgan), each
# level for train.iterations steps; two levels (a 16x16 DCGAN, then the 32x32 band-pass) beat the
# paper's three (8x8 at the top) on MNIST; docs/lapgan.md has the measurements behind these lines.
_LAPGAN_ADAM_D = OptimConfig(name="adam", lr=2e-4, lr_decay=1.0, betas=(0.5, 0.999))
_LAPGAN_ADAM_G = OptimConfig(name="adam", lr=1e-3, lr_decay=1.0, betas=(0.5, 0.999))


def _register_lapgan(name: str, description: str, data: str) -> None:
    _register(
        name,
        description,
        data=DataConfig(name=data, pyramid_levels=2),
        model=ModelConfig(generator="lapgan", discriminator="lapgan", g_channels=32, d_channels=32),
        optim_d=_LAPGAN_ADAM_D,
        optim_g=_LAPGAN_ADAM_G,
        train=TrainConfig(batch_size=64, iterations=3000, checkpoint_every=500, sample_every=500),
    )


_register_lapgan(
    "lapgan-mnist",
    "LAPGAN, 2 levels (16x16 DCGAN, then the 32x32 band-pass given the upsampled image) on the "
    "full MNIST: in one run (seed 0, looked at and Parzen-scored; not yet repeated over seeds) "
    "rough digits after 1,000 iterations per level, recognisable digits of every class after "
    "3,000 (Parzen 166 nats); 0.29 CPU-s per iteration, about 14 minutes on one core",
    "mnist",
)
_register_lapgan(
    "lapgan-fashion",
    "LAPGAN, 2 levels, on Fashion-MNIST: in one run (seed 0, looked at; not yet repeated over "
    "seeds) garment silhouettes with noisy texture after 1,000 iterations per level; shirts, "
    "trousers, boots, sneakers and bags after 3,000 (19 minutes wall here on a shared 2-core "
    "CPU, one thread)",
    "fashion-mnist",
)
_register_lapgan(
    "lapgan-cifar10",
    "LAPGAN, 2 levels, on CIFAR-10, which you supply (data.root): 0.31 CPU-s per iteration, "
    "about 15 minutes on one core for 3,000 per level; samples not checked (no CIFAR-10 here)",
    "cifar10",
)


# The toy zoo (docs/zoo.md): each objective on the ring of 8 and the grid of 25 Gaussians
# (saddlepoint.data.toy) at its paper's settings where the paper gives them, on one pair of
# networks for every objective: a ReLU G 128-128-128 from z ~ N(0, I_16) and a maxout D
# 128x2-128x2-128x2 without dropout (the 128-wide MLPs of Metz et al. 2017's toys, a layer
# deeper: with 64-64 nets WGAN-GP had found 0 of the grid's 25 modes after 20,000 steps);
# EBGAN and BEGAN get an MLP auto-encoder with a 2-d code. Batch 128; 5,000 G steps on the
# ring and 15,000 on the grid, whose 25 modes take longer to separate. What a preset changed
# from its paper to fit the budget is named in its description; docs/zoo.md has the
# measurements over 5 seeds.
_TOY_MODEL = ModelConfig(
    generator="mlp",
    z_dim=16,
    z_prior="normal",
    g_hidden=(128, 128, 128),
    g_init=0.0,
    g_output_bias="zero",
    d_hidden=(128, 128, 128),
    d_pieces=2,
    d_keep_input=1.0,
    d_keep_hidden=1.0,
    d_init=0.0,
)
_TOY_AUTOENCODER = {"discriminator": "mlp_autoencoder", "d_code": 2}
_TOY_ITERATIONS = {"ring8": 5000, "grid25": 15000}  # generator steps
_TOY_TRAIN = TrainConfig(
    batch_size=128, sample_every=0, checkpoint_every=1000, grid_size=256, log_every=100
)


def _adam(lr: float, betas: tuple[float, float] = (0.5, 0.999)) -> OptimConfig:
    return OptimConfig(name="adam", lr=lr, lr_decay=1.0, betas=betas)


@dataclass(frozen=True)
class _ToySystem:
    name: str  # the preset is NAME-ring8 / NAME-grid25
    settings: str  # the paper and its settings, and what the budget changed
    objective: ObjectiveConfig
    optim_d: OptimConfig
    optim_g: OptimConfig
    k: int = 1
    model: tuple[tuple[str, object], ...] = ()
    # data -> fields of this system replaced on that toy (settings, objective, optim_d, optim_g)
    variants: dict[str, dict] = dataclasses.field(default_factory=dict)


def _register_toy(system: _ToySystem) -> None:
    for data, iterations in _TOY_ITERATIONS.items():
        s = dataclasses.replace(system, **system.variants.get(data, {}))
        measured = _TOY_MEASURED.get(f"{s.name}-{data}", "not yet measured over seeds")
        _register(
            f"{s.name}-{data}",
            f"{s.settings}; {iterations:,} generator steps at k = {s.k}; {measured}",
            data=DataConfig(name=data),
            model=dataclasses.replace(_TOY_MODEL, **dict(s.model)),
            objective=s.objective,
            optim_d=s.optim_d,
            optim_g=s.optim_g,
            train=dataclasses.replace(_TOY_TRAIN, k=s.k, iterations=iterations),
        )


# What `saddlepoint sweep benchmarks/sweeps/zoo-toys.toml` measured, seeds 0-4 (docs/zoo.md):
# modes covered (of 8 or 25) per seed.
_TOY_MEASURED = {
    "gan-minimax-ring8": "collapses here: 1, 1, 1, 4 and 0 of 8 modes for seeds 0-4",
    "gan-ns-ring8": "collapses here: 1, 3, 2, 3 and 2 of 8 modes for seeds 0-4",
    "gan-ml-ring8": "no samples on any mode for seeds 0-4 (its G gradient vanishes)",
    "lsgan-ring8": "2, 3, 3, 4 and 3 of 8 modes for seeds 0-4 (the paper's claim of all 8 "
    "did not hold here)",
    "wgan-gp-ring8": "8, 7, 6, 8 and 6 of 8 modes for seeds 0-4 (about half the samples on a "
    "mode); with --set model.g_hidden=64,64 --set model.d_hidden=64,64, all 8 in each of seeds "
    "0-4",
    "wgan-gp-grid25": "25, 24, 24, 19 and 25 of 25 modes for seeds 0-4",
    "dragan-ring8": "3, 0, 0, 1 and 2 of 8 modes for seeds 0-4",
    "hinge-ring8": "0, 4, 2, 0 and 0 of 8 modes for seeds 0-4",
    "ebgan-ring8": "3 of 8 modes for each of seeds 0-4",
    "began-ring8": "no samples on any mode by 5,000 steps for seeds 0-4",
    "gan-minimax-grid25": "5, 5, 3, 3 and 2 of 25 modes for seeds 0-4",
    "gan-ns-grid25": "4, 6, 7, 6 and 4 of 25 modes for seeds 0-4",
    "gan-ml-grid25": "no samples on any mode for seeds 0-4",
    "lsgan-grid25": "12, 9, 14, 11 and 7 of 25 modes for seeds 0-4",
    "dragan-grid25": "13, 4, 6, 2 and 12 of 25 modes for seeds 0-4",
    "hinge-grid25": "9, 6, 17, 19 and 3 of 25 modes for seeds 0-4",
    "ebgan-grid25": "8, 10, 12, 9 and 6 of 25 modes for seeds 0-4",
    "began-grid25": "collapses onto 1 of 25 modes for each of seeds 0-4",
    "wgan-ring8": "no mode covered for seeds 0-4: G matches the ring's mean and spread but "
    "1-3% of its samples lie on a mode (clipping's known failure)",
    "wgan-grid25": "no mode covered for seeds 0-4: G matches the grid's mean and spread but "
    "1-5% of its samples lie on a mode (clipping's known failure)",
}

_TOY_SYSTEMS = (
    _ToySystem(
        "gan-minimax",
        "Goodfellow et al. 2014's minimax cost log(1 - D(G(z))) for G (the paper gives no toy "
        "settings: Adam 1e-3 for both players, as the mode-collapse lab)",
        ObjectiveConfig(name="minimax"),
        _adam(1e-3),
        _adam(1e-3),
    ),
    _ToySystem(
        "gan-ns",
        "Goodfellow et al. 2014's non-saturating cost -log D(G(z)) (Adam 1e-3 for both players)",
        ObjectiveConfig(name="non_saturating"),
        _adam(1e-3),
        _adam(1e-3),
    ),
    _ToySystem(
        "gan-ml",
        "the maximum-likelihood cost -exp(l)/2 of Goodfellow 2014b (Adam 1e-3 for both)",
        ObjectiveConfig(name="maximum_likelihood"),
        _adam(1e-3),
        _adam(1e-3),
    ),
    _ToySystem(
        "lsgan",
        "LSGAN (Mao et al. 2017; a = 0, b = c = 1), Adam 1e-3 for both players",
        ObjectiveConfig(name="least_squares"),
        _adam(1e-3),
        _adam(1e-3),
    ),
    _ToySystem(
        "wgan",
        "WGAN (Arjovsky et al. 2017): weight clipping at 0.01, 5 critic steps, RMSProp 5e-5 "
        "as published",
        ObjectiveConfig(name="wasserstein", clip_weights=0.01),
        OptimConfig(name="rmsprop", lr=5e-5, lr_decay=1.0),
        OptimConfig(name="rmsprop", lr=5e-5, lr_decay=1.0),
        k=5,
    ),
    _ToySystem(
        "wgan-gp",
        "WGAN-GP (Gulrajani et al. 2017): 5 critic steps, Adam betas (0.5, 0.9), the paper's "
        "penalty 10, Adam at 5e-4 (the paper's 1e-4 had not reached the ring by this budget)",
        ObjectiveConfig(name="wasserstein", penalty="gradient", penalty_weight=10.0),
        _adam(5e-4, (0.5, 0.9)),
        _adam(5e-4, (0.5, 0.9)),
        k=5,
        variants={
            "grid25": {
                "settings": "WGAN-GP (Gulrajani et al. 2017): 5 critic steps, Adam betas "
                "(0.5, 0.9), penalty 0.1 as the authors' toy code, Adam at 1e-3 (with 64-wide "
                "nets it had found 0-3 of the 25 modes after 10,000-20,000 steps)",
                "objective": ObjectiveConfig(
                    name="wasserstein", penalty="gradient", penalty_weight=0.1
                ),
                "optim_d": _adam(1e-3, (0.5, 0.9)),
                "optim_g": _adam(1e-3, (0.5, 0.9)),
            }
        },
    ),
    _ToySystem(
        "dragan",
        "DRAGAN (Kodali et al. 2017): the non-saturating GAN with a gradient penalty of 10 "
        "at perturbed real points, Adam 5e-4 betas (0.5, 0.9)",
        ObjectiveConfig(name="non_saturating", penalty="dragan", penalty_weight=10.0),
        _adam(5e-4, (0.5, 0.9)),
        _adam(5e-4, (0.5, 0.9)),
    ),
    _ToySystem(
        "hinge",
        "the hinge loss (Lim and Ye 2017) with spectral normalisation of D at SNGAN's setting "
        "C (Miyato et al. 2018: one D step, Adam 2e-4 betas (0.5, 0.999))",
        ObjectiveConfig(name="hinge"),
        _adam(2e-4),
        _adam(2e-4),
        model=(("spectral_norm", True),),
    ),
    _ToySystem(
        "ebgan",
        "EBGAN (Zhao et al. 2017): auto-encoder D, margin 0.3, pulling-away term 0.1, Adam 1e-3",
        ObjectiveConfig(name="ebgan"),
        _adam(1e-3),
        _adam(1e-3),
        model=tuple(_TOY_AUTOENCODER.items()),
    ),
    _ToySystem(
        "began",
        "BEGAN (Berthelot et al. 2017): auto-encoder D, gamma 0.5, lambda_k 0.001, Adam 1e-4",
        ObjectiveConfig(name="began"),
        _adam(1e-4),
        _adam(1e-4),
        model=tuple(_TOY_AUTOENCODER.items()),
    ),
)
for _system in _TOY_SYSTEMS:
    _register_toy(_system)


def preset(name: str, **changes) -> Config:
    """The config of preset `name`; keyword arguments replace whole sections."""
    return dataclasses.replace(PRESETS.get(name).config, **changes)
