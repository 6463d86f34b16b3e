"""Algorithm 1 end to end: train -> checkpoint -> resume -> sample, exact resume, clean stops."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from tiny import tiny_argv, tiny_config

from saddlepoint.checkpoint import load_training_state
from saddlepoint.config import config_from_dict, override
from saddlepoint.errors import SaddlepointError
from saddlepoint.train import load, read_log, train


def _weights(run_dir: Path) -> dict[str, torch.Tensor]:
    state = load_training_state(run_dir / "checkpoint.pt")
    return {
        **{f"G.{k}": v for k, v in state["generator"].items()},
        **{f"D.{k}": v for k, v in state["discriminator"].items()},
    }


@pytest.mark.parametrize(
    "sets",
    [
        ("optim_d.name=sgd",),
        (
            "optim_d.name=adam",
            "optim_g.name=adam",
            "optim_d.lr=0.001",
            "optim_g.lr=0.001",
            "train.k=2",
        ),
        ("train.reuse_fakes=false",),
    ],
)
def test_resume_gives_the_same_weights_as_training_straight(tmp_path, sets):
    straight = train(tiny_config("train.iterations=16", *sets), out=tmp_path / "a", progress=False)
    half = train(tiny_config("train.iterations=8", *sets), out=tmp_path / "b", progress=False)
    resumed = train(tiny_config("train.iterations=16", *sets), resume=half.path, progress=False)
    assert resumed.path == half.path
    a, b = _weights(straight.path), _weights(resumed.path)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    # the log goes on where it stopped (8 was the first run's last line); windows that lie
    # wholly on one side of the resume point hold the same numbers as the straight run's
    resumed_log = {r["iteration"]: r for r in read_log(resumed.path)}
    straight_log = {r["iteration"]: r for r in read_log(straight.path)}
    assert list(resumed_log) == [5, 8, 10, 15, 16]
    assert list(straight_log) == [5, 10, 15, 16]
    for i in (5, 15, 16):
        assert resumed_log[i]["d_loss"] == pytest.approx(straight_log[i]["d_loss"], rel=1e-6)
        assert resumed_log[i]["g_loss"] == pytest.approx(straight_log[i]["g_loss"], rel=1e-6)


def test_end_to_end_train_checkpoint_resume_sample(tmp_path):
    t0 = time.monotonic()
    run = train(
        tiny_config(
            "train.iterations=30",
            "train.checkpoint_every=10",
            "train.sample_every=15",
            "train.snapshot_every=15",
        ),
        out=tmp_path,
        progress=False,
    )
    files = {p.name for p in run.path.iterdir()}
    assert {
        "config.json",
        "log.jsonl",
        "checkpoint.pt",
        "generator.safetensors",
        "samples",
    } <= files
    assert sorted(p.name for p in (run.path / "samples").iterdir()) == [
        "iter-0000015.png",
        "iter-0000030.png",
    ]
    assert sorted(p.name for p in (run.path / "snapshots").iterdir()) == [
        "generator-0000015.safetensors",
        "generator-0000030.safetensors",
    ]
    log = read_log(run.path)
    assert [r["iteration"] for r in log] == [5, 10, 15, 20, 25, 30]
    assert log[-1]["images_seen"] == 30 * 20
    for r in log:
        assert 0 < r["d_real"] < 1 and 0 < r["d_fake"] < 1
        assert r["d_loss"] > 0
    resumed = train(tiny_config("train.iterations=40"), resume=run.path, progress=False)
    assert load_training_state(resumed.path / "checkpoint.pt")["iteration"] == 40
    loaded = load(run.path)
    assert loaded.iteration == 40
    x = loaded.sample(9, seed=1)
    assert x.shape == (9, 1, 28, 28) and 0 <= x.min() and x.max() <= 1
    torch.testing.assert_close(x, loaded.sample(9, seed=1))
    torch.testing.assert_close(x, resumed.generator.sample(9, torch.Generator().manual_seed(1)))
    assert time.monotonic() - t0 < 30


def test_training_moves_the_discriminator_in_the_right_direction(tmp_path):
    # With G frozen in effect (lr tiny), D steps must raise D(x) and lower D(G(z)). D starts at
    # exactly 1/2 (zero weights) and sits on that plateau for a while: over seeds 0-23 the first
    # 10-iteration window past 0.8 / 0.2 came at iteration 40-80, and at 170 for seed 0 (this
    # run's). 400 iterations leave the last window (351-400) well past every take-off seen.
    run = train(
        tiny_config(
            "train.iterations=400",
            "optim_g.lr=1e-9",
            "optim_d.name=adam",
            "optim_d.lr=0.01",
            "optim_d.lr_decay=1",
            "model.d_keep_input=1",
            "model.d_init=0",
            "model.d_keep_hidden=1",
            "train.log_every=50",
        ),
        out=tmp_path,
        progress=False,
    )
    log = read_log(run.path)
    assert log[-1]["d_real"] > 0.8 and log[-1]["d_fake"] < 0.2
    assert log[-1]["d_loss"] < log[0]["d_loss"]


def test_resume_refuses_to_change_the_model(tmp_path):
    run = train(tiny_config("train.iterations=2"), out=tmp_path, progress=False)
    with pytest.raises(SaddlepointError, match="keeps its model settings"):
        train(tiny_config("model.z_dim=9"), resume=run.path, progress=False)
    with pytest.raises(SaddlepointError, match="train.batch_size cannot change"):
        train(tiny_config("train.batch_size=10"), resume=run.path, progress=False)
    with pytest.raises(SaddlepointError, match="has no checkpoint.pt"):
        train(tiny_config(), resume=tmp_path, progress=False)


def test_checkpoint_is_whole_or_absent(tmp_path, monkeypatch):
    run = train(tiny_config("train.iterations=4"), out=tmp_path, progress=False)
    before = (run.path / "checkpoint.pt").read_bytes()

    def broken_save(obj, f, *a, **k):
        Path(f).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(SaddlepointError, match="cannot write .*checkpoint.pt: the write stopped"):
        train(tiny_config("train.iterations=8"), resume=run.path, progress=False)
    assert (run.path / "checkpoint.pt").read_bytes() == before
    assert not [p for p in run.path.iterdir() if ".tmp" in p.name]


def test_max_minutes_and_bad_settings(tmp_path):
    cfg = tiny_config("train.iterations=1000000", "train.max_minutes=0.02")
    t0 = time.monotonic()
    run = train(cfg, out=tmp_path, progress=False)
    assert time.monotonic() - t0 < 20
    assert 0 < load_training_state(run.path / "checkpoint.pt")["iteration"] < 1000000
    with pytest.raises(SaddlepointError, match="fewer than train.batch_size"):
        train(tiny_config("data.limit=10"), out=tmp_path, progress=False)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
@pytest.mark.parametrize("device", ["cuda", "mps"])
def test_missing_device_falls_back_to_the_cpu_with_one_warning(tmp_path, device):
    if device == "mps" and torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    with pytest.warns(UserWarning, match=f"train.device={device} but .* training on the CPU"):
        run = train(tiny_config(f"train.device={device}", "train.iterations=2"), out=tmp_path)
    assert next(run.generator.parameters()).device.type == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("precision", ["float32", "bfloat16", "float16"])
def test_cuda_training_and_resume(tmp_path, precision):
    sets = ("train.device=cuda", f"train.precision={precision}")
    straight = train(tiny_config("train.iterations=16", *sets), out=tmp_path / "a", progress=False)
    half = train(tiny_config("train.iterations=8", *sets), out=tmp_path / "b", progress=False)
    resumed = train(tiny_config("train.iterations=16", *sets), resume=half.path, progress=False)
    a, b = _weights(straight.path), _weights(resumed.path)
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6)
    x = load(resumed.path, device="cuda").sample(4, seed=0)
    assert x.is_cuda and x.shape == (4, 1, 28, 28)


def test_bfloat16_autocast_trains(tmp_path, monkeypatch):
    from saddlepoint.train import device

    monkeypatch.setattr(device, "cpu_has_native_bfloat16", lambda: False)
    with pytest.warns(UserWarning, match="no native bfloat16"):
        run = train(
            tiny_config("train.precision=bfloat16", "train.iterations=5"),
            out=tmp_path,
            progress=False,
        )
    log = read_log(run.path)
    assert all(torch.isfinite(torch.tensor(r["d_loss"])) for r in log)
    assert next(run.generator.parameters()).dtype == torch.float32  # weights stay float32


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_saves_a_checkpoint_that_resumes(tmp_path, sig):
    cmd = [sys.executable, "-m", "saddlepoint", "train", "--quiet", "--out", str(tmp_path)]
    cmd += tiny_argv("train.iterations=100000000", "train.sample_every=0")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    log = None
    while time.monotonic() < deadline:
        logs = list(tmp_path.glob("*/log.jsonl"))
        if logs and logs[0].stat().st_size > 0:
            log = logs[0]
            break
        time.sleep(0.1)
    assert log is not None, proc.communicate(timeout=5)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err  # 130 for SIGINT, 143 for SIGTERM
    assert "interrupted at iteration" in out and "--resume" in out
    state = load_training_state(log.parent / "checkpoint.pt")
    assert state["iteration"] >= 5
    saved = config_from_dict(json.loads(state["config"]))
    resumed = train(
        override(saved, [f"train.iterations={state['iteration'] + 3}"]),
        resume=log.parent,
        progress=False,
    )
    assert (
        load_training_state(resumed.path / "checkpoint.pt")["iteration"] == state["iteration"] + 3
    )
    assert (
        json.loads((log.parent / "config.json").read_text())["train"]["iterations"]
        == state["iteration"] + 3
    )
    assert os.path.exists(log.parent / "generator.safetensors")


def test_wasserstein_critic_is_clipped_after_every_step(tmp_path):
    with pytest.raises(SaddlepointError, match="objective.clip_weights=0.01"):
        train(tiny_config("objective.name=wasserstein"), out=tmp_path, progress=False)
    run = train(
        tiny_config(
            "objective.name=wasserstein",
            "objective.clip_weights=0.01",
            "train.k=5",
            "optim_d.name=adam",
            "optim_d.lr=0.01",
            "optim_d.lr_decay=1",
        ),
        out=tmp_path,
        progress=False,
    )
    D = load_training_state(run.path / "checkpoint.pt")["discriminator"]
    biggest = max(v.abs().max().item() for v in D.values())
    assert biggest == pytest.approx(0.01, rel=1e-6)  # lr 0.01 pushes weights to the bound


def test_channels_last_trains_the_same_model(tmp_path):
    """One iteration (a D step, then a G step) from the same weights agrees in both layouts.

    The layouts sum each convolution in another order, so gradients differ by float32 rounding
    (relative ~K eps for sums of K <= 800 terms: 1e-4), and where a pre-activation lies within
    that rounding of 0 a (Leaky)ReLU takes the other branch for one of the >= 20 * 7 * 7 = 980
    terms of a weight gradient's sum over images and positions: ~1e-3 of it. So each tensor
    agrees to 1e-3 of how far the step moved it (measured over seeds 0-15: at most 1.7e-4).
    More steps compound it through batch norm and the next branches (seed 3: 5e-3 after two)."""
    dcgan = (
        "model.generator=dcgan",
        "model.discriminator=dcgan",
        "model.g_channels=8",
        "model.d_channels=8",
        "model.z_dim=16",
        "optim_d.lr=0.01",
        "optim_g.lr=0.01",
        "train.iterations=1",
    )
    plain = train(
        tiny_config(*dcgan, "train.channels_last=false"), out=tmp_path / "a", progress=False
    )
    nhwc = train(tiny_config(*dcgan), out=tmp_path / "b", progress=False)  # on by default
    start = train(
        tiny_config(*dcgan, "train.iterations=0", "train.channels_last=false"),
        out=tmp_path / "init",
        progress=False,
    )
    convs = [m for m in nhwc.generator.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert convs and all(m.weight.is_contiguous(memory_format=torch.channels_last) for m in convs)
    assert not all(m.weight.is_contiguous() for m in convs)  # (they coincide for 1 channel)
    plain_convs = [m for m in plain.generator.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert all(m.weight.is_contiguous() for m in plain_convs)  # the switch turns it off
    assert not all(m.weight.is_contiguous(memory_format=torch.channels_last) for m in plain_convs)
    a, b, initial = _weights(plain.path), _weights(nhwc.path), _weights(start.path)
    eps = torch.finfo(torch.float32).eps
    moved = 0.0
    for k in a:
        if not a[k].is_floating_point():  # batch norm's step counters
            assert torch.equal(a[k], b[k]), k
            continue
        step = float((a[k] - initial[k]).abs().max())  # how far this tensor moved
        moved = max(moved, step)
        tolerance = 1e-3 * step + 2 * eps * float(a[k].abs().max())  # + the weights' own rounding
        assert float((a[k] - b[k]).abs().max()) <= tolerance, k
    assert moved > 1e-3  # the step moved the weights: not two initialisations compared
    mlp = train(tiny_config("train.iterations=2"), out=tmp_path / "c", progress=False)
    assert all(p.is_contiguous() for p in mlp.generator.parameters())  # MLPs: left as they are


def test_torch_compile_switch_trains_and_saves_plain_weights(tmp_path):
    run = train(
        tiny_config("train.iterations=2", "train.compile=true"), out=tmp_path, progress=False
    )
    state = load_training_state(run.path / "checkpoint.pt")
    assert not any("_orig_mod" in k for k in state["generator"])  # unwrapped modules saved
    assert run.iteration == 2
