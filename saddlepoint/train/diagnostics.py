"""Training diagnostics: sample diversity, gradient norms, and plain-words health warnings.

Two failures of GAN training have names in the 2014 paper, and both show in the logged scalars:

- The discriminator overpowers the generator. Early in training D rejects G's samples with
  high confidence, D(G(z)) -> 0, and the minimax generator cost log(1 - D(G(z))) saturates: its
  gradient with respect to the logit a = logit D(G(z)) is -sigmoid(a) = -D(G(z)), which vanishes
  with D(G(z)). "Rather than training G to minimize log(1 - D(G(z))) we can train G to maximize
  log D(G(z))" (Goodfellow et al. 2014, section 3): the non-saturating objective.
- Mode collapse, "the Helvetica scenario": G maps too many z to the same x (section 6). Its
  symptom here is a generator sample batch whose mean pairwise distance is far smaller than that
  of a real batch of the same size (Salimans et al. 2016 section 3.2 motivate batch statistics
  of the same kind).

`HealthMonitor` watches the logged records and raises each warning at most once per run, and
`short_run_warnings` gives a run too short for its patience the warnings of its last line;
`first_non_finite` names the loss or gradient norm that went NaN/inf, for the loop's stop message.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from saddlepoint.config import Config
from saddlepoint.errors import SaddlepointError

# Records are dicts of floats written every train.log_every iterations (see train/loop.py).
OVERPOWER_BELOW = 0.01  # mean D(G(z)), a probability, "pinned near 0" below this
COLLAPSE_BELOW = 0.5  # diversity ratio (G's mean pairwise distance / the real data's)
COLLAPSE_FRACTION = 0.5  # ... and below this fraction of the best ratio the run has reached


def diversity(x: torch.Tensor) -> float:
    """Mean pairwise Euclidean distance of a batch: sum_{i != j} ||x_i - x_j|| / (N (N - 1)).

    x: (N, ...) with N >= 2, flattened to (N, d) and computed exactly in float64 (each distance
    as a sum of squared differences, not by the |a|^2 + |b|^2 - 2ab Gram expansion, whose
    cancellation turns identical samples into distances of ~1e-7 |x| rather than 0).

    The loop compares G's value on a fixed noise batch with the same statistic of a real batch of
    the same size: their ratio is ~1 for a healthy generator and << 1 when it collapses onto a
    few modes (the mean over pairs is an unbiased estimate of E||X - X'||, whatever N).
    """
    if x.dim() < 1 or len(x) < 2:
        raise SaddlepointError(
            f"diversity needs a batch of at least 2 samples, got shape {tuple(x.shape)}: "
            "pass two or more samples (e.g. a larger train.grid_size)."
        )
    flat = x.detach().reshape(len(x), -1).to(torch.float64)  # (N, d)
    dist = torch.cdist(flat, flat, compute_mode="donot_use_mm_for_euclid_dist")  # (N, N), 0 diag
    n = len(flat)
    return float(dist.sum() / (n * (n - 1)))  # the zero diagonal adds nothing to the sum


def grad_norm(module: nn.Module) -> torch.Tensor:
    """Total L2 norm sqrt(sum_p ||grad_p||^2) of a module's parameter gradients.

    A 0-d float32 tensor on the parameters' device, with no host sync (convert it when a record is
    logged). Parameters whose .grad is None are skipped; 0 when none has a gradient. Read it after
    the backward pass and before the next zero_grad: for D after d_step, for G after g_step.
    """
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        device = next((p.device for p in module.parameters()), torch.device("cpu"))
        return torch.zeros((), device=device)
    norms = torch._foreach_norm(grads)  # one 0-d tensor per parameter: ||grad_p||_2
    return torch.linalg.vector_norm(torch.stack([n.float() for n in norms]))


@dataclass(frozen=True)
class HealthWarning:
    """One warning about a run's health, raised once per run."""

    code: str  # "discriminator_overpowers" or "mode_collapse"
    iteration: int  # the iteration of the record that completed the evidence
    message: str  # plain words: what is happening and what to try

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return f"iteration {self.iteration}: {self.message}"


def _is_checked(key: str) -> bool:
    """Losses and gradient norms: a non-finite one means the run has diverged."""
    return key.endswith("loss") or key.startswith("grad_norm")


def first_non_finite(record: dict) -> str | None:
    """The first loss or gradient-norm key of a record whose value is NaN or infinite, else None.

    Checked keys: those ending in "loss" (d_loss, g_loss) or starting with "grad_norm"
    (grad_norm_d, grad_norm_g), in the record's order; other scalars (e.g. a diversity ratio over
    a degenerate real batch) do not stop a run.
    """
    for key, value in record.items():
        if _is_checked(key) and isinstance(value, (int, float)) and not math.isfinite(value):
            return key
    return None


