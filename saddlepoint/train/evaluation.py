"""Periodic evaluation during training, and the best snapshot kept by a chosen metric.

A run's last checkpoint is often not its best (GAN training oscillates), so with
`train.eval_every=N` the loop scores the sampling generator (the EMA copy when there is one) on
the *validation* split every N iterations, logs `eval_<metric>` to log.jsonl, and keeps the best
scoring generator as `best.safetensors` with `best.json` saying which iteration and value. The
test split is never looked at during training, so a test score of the best snapshot stays an
honest held-out number.

Metrics (`train.eval_metric`):
- `parzen`: the 2014 Parzen-window log-likelihood of the validation images (mean nats, sigma
  chosen on the grid by the same validation images; higher is better): cheap, and the paper's
  measure.
- `fid`, `kid`, `is`, `pr`, `classes`: from `saddlepoint.evaluate.metrics` (classifier-feature
  scores by default), computed against the validation split.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from saddlepoint.config import Config
from saddlepoint.data import load_dataset
from saddlepoint.errors import SaddlepointError, writing

BEST_SNAPSHOT = "best.safetensors"
BEST_JSON = "best.json"


@dataclass(frozen=True)
class Score:
    metric: str
    value: float
    higher_is_better: bool

    def beats(self, best: float | None) -> bool:
        if not math.isfinite(self.value):  # a diverged generator's score is never the best
            return False
        if best is None:
            return True
        return self.value > best if self.higher_is_better else self.value < best


def evaluator(config: Config) -> Callable[[Callable[[int], torch.Tensor]], Score]:
    """score(sample) for the configured metric, where sample(n) gives n examples on [0, 1]."""
    t = config.train
    name, n = t.eval_metric, t.eval_samples
    if name == "parzen":
        from saddlepoint.evaluate.parzen import select_sigma

        valid = load_dataset(config.data, "valid").x.flatten(1)[:1000]

        def parzen(sample: Callable[[int], torch.Tensor]) -> Score:
            chosen = select_sigma(sample(n).flatten(1).float().cpu(), valid)
            return Score("parzen", max(chosen.valid_ll), True)

        return parzen

    from saddlepoint.evaluate.metrics import score_generator

    def metric(sample: Callable[[int], torch.Tensor]) -> Score:
        r = score_generator(name, sample, config.data, n=n, split="valid", seed=t.seed)
        return Score(name, float(r.value), r.higher_is_better)

    return metric


def read_best(run_dir: str | os.PathLike) -> dict | None:
    """best.json of a run ({metric, value, iteration}), or None when it has none."""
    path = Path(run_dir) / BEST_JSON
    if not path.is_file():
        return None
    try:
        best = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        best = None
    if not isinstance(best, dict) or not isinstance(best.get("value"), (int, float)):
        raise SaddlepointError(
            f"{path} is damaged (not JSON with the best score's metric, value and iteration): "
            "delete it (and best.safetensors) to keep the best afresh from here on."
        )
    return best


def write_best(run_dir: Path, score: Score, iteration: int) -> None:
    tmp = run_dir / (BEST_JSON + ".tmp")
    record = {"metric": score.metric, "value": score.value, "iteration": iteration}
    with writing(run_dir / BEST_JSON):
        tmp.write_text(json.dumps(record, indent=2) + "\n")
        os.replace(tmp, run_dir / BEST_JSON)
