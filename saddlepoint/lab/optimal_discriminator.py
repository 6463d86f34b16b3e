"""Lab `optimal-discriminator`: with G fixed, training D reaches D* = p_data / (p_data + p_g).

Goodfellow et al. 2014, Proposition 1 (eq. 2) and Figure 1. For G fixed, the D that maximises

    V(D, G) = E_{x ~ p_data} log D(x) + E_{z ~ p_z} log(1 - D(G(z)))

is D*(x) = p_data(x) / (p_data(x) + p_g(x)), and V(D*, G) = C(G) = -log 4 + 2 JSD(p_data || p_g)
(Theorem 1). This lab checks the claim on a trained network rather than on paper:

1. Data: the 1-D toy density `gaussian1d`, p_data = N(4, 0.5^2) (data/toy.py).
2. G: a strictly increasing map of uniform noise (MonotoneGenerator below),

       z ~ U(0, 1),  eps = Phi^-1(z),  x = G(z) = b + e^s eps + sum_j e^w_j tanh(e^a_j eps + c_j),

   so p_g is exact by change of variables: p_g(x) = p_z(z) |dz/dx| = 1 / G'(z) at z = G^-1(x),
   i.e. p_g(x) = phi(eps) / (dx/d eps) with eps = G^-1(x) found by bisection (float64).
3. With G frozen, a small MLP D is trained on fresh minibatches with the minimax discriminator
   loss (objectives/minimax.py) until its learning rate has decayed to zero; then max and mean
   |D - D*| are measured on a grid over the region where p_data + p_g is at least REGION of its
   peak (elsewhere neither density puts samples for D to learn from).
4. Then G and D are trained together (k D steps per G step, the chosen generator cost) and the
   paper's Figure 1 is drawn from the run: (a) a partially trained D, (b) D converged to D*, (c)
   after G updates p_g flows towards p_data, (d) p_g = p_data and D = 1/2; p_data dotted, p_g
   solid, D dashed, arrows from z (the lower line) to x = G(z). An animated GIF shows every frame.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from saddlepoint.data import toy
from saddlepoint.errors import SaddlepointError
from saddlepoint.lab import output
from saddlepoint.objectives import OBJECTIVES, minimax

NAME = "optimal-discriminator"
DESCRIPTION = "G fixed: a trained D reaches D* = p_data/(p_data + p_g); then Figure 1 (a)-(d)"

DATA = "gaussian1d"  # p_data = N(4, 0.5^2)
GRID = (-2.0, 10.0, 3001)  # (lo, hi, points) of the float64 grid used for every number
SHOWN = (0.5, 7.5)  # x range drawn in the figures
Z_DRAWN = (1.5, 6.5)  # where the z line (0..1) is drawn under the x axis
REGION = 0.01  # D is compared with D* where p_data + p_g >= REGION * max(p_data + p_g)
PARTIAL_STEPS = 5  # Figure 1 (a): D after this many steps is "a partially accurate classifier"
D_WIDTH = 32  # the discriminator's two tanh hidden layers
D_BATCH = 2048  # real and generated examples per D step while G is frozen
D_LR = 1e-2  # Adam, cosine-decayed to 0 over d_steps while G is frozen
GAME_LR = 5e-3  # Adam (betas 0.5, 0.999) for both players in the joint phase
ARROWS = 15  # z quantiles (i + 1/2)/ARROWS drawn as arrows z -> G(z)


class MonotoneGenerator(nn.Module):
    """x = G(z) for z ~ U(0, 1), strictly increasing in z, with an exact density p_g (float64).

    G(z) = b + e^s eps + sum_j e^w_j tanh(e^a_j eps + c_j),  eps = Phi^-1(z) = sqrt2 erfinv(2z - 1).
    Every term increases with eps, and eps with z, so G is invertible; dx/deps > 0 everywhere.
    """

    def __init__(self, terms: int = 6, generator: torch.Generator | None = None) -> None:
        super().__init__()
        noise = torch.randn(2, terms, generator=generator, dtype=torch.float64)  # (2, J)
        # Start left of the data and skewed: p_g overlaps p_data without matching it.
        self.b = nn.Parameter(torch.tensor(2.8, dtype=torch.float64))  # location
        self.s = nn.Parameter(torch.tensor(math.log(0.45), dtype=torch.float64))  # log slope
        self.w = nn.Parameter(math.log(0.15) + 0.3 * noise[0])  # (J,) log heights of the steps
        self.a = nn.Parameter(0.3 * noise[1])  # (J,) log sharpness of the steps
        self.c = nn.Parameter(torch.linspace(-2.0, 2.0, terms, dtype=torch.float64))  # (J,)

    def of_eps(self, eps: torch.Tensor) -> torch.Tensor:
        """x as a function of eps = Phi^-1(z); (...,) -> (...,)."""
        steps = self.w.exp() * torch.tanh(self.a.exp() * eps[..., None] + self.c)  # (..., J)
        return self.b + self.s.exp() * eps + steps.sum(-1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z (n,) in (0, 1) -> x (n,)."""
        return self.of_eps(math.sqrt(2.0) * torch.erfinv(2.0 * z.double() - 1.0))

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n draws x = G(z), z ~ U(0, 1); shape (n,), float64, with G's graph."""
        return self(torch.rand(n, generator=generator, dtype=torch.float64))

    @torch.no_grad()
    def inverse_eps(self, x: torch.Tensor, iterations: int = 52) -> torch.Tensor:
        """eps = G^-1(x) by bisection on [-40, 40]: 52 halvings leave 80 / 2^52 ~ 2e-14."""
        lo = torch.full_like(x, -40.0, dtype=torch.float64)
        hi = torch.full_like(x, 40.0, dtype=torch.float64)
        for _ in range(iterations):  # the bracket halves each time
            mid = 0.5 * (lo + hi)
            below = self.of_eps(mid) < x
            lo, hi = torch.where(below, mid, lo), torch.where(below, hi, mid)
        return 0.5 * (lo + hi)

    def log_density(self, x: torch.Tensor) -> torch.Tensor:
        """log p_g(x) = log phi(eps) - log(dx/deps) at eps = G^-1(x); (n,) float64 -> (n,)."""
        eps = self.inverse_eps(x.double()).requires_grad_(True)
        with torch.enable_grad():
            (slope,) = torch.autograd.grad(self.of_eps(eps).sum(), eps)  # dx/deps, each point
        eps = eps.detach()
        return -0.5 * eps**2 - 0.5 * math.log(2 * math.pi) - torch.log(slope)


