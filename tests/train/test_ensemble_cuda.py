"""Ensembles on CUDA: each member keeps its own stream of the GPU's generator (dropout masks,
penalty points), saved in the checkpoint and restored on resume.

Without a GPU, torch.cuda's rng API is faked (tests/fake_cuda.py) and the logic that keeps the
members' CUDA streams runs here: they start as the separate runs' do, are saved as
rng_members_cuda, restored, and refused in one sentence at the wrong count or shape. With a
GPU, an ensemble of 2 of the 2014 nets (dropout in D) equals two separate CUDA runs and
resumes exactly.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from fake_cuda import FakeCudaRng
from tiny import tiny_config

from saddlepoint.checkpoint import load_training_state
from saddlepoint.errors import SaddlepointError
from saddlepoint.nets import MaxoutDiscriminator, MLPGenerator
from saddlepoint.train import train
from saddlepoint.train.ensemble import FoldedNoise, build_members, check_ensemble
from saddlepoint.train.state import restore_rng, rng_states

SEEDS = (7, 8, 9)
GPU = torch.device("cuda", 0)
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _build() -> tuple[MLPGenerator, MaxoutDiscriminator]:
    return MLPGenerator((4,), z_dim=2, hidden=(3,)), MaxoutDiscriminator(
        (4,), hidden=(3,), pieces=2
    )


def _ensemble(device: torch.device) -> SimpleNamespace:
    """What rng_states and restore_rng read of a TrainState: an ensemble of SEEDS on `device`
    (its nets stay on the CPU: only the generators' states are at stake)."""
    t = tiny_config(f"train.ensemble={len(SEEDS)}", f"train.seed={SEEDS[0]}").train
    G, D = build_members(t, _build, device)
    assert D.streams is G.streams
    return SimpleNamespace(device=device, G=G, noise=FoldedNoise(SEEDS, torch.device("cpu")))


def test_members_cuda_streams_start_where_their_runs_do(fake_cuda: FakeCudaRng):
    saved = _ensemble(GPU).G.streams.state_dict()
    assert saved.keys() == {"cpu", "cuda"}
    for i, seed in enumerate(SEEDS):  # the separate run of seed, right after building its nets
        torch.manual_seed(seed)
        _build()
        assert saved["cpu"][i].equal(torch.get_rng_state()), i
        assert saved["cuda"][i].equal(fake_cuda.get_rng_state(GPU)), i
    assert not saved["cuda"][0].equal(saved["cuda"][1])  # (the fake's states differ per seed)


def test_members_cuda_streams_are_saved_and_restored(fake_cuda: FakeCudaRng, tmp_path: Path):
    s = _ensemble(GPU)
    streams = s.G.streams
    with streams.member(2):
        fake_cuda.rand(3, GPU)  # member 2 has drawn some dropout masks
    rng = rng_states(s)
    assert {"rng_cpu", "rng_cuda", "rng_noise", "rng_members", "rng_members_cuda"} <= rng.keys()
    assert rng["rng_members_cuda"].shape[0] == len(SEEDS)
    drawn = []
    for i in range(len(SEEDS)):
        with streams.member(i):
            drawn.append((torch.rand(2), fake_cuda.rand(2, GPU)))
    outside = fake_cuda.rand(2, GPU)
    restore_rng(s, rng, tmp_path / "checkpoint.pt")
    for i in reversed(range(len(SEEDS))):  # the same numbers again, member by member
        with streams.member(i):
            again = torch.rand(2), fake_cuda.rand(2, GPU)
        assert all(a.equal(b) for a, b in zip(drawn[i], again)), i
    assert fake_cuda.rand(2, GPU).equal(outside)  # the global CUDA state came back too


def test_a_cpu_ensembles_checkpoint_keeps_its_format_and_loads_on_a_gpu(fake_cuda, tmp_path):
    cpu = _ensemble(torch.device("cpu"))
    rng = rng_states(cpu)
    assert rng.keys() == {"rng_cpu", "rng_noise", "rng_members"}  # as before GPU ensembles
    restore_rng(cpu, rng, tmp_path / "checkpoint.pt")
    gpu = _ensemble(GPU)
    built = gpu.G.streams.state_dict()["cuda"]
    restore_rng(gpu, rng, tmp_path / "checkpoint.pt")  # no CUDA streams saved: kept as built
    assert gpu.G.streams.state_dict()["cuda"].equal(built)
    assert gpu.G.streams.state_dict()["cpu"].equal(rng["rng_members"])


def test_wrong_cuda_streams_are_refused_in_one_sentence(fake_cuda, tmp_path):
    s = _ensemble(GPU)
    rng = rng_states(s)
    path = tmp_path / "checkpoint.pt"
    few = {**rng, "rng_members_cuda": rng["rng_members_cuda"][:2]}
    with pytest.raises(
        SaddlepointError,
        match="cannot be resumed as this ensemble of 3: it holds 2 random streams for 3 members .cuda generator.",
    ):
        restore_rng(s, few, path)
    short = {**rng, "rng_members_cuda": rng["rng_members_cuda"][:, :8]}
    with pytest.raises(SaddlepointError, match=r"it holds a cuda random stream of shape \(8,\)"):
        restore_rng(s, short, path)


def test_cuda_is_allowed_and_mps_refused():
    config = tiny_config("train.ensemble=2")
    check_ensemble(config, False, torch.device("cuda", 0))
    with pytest.raises(SaddlepointError, match="kept on the CPU and CUDA, not mps"):
        check_ensemble(config, False, torch.device("mps"))


# ---------------------------------------------------------------------------- on a GPU

ATOL = 1e-5  # float32 rounding of member-folded sums, as on the CPU


def _state(run_dir: Path) -> dict:
    return load_training_state(run_dir / "checkpoint.pt")


def _member(weights: dict[str, torch.Tensor], i: int) -> dict[str, torch.Tensor]:
    prefix = f"members.{i}."
    return {k[len(prefix) :]: v for k, v in weights.items() if k.startswith(prefix)}


@CUDA
def test_a_cuda_ensemble_equals_separate_cuda_runs(tmp_path):
    sets = ("train.device=cuda", "train.k=2", "train.iterations=4", f"train.seed={SEEDS[0]}")
    config = tiny_config(*sets, "train.ensemble=2")
    assert config.model.discriminator == "maxout"  # the 2014 D: dropout on the GPU
    ensemble = _state(train(config, out=tmp_path, progress=False).path)
    for i in range(2):
        alone = train(tiny_config(*sets, f"train.seed={SEEDS[i]}"), out=tmp_path, progress=False)
        single = _state(alone.path)
        for net in ("generator", "discriminator"):
            mine, theirs = _member(ensemble[net], i), single[net]
            assert mine.keys() == theirs.keys()
            for key in mine:
                torch.testing.assert_close(mine[key], theirs[key], atol=ATOL, rtol=0, msg=key)
        assert ensemble["rng_members_cuda"][i].equal(single["rng_cuda"])  # same dropout draws
        assert ensemble["rng_members"][i].equal(single["rng_cpu"])
        assert ensemble["rng_noise"][i].equal(single["rng_noise"])
        torch.manual_seed(SEEDS[i])  # dropout did draw on the GPU: its stream moved
        assert not single["rng_cuda"].equal(torch.cuda.get_rng_state(GPU))


@CUDA
def test_a_cuda_ensemble_resumes_exactly(tmp_path):
    sets = ("train.device=cuda", "train.ensemble=2", "optim_d.name=adam", "optim_d.lr=0.001")
    straight = train(tiny_config("train.iterations=8", *sets), out=tmp_path / "a", progress=False)
    half = train(tiny_config("train.iterations=4", *sets), out=tmp_path / "b", progress=False)
    resumed = train(tiny_config("train.iterations=8", *sets), resume=half.path, progress=False)
    a, b = _state(straight.path), _state(resumed.path)
    for net in ("generator", "discriminator"):
        assert a[net].keys() == b[net].keys()
        for key in a[net]:  # the tolerance of single CUDA runs' resume test (test_loop.py)
            torch.testing.assert_close(a[net][key], b[net][key], rtol=1e-5, atol=1e-6, msg=key)
    for key in ("rng_members", "rng_members_cuda", "rng_noise"):
        assert a[key].equal(b[key]), key
