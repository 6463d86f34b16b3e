"""What the playground page can set, checked, and made into the library's own `Config`.

The page edits a handful of numbers and choices (`Settings`); `to_config` turns them into the
config that `train.state.setup` builds G, D, the objective and the optimisers from, so the
playground trains exactly what `saddlepoint train` would with the same settings:

    G  the 2014 ReLU MLP (model.generator=mlp): g_layers layers of g_width units, linear output
    D  the 2014 maxout MLP (2 pieces, no dropout), d_layers layers of d_width units; the
       auto-encoder D of the toy labs for the energy objectives (EBGAN, BEGAN)
    optimiser  Adam or momentum SGD for both players, constant learning rates lr_d and lr_g

`update` applies the page's changes one field at a time, each range-checked with one sentence
when it is wrong. Changes to `LIVE` fields take effect on the running state at once; any other
change rebuilds the state and keeps whatever weights still fit (playground/game.py).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from saddlepoint.config import PENALTY_NAMES, Config, override
from saddlepoint.errors import SaddlepointError
from saddlepoint.lab.mode_collapse import TOY_DISCRIMINATORS
from saddlepoint.objectives import OBJECTIVES


@dataclass(frozen=True)
class Settings:
    objective: str = "non_saturating"  # an objective from saddlepoint.objectives.OBJECTIVES
    penalty: str = "none"  # gradient penalty on D: none, gradient (WGAN-GP), dragan or r1
    penalty_weight: float = 10.0  # lambda of the penalty
    clip: float = 0.0  # WGAN: clamp D's weights to [-clip, clip] after each D step; 0 = off
    k: int = 1  # D steps per G step (Algorithm 1)
    lr_d: float = 1e-3  # D's learning rate
    lr_g: float = 1e-3  # G's learning rate
    optimiser: str = "adam"  # both players: adam (betas 0.5, 0.999) or sgd (momentum 0.5 -> 0.7)
    g_layers: int = 2  # G's hidden ReLU layers
    g_width: int = 64  # units in each
    d_layers: int = 2  # D's hidden maxout layers
    d_width: int = 64  # units in each
    z_dim: int = 2  # dimensions of the noise z (2 draws G's manifold as a warped grid)
    prior: str = "normal"  # p_z: normal N(0, I) or uniform U(-sqrt 3, sqrt 3)
    batch_size: int = 128  # m: examples and noise samples per minibatch
    seed: int = 0  # initial weights, data order and noise

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# field -> (least, most) for numbers; field -> the allowed words for choices
RANGES: dict[str, tuple[float, float]] = {
    "penalty_weight": (1e-3, 1e3),
    "clip": (0.0, 10.0),
    "k": (1, 20),
    "lr_d": (1e-6, 1.0),
    "lr_g": (1e-6, 1.0),
    "g_layers": (1, 5),
    "g_width": (1, 512),
    "d_layers": (1, 5),
    "d_width": (1, 512),
    "z_dim": (1, 64),
    "batch_size": (2, 1024),
    "seed": (0, 2**31 - 1),
}
CHOICES: dict[str, tuple[str, ...]] = {
    "objective": tuple(OBJECTIVES),
    "penalty": PENALTY_NAMES,
    "optimiser": ("adam", "sgd"),
    "prior": ("normal", "uniform"),
}
LIVE = frozenset({"k", "lr_d", "lr_g"})  # applied to the running state without a rebuild
LOG_EVERY = 100  # iterations between the loop's health records, as the toy labs log

# The library's defaults changed for 2-D points, as the toy labs do (lab/mode_collapse.py):
# PyTorch's default initialisation, G's output bias at 0 (p_g starts away from p_data, as in
# the paper's Figure 1), a maxout D of 2 pieces without dropout, constant learning rates.
PLAYGROUND_SETS: tuple[str, ...] = (
    "model.generator=mlp",
    "model.g_init=0",
    "model.g_output_bias=zero",
    "model.d_pieces=2",
    "model.d_keep_input=1",
    "model.d_keep_hidden=1",
    "model.d_init=0",
    "optim_d.lr_decay=1",
    "optim_g.lr_decay=1",
    f"train.log_every={LOG_EVERY}",
    "train.grid_size=256",  # the fixed noise whose samples the page draws
    "train.threads=1",
)


def _number(field: str, value: Any) -> float | int:
    """value as the field's type within RANGES, or one sentence saying why not."""
    kind = type(getattr(Settings, field))
    lo, hi = RANGES[field]
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise SaddlepointError(f"{field} must be a number, not {value!r}.")
    try:
        number = float(value)
    except ValueError:
        raise SaddlepointError(f"{field} must be a number, not {value!r}.") from None
    if not math.isfinite(number):
        raise SaddlepointError(f"{field} must be a finite number, not {value!r}.")
    if kind is int:
        if not number.is_integer():
            raise SaddlepointError(f"{field} must be a whole number, not {value!r}.")
        number = int(number)
    if not lo <= number <= hi:
        raise SaddlepointError(f"{field} must lie between {lo:g} and {hi:g}, got {value!r}.")
    return number


