"""The playground's settings: each checked in one sentence, made into the library's Config."""

from __future__ import annotations

import pytest

from saddlepoint.errors import SaddlepointError
from saddlepoint.objectives import OBJECTIVES
from saddlepoint.playground.settings import LIVE, RANGES, Settings, changed, to_config, update


def test_defaults_make_the_toy_networks_of_the_labs():
    config = to_config(Settings(), "ring8", 2)
    m, t = config.model, config.train
    assert (m.generator, m.discriminator) == ("mlp", "maxout")
    assert m.g_hidden == (64, 64) and m.d_hidden == (64, 64) and m.d_pieces == 2
    assert (m.d_keep_input, m.d_keep_hidden) == (1.0, 1.0)  # no dropout
    assert (m.z_dim, m.z_prior, m.g_output_bias) == (2, "normal", "zero")
    assert (config.optim_d.name, config.optim_d.lr, config.optim_d.lr_decay) == ("adam", 1e-3, 1)
    assert (t.k, t.batch_size, t.seed, t.log_every) == (1, 128, 0, 100)
    assert config.data.name == "ring8" and config.objective.name == "non_saturating"


def test_every_setting_reaches_the_config():
    s = update(
        Settings(),
        {
            "objective": "wasserstein",
            "clip": 0.02,
            "k": 5,
            "lr_d": 0.05,
            "lr_g": "0.002",  # a number sent as text is read
            "optimiser": "sgd",
            "g_layers": 3,
            "g_width": 7,
            "d_layers": 1,
            "d_width": 9,
            "z_dim": 1,
            "prior": "uniform",
            "batch_size": 16,
            "seed": 3,
        },
    )
    c = to_config(s, "gaussian1d", 1)
    assert c.objective.name == "wasserstein" and c.objective.clip_weights == 0.02
    assert c.train.k == 5 and c.train.batch_size == 16 and c.train.seed == 3
    assert (c.optim_d.name, c.optim_d.lr, c.optim_g.lr) == ("sgd", 0.05, 0.002)
    assert c.model.g_hidden == (7, 7, 7) and c.model.d_hidden == (9,)
    assert (c.model.z_dim, c.model.z_prior) == (1, "uniform")
    assert to_config(Settings(), "x", 2).objective.clip_weights is None  # 0 = off


def test_every_objective_makes_a_config():
    for name in OBJECTIVES:
        changes = {"objective": name}
        if name == "wasserstein":
            changes["penalty"] = "gradient"
        c = to_config(update(Settings(), changes), "ring8", 2)
        expected = (
            "mlp_autoencoder" if OBJECTIVES.get(name).discriminator == "autoencoder" else "maxout"
        )
        assert c.model.discriminator == expected, name
    assert to_config(Settings(objective="ebgan"), "gaussian1d", 1).model.d_code == 1


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"lr_d": -1}, "lr_d must lie between 1e-06 and 1, got -1"),
        ({"k": 0}, "k must lie between 1 and 20"),
        ({"k": 1.5}, "k must be a whole number"),
        ({"g_width": "wide"}, "g_width must be a number, not 'wide'"),
        ({"lr_g": float("nan")}, "lr_g must be a finite number"),
        ({"seed": True}, "seed must be a number"),
        ({"z_dim": [2]}, "z_dim must be a number"),
        ({"objective": "wgan"}, "objective must be one of"),
        ({"prior": "cauchy"}, "prior must be one of normal, uniform"),
        ({"depth": 3}, "unknown setting 'depth'; the playground has: objective"),
        ({"objective": "wasserstein"}, "the WGAN critic needs a Lipschitz constraint"),
        ({"objective": "ebgan", "penalty": "r1"}, "set the penalty to none"),
    ],
)
def test_a_bad_change_says_what_is_wrong(changes, message):
    with pytest.raises(SaddlepointError, match=message.replace("(", r"\(")):
        update(Settings(), changes)


def test_not_an_object():
    with pytest.raises(SaddlepointError, match="JSON object"):
        update(Settings(), [1, 2])  # type: ignore[arg-type]


def test_ranges_cover_the_numbers_and_live_ones_are_settings():
    numbers = {f for f, v in Settings().to_dict().items() if not isinstance(v, str)}
    assert set(RANGES) == numbers
    assert LIVE <= set(Settings().to_dict())
    assert changed(Settings(), Settings(k=2, lr_d=0.5)) == {"k", "lr_d"}