class HealthMonitor:
    """Raises each health warning at most once per run, from the records the loop logs.

    monitor = HealthMonitor()
    for w in monitor.check(record, objective="minimax"):
        ...  # show w.message, write it beside the log

    Each rule needs `patience` consecutive records showing the symptom, so one noisy log line
    raises nothing. A record without a rule's inputs (critic objectives report no probabilities;
    a loop may log no diversity) leaves that rule's count as it was.

    Mode collapse is a fall. Its symptom is a ratio below `collapse_below` and below
    `collapse_fraction` of the best ratio logged so far, counted once that best has reached
    `collapse_below`: a freshly initialised G is not diverse yet (the demo preset measured
    0.39-0.50 over iterations 50-300, rising to 0.85 by 550), and that start is not a collapse.
    """

    def __init__(
        self,
        patience: int = 3,  # consecutive records a symptom must last before its warning
        overpower_below: float = OVERPOWER_BELOW,  # mean D(G(z)) below this: D rejects G's all
        collapse_below: float = COLLAPSE_BELOW,  # diversity ratio below this: mode collapse
        collapse_fraction: float = COLLAPSE_FRACTION,  # ... and below this fraction of its best
    ) -> None:
        if patience < 1:
            raise SaddlepointError(f"patience must be at least 1 record, got {patience}.")
        self.patience = patience
        self.overpower_below = overpower_below
        self.collapse_below = collapse_below
        self.collapse_fraction = collapse_fraction
        self.raised: set[str] = set()  # codes already raised in this run
        self.streaks: dict[str, int] = {"discriminator_overpowers": 0, "mode_collapse": 0}
        self.best_ratio = 0.0  # the highest diversity ratio logged so far

    def _streak(self, code: str, symptom: bool) -> bool:
        """Count consecutive records with the symptom; True when the warning is due now."""
        self.streaks[code] = self.streaks[code] + 1 if symptom else 0
        return self.streaks[code] >= self.patience and code not in self.raised

    def check(self, record: dict, *, objective: str) -> list[HealthWarning]:
        """The warnings this record completes (each code once per run), in rule order."""
        found = []
        it = int(record.get("iteration", -1))
        d_fake = record.get("d_fake")  # mean D(G(z)), a probability
        if d_fake is not None and self._streak(
            "discriminator_overpowers", d_fake < self.overpower_below
        ):
            found.append(
                HealthWarning("discriminator_overpowers", it, self._overpower_message(objective))
            )
        ratio = record.get("diversity_ratio")  # G's mean pairwise distance / the real data's
        if ratio is not None and math.isfinite(ratio):
            self.best_ratio = max(self.best_ratio, ratio)
        if (
            ratio is not None
            and self.best_ratio >= self.collapse_below  # G has been diverse: a fall can count
            and self._streak(
                "mode_collapse",
                ratio < min(self.collapse_below, self.collapse_fraction * self.best_ratio),
            )
        ):
            found.append(
                HealthWarning(
                    "mode_collapse",
                    it,
                    f"the generator's samples have collapsed: their mean pairwise distance fell "
                    f"to {ratio:.2f} times that of real data (about 1 is healthy; its best was "
                    f"{self.best_ratio:.2f}) for {self.patience} log lines in a row, so G "
                    "covers few modes; try a lower "
                    "generator learning rate (optim_g.lr), an EMA of G (train.ema_beta=0.999), "
                    "or another objective (e.g. --objective wasserstein "
                    "--set objective.penalty=gradient).",
                )
            )
        for w in found:
            self.raised.add(w.code)
        return found

    def _overpower_message(self, objective: str) -> str:
        below, n = self.overpower_below, self.patience
        if objective == "minimax":
            return (
                f"the discriminator overpowers the generator: mean D(G(z)) has stayed below "
                f"{below} for {n} log lines, where the minimax generator cost log(1 - D(G(z))) "
                "saturates and its gradient vanishes (it shrinks with D(G(z))), so G barely "
                "learns; use --objective non_saturating (G maximises log D(G(z)), Goodfellow et "
                "al. 2014, section 3)."
            )
        return (
            f"the discriminator rejects every generated sample: mean D(G(z)) has stayed below "
            f"{below} for {n} log lines; if the samples stop improving, train D less (train.k=1, "
            "a lower optim_d.lr) or G more."
        )

    def state_dict(self) -> dict:
        """What a checkpoint keeps so a resumed run neither re-raises nor restarts its counts."""
        return {
            "raised": sorted(self.raised),
            "streaks": dict(self.streaks),
            "best_ratio": self.best_ratio,
        }

    def load_state_dict(self, state: dict) -> None:
        self.raised = set(state["raised"])
        self.streaks.update(state["streaks"])
        self.best_ratio = float(state["best_ratio"])


def short_run_warnings(
    monitor: HealthMonitor, record: dict, logged: int, raised: set[str], config: Config
) -> list[HealthWarning]:
    """At the end of a run that logged fewer lines than the monitor's patience, the warnings
    its last line shows: the monitor's rules on that one line, and a generator that got no
    gradient at all (a run that is garbage from the start would otherwise end silently)."""
    if logged >= monitor.patience:
        return []
    last = HealthMonitor(patience=1)
    last.load_state_dict(monitor.state_dict())  # what was raised, and the best diversity
    found = last.check(record, objective=config.objective.name)
    if record.get("grad_norm_g") == 0.0:  # exactly 0: D is saturated on every sample
        found.append(
            HealthWarning(
                "no_generator_gradient",
                int(record["iteration"]),
                "the generator got no gradient at all in its last step (its norm is exactly "
                "0): the discriminator is saturated on every generated sample, so G cannot "
                "learn; learning rates far too high do this (optim_d.lr="
                f"{config.optim_d.lr:g}, optim_g.lr={config.optim_g.lr:g}): lower them and "
                "start again.",
            )
        )
    note = (
        f" (the run logged {logged} line(s), fewer than the {monitor.patience} in a row the "
        "checks wait for, so this rests on its last line)"
    )
    return [
        HealthWarning(
            w.code,
            w.iteration,
            w.message.replace("for 1 log lines", "in the last log line").rstrip(".") + note + ".",
        )
        for w in found
        if w.code not in raised
    ]
