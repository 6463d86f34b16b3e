"""Config: overrides, type coercion, range checks, JSON round trip, presets."""

from __future__ import annotations

import json

import pytest

from saddlepoint.config import Config, config_from_dict, override
from saddlepoint.errors import SaddlepointError
from saddlepoint.presets import PRESETS, preset


def test_defaults_are_the_2014_recipe():
    c = Config()
    assert (c.model.z_dim, c.model.g_hidden, c.model.d_hidden, c.model.d_pieces) == (
        100,
        (1200, 1200),
        (240, 240),
        5,
    )
    assert (c.model.d_keep_input, c.model.d_keep_hidden) == (0.8, 0.5)
    assert (c.optim_d.name, c.optim_d.lr, c.optim_d.lr_decay, c.optim_d.lr_min) == (
        "sgd",
        0.1,
        1.000004,
        1e-6,
    )
    assert (c.optim_d.momentum, c.optim_d.momentum_final, c.optim_d.momentum_epochs) == (
        0.5,
        0.7,
        250.0,
    )
    assert (c.train.batch_size, c.train.k, c.objective.name) == (100, 1, "non_saturating")


def test_override_coerces_types():
    c = override(
        Config(),
        [
            "train.k=3",
            "model.g_hidden=64,32",
            "optim_d.betas=0.0,0.9",
            "train.max_minutes=1.5",
            "train.reuse_fakes=false",
            "data.root=none",
            "train.iterations=1e4",
        ],
    )
    assert c.train.k == 3 and c.model.g_hidden == (64, 32) and c.optim_d.betas == (0.0, 0.9)
    assert c.train.max_minutes == 1.5 and c.train.reuse_fakes is False and c.data.root is None
    assert c.train.iterations == 10_000


@pytest.mark.parametrize(
    "assignment, message",
    [
        ("train.kk=2", "unknown setting 'train.kk'"),
        ("nosuch.k=2", "unknown setting 'nosuch.k'"),
        ("train=3", "is a group of settings"),
        ("train.k", "expects key=value"),
        ("train.k=two", "train.k must be an integer"),
        ("train.k=1.5", "train.k must be an integer"),
        ("train.k=0", "train.k .* must be >= 1"),
        ("optim_d.lr=-1", "optim_d.lr must be positive"),
        ("optim_g.name=adagrad", "optim_g.name must be sgd, adam or rmsprop"),
        ("model.d_keep_input=0", "keep probability"),
        ("train.reuse_fakes=maybe", "must be true or false"),
        ("optim_d.betas=0.5", "takes 2 values"),
        ("train.precision=float8", "auto, float32, bfloat16 or float16"),
        ("train.k.x=1", "has no sub-settings"),
    ],
)
def test_bad_overrides_name_the_problem(assignment, message):
    with pytest.raises(SaddlepointError, match=message):
        override(Config(), [assignment])


def test_json_round_trip_and_unknown_keys():
    c = override(preset("demo"), ["model.g_hidden=8,8", "train.seed=3"])
    assert config_from_dict(json.loads(c.to_json())) == c
    d = c.to_dict()
    d["model"]["bogus"] = 1
    with pytest.raises(SaddlepointError, match="unknown setting 'model.bogus'"):
        config_from_dict(d)


def test_presets_are_valid_and_named():
    assert {"demo", "goodfellow2014-mnist"} <= set(PRESETS)
    for name, p in PRESETS.items():
        assert p.config.preset == name and p.description
        config_from_dict(p.config.to_dict())  # validates
    assert preset("goodfellow2014-mnist").data.name == "mnist"
    assert preset("demo").data.name == "mnist5k"
    with pytest.raises(SaddlepointError, match="unknown preset 'dem'.*Did you mean 'demo'"):
        preset("dem")
