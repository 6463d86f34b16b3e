"""saddlepoint: generative adversarial networks as the papers specify them.

import saddlepoint as sp
config = sp.preset("demo")              # or sp.Config(...) with its dataclasses
run = sp.train(config, out="runs")      # Algorithm 1; writes runs/NNNNN-demo-.../
run = sp.load(run.path)                 # a run folder or a generator.safetensors
sp.save_grid(run.generator.sample(64), "digits.png")
run = sp.load_pretrained("NAME")        # shipped with the package: `saddlepoint pretrained`
"""

from saddlepoint.config import (
    Config,
    DataConfig,
    ModelConfig,
    ObjectiveConfig,
    OptimConfig,
    TrainConfig,
    override,
)
from saddlepoint.errors import SaddlepointError
from saddlepoint.presets import PRESETS, preset
from saddlepoint.pretrained import load_pretrained
from saddlepoint.report import save_grid, save_samples
from saddlepoint.runs import Run, load, read_log
from saddlepoint.train import train

__version__ = "0.1.0"

__all__ = [
    "Config",
    "DataConfig",
    "ModelConfig",
    "ObjectiveConfig",
    "OptimConfig",
    "PRESETS",
    "Run",
    "SaddlepointError",
    "TrainConfig",
    "load",
    "load_pretrained",
    "override",
    "preset",
    "read_log",
    "save_grid",
    "save_samples",
    "train",
]
