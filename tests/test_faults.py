"""Fault injection: damaged checkpoints and snapshots, NaN models, outputs that cannot be
written, two trainers on one run, a kill during a checkpoint write.

Every user-facing failure must be one line ("saddlepoint: error: ..." naming the file), exit
status 2, no traceback, and nothing written.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from tiny import tiny_argv, tiny_config

from saddlepoint.checkpoint import (
    load_snapshot,
    load_training_state,
    remove_stale_temporaries,
    save_snapshot,
    save_training_state,
)
from saddlepoint.cli import main
from saddlepoint.config import DataConfig
from saddlepoint.errors import SaddlepointError
from saddlepoint.objectives import OBJECTIVES
from saddlepoint.train import load, read_log, train
from saddlepoint.train.evaluation import Score

CHECKPOINT = "checkpoint.pt"
SNAPSHOT = "generator.safetensors"


@pytest.fixture(scope="module")
def source_run(tmp_path_factory) -> Path:
    """One tiny trained run (checkpoint at 4, snapshots at 2 and 4), copied by each test."""
    out = tmp_path_factory.mktemp("source")
    sets = ("train.iterations=4", "train.snapshot_every=2", "train.log_every=2")
    return train(tiny_config(*sets), out=out, progress=False).path


@pytest.fixture
def run(source_run, tmp_path) -> Path:
    return Path(shutil.copytree(source_run, tmp_path / "run"))


def _files(folder: Path) -> dict[str, bytes]:
    """Every file under folder and its bytes: what "nothing written" compares."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _fails_in_one_line(argv: list[str], capsys, *names: object) -> str:
    """Run the command; it must exit 2 with one line naming each of `names`."""
    capsys.readouterr()
    assert main(argv) == 2, argv
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("saddlepoint: error:") and len(err.splitlines()) == 1, err
    assert "Traceback" not in captured.err + captured.out
    for name in names:
        assert str(name) in err, (name, err)
    return err


def _poison_generator_loss(monkeypatch, after: int) -> None:
    """G's loss (so its weights) turns NaN from its `after + 1`-th step on."""
    ns = OBJECTIVES.get("non_saturating")
    calls = {"n": 0}

    def poisoned(*, fake_logits):
        calls["n"] += 1
        loss = ns.generator_loss(fake_logits=fake_logits)
        return loss * float("nan") if calls["n"] > after else loss

    monkeypatch.setitem(
        OBJECTIVES._entries, "non_saturating", dataclasses.replace(ns, generator_loss=poisoned)
    )


# ------------------------------------------------------------------------------------------------
# A corpus of damaged checkpoints: `train --resume` refuses each in one sentence naming the file.


class _Evil:
    def __reduce__(self):
        return (os.system, (f"touch {os.environ['SADDLEPOINT_PWNED']}",))


def _with(state: dict, **changes) -> dict:
    return {**state, **changes}


def _without(state: dict, key: str) -> dict:
    return {k: v for k, v in state.items() if k != key}


def _edit_weights(state: dict, entry: str, edit) -> dict:
    weights = dict(state[entry])
    edit(weights, next(iter(weights)))
    return {**state, entry: weights}


def _truncated(fraction: float):
    def cut(path: Path) -> None:
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * fraction)])

    return cut


def _saved(make):
    """A damage that torch.saves `make(state)` over the checkpoint (it still loads)."""

    def damage(path: Path) -> None:
        state = torch.load(path, weights_only=True)
        torch.save(make(state), path)

    return damage