def _choice(field: str, value: Any) -> str:
    if value not in CHOICES[field]:
        raise SaddlepointError(
            f"{field} must be one of {', '.join(CHOICES[field])}, not {value!r}."
        )
    return value


def update(settings: Settings, changes: dict[str, Any]) -> Settings:
    """`settings` with `changes` applied, each checked; the result is checked as a whole."""
    if not isinstance(changes, dict):
        raise SaddlepointError("settings must be sent as a JSON object of name: value.")
    fields = settings.to_dict()
    for field, value in changes.items():
        if field not in fields:
            raise SaddlepointError(
                f"unknown setting {field!r}; the playground has: {', '.join(fields)}."
            )
        fields[field] = _choice(field, value) if field in CHOICES else _number(field, value)
    result = Settings(**fields)
    check(result)
    return result


def check(s: Settings) -> None:
    """The combinations the library refuses, said in the page's words."""
    if s.objective == "wasserstein" and s.clip == 0 and s.penalty != "gradient":
        raise SaddlepointError(
            "the WGAN critic needs a Lipschitz constraint: set weight clipping (e.g. 0.01) or "
            "choose the gradient penalty."
        )
    if s.penalty != "none" and OBJECTIVES.get(s.objective).discriminator == "autoencoder":
        raise SaddlepointError(
            f"{s.objective} scores with an auto-encoder's energy; a gradient penalty is for "
            "classifier and critic objectives: set the penalty to none."
        )


def changed(old: Settings, new: Settings) -> set[str]:
    """The fields whose values differ."""
    a, b = old.to_dict(), new.to_dict()
    return {f for f in a if a[f] != b[f]}


def to_config(s: Settings, data_name: str, dim: int) -> Config:
    """The library's Config for these settings, on `dim`-dimensional points named data_name."""
    kind = OBJECTIVES.get(s.objective).discriminator  # classifier or autoencoder
    discriminator = TOY_DISCRIMINATORS.get(kind, ())
    return override(
        Config(preset="playground"),
        [
            *PLAYGROUND_SETS,
            *discriminator,
            *(("model.d_code=1",) if kind == "autoencoder" and dim == 1 else ()),
            f"data.name={data_name}",
            f"objective.name={s.objective}",
            f"objective.penalty={s.penalty}",
            f"objective.penalty_weight={s.penalty_weight}",
            f"objective.clip_weights={s.clip if s.clip > 0 else 'none'}",
            f"train.k={s.k}",
            f"train.batch_size={s.batch_size}",
            f"train.seed={s.seed}",
            f"optim_d.name={s.optimiser}",
            f"optim_g.name={s.optimiser}",
            f"optim_d.lr={s.lr_d}",
            f"optim_g.lr={s.lr_g}",
            f"model.g_hidden={','.join([str(s.g_width)] * s.g_layers)}",
            f"model.d_hidden={','.join([str(s.d_width)] * s.d_layers)}",
            f"model.z_dim={s.z_dim}",
            f"model.z_prior={s.prior}",
        ],
    )
