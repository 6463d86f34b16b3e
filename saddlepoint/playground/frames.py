"""What one update of the page carries, as JSON-ready dicts: the data once, then frames.

`data_view` is sent when the points change: the box, a sample of the data, the known modes,
and on the line p_data's curve (exact for the toy density, else a smoothed histogram).

A frame is the state after the last steps: the step counters and the scalars since the last
frame (game.take_scalars), G's fixed-noise samples (the grids' noise, so a point is followed
as it moves), D's heat map, the gradient arrows, G's manifold, the divergences estimated from
STATS samples of G (playground/divergences.py), mode coverage on ring8 and grid25 (the
library's evaluate.modes rule), and the health warnings raised (in the page's words,
playground/health.py). On the line it adds Figure 1's p_g, D* (where p_data + p_g is at least
REGION of its peak, as the optimal-discriminator lab compares them) and the z -> x arrows.

Floats go out rounded to DIGITS decimals, and NaN or infinity as null (strict JSON); maps as
bytes in base64 (0..254 the value scaled into [lo, hi], 255 no value).
"""

from __future__ import annotations

import base64
import math

import numpy as np
import torch

from saddlepoint.evaluate.modes import mode_coverage
from saddlepoint.lab.optimal_discriminator import REGION
from saddlepoint.playground import divergences as dv
from saddlepoint.playground import health, views
from saddlepoint.playground.game import Game
from saddlepoint.playground.points import Points
from saddlepoint.train.schedule import fixed_samples

STATS = 8192  # samples of G (and of the data) behind the histograms and divergences
STATS_SEED = 12345  # the same noise at every frame: estimates change only as G does
COVERAGE = 2500  # of those, scored for mode coverage (VEEGAN's 2,500)
REAL_SHOWN = 512  # data points drawn on the page
DIGITS = 4  # decimals of the coordinates sent
FAR = 1e30  # where a sample that is not finite is counted: outside every box


def floats(a: np.ndarray | torch.Tensor, digits: int = DIGITS) -> list:
    """Nested lists of rounded floats, with null for NaN and infinities."""
    a = np.asarray(a.detach().cpu() if isinstance(a, torch.Tensor) else a, dtype=np.float64)
    rounded = np.round(a, digits)
    if np.isfinite(a).all():
        return rounded.tolist()
    return np.where(np.isfinite(a), rounded, None).tolist()


def scalar(value: float) -> float | None:
    return value if math.isfinite(value) else None


def encode_map(values: np.ndarray, lo: float | None = None, hi: float | None = None) -> dict:
    """A map of floats as base64 bytes: 0..254 spans [lo, hi] (its own range by default), 255
    marks NaN; with its size, lo and hi to decode it."""
    flat = np.asarray(values, dtype=np.float64).reshape(-1)
    ok = np.isfinite(flat)
    if lo is None or hi is None:
        lo = float(flat[ok].min()) if ok.any() else 0.0
        hi = float(flat[ok].max()) if ok.any() else 1.0
    span = hi - lo if hi > lo else 1.0
    scaled = np.clip(np.round((np.where(ok, flat, lo) - lo) / span * 254), 0, 254)
    data = np.where(ok, scaled, 255).astype(np.uint8)
    return {
        "size": len(flat),  # n * n cells, row-major from the bottom row, or n points
        "lo": lo,
        "hi": hi,
        "data": base64.b64encode(data.tobytes()).decode("ascii"),
    }


def _strict(values: dict) -> dict:
    """A dict's float values with NaN and infinities as None (strict JSON)."""
    return {k: scalar(v) if isinstance(v, float) else v for k, v in values.items()}


def _heat(kind: str, values: np.ndarray) -> dict:
    """D's map: probabilities on [0, 1], critic values and energies on their own range."""
    if kind == "logit":
        return {"kind": "probability", **encode_map(values, 0.0, 1.0)}
    return {"kind": kind, **encode_map(values)}


def _finite_rows(x: np.ndarray) -> np.ndarray:
    """x with every row holding a NaN or infinity moved FAR away (outside every box)."""
    bad = ~np.isfinite(x).all(1)
    return np.where(bad[:, None], FAR, x) if bad.any() else x


def _smooth(density: np.ndarray) -> np.ndarray:
    """A 1-D density blurred by the kernel (1, 2, 3, 2, 1) / 9 (edges padded with zeros)."""
    return np.convolve(density, np.array([1, 2, 3, 2, 1]) / 9, mode="same")