CHECKPOINT_DAMAGE = {
    "empty": lambda p: p.write_bytes(b""),
    "truncated-16-bytes": lambda p: p.write_bytes(p.read_bytes()[:16]),
    "truncated-third": _truncated(1 / 3),
    "truncated-half": _truncated(0.5),
    "truncated-last-bytes": lambda p: p.write_bytes(p.read_bytes()[:-100]),
    "random-bytes": lambda p: p.write_bytes(random.Random(0).randbytes(50_000)),
    "malicious-pickle": lambda p: torch.save({"x": _Evil()}, p, pickle_module=pickle),
    "empty-dict": _saved(lambda s: {}),
    "a-list": _saved(lambda s: [1, 2, 3]),
    "a-bare-tensor": _saved(lambda s: torch.zeros(3)),
    "missing-key": _saved(lambda s: _without(s, "optim_d")),
    "wrong-type": _saved(lambda s: _with(s, iteration="four")),
    "missing-weight": _saved(lambda s: _edit_weights(s, "generator", lambda w, k: w.pop(k))),
    "extra-weight": _saved(
        lambda s: _edit_weights(s, "discriminator", lambda w, k: w.update(extra=w[k]))
    ),
    "wrong-shape": _saved(
        lambda s: _edit_weights(s, "generator", lambda w, k: w.update({k: torch.zeros(3, 3)}))
    ),
    "nan-weights": _saved(
        lambda s: _edit_weights(s, "generator", lambda w, k: w.update({k: w[k] * math_nan}))
    ),
    "inf-weights": _saved(
        lambda s: _edit_weights(s, "discriminator", lambda w, k: w.update({k: w[k] / 0.0}))
    ),
    "wrong-optimiser": _saved(lambda s: _with(s, optim_g={"state": {}, "param_groups": []})),
    "wrong-sampler": _saved(lambda s: _with(s, sampler={"position": "x"})),
    "wrong-rng": _saved(lambda s: _with(s, rng_cpu=torch.zeros(3))),
    "config-not-json": _saved(lambda s: _with(s, config="{not json")),
    "config-unknown-setting": _saved(lambda s: _with(s, config='{"model": {"width": 3}}')),
}
math_nan = float("nan")


@pytest.mark.parametrize("damage", list(CHECKPOINT_DAMAGE))
def test_resume_refuses_a_damaged_checkpoint_in_one_line(damage, run, capsys, monkeypatch):
    marker = run.parent / "pwned"
    monkeypatch.setenv("SADDLEPOINT_PWNED", str(marker))
    CHECKPOINT_DAMAGE[damage](run / CHECKPOINT)
    before = _files(run)
    err = _fails_in_one_line(
        ["train", "--quiet", "--resume", str(run), "--set", "train.iterations=6"],
        capsys,
        run / CHECKPOINT,
    )
    assert _files(run) == before  # nothing written, the lock file included
    assert not marker.exists()  # no code ran
    # our own words, never a PyTorch message cut mid-word
    assert "Weights only load failed" not in err and "PytorchStreamReader" not in err
    assert "[enforce fail" not in err and err.endswith(".")
    if damage == "empty":
        assert "is empty (0 bytes)" in err
    if damage == "malicious-pickle":
        assert "would run code" in err


# ------------------------------------------------------------------------------------------------
# A corpus of damaged snapshots: sample, interpolate, average, eval and load() refuse each.


def _rewrite(make):
    """A damage that rewrites the snapshot as make(tensors, metadata) -> (tensors, metadata)."""

    def damage(path: Path) -> None:
        from safetensors import safe_open

        tensors = load_file(str(path))
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata()
        tensors, metadata = make(tensors, metadata)
        save_file(tensors, str(path), metadata=metadata)

    return damage


def _first(tensors: dict) -> str:
    return next(iter(tensors))


