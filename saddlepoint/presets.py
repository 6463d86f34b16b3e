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


def _register_dcgan(name: str, description: str, data: str, **model) -> None:
    _register(
        name,
        description,
        data=DataConfig(name=data),
        model=dataclasses.replace(_DCGAN_28, **model),
        optim_d=_DCGAN_ADAM,
        optim_g=_DCGAN_ADAM,
        train=_DCGAN_TRAIN,
    )


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
    "conditional DCGAN (one-hot label into G's input and as 10 maps into D's): rows of "
    "`sample --per-class` show their own digit: 0.89-0.93 of the samples drawn for a class "
    "are of that class at 3,000 iterations, 0.82-0.85 at 1,800, 0.25-0.31 at 600 (3 seeds, "
    "chance 0.1; docs/presets.md); 3,000 iterations, about 3 minutes on 1 thread",
    "mnist",
    conditional="concat",
)
_register_dcgan(
    "acgan-mnist",
    "AC-GAN (DCGAN nets, D also classifies): `sample --per-class` rows follow their class: "
    "0.89-0.94 of the samples drawn for a class are of that class at 3,000 iterations, "
    "0.82-0.91 at 1,500, only about half at 600 (3 seeds, chance 0.1; docs/presets.md); "
    "3,000 iterations, about 2.5 minutes on 1 thread",
    "mnist",
    conditional="acgan",
)
_register_dcgan(
    "infogan-mnist",
    "InfoGAN (62 noise dims, a 10-way and 2 continuous codes): samples of every digit class "
    "from 1,800 iterations on (3 seeds); the 10-way code tracks the class only partly: at "
    "3,000 iterations each code value's majority class holds 0.27-0.31 of its samples, its "
    "10 values naming 5-6 classes (3 seeds; chance about 0.1, the paper about 0.95); "
    "`sample --sweep cont0/cont1` varied width and slant in the run looked at; 3,000 "
    "iterations, about 2.5 minutes on 1 thread",
    "mnist",
    z_dim=62,
    info_categorical=(10,),
    info_continuous=2,
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


def preset(name: str, **changes) -> Config:
    """The config of preset `name`; keyword arguments replace whole sections."""
    return dataclasses.replace(PRESETS.get(name).config, **changes)
