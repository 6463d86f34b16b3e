"""Gradient penalties on the discriminator, for inputs of any shape and channel count.

- `gradient_penalty`: WGAN-GP, Gulrajani et al. 2017, "Improved training of Wasserstein GANs"
  (NeurIPS, arXiv:1704.00028), Algorithm 1: a two-sided penalty on the gradient norm at random
  interpolates between real and generated examples.
- `dragan_penalty`: DRAGAN, Kodali et al. 2017, "On convergence and stability of GANs"
  (arXiv:1705.07215): the same penalty at perturbations of real data only.
- `r1_penalty`: R1, Mescheder, Geiger and Nowozin 2018, "Which training methods for GANs do
  actually converge?" (ICML, arXiv:1801.04406), eq. (9): the squared gradient norm on real data.

Shapes: `real` and `fake` are (m, *shape) for any shape ((m, d) vectors, (m, c, h, w) images
with any c, (m, c, d, h, w) volumes, ...); D maps them to (m,) logits (an (m, 1) output is
accepted). Gradient norms are taken per example over all of its coordinates, (m, *shape) ->
flatten -> (m,). Every function returns a scalar that D *adds* to the loss it descends; the
gradient is built with create_graph=True, so the penalty backpropagates into D's parameters.
Inputs are detached first: no gradient reaches G through a penalty.

Each example's gradient is d D(x_i) / d x_i only if D treats examples independently: batch
normalisation couples them, which is why WGAN-GP forbids it in the critic (`batchnorm_in`).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


def _per_example_uniform(
    x: torch.Tensor, generator: torch.Generator | None
) -> torch.Tensor:  # (m, 1, ..., 1): one U(0, 1) draw per example, broadcast over x's rank
    shape = (x.shape[0],) + (1,) * (x.dim() - 1)
    return torch.rand(shape, generator=generator, dtype=x.dtype, device=x.device)


def _input_gradient(D: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """grad_x D(x) for a leaf x of shape (m, *shape), kept in the graph; -> (m, *shape)."""
    m = x.shape[0]
    out = D(x)
    if out.numel() != m:
        raise ValueError(
            f"the discriminator must return one logit per example, shape ({m},); got "
            f"{tuple(out.shape)} for an input of shape {tuple(x.shape)}"
        )
    # sum over examples: d(sum_j D(x_j))/dx_i = dD(x_i)/dx_i when examples do not interact
    (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return grad


def _grad_norm(D: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """||grad_x D(x_i)||_2 per example: (m, *shape) -> (m,)."""
    grad = _input_gradient(D, x)
    return torch.linalg.vector_norm(grad.flatten(start_dim=1), dim=1)


def gradient_penalty(
    D: nn.Module,
    real: torch.Tensor,  # (m, *shape)
    fake: torch.Tensor,  # (m, *shape)
    *,
    weight: float = 10.0,  # lambda in the paper
    target: float = 1.0,  # the Lipschitz constant aimed at
    generator: torch.Generator | None = None,  # for eps; on real's device
) -> torch.Tensor:
    """WGAN-GP: weight * E[(||grad_x D(x_hat)||_2 - target)^2] -> scalar.

    x_hat = eps * real + (1 - eps) * fake, eps ~ U(0, 1) drawn once per example (Algorithm 1,
    lines 4-8 of Gulrajani et al.).
    """
    if real.shape != fake.shape:
        raise ValueError(
            f"real and fake must have the same shape, got {tuple(real.shape)} and "
            f"{tuple(fake.shape)}"
        )
    eps = _per_example_uniform(real, generator)  # (m, 1, ..., 1)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    norms = _grad_norm(D, x_hat)  # (m,)
    return weight * (norms - target).square().mean()


def dragan_penalty(
    D: nn.Module,
    real: torch.Tensor,  # (m, *shape)
    *,
    weight: float = 10.0,  # lambda
    scale: float = 0.5,  # perturbation size, in units of the batch's standard deviation
    generator: torch.Generator | None = None,  # for the noise and alpha; on real's device
) -> torch.Tensor:
    """DRAGAN: weight * E[(||grad_x D(x_hat)||_2 - 1)^2] -> scalar, around the real data.

    The form of the authors' released code (not the paper's Gaussian noise):
        x_p   = real + scale * std(real) * U(0, 1) noise, elementwise, std over the whole batch
                (population std, as numpy's X.std()); note the noise is one-signed
        x_hat = real + alpha * (x_p - real),   alpha ~ U(0, 1) per example
    Draw order from `generator`: the noise first, then alpha.
    """
    real = real.detach()
    noise = torch.rand(real.shape, generator=generator, dtype=real.dtype, device=real.device)
    x_p = real + scale * real.std(correction=0) * noise  # (m, *shape)
    alpha = _per_example_uniform(real, generator)  # (m, 1, ..., 1)
    x_hat = (real + alpha * (x_p - real)).requires_grad_(True)
    norms = _grad_norm(D, x_hat)  # (m,)
    return weight * (norms - 1).square().mean()


def r1_penalty(
    D: nn.Module,
    real: torch.Tensor,  # (m, *shape)
    *,
    gamma: float = 10.0,
) -> torch.Tensor:
    """R1: gamma/2 * E_x[||grad_x D(x)||_2^2] on real data -> scalar (Mescheder et al., eq. 9).

    D is the logit here (the gradient of the pre-sigmoid output, as in the paper's code).
    """
    x = real.detach().requires_grad_(True)
    grad = _input_gradient(D, x)  # (m, *shape)
    return 0.5 * gamma * grad.flatten(start_dim=1).square().sum(dim=1).mean()


def batchnorm_in(D: nn.Module) -> bool:
    """True if D contains any batch-normalisation layer (BatchNorm1d/2d/3d, SyncBatchNorm, ...).

    Such a D's gradient at one example depends on the rest of the batch, so the per-example
    norms a gradient penalty constrains are not the ones of the function D computes.
    """
    return any(isinstance(module, _BatchNorm) for module in D.modules())


# name -> (D, real, fake, weight) -> scalar: what `objective.penalty` selects in the loop, with
# `objective.penalty_weight` as lambda (gradient, dragan) or gamma (r1).
PENALTIES: dict[str, Callable[[nn.Module, torch.Tensor, torch.Tensor, float], torch.Tensor]] = {
    "gradient": lambda D, real, fake, w: gradient_penalty(D, real, fake, weight=w),
    "dragan": lambda D, real, fake, w: dragan_penalty(D, real, weight=w),
    "r1": lambda D, real, fake, w: r1_penalty(D, real, gamma=w),
}
