"""Named presets: small overrides of the config defaults, each with a line saying what it is for.

The defaults in config.py are the 2014 MNIST recipe, so `goodfellow2014-mnist` only names its
data and duration.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from saddlepoint.config import Config, DataConfig, OptimConfig, TrainConfig
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

# Adam with a generator learning rate 5x the discriminator's (two time-scale updates): on
# mnist5k, Adam at 2e-4 for both collapsed to a few modes within 6,000 iterations, while this
# pair drew varied, recognisable digits (measured side by side; see docs/presets.md).
_register(
    "demo",
    "the 2014 networks on the bundled mnist5k with Adam (D 2e-4, G 1e-3): recognisable, "
    "varied digits after 6,000 iterations, about five minutes on 2 cores",
    data=DataConfig(name="mnist5k"),
    optim_d=OptimConfig(name="adam", lr=2e-4, lr_decay=1.0, betas=(0.5, 0.999)),
    optim_g=OptimConfig(name="adam", lr=1e-3, lr_decay=1.0, betas=(0.5, 0.999)),
    train=TrainConfig(iterations=6000, checkpoint_every=500, sample_every=1000),
)


def preset(name: str, **changes) -> Config:
    """The config of preset `name`; keyword arguments replace whole sections."""
    return dataclasses.replace(PRESETS.get(name).config, **changes)
