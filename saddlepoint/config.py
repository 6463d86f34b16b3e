"""The configuration of a run: frozen dataclasses with a commented default on every field.

A run is fully described by one `Config`; the resolved config is saved in the run folder and in
every checkpoint. Presets (`saddlepoint.presets`) override these defaults; `--set key=value`
overrides a preset (`override(config, ["optim_d.lr=0.05"])`).
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, field
from typing import Any

from saddlepoint.errors import SaddlepointError


@dataclass(frozen=True)
class DataConfig:
    name: str = "mnist5k"  # a dataset from `saddlepoint datasets`, or folder:PATH
    root: str | None = None  # folder holding the dataset's files; None = the dataset's default
    image_size: int | None = None  # folder:PATH only: resize images to this square size
    channels: int | None = None  # folder:PATH only: 1 (grey) or 3 (RGB); None = from the files
    limit: int | None = None  # use only the first N training images (quick experiments)
    pyramid_level: int | None = None  # LAPGAN: train on this Laplacian-pyramid level (0 = finest)
    pyramid_levels: int = 3  # LAPGAN: levels of the pyramid (the coarsest is a low-pass image)


@dataclass(frozen=True)
class ModelConfig:
    generator: str = "mlp"  # network from nets.GENERATORS
    discriminator: str = "maxout"  # network from nets.DISCRIMINATORS
    z_dim: int = 100  # dimensions of the noise z
    z_prior: str = "uniform"  # "uniform": U(-sqrt 3, sqrt 3)^z_dim (unit variance), or "normal"
    g_hidden: tuple[int, ...] = (1200, 1200)  # generator's ReLU layer widths
    g_init: float = 0.05  # generator weights ~ U(-g_init, g_init); 0 = PyTorch's default init
    g_output_bias: str = "marginal"  # "marginal": output bias = logit of each pixel's mean; "zero"
    d_hidden: tuple[int, ...] = (240, 240)  # discriminator's maxout units per layer
    d_pieces: int = 5  # linear pieces per maxout unit
    d_keep_input: float = 0.8  # dropout: probability of keeping each input unit
    d_keep_hidden: float = 0.5  # dropout: probability of keeping each hidden unit
    d_init: float = 0.005  # discriminator weights ~ U(-d_init, d_init); 0 = PyTorch's default
    # convolutional nets (DCGAN, Radford et al. 2016)
    g_channels: int = 64  # generator feature maps at the last hidden layer (ngf)
    d_channels: int = 64  # discriminator feature maps at the first layer (ndf)
    d_norm: str = "batch"  # dcgan D's hidden layers: "batch", "layer" (for penalties) or "none"
    dcgan_fc: int = 0  # dcgan nets: a fully connected layer of this width before G's projection
    # and after D's convolutions (InfoGAN's MNIST nets: 1024); 0 = none (the DCGAN paper's)
    # conditioning on class labels
    conditional: str = "none"  # "none", "concat" (label into G and D), "projection" (D), "acgan"
    aux_weight: float = 1.0  # AC-GAN: weight of the auxiliary classification terms
    # InfoGAN (Chen et al. 2016): structured codes beside z, a Q head on D's trunk
    info_categorical: tuple[int, ...] = ()  # sizes of categorical codes, e.g. 10 for MNIST
    info_continuous: int = 0  # number of continuous codes ~ U(-1, 1)
    info_weight: float = 1.0  # lambda of the mutual-information lower bound
    # stabilisers and auto-encoder discriminators
    spectral_norm: bool = False  # spectral normalisation of D's layers (Miyato et al. 2018)
    d_code: int = 64  # auto-encoder discriminators (EBGAN, BEGAN): size of the code
    d_energy: str = "squared"  # auto-encoder D's energy: "squared" (MSE, EBGAN) or "l1" (BEGAN)


PENALTY_NAMES = ("none", "gradient", "dragan", "r1")  # objectives.penalties.PENALTIES + none


@dataclass(frozen=True)
class ObjectiveConfig:
    name: str = "non_saturating"  # objective from objectives.OBJECTIVES
    clip_weights: float | None = None  # clamp D's parameters to [-c, c] after each D step (WGAN)
    penalty: str = "none"  # "none", "gradient" (WGAN-GP), "dragan" or "r1" (objectives/penalties)
    penalty_weight: float = 10.0  # lambda of WGAN-GP and DRAGAN, gamma of R1
    penalty_every: int = 1  # lazy regularisation: every N D steps, weight x N (StyleGAN2)
    margin: float = 0.3  # EBGAN: m of max(0, m - D(G(z))), in per-feature energy (ebgan.py)
    pt_weight: float = 0.1  # EBGAN: weight of the pulling-away term in G's cost (0 = off)
    began_gamma: float = 0.5  # BEGAN: gamma = E L(G(z)) / E L(x), the diversity ratio
    began_lambda_k: float = 0.001  # BEGAN: lambda_k, the gain of k_t's proportional control


@dataclass(frozen=True)
class OptimConfig:
    name: str = "sgd"  # "sgd" (with momentum), "adam" or "rmsprop" (WGAN's critic and G)
    lr: float = 0.1  # initial learning rate
    lr_decay: float = 1.000004  # lr is divided by this after every update (1 = constant)
    lr_min: float = 1e-6  # floor of the decayed learning rate
    momentum: float = 0.5  # sgd: momentum at the start
    momentum_final: float = 0.7  # sgd: momentum reached after momentum_epochs
    momentum_epochs: float = 250.0  # sgd: epochs over which momentum rises linearly
    betas: tuple[float, float] = (0.5, 0.999)  # adam: (beta1, beta2)
    alpha: float = 0.99  # rmsprop: decay of the running mean of squared gradients
    weight_decay: float = 0.0  # L2 penalty added by the optimiser


@dataclass(frozen=True)
class TrainConfig:
    batch_size: int = 100  # m: examples (and noise samples) per minibatch
    k: int = 1  # discriminator steps per generator step (Algorithm 1)
    iterations: int = 10_000  # generator steps to train for
    max_minutes: float | None = None  # also stop after this much wall-clock time
    reuse_fakes: bool = True  # G step reuses the last D step's G(z) (one G forward fewer)
    seed: int = 0  # seeds data order, noise, dropout and initialisation
    # N independent GANs trained together in one process, member i seeded seed + i and equal to
    # the run of that seed (docs/ensembles.md); 1 = one GAN
    ensemble: int = 1
    # float32 (default: autocast measured slower for these nets on an H100, benchmarks/README.md),
    # bfloat16, float16 (CUDA, with a gradient scaler) or auto (bfloat16 on CUDA, else float32)
    precision: str = "float32"
    device: str = "cpu"  # "cpu", "cuda", "mps" or "auto" (CUDA, then MPS, then CPU)
    threads: int | None = None  # torch CPU threads; None = PyTorch's default
    # convolutional nets in NHWC memory: the real DCGAN loop at 32x32 ran 1.0-1.4x faster on the
    # 2-core benchmark CPU, 1.24x on an AMX Xeon (benchmarks/README.md); ignored by MLPs
    channels_last: bool = True
    compile: bool = False  # torch.compile G and D (measured slower than eager on a 2-core CPU)
    # CUDA graphs: each pass through G and D recorded once and replayed (train/cuda_graph.py);
    # one GAN in float32 on a CUDA GPU, refused elsewhere; not yet measured on a GPU
    cuda_graph: bool = False
    ema_beta: float = 0.0  # EMA of G's weights for sampling/eval, e.g. 0.999; 0 = off
    ema_rampup: float = 0.0  # EMA horizon at most this x the steps so far (e.g. 0.1); 0 = off
    log_every: int = 100  # iterations between JSON-lines scalars
    sample_every: int = 1000  # iterations between sample grids (0 = only at the end)
    checkpoint_every: int = 1000  # iterations between training-state checkpoints
    snapshot_every: int = 0  # iterations between kept generator snapshots (0 = none)
    grid_size: int = 100  # samples in each grid (a square number reads best)
    eval_every: int = 0  # iterations between validation scores; the best G is kept (0 = off)
    eval_metric: str = "parzen"  # parzen (validation log-likelihood), fid, kid, is, pr, classes
    eval_samples: int = 10_000  # generator samples per evaluation


@dataclass(frozen=True)
class Config:
    preset: str = "custom"  # the preset this config started from
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    optim_d: OptimConfig = field(default_factory=OptimConfig)
    optim_g: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


# ---------------------------------------------------------------------------- (de)serialisation


def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """Convert a JSON value or a command-line string to the field's type, or say why not."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", typing.Union)):
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            if type(None) in args:
                return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0], where)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise SaddlepointError(f"{where} must be a group of settings, not {value!r}.")
        return _from_dict(hint, value, where)
    if origin is tuple:
        if isinstance(value, str):
            value = [v for v in value.strip("()[] ").split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise SaddlepointError(f"{where} must be a comma-separated list, not {value!r}.")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], where) for v in value)
        if len(value) != len(args):
            raise SaddlepointError(f"{where} takes {len(args)} values, got {len(value)}.")
        return tuple(_coerce(v, a, where) for v, a in zip(value, args))
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on"):
            return True
        if isinstance(value, str) and value.lower() in ("false", "0", "no", "off"):
            return False
        raise SaddlepointError(f"{where} must be true or false, not {value!r}.")
    if hint is int:
        if isinstance(value, bool):
            raise SaddlepointError(f"{where} must be an integer, not {value!r}.")
        if isinstance(value, int):
            return value
        try:
            as_float = float(str(value).replace("_", ""))
        except ValueError:
            raise SaddlepointError(f"{where} must be an integer, not {value!r}.") from None
        if not as_float.is_integer():
            raise SaddlepointError(f"{where} must be an integer, not {value!r}.")
        return int(as_float)
    if hint is float:
        if isinstance(value, bool):
            raise SaddlepointError(f"{where} must be a number, not {value!r}.")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise SaddlepointError(f"{where} must be a number, not {value!r}.") from None
    if hint is str:
        if not isinstance(value, str):
            raise SaddlepointError(f"{where} must be text, not {value!r}.")
        return value
    raise TypeError(f"unsupported config type {hint!r} at {where}")


