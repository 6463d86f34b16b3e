"""nets.ensemble: member-folded batches, one chunk per member, each member's own random stream."""

from __future__ import annotations

import pytest
import torch

from saddlepoint.nets import MaxoutDiscriminator, MLPGenerator
from saddlepoint.nets.ensemble import Ensemble, EnsembleGenerator, Streams


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
    with pytest.raises(ValueError, match="3 random streams for 2 members"):
        streams.load_state_dict(torch.cat([saved, saved[:1]]))


def test_a_batch_that_does_not_fold_is_refused():
    G = EnsembleGenerator([MLPGenerator((2,), z_dim=2, hidden=(3,)) for _ in range(3)], _streams(3))
    with pytest.raises(ValueError, match="ensemble of 3 takes a batch of N x m rows, got 4"):
        G(torch.randn(4, 2))
