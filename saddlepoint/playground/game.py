"""One playground's game: the library's Algorithm 1, played a step or an iteration at a time.

The state is `train.state.setup`'s TrainState for the playground's config (settings.to_config)
and its points; it is advanced only by `train.loop`'s own functions:

    play(n)   n x loop.iteration: k D steps on fresh minibatches, then one G step
    step_d()  one loop.update_discriminator on a fresh minibatch and fresh G(z)
    step_g()  one loop.update_generator on fresh noise (an iteration's second half)

so what the page shows is what `saddlepoint train` trains. Every train.log_every iterations the
loop's health record is made (the means of the scalars and the diversity ratio) and the loop's
HealthMonitor checks it; a loss that is not finite stops the game with one sentence.

Changing settings: the LIVE ones (k, learning rates) go into the running state's config, which
the loop reads afresh at every step; any other change (objective, penalty, optimiser, network
sizes, noise, batch, seed) or new points builds the state anew and carries over what still
fits: G's and D's weights where their shapes are unchanged (with their optimiser state when the
optimiser is the same), the step counters and the noise stream.
"""

from __future__ import annotations

import torch

from saddlepoint.errors import SaddlepointError
from saddlepoint.playground.points import Points
from saddlepoint.playground.settings import LIVE, Settings, changed, to_config
from saddlepoint.train.diagnostics import HealthWarning, diversity, first_non_finite
from saddlepoint.train.distributed import Context
from saddlepoint.train.loop import iteration, update_discriminator, update_generator
from saddlepoint.train.scalars import Accumulator
from saddlepoint.train.schedule import fixed_samples
from saddlepoint.train.state import TrainState, setup
from saddlepoint.train.steps import DStats


class Diverged(SaddlepointError):
    """A loss became NaN or infinite: the game stops until it is reset."""


class Means:
    """Per-key means of the scalars since the last flush (a D step alone has no g_loss)."""

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}

    def add(self, values: dict[str, torch.Tensor]) -> None:
        for key, value in values.items():
            value = value.detach().float()
            self.sums[key] = self.sums[key] + value if key in self.sums else value
            self.counts[key] = self.counts.get(key, 0) + 1

    def flush(self) -> dict[str, float]:
        out = {k: float(v) / self.counts[k] for k, v in self.sums.items()}
        self.sums, self.counts = {}, {}
        return out


def d_scalars(s: TrainState, d: DStats) -> dict[str, torch.Tensor]:
    """A lone D step's scalars, named as train.scalars.step_scalars names an iteration's."""
    values = {
        "d_loss": d.loss,
        "real_score": d.real_scores.mean(),
        "fake_score": d.fake_scores.mean(),
    }
    if s.objective.scores == "logit":
        values["d_real"] = torch.sigmoid(d.real_scores).mean()
        values["d_fake"] = torch.sigmoid(d.fake_scores).mean()
    return values


def carry(old: TrainState, new: TrainState) -> list[str]:
    """Move into `new` what of `old` still fits; returns the nets whose weights were kept."""
    kept = []
    for net, opt in (("G", "opt_g"), ("D", "opt_d")):
        a, b = getattr(old, net), getattr(new, net)
        if type(a) is type(b) and _shapes(a) == _shapes(b):
            b.load_state_dict(a.state_dict())
            if type(getattr(old, opt)) is type(getattr(new, opt)):
                getattr(new, opt).load_state_dict(getattr(old, opt).state_dict())
            kept.append(net)
    new.it, new.d_updates, new.g_updates = old.it, old.d_updates, old.g_updates
    new.noise.set_state(old.noise.get_state())
    return kept