def _from_dict(cls: type, values: dict[str, Any], prefix: str = "") -> Any:
    hints = _field_types(cls)
    unknown = set(values) - set(hints)
    if unknown:
        name = sorted(unknown)[0]
        full = f"{prefix}.{name}" if prefix else name
        raise SaddlepointError(
            f"unknown setting {full!r}; valid settings here are: {', '.join(sorted(hints))}."
        )
    kwargs = {k: _coerce(v, hints[k], f"{prefix}.{k}" if prefix else k) for k, v in values.items()}
    return cls(**kwargs)


def config_from_dict(values: dict[str, Any]) -> Config:
    """Rebuild a Config from `Config.to_dict()` (e.g. a saved config.json), checking every key."""
    config = _from_dict(Config, values)
    validate(config)
    return config


def override(config: Config, assignments: list[str]) -> Config:
    """Apply `section.key=value` assignments (the CLI's --set) and validate the result."""
    values = config.to_dict()
    for assignment in assignments:
        if "=" not in assignment:
            raise SaddlepointError(
                f"--set expects key=value (for example train.k=2), got {assignment!r}."
            )
        key, raw = assignment.split("=", 1)
        path = key.strip().split(".")
        node: Any = values
        cls: Any = Config
        for depth, part in enumerate(path):
            hints = _field_types(cls)
            if part not in hints:
                where = ".".join(path[:depth]) or "the top level"
                raise SaddlepointError(
                    f"unknown setting {key!r}: {where} has {', '.join(sorted(hints))}."
                )
            if depth == len(path) - 1:
                if dataclasses.is_dataclass(hints[part]):
                    raise SaddlepointError(
                        f"{key!r} is a group of settings; set one of its fields, "
                        f"for example {key}.{next(iter(_field_types(hints[part])))}=..."
                    )
                node[part] = _coerce(raw, hints[part], key)
            else:
                if not dataclasses.is_dataclass(hints[part]):
                    raise SaddlepointError(f"{'.'.join(path[: depth + 1])!r} has no sub-settings.")
                node, cls = node[part], hints[part]
    return config_from_dict(values)


