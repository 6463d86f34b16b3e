"""Auxiliary loss terms beside the adversarial objective: AC-GAN's class prediction and InfoGAN's
mutual-information lower bound. Pure functions of D's extra heads (nets.dcgan.AuxiliaryHeads),
then the Term factories that add them to the players' losses (registered in objectives.terms).

AC-GAN (Odena, Olah & Shlens 2017, "Conditional Image Synthesis with Auxiliary Classifier GANs",
eq. 2-3): D outputs P(S | X) and P(C | X), with

    L_C = E[log P(C = c | X_real)] + E[log P(C = c | X_fake)]

D maximises L_S + L_C and G maximises L_C - L_S: both descend the cross-entropy of the class
head, D on real and generated images, G on generated ones.

InfoGAN (Chen et al. 2016, "InfoGAN: Interpretable Representation Learning by Information
Maximizing Generative Adversarial Nets", eq. 4-5): the lower bound on I(c; G(z, c))

    L_I(G, Q) = E_{c ~ P(c), x ~ G(z, c)} [log Q(c | x)] + H(c)  <=  I(c; G(z, c))

is maximised by G and by Q (D's Q head) with weight lambda. H(c) is a constant of the prior, so
the term descended here is -E log Q(c | x): a cross-entropy per categorical code plus, for the
continuous codes, the negative log-likelihood of a Gaussian with unit variance,
-log N(c; mu, 1) = 0.5 (c - mu)^2 + 0.5 log(2 pi), whose constant is dropped too.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from saddlepoint.config import Config
from saddlepoint.objectives.terms import TERMS, Term, TermBatch


def classification_loss(class_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """-E log P(C = y | X) = mean_b [logsumexp_k l_bk - l_b,y_b] (AC-GAN's -L_C term).

    class_logits (B, K), labels (B,) int64 in [0, K).
    """
    return F.cross_entropy(class_logits.float(), labels)


def mutual_information_loss(
    code_logits: torch.Tensor,  # (B, sum K_i): Q's logits, the categorical codes side by side
    code_mean: torch.Tensor,  # (B, n_cont): Q's means of the continuous codes
    codes_categorical: list[torch.Tensor],  # [(B, K_i)]: the one-hot codes G was given
    codes_continuous: torch.Tensor,  # (B, n_cont): the continuous codes G was given
) -> torch.Tensor:
    """-E log Q(c | x) up to constants (the negative InfoGAN bound minus H(c)):

    sum_i CE(logits_i, c_i) + mean_b sum_j 0.5 (c_bj - mu_bj)^2   (unit-variance Gaussian)
    """
    loss = code_logits.new_zeros((), dtype=torch.float32)
    start = 0
    for code in codes_categorical:  # (B, K_i) one-hot
        k = code.shape[1]
        logits = code_logits[:, start : start + k].float()  # (B, K_i)
        loss = loss + F.cross_entropy(logits, code.argmax(dim=1))
        start += k
    if codes_continuous.shape[1]:
        squared = (codes_continuous.float() - code_mean.float()).square()  # (B, n_cont)
        loss = loss + 0.5 * squared.sum(dim=1).mean()
    return loss


def acgan_term(config: Config, G: nn.Module) -> Term | None:
    """AC-GAN: D descends w (CE(real) + CE(fake)), G descends w CE(fake); w = model.aux_weight."""
    if config.model.conditional != "acgan":
        return None
    w = config.model.aux_weight

    def d_loss(batch: TermBatch) -> torch.Tensor:
        return w * (
            classification_loss(batch.real["class_logits"], batch.y_real)
            + classification_loss(batch.fake["class_logits"], batch.y_fake)
        )

    def g_loss(batch: TermBatch) -> torch.Tensor:
        return w * classification_loss(batch.fake["class_logits"], batch.y_fake)

    return Term("acgan", d_loss, g_loss)


def infogan_term(config: Config, G: nn.Module) -> Term | None:
    """InfoGAN: D (its Q head and trunk) and G both descend lambda * mutual_information_loss on
    the generated minibatch; lambda = model.info_weight. The codes come from batch.z."""
    latent = getattr(G, "latent", None)
    if latent is None or not latent.has_codes:
        return None
    w = config.model.info_weight

    def loss(batch: TermBatch) -> torch.Tensor:
        _, categorical, continuous = latent.split(batch.z)
        heads = batch.fake
        return w * mutual_information_loss(
            heads["code_logits"], heads["code_mean"], categorical, continuous
        )

    return Term("infogan", loss, loss)


TERMS.register("acgan", acgan_term)
TERMS.register("infogan", infogan_term)