def _shapes(module: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


class Game:
    """A TrainState and what the page needs beside it: the scalars since the last frame, the
    health warnings raised, and `run`, which counts resets (the page clears its curves)."""

    def __init__(self, settings: Settings, points: Points) -> None:
        self.settings, self.points = settings, points
        self.state = self._build(settings, points)
        self.run = 0
        self._reset_records()

    def _build(self, settings: Settings, points: Points) -> TrainState:
        config = to_config(settings, points.name, points.dim)
        s = setup(config, Context(), data=points.dataset)
        s.G.train()
        s.D.train()
        return s

    def _reset_records(self) -> None:
        self.frame_means = Means()  # what the next frame shows
        self.scalars: dict[str, float] = {}  # what the last frame showed
        self.log_stats = Accumulator()  # the next health record's (whole iterations only)
        self.warnings: list[HealthWarning] = []
        self.last_record: dict[str, float] | None = None

    # ------------------------------------------------------------------ Algorithm 1
    def play(self, iterations: int) -> None:
        """`iterations` iterations of Algorithm 1 (loop.iteration), with the health records."""
        s = self.state
        for _ in range(iterations):
            scalars = iteration(s)
            self.frame_means.add(scalars)
            self.log_stats.add(scalars)
            if s.it % s.config.train.log_every == 0:
                self._health_record()

    def step_d(self) -> None:
        """One D step: a fresh minibatch and G(z) on fresh noise (loop.update_discriminator)."""
        s = self.state
        real, y = s.minibatch()  # (m, D) examples
        z = s.sample_noise()  # (m, z_dim)
        with torch.no_grad(), s.autocast:
            fake = s.generate(z, y)
        d, _ = update_discriminator(s, real, fake, y, z)
        self.frame_means.add(d_scalars(s, d))

    def step_g(self) -> None:
        """One G step on fresh noise (loop.update_generator); it counts as an iteration."""
        s = self.state
        z = s.sample_noise()
        with s.autocast:
            fake = s.generate(z, None)
        g = update_generator(s, fake, None, z)
        s.it += 1
        self.frame_means.add({"g_loss": g.loss})

    def _health_record(self) -> None:
        """The loop's log record (means since the last one, the diversity ratio) through the
        loop's HealthMonitor; a loss that is not finite stops the game."""
        s = self.state
        record = self.log_stats.flush()
        samples = fixed_samples(s)
        record["diversity_ratio"] = diversity(samples) / max(s.real_diversity, 1e-12)
        record["iteration"] = s.it
        self.last_record = record
        self._check_finite(record)
        self.warnings += s.monitor.check(record, objective=s.objective.name)

    def _check_finite(self, scalars: dict[str, float]) -> None:
        bad = first_non_finite(scalars)
        if bad is not None:
            raise Diverged(
                f"training diverged at iteration {self.state.it}: {bad} is "
                f"{scalars[bad]}; press reset, and lower the learning rates before playing "
                "again."
            )

    def take_scalars(self) -> dict[str, float]:
        """The scalars a frame shows: each the mean over the steps since the last frame, or its
        last value when no step since has made it (a D step alone makes no g_loss). A loss
        that is not finite stops the game."""
        self.scalars.update(self.frame_means.flush())
        self._check_finite(self.scalars)
        return dict(self.scalars)

    # ------------------------------------------------------------------ changes
    def change(self, settings: Settings) -> list[str]:
        """Use new settings; returns the nets whose weights were carried over (both when only
        LIVE settings changed). A setting the library refuses leaves the game as it was."""
        fields = changed(self.settings, settings)
        if fields <= LIVE:
            self.state.config = to_config(settings, self.points.name, self.points.dim)
            self.settings = settings
            return ["G", "D"]
        return self._rebuild(settings, self.points)

    def use_points(self, points: Points) -> list[str]:
        """Train on other points from here on; the nets carry over when their shapes fit."""
        return self._rebuild(self.settings, points)

    def _rebuild(self, settings: Settings, points: Points) -> list[str]:
        new = self._build(settings, points)  # raises before anything changes
        kept = carry(self.state, new)
        self.state, self.settings, self.points = new, settings, points
        self.log_stats = Accumulator()
        self.warnings = []  # a new game for the health checks: each may be raised again
        return kept

    def reset(self) -> None:
        """Start again from the initial weights of the current settings and points."""
        self.state = self._build(self.settings, self.points)
        self.run += 1
        self._reset_records()