SNAPSHOT_DAMAGE = {
    "empty": lambda p: p.write_bytes(b""),
    "truncated-8-bytes": lambda p: p.write_bytes(p.read_bytes()[:8]),
    "truncated-header": lambda p: p.write_bytes(p.read_bytes()[:200]),
    "truncated-half": _truncated(0.5),
    "truncated-last-bytes": lambda p: p.write_bytes(p.read_bytes()[:-10]),
    "random-bytes": lambda p: p.write_bytes(random.Random(1).randbytes(20_000)),
    "malicious-pickle": lambda p: torch.save({"x": _Evil()}, p, pickle_module=pickle),
    "no-config": _rewrite(lambda t, m: (t, {k: v for k, v in m.items() if k != "config"})),
    "metadata-not-json": _rewrite(lambda t, m: (t, {**m, "shape": "[1, 28"})),
    "config-not-settings": _rewrite(lambda t, m: (t, {**m, "config": '{"model": {"z": 1}}'})),
    "no-shape": _rewrite(lambda t, m: (t, {k: v for k, v in m.items() if k != "shape"})),
    "missing-tensor": _rewrite(lambda t, m: ({k: v for k, v in t.items() if k != _first(t)}, m)),
    "extra-tensor": _rewrite(lambda t, m: ({**t, "extra": torch.zeros(2)}, m)),
    "wrong-shape": _rewrite(lambda t, m: ({**t, _first(t): torch.zeros(3, 3)}, m)),
    "nan-weights": _rewrite(lambda t, m: ({**t, _first(t): t[_first(t)] * math_nan}, m)),
    "inf-weights": _rewrite(lambda t, m: ({**t, _first(t): t[_first(t)] / 0.0}, m)),
}


@pytest.mark.parametrize("damage", list(SNAPSHOT_DAMAGE))
def test_every_command_refuses_a_damaged_snapshot_in_one_line(
    damage, run, capsys, tmp_path, monkeypatch
):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("SADDLEPOINT_PWNED", str(marker))
    bad = run / "snapshots" / "generator-0000002.safetensors"
    good = run / "snapshots" / "generator-0000004.safetensors"
    SNAPSHOT_DAMAGE[damage](bad)
    shutil.copy(bad, run / SNAPSHOT)  # the run folder's own snapshot too
    out = tmp_path / "out"
    before = _files(run)
    commands = [
        ["sample", str(bad), "--out", str(out / "s.png")],
        ["sample", str(run)],  # to RUN/samples/
        ["sample", str(run), "--neighbours"],
        ["interpolate", str(bad), "--out", str(out / "i.png")],
        ["average", str(good), str(bad), "--out", str(out / "a.safetensors")],
        ["eval", "parzen", str(bad), "--samples", "50", "--out", str(out)],
        ["eval", "parzen", str(run)],  # to RUN/eval/
        ["eval", "classes", str(bad), "--samples", "50", "--out", str(out / "c.json")],
    ]
    for argv in commands:
        file = run / SNAPSHOT if argv[1] == str(run) or argv[2] == str(run) else bad
        _fails_in_one_line(argv, capsys, file)
    with pytest.raises(SaddlepointError, match=str(bad)):
        load(bad)
    assert not out.exists() and _files(run) == before  # nothing written
    assert not marker.exists()  # no code ran


# ------------------------------------------------------------------------------------------------
# 1. No NaN model is ever written, and none is used.


def test_a_diverging_run_writes_no_nan_snapshot(tmp_path):
    """The issue's recipe: SGD at lr 10 diverges between two checkpoints while snapshots are
    written every 5 iterations; the NaN ones were kept."""
    cfg = tiny_config(
        "objective.name=minimax",
        "optim_d.lr=10",
        "optim_g.lr=10",
        "train.iterations=300",
        "train.checkpoint_every=20",
        "train.snapshot_every=5",
        "train.log_every=100",
    )
    with pytest.raises(SaddlepointError, match="training diverged"):
        train(cfg, out=tmp_path, progress=False)
    (run,) = tmp_path.iterdir()
    snapshots = sorted((run / "snapshots").glob("*.safetensors"))
    assert snapshots  # the early, finite ones are kept
    for path in [*snapshots, *run.glob("*.safetensors")]:
        assert all(torch.isfinite(t).all() for t in load_file(str(path)).values()), path
        load(path)  # and load


