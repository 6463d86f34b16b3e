"""One discriminator update and one generator update: the two halves of Algorithm 1.

Both take precomputed tensors, so the loop decides where real data, conditions and G(z) come
from. For an ensemble of N GANs (nets.ensemble) the tensors are member-folded, N x m rows, and
`members=N`: the objective and the terms, means over N m rows, are multiplied by N, so the loss
is the sum over members of each member's own mean and every member gets exactly the gradient of
its own loss; the penalty is already that sum (the ensemble's penalty is computed per member).

Extra loss terms (AC-GAN, InfoGAN, EBGAN's pulling-away term) read the discriminator's `heads`;
stateful objectives (BEGAN's k_t) pass their current values in `d_kwargs`/`g_kwargs`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from saddlepoint.objectives import Objective
from saddlepoint.objectives.terms import Term, TermBatch
from saddlepoint.objectives.wasserstein import clip_weights_

Heads = dict[str, torch.Tensor]


@dataclass
class DStats:
    loss: torch.Tensor  # scalar, detached: D's whole loss (objective + terms + penalty); the
    # members' mean for an ensemble
    real_scores: torch.Tensor  # (m,) detached D(x): logits, critic values or energies
    fake_scores: torch.Tensor  # (m,) detached D(G(z))
    terms: dict[str, torch.Tensor] = field(default_factory=dict)  # detached term values


@dataclass
class GStats:
    loss: torch.Tensor  # scalar, detached: G's whole loss (the members' mean for an ensemble)
    terms: dict[str, torch.Tensor] = field(default_factory=dict)


def _cat(a: torch.Tensor | None, b: torch.Tensor | None, members: int) -> torch.Tensor | None:
    """a then b, (2 m, ...); for an ensemble's member-folded (N m, ...) batches each member's rows
    of a then its rows of b, (N 2m, ...), so that member i's chunk is its own [a_i; b_i]."""
    if a is None:
        return None
    if members == 1:
        return torch.cat([a, b])
    pairs = [a.unflatten(0, (members, -1)), b.unflatten(0, (members, -1))]  # 2 x (N, m, ...)
    return torch.cat(pairs, dim=1).flatten(0, 1)


