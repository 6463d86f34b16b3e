"""Checkpoints load without executing code and are written atomically."""

from __future__ import annotations

import os
import pickle

import pytest
import torch
from tiny import tiny_config

from saddlepoint.checkpoint import (
    load_snapshot,
    load_training_state,
    save_snapshot,
    save_training_state,
    unwrap,
)
from saddlepoint.errors import SaddlepointError
from saddlepoint.nets import MLPGenerator


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_training_state_round_trip_and_refuses_code(tmp_path):
    state = {
        "generator": {"w": torch.arange(3.0)},
        "discriminator": {},
        "optim_g": {},
        "optim_d": {},
        "sampler": {"epoch": 0, "position": 20},
        "rng_cpu": torch.get_rng_state(),
        "rng_noise": torch.get_rng_state(),
        "iteration": 7,
        "d_updates": 7,
        "g_updates": 7,
        "elapsed": 1.5,
        "config": tiny_config().to_json(),
    }
    path = save_training_state(tmp_path / "c.pt", state)
    back = load_training_state(path)
    assert back["iteration"] == 7 and torch.equal(back["generator"]["w"], torch.arange(3.0))
    evil = tmp_path / "evil.pt"
    torch.save({"x": _Evil()}, evil, pickle_module=pickle)
    with pytest.raises(SaddlepointError, match="not a readable saddlepoint checkpoint"):
        load_training_state(evil)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(SaddlepointError, match="junk.pt is not a readable"):
        load_training_state(tmp_path / "junk.pt")
    with pytest.raises(SaddlepointError, match="no checkpoint at"):
        load_training_state(tmp_path / "missing.pt")


def test_snapshot_round_trip(tmp_path):
    G = MLPGenerator((1, 4, 4), z_dim=3, hidden=(5,))
    path = save_snapshot(tmp_path / "g.safetensors", G, '{"a": 1}', iteration=12, shape=[1, 4, 4])
    tensors, meta = load_snapshot(path)
    assert meta == {"config": {"a": 1}, "iteration": 12, "shape": [1, 4, 4]}
    for k, v in G.state_dict().items():
        assert torch.equal(tensors[k], v)
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 20)
    with pytest.raises(SaddlepointError, match="bad.safetensors is not a readable"):
        load_snapshot(tmp_path / "bad.safetensors")
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


def test_unwrap_compiled_and_wrapped_modules():
    G = MLPGenerator((2,), z_dim=2, hidden=(3,), output="linear")

    class Wrapper(torch.nn.Module):
        def __init__(self, module):
            super().__init__()
            self.module = module

    assert unwrap(Wrapper(G)) is G
    assert set(unwrap(Wrapper(G)).state_dict()) == set(G.state_dict())
