"""Scalar logs of a run: JSON lines (the record of truth) mirrored as TensorBoard events.

run_dir/
    log.jsonl          one JSON object of scalars per logged iteration (plots and reports read it)
    warnings.jsonl     one JSON object per health warning: {"code", "iteration", "message"}
    tensorboard/       event files of the same scalars, grouped by tag prefix (loss/,
                       discriminator/, ...; `tensorboard_tag`), and the sample grids as images
                       under samples/: `tensorboard --logdir runs/`

Progress is counted in iterations (TensorBoard's global_step), as in stylegan2's
`training_stats` and `metric-*.jsonl`. The lines are strict JSON: a NaN or infinite value (a
diverging run's last line) is written as null. A resumed run first drops the lines past its
checkpoint (`truncate_logs`) and opens TensorBoard with purge_step = checkpoint iteration + 1,
which hides the events a crashed session wrote past that point.

Between log lines the loop's scalars stay on the device: `step_scalars` gives one iteration's
as 0-d tensors, and an `Accumulator` sums them, with one host sync per log line, not per step.
"""

from __future__ import annotations

import json
import math
import os
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from saddlepoint.errors import output_error, writing
from saddlepoint.objectives import Objective
from saddlepoint.runs import LOG
from saddlepoint.train.diagnostics import HealthWarning
from saddlepoint.train.steps import DStats, GStats

WARNINGS = "warnings.jsonl"
TENSORBOARD = "tensorboard"

_warned_no_tensorboard = False  # the fallback warning is given once per process

# TensorBoard sections: log.jsonl keys (exact, or a prefix ending in "_") -> the group their tag
# is filed under, "group/key". Keys not listed go under "other/".
TAG_GROUPS = {
    "d_loss": "loss",
    "g_loss": "loss",
    "real_score": "discriminator",
    "fake_score": "discriminator",
    "d_real": "discriminator",
    "d_fake": "discriminator",
    "d_acc_real": "discriminator",
    "d_acc_fake": "discriminator",
    "grad_norm_d": "health",
    "grad_norm_g": "health",
    "diversity_ratio": "health",
    "lr_d": "optimiser",
    "lr_g": "optimiser",
    "images_seen": "progress",
    "epoch": "progress",
    "seconds": "progress",
    "images_per_s": "progress",
    "threads": "progress",
    "term_": "terms",
    "eval_": "eval",
}


def tensorboard_tag(key: str) -> str:
    """The TensorBoard tag of a log.jsonl key: "d_loss" -> "loss/d_loss" (TAG_GROUPS)."""
    group = TAG_GROUPS.get(key)
    if group is None:
        group = next(
            (
                g
                for prefix, g in TAG_GROUPS.items()
                if prefix.endswith("_") and key.startswith(prefix)
            ),
            "other",
        )
    return f"{group}/{key}"


def _summary_writer_class():
    """torch's SummaryWriter, or None when the tensorboard package cannot be imported."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter


def strict(value):
    """`value` with every NaN or infinite float replaced by None (JSON null), so that strict
    JSON readers accept it (json.dumps would write the bare NaN / Infinity they reject)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    return value


def _append_json(path: Path, obj: dict) -> None:
    with writing(path), open(path, "a") as f:
        f.write(json.dumps(strict(obj), allow_nan=False) + "\n")


def _quiet_event_writer_errors() -> None:
    """Install a threading.excepthook that silences OSErrors of TensorBoard's writer thread:
    it prints a traceback when a write fails (a full disk), then hands the error to the next
    call in the main thread, which reports it in one sentence. Other errors go on as before."""
    previous = threading.excepthook
    if getattr(previous, "saddlepoint", False):
        return

    def hook(args) -> None:
        if isinstance(args.exc_value, OSError) and "AsyncWriter" in type(args.thread).__name__:
            return
        previous(args)

    hook.saddlepoint = True
    threading.excepthook = hook