def _halves(t: torch.Tensor, members: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The inverse of _cat: (a part, b part) of a joint pass's outputs."""
    if members == 1:
        return t.chunk(2)
    pairs = t.unflatten(0, (members, 2, -1))  # (N, 2, m, ...)
    return pairs[:, 0].flatten(0, 1), pairs[:, 1].flatten(0, 1)


def discriminate(
    D: nn.Module, x: torch.Tensor, y: torch.Tensor | None, heads: bool
) -> tuple[torch.Tensor, Heads | None]:
    """D's (B,) scores for x given y, and its heads dict when asked for."""
    if heads:
        out = D.heads(x) if y is None else D.heads(x, y)
        return out["logits"], out
    return (D(x) if y is None else D(x, y)), None


def d_step(
    D: nn.Module,
    opt_d: torch.optim.Optimizer,
    objective: Objective,
    *,
    real: torch.Tensor,  # (m, *shape) minibatch of data
    fake: torch.Tensor,  # (m, *shape) G(z), detached from G's graph
    autocast: AbstractContextManager,
    y_real: torch.Tensor | None = None,  # (m,) labels or (m, *shape) condition images
    y_fake: torch.Tensor | None = None,  # the conditions the fakes were generated with
    z: torch.Tensor | None = None,  # (m, z_dim) the fakes' latent vectors (InfoGAN codes)
    terms: Sequence[Term] = (),
    d_kwargs: dict[str, Any] | None = None,  # objective state, e.g. BEGAN's k
    separate: bool = False,  # real and fake in two passes (needed for batch-norm D)
    scaler: torch.amp.GradScaler | None = None,  # float16: scale the loss, unscale the step
    critic: nn.Module | None = None,  # the unwrapped D for the penalty (D may be DDP-wrapped)
    clip_weights: float | None = None,  # WGAN: clamp D's parameters to [-c, c] after the step
    # (D, real, fake, y_real) -> scalar: the penalty of D(. | y_real), y_real None if unconditional
    penalty: Callable[..., torch.Tensor] | None = None,
    members: int = 1,  # an ensemble of N GANs on member-folded (N m, ...) batches: N
) -> DStats:
    """Ascend V in theta_d: one step on the discriminator's loss."""
    heads = any(t.d_loss is not None for t in terms)
    with autocast:
        if separate:  # batch statistics of real and fake minibatches kept apart
            real_s, real_h = discriminate(D, real, y_real, heads)
            fake_s, fake_h = discriminate(D, fake, y_fake, heads)
        else:  # one pass over both: faster, right when D treats examples independently
            xs, ys = _cat(real, fake, members), _cat(y_real, y_fake, members)
            s, h = discriminate(D, xs, ys, heads)
            real_s, fake_s = _halves(s, members)
            real_h = fake_h = None
            if h is not None:
                real_h = {k: _halves(v, members)[0] for k, v in h.items()}
                fake_h = {k: _halves(v, members)[1] for k, v in h.items()}
        real_s, fake_s = real_s.float(), fake_s.float()
        loss = objective.discriminator_loss(
            real_logits=real_s, fake_logits=fake_s, **(d_kwargs or {})
        )
        values = {}
        batch = TermBatch(fake=fake_h, real=real_h, y_real=y_real, y_fake=y_fake, z=z)
        for term in terms:
            if term.d_loss is not None:
                value = term.d_loss(batch).float()
                values[term.name] = value.detach()
                loss = loss + value
        if members > 1:  # an ensemble: the sum over members of their means
            loss = loss * members
    if penalty is not None:  # its double backward runs in float32 even under autocast
        with torch.autocast(real.device.type, enabled=False):
            # the penalty differentiates D(x | y) in x; fakes share the real minibatch's y
            f = critic if critic is not None else D
            loss = loss + penalty(f, real.float(), fake.float(), y_real)
    opt_d.zero_grad(set_to_none=True)
    _backward_and_step(loss, opt_d, scaler)
    if clip_weights is not None:
        clip_weights_(D, clip_weights)
    mean_loss = loss if members == 1 else loss / members  # the members' mean
    return DStats(mean_loss.detach(), real_s.detach(), fake_s.detach(), values)


def g_step(
    D: nn.Module,
    opt_g: torch.optim.Optimizer,
    objective: Objective,
    *,
    fake: torch.Tensor,  # (m, *shape) G(z) with its graph
    autocast: AbstractContextManager,
    y_fake: torch.Tensor | None = None,
    z: torch.Tensor | None = None,
    terms: Sequence[Term] = (),
    g_kwargs: dict[str, Any] | None = None,
    scaler: torch.amp.GradScaler | None = None,
    members: int = 1,  # an ensemble of N GANs on member-folded (N m, ...) batches: N
) -> GStats:
    """Descend the generator's cost in theta_g; D's weights get no gradient (they are frozen)."""
    heads = any(t.g_loss is not None for t in terms)
    D.requires_grad_(False)  # skip D's weight gradients: only dL/dx flows back into G
    try:
        with autocast:
            fake_s, fake_h = discriminate(D, fake, y_fake, heads)
            loss = objective.generator_loss(fake_logits=fake_s.float(), **(g_kwargs or {}))
            values = {}
            batch = TermBatch(fake=fake_h, y_fake=y_fake, z=z)
            for term in terms:
                if term.g_loss is not None:
                    value = term.g_loss(batch).float()
                    values[term.name] = value.detach()
                    loss = loss + value
            if members > 1:  # an ensemble: the sum over members of their means
                loss = loss * members
        opt_g.zero_grad(set_to_none=True)
        _backward_and_step(loss, opt_g, scaler)
    finally:
        D.requires_grad_(True)
    return GStats((loss if members == 1 else loss / members).detach(), values)


def _backward_and_step(
    loss: torch.Tensor, opt: torch.optim.Optimizer, scaler: torch.amp.GradScaler | None
) -> None:
    if scaler is None:
        loss.backward()
        opt.step()
        return
    scaler.scale(loss).backward()  # float16: keep small gradients above underflow
    scaler.step(opt)  # unscales; skips the step if an inf/NaN appeared
    scaler.update()
