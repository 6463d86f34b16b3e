"""An ensemble run's members scored alike (docs/ensembles.md): each member's value, then their
mean and sample standard deviation, the spread over seeds that one run cannot show.

Member i is the run of seed train.seed + i; every member is scored with the same metric,
samples, noise seed and reference, so the members differ only by their training seed.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from typing import Any


@dataclasses.dataclass(frozen=True)
class MemberScores:
    metric: str  # what scored them: parzen, fid, kid, is, pr, classes
    label: str  # what the values are ("Parzen log-likelihood", "classifier-feature ...")
    members: list[dict[str, Any]]  # one per member scored: member, seed, value, result
    mean: float  # mean of the members' values
    sd: float  # their sample standard deviation (n - 1); NaN for one member

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def member_scores(metric: str, label: str, members: list[dict[str, Any]]) -> MemberScores:
    """The summary of `members`, each a dict with at least its "value"."""
    values = [float(m["value"]) for m in members]
    sd = statistics.stdev(values) if len(values) > 1 else math.nan  # (n - 1) denominator
    return MemberScores(metric, label, members, statistics.fmean(values), sd)
