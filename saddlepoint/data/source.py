"""What a dataset source is: a name, a one-line description and a loader for each split."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from saddlepoint.config import DataConfig
from saddlepoint.data.dataset import Dataset


@dataclass(frozen=True)
class Source:
    name: str  # the name users type: --data NAME
    description: str  # one line for `saddlepoint datasets`
    load: Callable[[DataConfig, str], Dataset]  # (config, split) -> Dataset
    default_root: Callable[[], str | None] = lambda: None  # where files are looked for by default
