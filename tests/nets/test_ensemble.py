"""nets.ensemble: member-folded batches, one chunk per member, each member's own random stream."""

from __future__ import annotations

import pytest
import torch

from saddlepoint.nets import MaxoutDiscriminator, MLPGenerator
from saddlepoint.nets.ensemble import Ensemble, EnsembleGenerator, Streams
from saddlepoint.rng import CPU, cuda


def _streams(n: int) -> Streams:
    return Streams([torch.Generator().manual_seed(i).get_state() for i in range(n)])


def test_each_member_sees_only_its_own_rows():
    torch.manual_seed(0)
    members = [MLPGenerator((1, 2, 2), z_dim=3, hidden=(5,)) for _ in range(3)]
    G = EnsembleGenerator(members, _streams(3))
    z = torch.randn(6, 3)  # members 0, 1, 2 own rows 0-1, 2-3, 4-5
    out = G(z)
    assert out.shape == (6, 1, 2, 2)
    for i, member in enumerate(members):
        torch.testing.assert_close(out[2 * i : 2 * i + 2], member(z[2 * i : 2 * i + 2]))
    assert (G.latent, G.shape, G.output) == (members[0].latent, (1, 2, 2), "sigmoid")
    assert G.sample_z(4).shape == (4, 3)


def test_dropout_masks_come_from_each_members_stream_and_leave_the_global_one_alone():
    torch.manual_seed(0)
    members = [MaxoutDiscriminator((4,), hidden=(3,), pieces=2) for _ in range(2)]
    D = Ensemble(members, _streams(2))
    x = torch.rand(4, 4)
    torch.manual_seed(123)
    outside = torch.get_rng_state()
    out = D(x)
    assert torch.equal(torch.get_rng_state(), outside)  # the global stream did not move
    for i, member in enumerate(members):  # member i alone, on its own stream, draws the same
        torch.set_rng_state(torch.Generator().manual_seed(i).get_state())
        torch.testing.assert_close(out[2 * i : 2 * i + 2], member(x[2 * i : 2 * i + 2]))
    again = D(x)  # the streams moved on: fresh masks
    assert not torch.equal(out, again)


def test_streams_round_trip_through_a_state_dict():
    streams = _streams(2)
    saved = streams.state_dict()
    with streams.member(1):
        first = torch.rand(3)
    streams.load_state_dict(saved)
    with streams.member(1):
        assert torch.equal(torch.rand(3), first)
    assert saved.keys() == {"cpu"}  # the CPU's streams alone
    with pytest.raises(ValueError, match="3 random streams for 2 members"):
        streams.load_state_dict({"cpu": torch.cat([saved["cpu"], saved["cpu"][:1]])})


def test_a_batch_that_does_not_fold_is_refused():
    G = EnsembleGenerator([MLPGenerator((2,), z_dim=2, hidden=(3,)) for _ in range(3)], _streams(3))
    with pytest.raises(ValueError, match="ensemble of 3 takes a batch of N x m rows, got 4"):
        G(torch.randn(4, 2))


def _device_streams(n: int) -> Streams:
    """n members' streams of the CPU generator (seeded i) and CUDA device 1's (seeded 100 + i)."""
    states = [
        (
            torch.Generator().manual_seed(i).get_state(),
            torch.Generator().manual_seed(100 + i).get_state(),
        )
        for i in range(n)
    ]
    return Streams(states, (CPU, cuda(torch.device("cuda", 1))))


def test_each_member_draws_its_own_device_streams_in_turn(fake_cuda):
    streams = _device_streams(3)
    torch.manual_seed(123)
    cpu_outside, cuda_outside = torch.get_rng_state(), fake_cuda.get_rng_state("cuda:1")
    device_0 = fake_cuda.get_rng_state("cuda:0")
    drawn = {i: ([], []) for i in range(3)}
    for i in (0, 1, 2, 2, 0, 1, 1, 0, 2):  # interleaved, as members run within an iteration
        with streams.member(i):
            drawn[i][0].append(torch.rand(2))
            drawn[i][1].append(fake_cuda.rand(2, "cuda:1"))
    for i, (cpu_draws, cuda_draws) in drawn.items():  # member i alone draws the same numbers
        cpu, gpu = torch.Generator().manual_seed(i), torch.Generator().manual_seed(100 + i)
        assert torch.equal(torch.cat(cpu_draws), torch.rand(6, generator=cpu)), i
        assert torch.equal(torch.cat(cuda_draws), torch.rand(6, generator=gpu)), i
    assert torch.equal(torch.get_rng_state(), cpu_outside)  # the global streams did not move
    assert torch.equal(fake_cuda.get_rng_state("cuda:1"), cuda_outside)
    assert torch.equal(fake_cuda.get_rng_state("cuda:0"), device_0)  # another GPU untouched


def test_device_streams_round_trip_and_refuse_a_wrong_count_or_shape(fake_cuda):
    streams = _device_streams(2)
    saved = streams.state_dict()
    assert saved.keys() == {"cpu", "cuda"}
    assert saved["cuda"].shape[0] == 2 and saved["cpu"].shape[0] == 2
    with streams.member(1):
        first = torch.rand(3), fake_cuda.rand(3, "cuda:1")
    with streams.member(0):
        fake_cuda.rand(5, "cuda:1")
    streams.load_state_dict(saved)
    with streams.member(1):
        again = torch.rand(3), fake_cuda.rand(3, "cuda:1")
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    streams.load_state_dict({"cpu": saved["cpu"]})  # saved on the CPU: CUDA streams kept
    with pytest.raises(ValueError, match="3 random streams for 2 members .cuda generator."):
        streams.load_state_dict({**saved, "cuda": torch.cat([saved["cuda"], saved["cuda"][:1]])})
    with pytest.raises(
        ValueError,
        match=r"a cuda random stream of shape \(7,\), where this device's generator keeps \(5056,\)",
    ):
        streams.load_state_dict({**saved, "cuda": saved["cuda"][:, :7]})