def test_non_finite_weights_are_never_saved(tmp_path):
    G = torch.nn.Linear(3, 2)
    with torch.no_grad():
        G.weight[0, 0] = float("nan")
    with pytest.raises(SaddlepointError, match="refusing to write .*g.safetensors.*'weight'"):
        save_snapshot(tmp_path / "g.safetensors", G, "{}")
    state = {"generator": G.state_dict(), "discriminator": {}}
    with pytest.raises(SaddlepointError, match="refusing to write .*c.pt: the generator's"):
        save_training_state(tmp_path / "c.pt", state)
    assert not list(tmp_path.iterdir())
    assert not Score("parzen", float("nan"), True).beats(None)  # never the best generator


def test_a_nan_after_the_last_checkpoint_keeps_best_and_snapshots_finite(tmp_path, monkeypatch):
    _poison_generator_loss(monkeypatch, after=5)
    cfg = tiny_config(
        "train.iterations=12",
        "train.checkpoint_every=4",
        "train.snapshot_every=2",
        "train.eval_every=2",
        "train.eval_samples=100",
        "train.log_every=100",
        "train.ema_beta=0.5",
    )
    with pytest.raises(SaddlepointError, match="diverged at iteration 6"):
        train(cfg, out=tmp_path, progress=False)
    (run,) = tmp_path.iterdir()
    assert sorted(p.name for p in (run / "snapshots").iterdir()) == [
        "generator-0000002.safetensors",
        "generator-0000004.safetensors",
    ]
    for path in [*run.glob("*.safetensors"), *(run / "snapshots").iterdir()]:
        load(path)  # all finite


# ------------------------------------------------------------------------------------------------
# 3. Outputs that cannot be written: one sentence naming the path and the cause.


def _mount_tmpfs(folder: Path, size: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if not shutil.which("mount") or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (or run these checks where one can)")
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip()})")


@pytest.fixture
def mounts():
    """mount(folder, size) mounts a small tmpfs (skipping where that is impossible); all are
    unmounted at the end. Tests may run as root, where chmod does not stop writes: a
    read-only mount does."""
    mounted = []

    def mount(folder: Path, size: str = "4m") -> Path:
        _mount_tmpfs(folder, size)
        mounted.append(folder)
        return folder

    yield mount
    for folder in reversed(mounted):
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def _fill(folder: Path, leave: int) -> None:
    """Fill the file system of `folder` up to `leave` free bytes."""
    free = shutil.disk_usage(folder).free
    with open(folder / "filler", "wb") as f:
        f.write(b"\0" * max(free - leave, 0))


def test_training_onto_a_full_disk_fails_in_one_line(tmp_path, mounts):
    disk = mounts(tmp_path / "disk", "2m")
    _fill(disk, 96 * 1024)  # room for the config and logs, not for a checkpoint
    cmd = [sys.executable, "-m", "saddlepoint", "train", "--quiet", "--out", str(disk / "runs")]
    r = subprocess.run(cmd + tiny_argv("train.iterations=4"), capture_output=True, text=True)
    err = r.stderr.strip()
    assert r.returncode == 2 and "Traceback" not in err and "Exception in thread" not in err, err
    assert err.startswith("saddlepoint: error: cannot write") and len(err.splitlines()) == 1
    assert "the disk is full" in err and str(disk) in err
    assert not [p for p in disk.rglob("*.tmp*")]


def test_resume_onto_a_full_disk_keeps_the_previous_checkpoint(tmp_path, mounts, capsys):
    disk = mounts(tmp_path / "disk", "4m")
    first = train(tiny_config("train.iterations=4"), out=disk, progress=False).path
    before = (first / CHECKPOINT).read_bytes()
    _fill(disk, 64 * 1024)
    argv = ["train", "--quiet", "--resume", str(first), "--set", "train.iterations=8"]
    err = _fails_in_one_line(argv, capsys, first)
    assert "the disk is full" in err or "the write stopped part-way" in err
    assert (first / CHECKPOINT).read_bytes() == before
    assert load_training_state(first / CHECKPOINT)["iteration"] == 4
    assert not [p for p in disk.rglob(".*.tmp-*")]


