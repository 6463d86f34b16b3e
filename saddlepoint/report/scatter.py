"""Samples of low-dimensional (toy) data drawn as a scatter plot or histogram."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from saddlepoint.errors import output_error


def save_scatter(
    points: torch.Tensor,  # (N, D) generated points, D = 1 or 2
    path: str | os.PathLike,
    reference: torch.Tensor | None = None,  # (M, D) real points drawn behind, in grey
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = points.detach().float().cpu().reshape(len(points), -1).numpy()
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    if pts.shape[1] == 1:
        if reference is not None:
            ax.hist(
                reference.cpu().reshape(-1).numpy(),
                bins=100,
                density=True,
                alpha=0.4,
                color="grey",
                label="data",
            )
        ax.hist(pts[:, 0], bins=100, density=True, alpha=0.6, label="samples")
        ax.legend()
    else:
        if reference is not None:
            ref = reference.cpu().reshape(len(reference), -1).numpy()
            ax.scatter(ref[:, 0], ref[:, 1], s=2, c="grey", alpha=0.3, label="data")
        ax.scatter(pts[:, 0], pts[:, 1], s=3, label="samples")
        ax.set_aspect("equal")
        ax.legend(loc="upper right")
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp.png")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(tmp, format="png", bbox_inches="tight")
        os.replace(tmp, path)
    except OSError as e:  # a read-only folder, a full disk: one sentence, no partial file
        tmp.unlink(missing_ok=True)
        raise output_error(path, e) from None
    finally:
        plt.close(fig)
    return path
