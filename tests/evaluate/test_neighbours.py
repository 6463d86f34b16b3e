"""Nearest neighbours against brute force."""

from __future__ import annotations

import torch

from saddlepoint.evaluate.neighbours import nearest_neighbours


def test_matches_brute_force_across_blocks():
    g = torch.Generator().manual_seed(0)
    data = torch.rand(300, 1, 5, 5, generator=g)
    queries = torch.rand(7, 1, 5, 5, generator=g)
    queries[3] = data[123] + 1e-4  # a near-duplicate must be found exactly
    idx, dist = nearest_neighbours(queries, data, batch_size=64)
    brute = torch.cdist(queries.flatten(1).double(), data.flatten(1).double())
    torch.testing.assert_close(idx, brute.argmin(1))
    torch.testing.assert_close(dist, brute.min(1).values, rtol=1e-9, atol=1e-9)
    assert idx[3].item() == 123 and dist[3].item() < 1e-3