def test_a_full_disk_in_the_checkpoint_writer_names_the_file(tmp_path, monkeypatch):
    """PyTorch's zip writer reports a short write as `inline_container.cc:672 unexpected pos`."""

    def short_write(obj, f, *a, **k):
        Path(f).write_bytes(b"PK\x03\x04 partial")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 576 vs 534")

    monkeypatch.setattr(torch, "save", short_write)
    with pytest.raises(SaddlepointError) as e:
        save_training_state(tmp_path / CHECKPOINT, {"generator": {}, "discriminator": {}})
    assert str(e.value).startswith(f"cannot write {tmp_path / CHECKPOINT}: the write stopped")
    assert "inline_container" not in str(e.value) and not list(tmp_path.iterdir())


def test_read_only_outputs_fail_in_one_line(run, tmp_path, mounts, capsys):
    ro = mounts(tmp_path / "ro", "4m")
    shutil.copytree(run, ro / "run")
    r = subprocess.run(["mount", "-o", "remount,ro", str(ro)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot remount read-only here ({r.stderr.strip()})")
    frozen = ro / "run"
    before = _files(frozen)
    resume = ["train", "--quiet", "--resume", str(frozen), "--set", "train.iterations=6"]
    assert "read-only" in _fails_in_one_line(resume, capsys, frozen)
    assert "read-only" in _fails_in_one_line(["sample", str(frozen)], capsys, frozen)
    assert "read-only" in _fails_in_one_line(["eval", "parzen", str(frozen)], capsys, frozen)
    new = ["train", "--quiet", "--out", str(ro / "runs"), *tiny_argv()]
    assert "read-only" in _fails_in_one_line(new, capsys, ro / "runs")
    assert _files(frozen) == before


def test_a_file_where_a_folder_should_be_and_proc_fail_in_one_line(run, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    train_into = ["train", "--quiet", "--out", str(blocker), *tiny_argv()]
    assert "a file stands where a folder" in _fails_in_one_line(train_into, capsys, blocker)
    sample_into = ["sample", str(run), "--out", str(blocker / "x.png")]
    _fails_in_one_line(sample_into, capsys, blocker / "x.png")
    parzen_into = ["eval", "parzen", str(run), "--samples", "50", "--out", str(blocker / "e")]
    _fails_in_one_line(parzen_into, capsys, blocker / "e")
    if Path("/proc/self").is_dir():  # /proc takes no new files, even from root
        proc = Path("/proc/saddlepoint-test")
        _fails_in_one_line(["train", "--quiet", "--out", str(proc), *tiny_argv()], capsys, proc)
        _fails_in_one_line(["sample", str(run), "--out", str(proc / "x.png")], capsys, proc)
    assert blocker.read_text() == "not a folder"


# ------------------------------------------------------------------------------------------------
# 4. Divergence: advice that can be followed, and rates that may change on resume.


def test_divergence_before_any_checkpoint_says_start_again(tmp_path, monkeypatch):
    _poison_generator_loss(monkeypatch, after=6)
    cfg = tiny_config("train.iterations=12", "train.checkpoint_every=0", "train.log_every=4")
    with pytest.raises(SaddlepointError) as e:
        train(cfg, out=tmp_path, progress=False)
    message = str(e.value)
    assert "diverged at iteration 8" in message and "no checkpoint was written" in message
    assert "start a new run with lower learning rates" in message and "--resume" not in message


def test_divergence_advice_resumes_with_lower_rates_and_that_works(tmp_path, monkeypatch, capsys):
    with monkeypatch.context() as m:
        _poison_generator_loss(m, after=6)
        cfg = tiny_config("train.iterations=12", "train.checkpoint_every=4", "train.log_every=4")
        with pytest.raises(SaddlepointError) as e:
            train(cfg, out=tmp_path, progress=False)
    (run,) = tmp_path.iterdir()
    message = str(e.value)
    command = f"saddlepoint train --resume {run} --set optim_d.lr=0.01 --set optim_g.lr=0.01"
    assert "last checkpoint (iteration 4" in message and command in message
    # following the advice works: the rates (and their decay) may change on resume
    argv = command.split()[1:] + ["--quiet", "--set", "optim_d.lr_decay=1"]
    argv += ["--set", "train.iterations=12"]
    assert main(argv) == 0
    assert "resuming at iteration 4 with optim_d.lr 0.1 -> 0.01" in capsys.readouterr().err
    log = read_log(run)
    (event,) = [r for r in log if r.get("event") == "resume"]
    assert event["iteration"] == 4
    assert event["changed"]["optim_d.lr"] == {"from": 0.1, "to": 0.01}
    assert event["changed"]["optim_d.lr_decay"] == {"from": 1.000004, "to": 1.0}
    last = log[-1]
    assert last["iteration"] == 12 and last["lr_d"] == 0.01  # the optimiser follows the config
    assert last["lr_g"] == pytest.approx(0.01 / 1.000004**11)
    state = load_training_state(run / CHECKPOINT)
    saved = json.loads(state["config"])
    assert saved["optim_d"]["lr"] == 0.01 and json.loads((run / "config.json").read_text()) == saved
    with pytest.raises(SaddlepointError, match="keeps its optim_d settings"):
        train(tiny_config("optim_d.momentum=0.9"), resume=run, progress=False)


# ------------------------------------------------------------------------------------------------
# 5 and 6. Two trainers on one run folder; a kill during a checkpoint write.

STALLING_TRAINER = textwrap.dedent(
    """
    import os, sys, time
    import torch
    from saddlepoint.cli import main

    real_save, calls = torch.save, []

    def stalling_save(obj, f, *args, **kwargs):  # the 2nd checkpoint: half written, then wait
        calls.append(f)
        real_save(obj, f, *args, **kwargs)
        if len(calls) == 2:
            with open(f, "r+b") as h:
                h.truncate(os.path.getsize(f) // 2)
            open(sys.argv[1], "w").close()
            time.sleep(300)

    torch.save = stalling_save
    sys.exit(main(sys.argv[2:]))
    """
)


def test_a_second_trainer_is_refused_and_a_kill_mid_write_is_cleaned_up(tmp_path, capsys):
    ready = tmp_path / "ready"
    out = tmp_path / "runs"
    argv = ["train", "--quiet", "--out", str(out)]
    argv += tiny_argv("train.iterations=8", "train.checkpoint_every=2")
    proc = subprocess.Popen(
        [sys.executable, "-c", STALLING_TRAINER, str(ready), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists(), proc.communicate(timeout=5)
        (run,) = out.iterdir()
        # a second trainer on the same folder: refused, and it writes nothing
        before = _files(run)
        resume = ["train", "--quiet", "--resume", str(run), "--set", "train.iterations=8"]
        err = _fails_in_one_line(resume, capsys, run)
        assert f"is being trained by process {proc.pid}" in err
        assert _files(run) == before
    finally:
        proc.send_signal(signal.SIGKILL)  # kill -9 while the checkpoint is half written
        proc.communicate(timeout=30)
    assert [p.name for p in run.glob(".*.tmp-*")] == [f".{CHECKPOINT}.tmp-{proc.pid}"]
    assert load_training_state(run / CHECKPOINT)["iteration"] == 2  # the previous one, whole
    # the lock died with its process: resuming works, and removes the orphan
    assert main(resume) == 0
    assert not list(run.rglob("*.tmp*"))
    assert load_training_state(run / CHECKPOINT)["iteration"] == 8


def test_stale_temporaries_of_running_processes_are_kept(tmp_path):
    mine = tmp_path / f".{CHECKPOINT}.tmp-{os.getpid()}"
    alive = tmp_path / "snapshots" / f".g.safetensors.tmp-{os.getppid()}"
    alive.parent.mkdir()
    for path in (mine, alive):
        path.write_bytes(b"partial")
    assert remove_stale_temporaries(tmp_path) == [mine]
    assert alive.exists()


# ------------------------------------------------------------------------------------------------
# 7. The smaller ones.


def test_log_lines_are_strict_json(tmp_path, monkeypatch):
    _poison_generator_loss(monkeypatch, after=3)
    cfg = tiny_config("train.iterations=12", "train.log_every=4")
    with pytest.raises(SaddlepointError, match="diverged at iteration 4"):
        train(cfg, out=tmp_path, progress=False)
    (run,) = tmp_path.iterdir()

    def refuse(constant: str):
        raise ValueError(f"not strict JSON: {constant}")

    lines = (run / "log.jsonl").read_text().splitlines()
    records = [json.loads(line, parse_constant=refuse) for line in lines]
    assert records[-1]["iteration"] == 4 and records[-1]["g_loss"] is None


def test_resuming_with_fewer_iterations_than_done_is_refused(run, capsys):
    before = _files(run)
    fewer = ["train", "--quiet", "--resume", str(run), "--set", "train.iterations=3"]
    err = _fails_in_one_line(fewer, capsys, run)
    assert "already trained 4 iterations, more than train.iterations=3" in err
    assert _files(run) == before
    same = ["train", "--quiet", "--resume", str(run), "--set", "train.iterations=4"]
    assert main(same) == 0
    assert "nothing to train" in capsys.readouterr().err


def test_snapshots_have_the_checkpoints_permissions(run):
    mask = os.umask(0)
    os.umask(mask)
    modes = {p.name: p.stat().st_mode & 0o777 for p in (run / CHECKPOINT, run / SNAPSHOT)}
    assert modes == {CHECKPOINT: 0o666 & ~mask, SNAPSHOT: 0o666 & ~mask}
    assert (run / "snapshots" / "generator-0000002.safetensors").stat().st_mode & 0o777 == (
        0o666 & ~mask
    )


def test_a_data_root_that_is_a_file_is_named_as_one(tmp_path):
    from saddlepoint.data import load_dataset

    file = tmp_path / "train-images-idx3-ubyte"
    file.write_bytes(b"\0" * 16)
    for name in ("mnist", "cifar10"):
        with pytest.raises(SaddlepointError, match=f"{file} is a file, not a folder"):
            load_dataset(DataConfig(name=name, root=str(file)))


def test_parzen_curve_skips_a_corrupt_snapshot_and_says_so(run):
    bad = run / "snapshots" / "generator-0000002.safetensors"
    bad.write_bytes(bad.read_bytes()[:100])
    argv = ["eval", "parzen", str(run), "--snapshots", "--samples", "100"]
    with pytest.warns(UserWarning, match="skipping a snapshot of the curve") as said:
        assert main(argv + ["--valid", "50", "--test", "50"]) == 0
    assert str(bad) in str(said[0].message)
    curve = json.loads((run / "eval" / "parzen-curve.json").read_text())
    assert [c["iteration"] for c in curve] == [4]


@pytest.mark.parametrize("seed", [0, 1])
def test_a_run_that_is_garbage_from_the_start_warns(tmp_path, capsys, seed):
    """Adam at lr 1e6: two log lines, fewer than the three the health checks wait for."""
    adam = ("optim_d.name=adam", "optim_g.name=adam", "optim_d.lr=1e6", "optim_g.lr=1e6")
    run = train(tiny_config(*adam, f"train.seed={seed}"), out=tmp_path, progress=False)
    lines = (run.path / "warnings.jsonl").read_text().splitlines()
    assert "no_generator_gradient" in [json.loads(line)["code"] for line in lines]
    assert "rests on its last line" in capsys.readouterr().out
    healthy = train(tiny_config(f"train.seed={seed}"), out=tmp_path, progress=False)
    assert not (healthy.path / "warnings.jsonl").exists()  # no false alarm


def test_load_snapshot_api_refuses_non_finite_weights(tmp_path):
    G = torch.nn.Linear(2, 2)
    path = save_snapshot(tmp_path / "g.safetensors", G, "{}")
    tensors = load_file(str(path))
    tensors["weight"][0, 0] = float("inf")
    save_file(tensors, str(path), metadata={"config": "{}"})
    with pytest.raises(SaddlepointError, match="non-finite weights"):
        load_snapshot(path)
