"""Shared fixtures."""

from __future__ import annotations

import pytest
import torch
from fake_cuda import FakeCudaRng
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


@pytest.fixture(scope="session")
def classifier_cache(tmp_path_factory):
    """One evaluation cache for the session: the mnist5k classifier (default recipe, about 15
    CPU-seconds) is trained once and shared by the tests that score with it."""
    return tmp_path_factory.mktemp("classifier-cache")


@pytest.fixture
def fake_cuda(monkeypatch) -> FakeCudaRng:
    """torch.cuda's rng API faked on CPU generators (tests/fake_cuda.py), for the tests of the
    logic that keeps each ensemble member's CUDA stream."""
    return FakeCudaRng().install(monkeypatch)
