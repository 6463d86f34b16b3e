"""Shared fixtures."""

from __future__ import annotations

import pytest
import torch
from tiny import tiny_config

from saddlepoint.config import Config


@pytest.fixture
def tiny() -> Config:
    return tiny_config()


@pytest.fixture(autouse=True)
def _restore_torch_state():
    threads = torch.get_num_threads()
    rng = torch.get_rng_state()
    yield
    torch.set_num_threads(threads)
    torch.set_rng_state(rng)
