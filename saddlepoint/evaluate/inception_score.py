"""The Inception Score (Salimans et al., "Improved Techniques for Training GANs", NeurIPS 2016,
section 4): how confidently and how variedly a classifier labels the samples.

With p(y|x) the classifier's softmax over K classes for sample x and p(y) its mean over the
samples,

    IS = exp( E_x KL(p(y|x) || p(y)) ),   KL(p || q) = sum_y p_y (log p_y - log q_y)  (nats).

It lies in [1, K]: 1 when every sample gets the same distribution, K when each sample is
labelled with certainty and the labels are uniform. As in the original code, the N samples are
cut into `splits` contiguous parts of N // splits (a remainder is dropped), IS is computed on
each part with that part's p(y), and the mean and standard deviation (ddof = 0) over the parts
are reported. With the Inception-v3 network the logits are the 1008 pool-feature products
without the final bias (the original's `matmul(pool3, w)`); with the dataset classifier this is
the "classifier score" of MNIST papers, not comparable with Inception Scores.

Not torchmetrics' InceptionScore: that is a stateful Metric class that shuffles with the global
RNG; the formula is three lines, written here in float64 from log-softmax.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from saddlepoint.errors import SaddlepointError

SPLITS = 10  # the original's default


@dataclass(frozen=True)
class InceptionScore:
    mean: float  # mean of exp(E KL) over the splits
    std: float  # standard deviation over the splits (ddof = 0)
    splits: int  # parts the samples were cut into
    per_split: int  # samples in each part


def inception_score(logits: torch.Tensor, *, splits: int = SPLITS) -> InceptionScore:
    """IS of class logits (N, K): mean and std over `splits` contiguous parts."""
    if logits.dim() != 2 or logits.shape[1] < 2:
        raise SaddlepointError(
            f"the Inception Score needs class logits (N, K) with K >= 2, got {tuple(logits.shape)}."
        )
    per_split = logits.shape[0] // splits if splits >= 1 else 0
    if per_split < 1:
        raise SaddlepointError(
            f"the Inception Score cuts the samples into {splits} parts but got only "
            f"{logits.shape[0]} samples: draw at least {max(splits, 1)} samples."
        )
    log_p = torch.log_softmax(logits.to(torch.float64), dim=1)  # (N, K) log p(y|x)
    scores = []
    for k in range(splits):
        part = log_p[k * per_split : (k + 1) * per_split]  # (n, K)
        log_marginal = torch.logsumexp(part, dim=0) - torch.log(
            torch.tensor(float(per_split), dtype=torch.float64)
        )  # (K,) log p(y) = log mean_x p(y|x)
        kl = (part.exp() * (part - log_marginal)).sum(dim=1)  # (n,) KL(p(y|x) || p(y))
        scores.append(kl.mean().exp())
    s = torch.stack(scores)
    return InceptionScore(float(s.mean()), float(s.std(correction=0)), splits, per_split)
