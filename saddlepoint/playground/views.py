"""What the page draws, computed from the training state's own G and D (no copies, no grads
kept): D over the plane or the line, G's gradient arrows, G's manifold and the z -> x mapping.

    heat map     D's score at the centres of a HEAT x HEAT grid over the box (2-D), or at CURVE
                 points on the line (1-D): a probability sigmoid(logit) for the logit
                 objectives, the raw critic value or energy for the others
    arrows       -d cost_G / dx at G's fixed-noise samples x = G(z): the direction in which G's
                 next step pushes each sample (the gradient flows into theta_g through x)
    manifold     G over a grid in z: the first two noise coordinates at MANIFOLD quantiles of the
                 prior each, the others at 0; one line when z has one dimension
    mapping      1-D data: z at MAPPING quantiles of the prior (first coordinate; others at 0)
                 and x = G(z), the arrows of the paper's Figure 1
"""

from __future__ import annotations

import numpy as np
import torch

from saddlepoint.train.state import TrainState

HEAT = 48  # cells per axis of the 2-D heat map
CURVE = 256  # points of D's curve on the line
MANIFOLD = 15  # quantiles per noise axis of G's manifold (2-D: a 15 x 15 warped grid)
MANIFOLD_LINE = 61  # points along the manifold when z has one dimension
MAPPING = 15  # z -> x arrows on the line (Figure 1)
ARROWS = 96  # fixed-noise samples that carry a gradient arrow


def grid_points(extent: tuple[tuple[float, float], ...]) -> torch.Tensor:
    """The cell centres where D is drawn: (HEAT * HEAT, 2), row-major with y outer (row i is
    y_i, from the box's bottom), or (CURVE, 1) on the line."""
    if len(extent) == 1:
        lo, hi = extent[0]
        return torch.linspace(lo, hi, CURVE).unsqueeze(1)
    (x0, x1), (y0, y1) = extent
    xs = x0 + (torch.arange(HEAT) + 0.5) * (x1 - x0) / HEAT  # (HEAT,)
    ys = y0 + (torch.arange(HEAT) + 0.5) * (y1 - y0) / HEAT
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([xx.reshape(-1), yy.reshape(-1)], 1)  # (HEAT^2, 2)


@torch.no_grad()
def scores(s: TrainState, x: torch.Tensor) -> np.ndarray:
    """D's scores at x (N, D): sigmoid(logit) for logit objectives, else the raw values."""
    out = s.D(x.to(s.device)).float()  # (N,)
    if s.objective.scores == "logit":
        out = torch.sigmoid(out)
    return out.cpu().double().numpy()


def gradient_arrows(s: TrainState, fake: torch.Tensor) -> np.ndarray:
    """-d cost_G / dx at each of G's samples x (n, D): the push of G's next step, per sample.

    The cost is the objective's generator loss times n (a mean over the batch otherwise), so an
    arrow does not shrink as more samples are drawn. D's weights get no gradient."""
    x = fake.detach().to(s.device).requires_grad_(True)
    s.D.requires_grad_(False)
    try:
        with torch.enable_grad():
            logits = s.D(x).float()
            cost = s.objective.generator_loss(fake_logits=logits, **(s.g_kwargs() or {}))
            (grad,) = torch.autograd.grad(cost * len(x), x)
    finally:
        s.D.requires_grad_(True)
    return (-grad).cpu().double().numpy()


def _quantiles(prior: str, n: int) -> torch.Tensor:
    """n quantiles of one coordinate of the prior, at probabilities 0.02 ... 0.98."""
    u = torch.linspace(0.02, 0.98, n)
    if prior == "normal":
        return torch.special.ndtri(u)
    return (2 * u - 1) * 3**0.5  # U(-sqrt 3, sqrt 3)


@torch.no_grad()
def _generate(s: TrainState, z: torch.Tensor) -> np.ndarray:
    return s.G(z.to(s.device)).float().cpu().double().numpy()


def manifold(s: TrainState) -> np.ndarray:
    """G over a grid in z: (MANIFOLD, MANIFOLD, D) when z has two or more dimensions (row i
    holds z_1 at its i-th quantile, column j z_0 at its j-th), else (1, MANIFOLD_LINE, D)."""
    z_dim, prior = s.G.z_dim, s.G.prior
    if z_dim == 1:
        z = _quantiles(prior, MANIFOLD_LINE).unsqueeze(1)  # (L, 1)
        return _generate(s, z)[None]
    q = _quantiles(prior, MANIFOLD)
    z1, z0 = torch.meshgrid(q, q, indexing="ij")
    z = torch.zeros(MANIFOLD * MANIFOLD, z_dim)
    z[:, 0], z[:, 1] = z0.reshape(-1), z1.reshape(-1)
    return _generate(s, z).reshape(MANIFOLD, MANIFOLD, -1)


def mapping(s: TrainState) -> tuple[np.ndarray, np.ndarray]:
    """Figure 1's arrows on the line: (u (MAPPING,), the prior's probabilities of the z drawn,
    in (0, 1); x (MAPPING,) = G(z)), with z's other coordinates at 0."""
    u = (torch.arange(MAPPING) + 0.5) / MAPPING
    first = torch.special.ndtri(u) if s.G.prior == "normal" else (2 * u - 1) * 3**0.5
    z = torch.zeros(MAPPING, s.G.z_dim)
    z[:, 0] = first
    return u.double().numpy(), _generate(s, z)[:, 0]
