"""Nearest training images of generated samples (Euclidean distance on pixels).

The paper's Figure 2 shows, beside samples, their nearest training examples, to show that the
model has not memorised the training set.
"""

from __future__ import annotations

import torch

from saddlepoint.errors import SaddlepointError


def nearest_neighbours(
    queries: torch.Tensor,  # (Q, *shape) samples
    data: torch.Tensor,  # (N, *shape) training images
    batch_size: int = 4096,  # training images per distance block
) -> tuple[torch.Tensor, torch.Tensor]:
    """Index (Q,) and Euclidean distance (Q,) of each query's nearest example in `data`.

    ||q - x||^2 = ||q||^2 - 2 q.x + ||x||^2, one matmul per block of data, in float64 so that
    near-duplicates are ranked correctly.
    """
    if tuple(queries.shape[1:]) != tuple(data.shape[1:]):
        raise SaddlepointError(
            f"samples of shape {tuple(queries.shape[1:])} cannot be compared with training "
            f"images of shape {tuple(data.shape[1:])}: use the dataset the model was trained on."
        )
    q = queries.reshape(len(queries), -1).double()
    q_sq = q.square().sum(1, keepdim=True)  # (Q, 1)
    best_d = torch.full((len(q),), float("inf"), dtype=torch.float64)
    best_i = torch.zeros(len(q), dtype=torch.long)
    for start in range(0, len(data), batch_size):
        x = data[start : start + batch_size].reshape(-1, q.shape[1]).double()
        d2 = (q_sq - 2 * q @ x.T + x.square().sum(1)).clamp_min(0)  # (Q, B)
        d, i = d2.min(dim=1)
        better = d < best_d
        best_d = torch.where(better, d, best_d)
        best_i = torch.where(better, i + start, best_i)
    return best_i, best_d.sqrt()