class ScalarWriter:
    """Appends records to log.jsonl and warnings to warnings.jsonl, mirrored to TensorBoard.

    with ScalarWriter(run_dir, purge_step=None if fresh else checkpoint_iteration + 1) as log:
        log.write({"iteration": 100, "d_loss": 1.3, ...})
        log.warn(health_warning)
    """

    def __init__(
        self,
        run_dir: str | os.PathLike,
        *,
        tensorboard: bool = True,  # also write event files under run_dir/tensorboard/
        purge_step: int | None = None,  # on resume: hide older events with step >= this
    ) -> None:
        global _warned_no_tensorboard
        self.run_dir = Path(run_dir)
        with writing(self.run_dir):
            self.run_dir.mkdir(parents=True, exist_ok=True)
        self.tb = None
        if tensorboard:
            writer_class = _summary_writer_class()
            if writer_class is None:
                if not _warned_no_tensorboard:
                    warnings.warn(
                        "the tensorboard package is not installed, so scalars go to log.jsonl "
                        "only: pip install tensorboard for event files.",
                        stacklevel=2,
                    )
                    _warned_no_tensorboard = True
            else:
                _quiet_event_writer_errors()
                with writing(self.run_dir / TENSORBOARD):
                    self.tb = writer_class(
                        log_dir=str(self.run_dir / TENSORBOARD), purge_step=purge_step
                    )

    def write(self, record: dict) -> None:
        """One JSON line; each number (not bool) a TensorBoard scalar at record["iteration"],
        tagged "group/key" (tensorboard_tag)."""
        _append_json(self.run_dir / LOG, record)
        if self.tb is None:
            return
        step = int(record["iteration"])
        with self._tensorboard():
            for key, value in record.items():
                if (
                    key != "iteration"
                    and isinstance(value, (int, float))
                    and not isinstance(value, bool)
                ):
                    self.tb.add_scalar(tensorboard_tag(key), value, global_step=step)
            self.tb.flush()  # once per log line: `tensorboard` shows it now, a crash loses nothing

    def image(self, tag: str, png: str | os.PathLike, step: int) -> None:
        """A PNG (a sample grid) as a TensorBoard image at `step`, under "samples/<tag>"."""
        if self.tb is None:
            return
        import numpy as np
        from PIL import Image

        with Image.open(png) as img:
            pixels = np.asarray(img.convert("RGB" if img.mode not in ("L", "1") else "L"))
        with self._tensorboard():
            self.tb.add_image(
                f"samples/{tag}",
                pixels,
                global_step=step,
                dataformats="HW" if pixels.ndim == 2 else "HWC",
            )
            self.tb.flush()

    @contextmanager
    def _tensorboard(self) -> Iterator[None]:
        """Around TensorBoard writes: an OSError (a full disk) becomes one sentence, and the
        writer, whose thread has stopped, is dropped so that closing it does not fail again."""
        try:
            yield
        except OSError as e:
            self.tb = None
            raise output_error(self.run_dir / TENSORBOARD, e) from None

    def warn(self, warning: HealthWarning) -> None:
        """One JSON line in warnings.jsonl; TensorBoard text under warnings/<code>."""
        _append_json(self.run_dir / WARNINGS, warning.to_dict())
        if self.tb is not None:
            with self._tensorboard():
                self.tb.add_text(f"warnings/{warning.code}", warning.message, warning.iteration)
                self.tb.flush()

    def close(self) -> None:
        if self.tb is not None:
            with self._tensorboard():
                tb, self.tb = self.tb, None
                tb.close()

    def __enter__(self) -> ScalarWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def truncate_logs(run_dir: str | os.PathLike, iteration: int) -> None:
    """Drop the JSON lines of log.jsonl and warnings.jsonl written after `iteration` (the
    checkpoint a run resumes from: those iterations will be run again). A line that does not
    parse, as a crash mid-write leaves at the end, is dropped too."""
    for name in (LOG, WARNINGS):
        path = Path(run_dir) / name
        if not path.is_file():
            continue
        keep = []
        with open(path) as f:
            for line in f:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                it = record.get("iteration") if isinstance(record, dict) else None
                if isinstance(it, (int, float)) and not math.isnan(it) and it <= iteration:
                    keep.append(line if line.endswith("\n") else line + "\n")
        tmp = path.with_name(path.name + ".tmp")
        try:
            tmp.write_text("".join(keep))
            os.replace(tmp, path)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise output_error(path, e) from None


def step_scalars(
    objective: Objective, d: DStats, g: GStats, objective_logs: dict
) -> dict[str, torch.Tensor]:
    """An iteration's scalars, as 0-d tensors on the device (no host sync): the losses, mean
    D(x) and D(G(z)) (and, for logits, as probabilities and D's accuracy), the extra terms, and
    what a stateful objective logs."""
    values = {
        "d_loss": d.loss,
        "g_loss": g.loss,
        "real_score": d.real_scores.mean(),  # mean D(x): logit, critic value or energy
        "fake_score": d.fake_scores.mean(),  # mean D(G(z)) on the same scale
    }
    if objective.scores == "logit":  # probabilities and accuracy mean something only here
        values["d_real"] = torch.sigmoid(d.real_scores).mean()  # mean D(x), a probability
        values["d_fake"] = torch.sigmoid(d.fake_scores).mean()  # mean D(G(z))
        values["d_acc_real"] = (d.real_scores > 0).float().mean()
        values["d_acc_fake"] = (d.fake_scores < 0).float().mean()
    for name, value in d.terms.items():
        values[f"term_{name}_d"] = value
    for name, value in g.terms.items():
        values[f"term_{name}_g"] = value
    values.update(objective_logs)
    return values


class Accumulator:
    """Sums per-iteration scalars on the device; one host sync per log line, not per step."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.n = 0

    def add(self, values: dict[str, torch.Tensor]) -> None:
        for key, value in values.items():
            value = value.detach().float()
            self.sums[key] = self.sums[key] + value if key in self.sums else value
        self.n += 1

    def finite(self) -> bool:
        """No NaN or infinity among the scalars since the last log line (one host sync)."""
        if not self.sums:
            return True
        return bool(torch.isfinite(torch.stack(list(self.sums.values()))).all())

    def flush(self, reduce=lambda t: t) -> dict[str, float]:
        """Means since the last flush; `reduce` averages them over ranks."""
        keys = list(self.sums)
        values = reduce(torch.stack([self.sums[k] for k in keys]) / max(self.n, 1)).tolist()
        self.reset()
        return dict(zip(keys, values))
