"""train.ensemble end to end: an ensemble run's members equal the separate runs of their seeds,
its checkpoint resumes exactly, and what would couple the members is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from tiny import tiny_config

from saddlepoint.checkpoint import load_training_state
from saddlepoint.errors import SaddlepointError
from saddlepoint.train import train
from saddlepoint.train.ensemble import check_ensemble

ATOL = 1e-5  # float32 rounding of member-folded sums


def _state(run_dir: Path) -> dict:
    return load_training_state(run_dir / "checkpoint.pt")


def _member(weights: dict[str, torch.Tensor], i: int) -> dict[str, torch.Tensor]:
    """Member i's entries of an ensemble's state_dict, under a separate run's names."""
    prefix = f"members.{i}."
    return {k[len(prefix) :]: v for k, v in weights.items() if k.startswith(prefix)}


def _assert_close(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], atol=ATOL, rtol=0, msg=key)


@pytest.mark.parametrize(
    "sets",
    [
        ("train.k=2", "train.ema_beta=0.9"),  # the 2014 nets (maxout D, dropout), momentum SGD
        (  # WGAN-GP: the penalty's points and dropout share each member's stream; Adam
            "objective.name=wasserstein",
            "objective.penalty=gradient",
            "optim_d.name=adam",
            "optim_g.name=adam",
            "optim_d.lr=0.001",
            "optim_g.lr=0.001",
        ),
        (  # EBGAN without the pulling-away term: its margin is the same constant for all
            "objective.name=ebgan",
            "model.discriminator=mlp_autoencoder",
            "objective.pt_weight=0",
            "train.reuse_fakes=false",  # the G step on fresh noise from each member's stream
        ),
    ],
)
def test_ensemble_members_equal_the_runs_of_their_seeds(tmp_path, sets):
    sets = (*sets, "train.iterations=4", "train.seed=7")
    ensemble = _state(
        train(tiny_config(*sets, "train.ensemble=3"), out=tmp_path, progress=False).path
    )
    for i in range(3):
        alone = train(tiny_config(*sets, f"train.seed={7 + i}"), out=tmp_path, progress=False)
        single = _state(alone.path)
        for net in ("generator", "discriminator", "generator_ema"):
            if net in single:
                _assert_close(_member(ensemble[net], i), single[net])
        assert ensemble["rng_noise"][i].equal(single["rng_noise"])  # the same noise drawn
        assert ensemble["rng_members"][i].equal(single["rng_cpu"])  # the same dropout masks
    assert ensemble["sampler"] == single["sampler"]


def test_an_ensemble_resumes_exactly(tmp_path):
    sets = ("train.ensemble=2", "optim_d.name=adam", "optim_d.lr=0.001")
    straight = train(tiny_config("train.iterations=8", *sets), out=tmp_path / "a", progress=False)
    half = train(tiny_config("train.iterations=4", *sets), out=tmp_path / "b", progress=False)
    resumed = train(tiny_config("train.iterations=8", *sets), resume=half.path, progress=False)
    a, b = _state(straight.path), _state(resumed.path)
    for net in ("generator", "discriminator"):
        assert a[net].keys() == b[net].keys()
        for key in a[net]:
            assert torch.equal(a[net][key], b[net][key]), key
    assert all(x.equal(y) for x, y in zip(a["rng_members"], b["rng_members"], strict=True))


def test_an_ensemble_run_samples_from_member_0(tmp_path):
    """Grids, snapshots and evaluation follow member 0, the run of train.seed itself."""
    run = train(tiny_config("train.ensemble=2", "train.iterations=2"), out=tmp_path, progress=False)
    assert run.generator is not None and not hasattr(run.generator, "members")
    state = _state(run.path)
    _assert_close(_member(state["generator"], 0), run.generator.state_dict())


@pytest.mark.parametrize(
    "sets, why",
    [
        (("objective.name=began", "model.discriminator=mlp_autoencoder"), "BEGAN's k_t"),
        (("objective.name=ebgan", "model.discriminator=mlp_autoencoder"), "EBGAN.s pulling-away"),
        (("train.compile=true",), "torch.compile"),
    ],
)
def test_what_couples_the_members_is_refused(tmp_path, sets, why):
    with pytest.raises(SaddlepointError, match=f"train.ensemble=2 cannot be used here: {why}"):
        train(tiny_config("train.ensemble=2", *sets), out=tmp_path, progress=False)


@pytest.mark.parametrize(
    "distributed, device, why",
    [
        (True, "cpu", "DDP averages gradients across processes"),
        (False, "mps", "each member's own random streams are kept on the CPU and CUDA, not mps"),
    ],
)
def test_ddp_and_other_devices_are_refused(distributed, device, why):
    config = tiny_config("train.ensemble=2")
    with pytest.raises(SaddlepointError, match=f"train.ensemble=2 cannot be used here: {why}"):
        check_ensemble(config, distributed, torch.device(device))
    check_ensemble(tiny_config(), distributed, torch.device(device))  # one GAN: nothing to refuse


def test_an_ensemble_of_zero_is_refused():
    with pytest.raises(SaddlepointError, match="train.ensemble .* must be >= 1, got 0"):
        tiny_config("train.ensemble=0")
