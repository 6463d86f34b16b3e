"""Set-up, the iteration and the scheduled bookkeeping, each on its own: a TrainState from a
tiny config, one Algorithm 1 iteration, and every action of the schedule run by hand."""

from __future__ import annotations

import json

import pytest
import torch
from tiny import tiny_config

from saddlepoint.checkpoint import load_snapshot, load_training_state
from saddlepoint.errors import SaddlepointError
from saddlepoint.runs import read_log
from saddlepoint.train import schedule, train
from saddlepoint.train.distributed import Context
from saddlepoint.train.loop import iteration
from saddlepoint.train.run import RunLock
from saddlepoint.train.schedule import ACTIONS, Action
from saddlepoint.train.session import open_session
from saddlepoint.train.state import setup
from saddlepoint.train.threads import ThreadChoice

NO_DROPOUT = ("model.d_keep_input=1", "model.d_keep_hidden=1")


@pytest.fixture
def started(tmp_path):
    """start(*sets) -> (TrainState, Session) of a new tiny run under tmp_path."""
    opened = []

    def start(*sets: str):
        s = setup(tiny_config(*sets), Context())
        lock = RunLock()
        session = open_session(
            s,
            out=tmp_path,
            resumed=None,
            lock=lock,
            resume_hint=None,
            threads=ThreadChoice(1, "train.threads", default=1),
            progress=(False, 30.0),
        )
        opened.append((session, lock))
        return s, session

    yield start
    for session, lock in opened:
        session.close()
        lock.release()


def test_the_schedule_is_data():
    assert [a.name for a in ACTIONS] == ["log", "grid", "snapshot", "evaluate", "checkpoint"]
    t = tiny_config(
        "train.iterations=10",
        "train.log_every=4",
        "train.sample_every=5",
        "train.snapshot_every=0",
        "train.eval_every=3",
        "train.checkpoint_every=10",
    ).train
    due = {a.name: [it for it in range(1, 11) if a.due(t, it)] for a in ACTIONS}
    assert due == {
        "log": [4, 8, 10],  # and the last iteration, whatever the interval
        "grid": [5, 10],
        "snapshot": [],  # 0: never
        "evaluate": [3, 6, 9],
        "checkpoint": [10],
    }


def test_set_up_builds_a_run_that_has_not_started(started):
    s, session = started("train.k=2")
    assert (s.it, s.d_updates, s.g_updates) == (0, 0, 0)
    assert s.G_eval is s.G and s.nets == (s.G, s.D)  # no EMA asked for
    assert s.x.shape == (200, 1, 28, 28) and s.global_m == 20
    assert session.last_checkpoint is None and (session.run_dir / "config.json").is_file()


def test_an_iteration_takes_k_steps_on_d_and_one_on_g(started):
    s, _ = started("train.k=3", "train.ema_beta=0.9")
    before = [p.clone() for p in s.G.parameters()]
    scalars = iteration(s)
    assert (s.it, s.d_updates, s.g_updates) == (1, 3, 1)
    assert {"d_loss", "g_loss", "d_real", "d_fake"} <= set(scalars)
    assert all(v.dim() == 0 for v in scalars.values())  # on the device: no host sync
    assert any(not torch.equal(a, b) for a, b in zip(before, s.G.parameters()))
    assert s.G_eval is s.ema.module and len(s.nets) == 3


def test_the_log_action_writes_the_means_since_the_last_line(started):
    s, session = started()
    for _ in range(3):
        session.stats.add(iteration(s))
    schedule.log_line(s, session)
    (record,) = read_log(session.run_dir)
    assert record["iteration"] == 3 and record["images_seen"] == 3 * 20
    assert 0 < record["d_real"] < 1 and record["threads"] == 1
    assert session.logged == 1 and session.last_record["iteration"] == 3
    assert session.stats.n == 0  # flushed


def test_the_grid_snapshot_and_checkpoint_actions_write_their_files(started):
    s, session = started()
    iteration(s)
    schedule.grid(s, session)
    schedule.snapshot(s, session)
    schedule.checkpoint(s, session)
    run = session.run_dir
    assert (run / "samples" / "iter-0000001.png").is_file()
    _, meta = load_snapshot(run / "snapshots" / "generator-0000001.safetensors")
    assert meta["iteration"] == 1 and meta["shape"] == [1, 28, 28]
    assert load_training_state(run / "checkpoint.pt")["iteration"] == 1
    assert (run / "generator.safetensors").is_file() and session.last_checkpoint == 1


def test_the_evaluate_action_keeps_the_best_generator(started):
    s, session = started("train.eval_every=1", "train.eval_samples=100")
    iteration(s)
    schedule.evaluate(s, session)
    best = json.loads((session.run_dir / "best.json").read_text())
    assert best["metric"] == "parzen" and best["iteration"] == 1
    assert best["value"] == session.best_value
    assert read_log(session.run_dir)[-1] == {"iteration": 1, "eval_parzen": best["value"]}
    assert (session.run_dir / "best.safetensors").is_file()


def test_actions_refuse_to_keep_non_finite_weights(started):
    s, session = started()
    iteration(s)
    with torch.no_grad():
        next(s.G.parameters()).fill_(float("nan"))
    for action in (schedule.snapshot, schedule.checkpoint):
        with pytest.raises(SaddlepointError, match="diverged at iteration 1 .*start a new run"):
            action(s, session)
    assert not (session.run_dir / "snapshots").exists()
    assert not (session.run_dir / "checkpoint.pt").exists()


def test_set_up_restores_a_checkpoint_exactly(started):
    s, session = started(*NO_DROPOUT)
    for _ in range(3):
        iteration(s)
    schedule.checkpoint(s, session)
    path = session.run_dir / "checkpoint.pt"
    resumed = setup(s.config, Context(), load_training_state(path), path)
    assert (resumed.it, resumed.d_updates, resumed.g_updates) == (3, 3, 3)
    assert resumed.sampler.state_dict() == s.sampler.state_dict()
    for _ in range(2):
        iteration(s)
        iteration(resumed)
    for a, b in zip(s.G.state_dict().values(), resumed.G.state_dict().values()):
        assert torch.equal(a, b)


def test_adding_an_action_is_adding_an_entry(tmp_path, monkeypatch):
    seen = []
    every_third = Action("count", lambda t: 3, lambda s, session: seen.append(s.it))
    monkeypatch.setattr(schedule, "ACTIONS", (*schedule.ACTIONS, every_third))
    train(tiny_config("train.iterations=10"), out=tmp_path, progress=False)
    assert seen == [3, 6, 9]