class FrameBuilder:
    """Frames for one game; what depends only on the data is computed once per points."""

    def __init__(self, points: Points) -> None:
        self.use(points)

    def use(self, points: Points) -> None:
        self.points = points
        x = points.dataset.x
        g = torch.Generator().manual_seed(STATS_SEED)

        def draw() -> dv.Sample:  # STATS points of the data, with replacement
            pick = torch.randint(len(x), (STATS,), generator=g)
            return dv.Sample.of(x[pick].double().numpy(), points.extent)

        self.real = draw()
        self.floors = dv.floors(self.real, draw())  # each estimate between two samples of data
        self.grid = views.grid_points(points.extent)
        self.shown = x[torch.randperm(len(x), generator=g)[:REAL_SHOWN]]

    # -------------------------------------------------------------- the data, once
    def data_view(self) -> dict:
        p = self.points
        view = {
            "name": p.name,
            "description": p.description,
            "dim": p.dim,
            "extent": [list(e) for e in p.extent],
            "real": floats(self.shown),
            "modes": None,
            "floor": self.floors["jsd"],
        }
        if p.modes is not None:
            view["modes"] = {"centres": floats(p.modes.centres), "std": p.modes.std}
        if p.dim == 1:
            view["p_data"] = floats(self._p_data_curve())
        return view

    def _bin_centres(self) -> np.ndarray:
        lo, hi = self.points.extent[0]
        width = (hi - lo) / dv.GRID_1D
        return lo + (np.arange(dv.GRID_1D) + 0.5) * width

    def _density(self, hist: dv.Histogram) -> np.ndarray:
        """A 1-D histogram as a smoothed density per unit length, at the bin centres."""
        lo, hi = self.points.extent[0]
        width = (hi - lo) / dv.GRID_1D
        return _smooth(hist.counts[:-1] / (hist.n * width))

    def _p_data_curve(self) -> np.ndarray:
        if self.points.log_prob is not None:  # the toy density, exactly
            x = torch.from_numpy(self._bin_centres())
            return self.points.log_prob(x).exp().numpy()
        return self._density(self.real.hist)

    # -------------------------------------------------------------- one frame
    def frame(self, game: Game) -> dict:
        s = game.state
        scalars = game.take_scalars()
        shown = fixed_samples(s).float()  # (256, D): the grids' fixed noise
        stats = s.G.sample(STATS, torch.Generator(s.device).manual_seed(STATS_SEED))
        stats = _finite_rows(stats.cpu().double().numpy())  # (STATS, D)
        fake = dv.Sample.of(stats, self.points.extent)
        div = dv.estimate(s.objective.name, self.real, fake, self.floors)
        heat = views.scores(s, self.grid)
        frame = {
            "run": game.run,
            "dim": self.points.dim,
            "it": s.it,
            "d_steps": s.d_updates,
            "g_steps": s.g_updates,
            "scalars": _strict(scalars),
            "fake": floats(shown),
            "arrows": floats(views.gradient_arrows(s, shown[: views.ARROWS])),
            "heat": _heat(s.objective.scores, heat),
            "manifold": floats(views.manifold(s)),
            "divergence": _strict(div.to_dict()),
            "coverage": self._coverage(stats),
            "warnings": [health.page_warning(w) for w in game.warnings],
            "record": _strict(game.last_record) if game.last_record else None,
        }
        if self.points.dim == 1:
            frame.update(self._figure1(s, fake.hist, heat))
        elif s.G.z_dim >= 2:  # p_g has a density in the plane: D* = p_data / (p_data + p_g)
            frame["dstar"] = encode_map(dv.optimal_discriminator(self.real.hist, fake.hist), 0, 1)
        return frame

    def _coverage(self, stats: np.ndarray) -> dict | None:
        modes = self.points.modes
        if modes is None:
            return None
        c = mode_coverage(stats[:COVERAGE], modes.centres, modes.std)
        return {
            "covered": c.modes_covered,
            "modes": c.n_modes,
            "high_quality": c.high_quality_share,
            "counts": list(c.counts),
            "min_count": c.min_count,
        }

    def _figure1(self, s, fake_hist: dv.Histogram, heat: np.ndarray) -> dict:
        """The paper's Figure 1 on the line: p_g, D* = p_data / (p_data + p_g), z -> x."""
        p_g = self._density(fake_hist)
        p_data = self._p_data_curve()
        total = p_data + p_g
        with np.errstate(invalid="ignore", divide="ignore"):  # drawn where the lab compares it
            d_star = np.where(total >= REGION * total.max(), p_data / total, np.nan)
        u, x = views.mapping(s)
        return {
            "p_g": floats(p_g),
            "d_star": floats(d_star),
            "d_curve": floats(heat),
            "mapping": {"u": floats(u), "x": floats(x)},
        }