def validate(config: Config) -> None:
    """Range checks that make a bad value fail before training, in one sentence."""
    t, m = config.train, config.model

    def need(ok: bool, message: str) -> None:
        if not ok:
            raise SaddlepointError(message)

    need(t.batch_size >= 1, f"train.batch_size must be at least 1, got {t.batch_size}.")
    need(t.k >= 1, f"train.k (discriminator steps per generator step) must be >= 1, got {t.k}.")
    need(t.ensemble >= 1, f"train.ensemble (GANs trained together) must be >= 1, got {t.ensemble}.")
    need(t.iterations >= 0, f"train.iterations must be >= 0, got {t.iterations}.")
    need(
        t.max_minutes is None or t.max_minutes > 0,
        f"train.max_minutes must be positive, got {t.max_minutes}.",
    )
    need(
        t.precision in ("auto", "float32", "bfloat16", "float16"),
        f"train.precision must be auto, float32, bfloat16 or float16, got {t.precision!r}.",
    )
    need(
        t.device in ("auto", "cpu", "cuda", "mps"),
        f"train.device must be auto, cpu, cuda or mps, got {t.device!r}.",
    )
    for name in ("log_every", "sample_every", "checkpoint_every", "snapshot_every"):
        need(getattr(t, name) >= 0, f"train.{name} must be >= 0, got {getattr(t, name)}.")
    need(t.log_every >= 1, f"train.log_every must be >= 1, got {t.log_every}.")
    need(t.grid_size >= 1, f"train.grid_size must be >= 1, got {t.grid_size}.")
    need(t.eval_every >= 0, f"train.eval_every must be >= 0 (0 = off), got {t.eval_every}.")
    need(
        t.eval_metric in ("parzen", "fid", "kid", "is", "pr", "classes"),
        "train.eval_metric must be one of parzen, fid, kid, is, pr, classes, "
        f"got {t.eval_metric!r}.",
    )
    need(t.eval_samples >= 2, f"train.eval_samples must be >= 2, got {t.eval_samples}.")
    need(t.threads is None or t.threads >= 1, f"train.threads must be >= 1, got {t.threads}.")
    need(0 <= t.ema_beta < 1, f"train.ema_beta must lie in [0, 1) (0 = off), got {t.ema_beta}.")
    need(t.ema_rampup >= 0, f"train.ema_rampup must be >= 0 (0 = off), got {t.ema_rampup}.")
    need(m.z_dim >= 1, f"model.z_dim must be >= 1, got {m.z_dim}.")
    need(
        m.z_prior in ("uniform", "normal"),
        f"model.z_prior must be uniform or normal, got {m.z_prior!r}.",
    )
    need(
        m.g_output_bias in ("marginal", "zero"),
        f"model.g_output_bias must be marginal or zero, got {m.g_output_bias!r}.",
    )
    need(all(h >= 1 for h in m.g_hidden), f"model.g_hidden widths must be >= 1, got {m.g_hidden}.")
    need(all(h >= 1 for h in m.d_hidden), f"model.d_hidden widths must be >= 1, got {m.d_hidden}.")
    need(m.d_pieces >= 1, f"model.d_pieces must be >= 1, got {m.d_pieces}.")
    for name in ("d_keep_input", "d_keep_hidden"):
        value = getattr(m, name)
        need(0 < value <= 1, f"model.{name} is a keep probability in (0, 1], got {value}.")
    need(m.g_init >= 0 and m.d_init >= 0, "model.g_init and model.d_init must be >= 0.")
    need(m.g_channels >= 1, f"model.g_channels must be >= 1, got {m.g_channels}.")
    need(m.d_channels >= 1, f"model.d_channels must be >= 1, got {m.d_channels}.")
    need(
        m.d_norm in ("batch", "layer", "none"),
        f"model.d_norm must be batch, layer or none, got {m.d_norm!r}.",
    )
    need(m.dcgan_fc >= 0, f"model.dcgan_fc must be >= 0 (0 = no FC layer), got {m.dcgan_fc}.")
    need(
        m.conditional in ("none", "concat", "projection", "acgan"),
        f"model.conditional must be none, concat, projection or acgan, got {m.conditional!r}.",
    )
    need(m.aux_weight >= 0, f"model.aux_weight must be >= 0, got {m.aux_weight}.")
    need(
        all(k >= 2 for k in m.info_categorical),
        f"model.info_categorical sizes must be >= 2 values each, got {m.info_categorical}.",
    )
    need(m.info_continuous >= 0, f"model.info_continuous must be >= 0, got {m.info_continuous}.")
    need(m.info_weight >= 0, f"model.info_weight must be >= 0, got {m.info_weight}.")
    for side in ("optim_d", "optim_g"):
        o: OptimConfig = getattr(config, side)
        need(
            o.name in ("sgd", "adam", "rmsprop"),
            f"{side}.name must be sgd, adam or rmsprop, got {o.name!r}.",
        )
        need(o.lr > 0, f"{side}.lr must be positive, got {o.lr}.")
        need(
            o.lr_decay >= 1,
            f"{side}.lr_decay divides the rate each update: use >= 1, got {o.lr_decay}.",
        )
        need(o.lr_min >= 0, f"{side}.lr_min must be >= 0, got {o.lr_min}.")
        need(
            0 <= o.momentum < 1 and 0 <= o.momentum_final < 1,
            f"{side}.momentum and momentum_final must lie in [0, 1).",
        )
        need(o.momentum_epochs >= 0, f"{side}.momentum_epochs must be >= 0.")
        need(all(0 <= b < 1 for b in o.betas), f"{side}.betas must lie in [0, 1), got {o.betas}.")
        need(0 <= o.alpha < 1, f"{side}.alpha must lie in [0, 1), got {o.alpha}.")
        need(o.weight_decay >= 0, f"{side}.weight_decay must be >= 0.")
    clip = config.objective.clip_weights
    need(clip is None or clip > 0, f"objective.clip_weights must be positive, got {clip}.")
    o = config.objective
    need(
        o.penalty in PENALTY_NAMES,
        f"objective.penalty must be one of {', '.join(PENALTY_NAMES)}, got {o.penalty!r}.",
    )
    need(
        o.penalty_weight > 0, f"objective.penalty_weight must be positive, got {o.penalty_weight}."
    )
    need(o.penalty_every >= 1, f"objective.penalty_every must be >= 1, got {o.penalty_every}.")
    need(m.d_code >= 1, f"model.d_code (auto-encoder code size) must be >= 1, got {m.d_code}.")
    need(
        m.d_energy in ("squared", "l1"),
        f"model.d_energy must be squared or l1, got {m.d_energy!r}.",
    )
    need(o.margin > 0, f"objective.margin (EBGAN) must be positive, got {o.margin}.")
    need(o.pt_weight >= 0, f"objective.pt_weight must be >= 0 (0 = off), got {o.pt_weight}.")
    need(
        0 < o.began_gamma <= 1,
        f"objective.began_gamma (BEGAN's diversity ratio) must lie in (0, 1], got {o.began_gamma}.",
    )
    need(
        o.began_lambda_k >= 0,
        f"objective.began_lambda_k must be >= 0 (0 = k_t fixed at 0), got {o.began_lambda_k}.",
    )
    need(
        o.name != "wasserstein" or clip is not None or o.penalty == "gradient",
        "the wasserstein critic needs a Lipschitz constraint: add "
        "--set objective.clip_weights=0.01 (WGAN) or --set objective.penalty=gradient (WGAN-GP).",
    )
    data = config.data
    need(data.limit is None or data.limit >= 1, f"data.limit must be at least 1, got {data.limit}.")
    need(data.channels in (None, 1, 3), f"data.channels must be 1 or 3, got {data.channels}.")
    need(
        data.image_size is None or data.image_size >= 4,
        f"data.image_size must be at least 4, got {data.image_size}.",
    )
    need(
        data.pyramid_levels >= 2,
        f"data.pyramid_levels must be at least 2 (band-pass levels above one low-pass "
        f"level), got {data.pyramid_levels}.",
    )
    need(
        data.pyramid_level is None or 0 <= data.pyramid_level < data.pyramid_levels,
        f"data.pyramid_level must lie in 0..{data.pyramid_levels - 1} (0 = finest) or be "
        f"none, got {data.pyramid_level}.",
    )
    need(
        (m.generator == "lapgan") == (m.discriminator == "lapgan"),
        "LAPGAN chooses every level's networks itself: set both model.generator and "
        "model.discriminator to lapgan, or neither.",
    )
    need(
        m.generator != "lapgan" or data.pyramid_level is None,
        "model.generator=lapgan trains every pyramid level itself: remove data.pyramid_level.",
    )