def make_discriminator(width: int = D_WIDTH) -> nn.Module:
    """D(x): (n,) points -> (n,) logits; a 1 -> width -> width -> 1 tanh MLP on (x - 4) / 1.5."""
    return _Discriminator(width)


class _Discriminator(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(1, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = (x.float()[:, None] - 4.0) / 1.5  # (n, 1), standardised around the data
        return self.net(h).squeeze(1)  # (n,) logits


@dataclass
class _Frame:
    """What one picture of Figure 1 needs: densities, D and the z -> x arrows at one moment."""

    label: str
    iteration: int
    p_g: np.ndarray  # (grid,) exact generator density
    d: np.ndarray  # (grid,) D(x) = sigmoid(logit)
    arrows: np.ndarray  # (ARROWS,) G(z) at z = (i + 1/2) / ARROWS
    jsd: float


def _grid() -> torch.Tensor:
    lo, hi, n = GRID
    return torch.linspace(lo, hi, n, dtype=torch.float64)


def _trapezoid(y: torch.Tensor, x: torch.Tensor) -> float:
    return float(torch.trapezoid(y, x))


def js_divergence(p: torch.Tensor, q: torch.Tensor, x: torch.Tensor) -> float:
    """JSD(P || Q) = 1/2 KL(P || M) + 1/2 KL(Q || M), M = (P + Q) / 2, by the trapezoid rule."""
    m = 0.5 * (p + q)

    def kl_to_m(a: torch.Tensor) -> float:
        terms = torch.where(a > 0, a * torch.log(a / m.clamp_min(1e-300)), torch.zeros_like(a))
        return _trapezoid(terms, x)

    return 0.5 * kl_to_m(p) + 0.5 * kl_to_m(q)


@torch.no_grad()
def _d_on(D: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(D(x)).double()  # (n,) D(x)


def _region(p_data: torch.Tensor, p_g: torch.Tensor) -> torch.Tensor:
    total = p_data + p_g
    return total >= REGION * total.max()  # (grid,) bool


def discriminator_error(
    D: nn.Module, G: MonotoneGenerator, x: torch.Tensor | None = None
) -> dict[str, Any]:
    """|D - D*| on the grid where p_data + p_g is non-negligible; and C(G) - V(D, G) >= 0."""
    x = _grid() if x is None else x
    p_data = toy.log_prob(DATA, x).exp()  # (grid,)
    p_g = G.log_density(x).exp()  # (grid,)
    d_star = p_data / (p_data + p_g).clamp_min(1e-300)  # eq. (2)
    d = _d_on(D, x)
    inside = _region(p_data, p_g)
    gap = (d - d_star).abs()[inside]
    weight = (0.5 * (p_data + p_g))[inside]  # the density D is trained on
    # V(D, G) = int p_data log D + int p_g log(1 - D); V(D*, G) = C(G) = -log 4 + 2 JSD
    logit = torch.logit(d.clamp(1e-12, 1 - 1e-12))
    v_d = _trapezoid(
        -p_data * torch.nn.functional.softplus(-logit) - p_g * torch.nn.functional.softplus(logit),
        x,
    )
    jsd = js_divergence(p_data, p_g, x)
    return {
        "region": [float(x[inside].min()), float(x[inside].max())],
        "max_abs_error": float(gap.max()),
        "mean_abs_error": float(gap.mean()),  # uniform over the region's grid points
        "weighted_mean_abs_error": float((gap * weight).sum() / weight.sum()),
        "V_D": v_d,
        "C_G": -math.log(4.0) + 2 * jsd,  # Theorem 1
        "C_G_minus_V_D": -math.log(4.0) + 2 * jsd - v_d,  # >= 0: D* is the maximiser
        "jsd": jsd,
    }


def _frame(label: str, iteration: int, D: nn.Module, G: MonotoneGenerator) -> _Frame:
    x = _grid()
    p_g = G.log_density(x).exp()
    z = (torch.arange(ARROWS, dtype=torch.float64) + 0.5) / ARROWS
    with torch.no_grad():
        arrows = G(z).numpy()
    p_data = toy.log_prob(DATA, x).exp()
    return _Frame(
        label, iteration, p_g.numpy(), _d_on(D, x).numpy(), arrows, js_divergence(p_data, p_g, x)
    )


def _d_step(D, opt, G, m: int, noise: torch.Generator) -> torch.Tensor:
    real, _ = toy.sample(DATA, m, noise)  # (m, 1)
    with torch.no_grad():
        fake = G.sample(m, noise)  # (m,)
    logits = D(torch.cat([real[:, 0].double(), fake]))  # (2m,)
    loss = minimax.discriminator_loss(real_logits=logits[:m], fake_logits=logits[m:])
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.detach()


def run(
    out_dir: str | os.PathLike,
    *,
    seed: int = 0,
    d_steps: int = 600,  # D steps with G frozen (phase 1)
    iterations: int = 500,  # joint generator steps (phase 2)
    k: int = 1,  # D steps per G step in phase 2
    objective: str = "non_saturating",  # the generator's cost; D's loss is the minimax one
    frames: int = 30,  # frames of the joint phase in the GIF
    batch_size: int = 512,  # m in phase 2
) -> dict[str, Any]:
    """Phase 1 (D against a frozen G, compared with D*) and phase 2 (Figure 1 over training)."""
    for name, value, least in (
        ("d_steps", d_steps, PARTIAL_STEPS + 1),
        ("iterations", iterations, 1),
        ("k", k, 1),
        ("frames", frames, 2),
        ("batch_size", batch_size, 1),
    ):
        if value < least:
            raise SaddlepointError(f"{name} must be at least {least}, got {value}.")
    cost = OBJECTIVES.get(objective)
    if cost.discriminator_loss is not minimax.discriminator_loss:
        same_d = [
            n for n, o in OBJECTIVES.items() if o.discriminator_loss is minimax.discriminator_loss
        ]
        raise SaddlepointError(
            f"D* = p_data / (p_data + p_g) is the optimum of the minimax discriminator loss, which "
            f"{objective} does not use: choose one of {', '.join(same_d)}."
        )
    out = output.prepare(out_dir)
    started = time.monotonic()
    torch.manual_seed(seed)
    noise = torch.Generator().manual_seed(seed + 1)
    G = MonotoneGenerator(generator=torch.Generator().manual_seed(seed + 2))
    D = make_discriminator()

    # ---- phase 1: G frozen, D trained to convergence (Adam, lr cosine-decayed to 0)
    G.requires_grad_(False)
    opt_d = torch.optim.Adam(D.parameters(), lr=D_LR)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt_d, d_steps)
    for step in range(d_steps):
        _d_step(D, opt_d, G, D_BATCH, noise)
        schedule.step()
        if step + 1 == PARTIAL_STEPS:
            partial = discriminator_error(D, G)
            panel_a = _frame("(a)", 0, D, G)
    fixed = discriminator_error(D, G)
    panel_b = _frame("(b)", 0, D, G)
    _plot_fixed_g(D, G, fixed, out / f"{NAME}-fixed-g.png")

    # ---- phase 2: both players (Algorithm 1), starting from the converged D
    G.requires_grad_(True)
    opt_d = torch.optim.Adam(D.parameters(), lr=GAME_LR, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(G.parameters(), lr=GAME_LR, betas=(0.5, 0.999))
    record_at = set(np.linspace(0, iterations, frames).round().astype(int).tolist())
    panel_c_at = max(1, iterations // 5)
    record_at.add(panel_c_at)
    history: list[_Frame] = []
    for it in range(iterations + 1):
        if it in record_at:
            history.append(_frame(f"iteration {it}", it, D, G))
        if it == iterations:
            break
        for _ in range(k):
            _d_step(D, opt_d, G, batch_size, noise)
        fake = G.sample(batch_size, noise).float()  # (m,) with G's graph
        D.requires_grad_(False)
        g_loss = cost.generator_loss(fake_logits=D(fake))
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        D.requires_grad_(True)
    final = discriminator_error(D, G)
    x = _grid()
    p_data = toy.log_prob(DATA, x).exp()  # (grid,)
    p_g = G.log_density(x).exp()  # (grid,)
    inside = _region(p_data, p_g)
    weight = (p_data + p_g)[inside]
    half_gap = (_d_on(D, x) - 0.5).abs()[inside]  # |D - 1/2|: 0 at the equilibrium

    panel_c = next(f for f in history if f.iteration == panel_c_at)
    panels = [panel_a, panel_b, panel_c, history[-1]]
    for panel, label in zip(panels, ("(a)", "(b)", "(c)", "(d)")):
        panel.label = label
    _plot_figure1(panels, out / f"{NAME}-figure1.png")
    _gif([panel_b, *history], out / f"{NAME}.gif")

    numbers: dict[str, Any] = {
        "p_data": "N(4, 0.5^2) (toy density gaussian1d)",
        "generator": "x = b + e^s eps + sum_j e^w_j tanh(e^a_j eps + c_j), eps = Phi^-1(z), "
        "z ~ U(0, 1): increasing, p_g(x) = 1 / G'(z) at z = G^-1(x) (change of variables)",
        "discriminator": f"MLP 1-{D_WIDTH}-{D_WIDTH}-1 (tanh), minimax loss",
        "seed": seed,
        "region_rule": f"p_data + p_g >= {REGION:g} max(p_data + p_g)",
        "p_g_integral": _trapezoid(p_g, x),  # 1 if p_g is a density
        "fixed_g": {
            "d_steps": d_steps,
            "batch_size": D_BATCH,
            **fixed,
            "after_partial_steps": {"steps": PARTIAL_STEPS, **partial},
        },
        "training": {
            "objective": objective,
            "iterations": iterations,
            "k": k,
            "batch_size": batch_size,
            "jsd_start": history[0].jsd,
            "jsd_end": history[-1].jsd,
            "max_abs_d_minus_half_end": float(half_gap.max()),
            "weighted_mean_abs_d_minus_half_end": float((half_gap * weight).sum() / weight.sum()),
            "max_abs_error_end": final["max_abs_error"],
            "frames": [{"iteration": f.iteration, "jsd": f.jsd} for f in history],
        },
        "seconds": round(time.monotonic() - started, 2),
    }
    output.write_numbers(numbers, out / f"{NAME}.json")
    return numbers


# ---------------------------------------------------------------------------------- figures


class _Panel:
    """One Figure 1 picture on an axes: p_data dotted, p_g solid, D dashed, arrows z -> G(z).

    The artists are made once and `show(frame)` moves them, so a GIF redraws without rebuilding.
    """

    X_LINE, Z_LINE = -0.1, -0.45  # heights of the x axis and of the z line under it

    def __init__(self, ax) -> None:
        x = _grid().numpy()
        self.ax = ax
        p_data = toy.log_prob(DATA, _grid()).exp().numpy()
        ax.plot(x, p_data, ":", color="black", linewidth=2, label="p_data")
        (self.p_g,) = ax.plot(x, x * 0, "-", color="tab:green", linewidth=1.5, label="p_g")
        (self.d,) = ax.plot(x, x * 0, "--", color="tab:blue", linewidth=1.5, label="D")
        ax.axhline(self.X_LINE, color="gray", linewidth=0.8)
        ax.plot(Z_DRAWN, [self.Z_LINE, self.Z_LINE], color="gray", linewidth=0.8)
        z = (np.arange(ARROWS) + 0.5) / ARROWS  # the quantiles whose images are drawn
        self.arrows = [
            ax.annotate(
                "",
                xy=(start, self.X_LINE),
                xytext=(start, self.Z_LINE),
                arrowprops={"arrowstyle": "->", "color": "gray", "linewidth": 0.6},
            )
            for start in Z_DRAWN[0] + z * (Z_DRAWN[1] - Z_DRAWN[0])
        ]
        ax.text(SHOWN[0] + 0.1, self.X_LINE + 0.03, "x", fontsize=8)
        ax.text(Z_DRAWN[0] - 0.35, self.Z_LINE - 0.02, "z", fontsize=8)
        ax.set_xlim(*SHOWN)
        ax.set_ylim(-0.55, 1.1)
        ax.set_yticks([0, 0.5, 1])

    def show(self, frame: _Frame, title: str) -> None:
        self.p_g.set_ydata(frame.p_g)
        self.d.set_ydata(frame.d)
        for arrow, end in zip(self.arrows, frame.arrows):
            arrow.xy = (float(end), self.X_LINE)
        self.ax.set_title(title, fontsize=8)


def _plot_figure1(panels: list[_Frame], path: os.PathLike) -> None:
    captions = {
        "(a)": f"(a) D after {PARTIAL_STEPS} steps: partly accurate",
        "(b)": "(b) D trained with G fixed: D -> D*",
        "(c)": "(c) after G updates: G(z) flows to the data",
        "(d)": "(d) the end: p_g ~ p_data, D ~ 1/2",
    }
    fig = output.new_figure(12.0, 3.3)
    for i, frame in enumerate(panels):
        ax = fig.add_subplot(1, 4, i + 1)
        title = f"{captions[frame.label]}\niteration {frame.iteration}, JSD = {frame.jsd:.4f}"
        _Panel(ax).show(frame, title)
        if i == 0:
            ax.legend(loc="upper left", fontsize=7)
    output.save_figure(fig, path)


def _plot_fixed_g(D: nn.Module, G: MonotoneGenerator, numbers: dict, path: os.PathLike) -> None:
    """D trained against a frozen G beside D* = p_data / (p_data + p_g), and |D - D*|."""
    x = _grid()
    p_data = toy.log_prob(DATA, x).exp()
    p_g = G.log_density(x).exp()
    d_star = p_data / (p_data + p_g)
    d = _d_on(D, x)
    inside = _region(p_data, p_g).numpy()
    fig = output.new_figure(6.0, 5.0)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(2, 1))
    xn = x.numpy()
    top.plot(xn, p_data, ":", color="black", linewidth=2, label="p_data = N(4, 0.5^2)")
    top.plot(xn, p_g, "-", color="tab:green", label="p_g (exact, change of variables)")
    top.plot(xn, d_star, "-", color="tab:orange", linewidth=3, alpha=0.5, label="D* (eq. 2)")
    top.plot(xn, d, "--", color="tab:blue", label="trained D")
    top.set_ylim(-0.02, 1.1)
    top.legend(fontsize=7, loc="upper left")
    top.set_title(
        f"G fixed: max |D - D*| = {numbers['max_abs_error']:.4f}, "
        f"mean {numbers['mean_abs_error']:.4f}",
        fontsize=9,
    )
    gap = (d - d_star).abs().numpy()
    bottom.plot(xn[inside], gap[inside], color="tab:red")
    bottom.set_ylabel("|D - D*|")
    bottom.set_xlabel(f"x (where p_data + p_g >= {REGION:g} of its peak)")
    bottom.set_xlim(*SHOWN)
    output.save_figure(fig, path)


def _gif(frames: list[_Frame], path: os.PathLike) -> None:
    """Every recorded frame of phase 2 as an animated GIF (Pillow)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.8, 3.2), dpi=80)  # 384 x 256 pixels; fixed layout, drawn per frame
    canvas = FigureCanvasAgg(fig)
    panel = _Panel(fig.add_axes((0.08, 0.08, 0.9, 0.8)))
    panel.ax.legend(loc="upper left", fontsize=7)
    images = []
    for frame in frames:
        title = f"{frame.label}: JSD(p_data, p_g) = {frame.jsd:.4f}"
        if frame.label == "(b)":
            title = f"D trained with G fixed (D -> D*), JSD = {frame.jsd:.4f}"
        panel.show(frame, title)
        canvas.draw()
        images.append(output.gif_frame(canvas))
    durations = [1200] + [100] * (len(images) - 2) + [1500]  # ms: hold the first and last
    output.save_gif(images, path, durations)


def summary(numbers: dict) -> list[str]:
    fixed, game = numbers["fixed_g"], numbers["training"]
    lo, hi = fixed["region"]
    return [
        f"G fixed, D after {fixed['d_steps']} steps: max |D - D*| = {fixed['max_abs_error']:.4f}, "
        f"mean {fixed['mean_abs_error']:.4f} over x in [{lo:.2f}, {hi:.2f}] "
        f"(after {fixed['after_partial_steps']['steps']} steps: "
        f"{fixed['after_partial_steps']['max_abs_error']:.3f})",
        f"C(G) - V(D, G) = {fixed['C_G_minus_V_D']:.2e} nats (>= 0: D* maximises V)",
        f"{game['objective']}, {game['iterations']} iterations, k = {game['k']}: JSD(p_data, p_g) "
        f"{game['jsd_start']:.4f} -> {game['jsd_end']:.5f}; mean |D - 1/2| at the end "
        f"{game['weighted_mean_abs_d_minus_half_end']:.4f}",
    ]
