"""Scalar logs: JSON lines, TensorBoard events read back, warnings, resume truncation."""

from __future__ import annotations

import json
import sys
import warnings

import pytest
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from saddlepoint.train import scalars
from saddlepoint.train.diagnostics import HealthWarning
from saddlepoint.train.scalars import ScalarWriter, truncate_logs


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _events(run_dir) -> EventAccumulator:
    acc = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"scalars": 0})
    acc.Reload()
    return acc


def _record(it: int) -> dict:
    return {"iteration": it, "d_loss": 1.0 + it / 8, "g_loss": 0.5 - it, "lr_d": 0.1}


def test_json_lines_and_tensorboard_scalars_agree(tmp_path):
    with ScalarWriter(tmp_path) as log:
        for it in (5, 10, 15):
            log.write({**_record(it), "note": "text", "finished": False})
    assert _lines(tmp_path / "log.jsonl") == [
        {**_record(it), "note": "text", "finished": False} for it in (5, 10, 15)
    ]
    acc = _events(tmp_path)
    tags = set(acc.Tags()["scalars"])
    # grouped by prefix; not the step, strings or bools
    assert tags == {"loss/d_loss", "loss/g_loss", "optimiser/lr_d"}
    d_loss = acc.Scalars("loss/d_loss")
    assert [e.step for e in d_loss] == [5, 10, 15]
    assert [e.value for e in d_loss] == pytest.approx([1.625, 2.25, 2.875], abs=1e-6)
    assert [e.value for e in acc.Scalars("loss/g_loss")] == pytest.approx([-4.5, -9.5, -14.5])


def test_warnings_go_to_jsonl_and_tensorboard_text(tmp_path):
    w = HealthWarning("mode_collapse", 40, "the samples have collapsed")
    with ScalarWriter(tmp_path) as log:
        log.write(_record(40))
        log.warn(w)
    assert _lines(tmp_path / "warnings.jsonl") == [w.to_dict()]
    acc = EventAccumulator(str(tmp_path / "tensorboard"), size_guidance={"tensors": 0})
    acc.Reload()
    (tag,) = [t for t in acc.Tags()["tensors"] if t.startswith("warnings/mode_collapse")]
    (event,) = acc.Tensors(tag)
    assert event.step == 40
    assert event.tensor_proto.string_val[0].decode() == "the samples have collapsed"


def test_resume_truncates_json_and_purges_tensorboard(tmp_path):
    with ScalarWriter(tmp_path) as log:
        for it in (5, 10, 15, 20):
            log.write(_record(it))
        log.warn(HealthWarning("mode_collapse", 10, "early"))
        log.warn(HealthWarning("discriminator_overpowers", 20, "late"))
    with open(tmp_path / "log.jsonl", "a") as f:
        f.write('{"iteration": 25, "d_lo')  # a crash mid-write
    truncate_logs(tmp_path, 10)  # the checkpoint was at iteration 10
    assert [r["iteration"] for r in _lines(tmp_path / "log.jsonl")] == [5, 10]
    assert [r["code"] for r in _lines(tmp_path / "warnings.jsonl")] == ["mode_collapse"]
    # the resumed session rewrites 15 and 20 with other values; TensorBoard shows only those
    with ScalarWriter(tmp_path, purge_step=11) as log:
        for it in (15, 20):
            log.write({**_record(it), "d_loss": -1.0})
    assert [r["iteration"] for r in _lines(tmp_path / "log.jsonl")] == [5, 10, 15, 20]
    d_loss = _events(tmp_path).Scalars("loss/d_loss")
    assert [(e.step, e.value) for e in d_loss] == [(5, 1.625), (10, 2.25), (15, -1.0), (20, -1.0)]


def test_truncate_without_logs_is_a_no_op(tmp_path):
    truncate_logs(tmp_path, 3)
    assert list(tmp_path.iterdir()) == []


def test_no_tensorboard_falls_back_to_json_with_one_warning(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import now fails
    monkeypatch.setattr(scalars, "_warned_no_tensorboard", False)
    with pytest.warns(UserWarning, match="pip install tensorboard"):
        log = ScalarWriter(tmp_path / "a")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second writer does not warn again
        second = ScalarWriter(tmp_path / "b")
    log.write(_record(1))
    log.warn(HealthWarning("mode_collapse", 1, "m"))
    log.close()
    second.close()
    assert _lines(tmp_path / "a" / "log.jsonl") == [_record(1)]
    assert not (tmp_path / "a" / "tensorboard").exists()


def test_tensorboard_can_be_switched_off(tmp_path):
    with ScalarWriter(tmp_path, tensorboard=False) as log:
        log.write(_record(2))
    assert not (tmp_path / "tensorboard").exists()
    assert _lines(tmp_path / "log.jsonl") == [_record(2)]


def test_tags_are_grouped_and_sample_grids_are_images(tmp_path):
    """TensorBoard files the scalars in sections (loss/, discriminator/, ...) and shows every
    sample grid, the last one included, under samples/grid."""
    from tiny import tiny_config

    from saddlepoint.train import train
    from saddlepoint.train.scalars import tensorboard_tag

    assert [tensorboard_tag(k) for k in ("d_real", "grad_norm_g", "eval_fid", "term_q_d", "x")] == [
        "discriminator/d_real",
        "health/grad_norm_g",
        "eval/eval_fid",
        "terms/term_q_d",
        "other/x",
    ]
    run = train(tiny_config("train.sample_every=4"), out=tmp_path, progress=False)
    acc = EventAccumulator(str(run.path / "tensorboard"), size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    assert {"loss/d_loss", "discriminator/d_fake", "progress/images_per_s"} <= set(
        acc.Tags()["scalars"]
    )
    grids = acc.Images("samples/grid")
    assert [g.step for g in grids] == [4, 8, 10]  # every 4 iterations, and the last
    assert (grids[-1].width, grids[-1].height) == Image.open(run.last_grid).size
