"""Explicit name -> constructor tables with errors that list the valid names.

Every pluggable piece (datasets, networks, objectives, presets) is looked up here by name;
nothing is imported from a string (STYLE.md, principle 6).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Generic, TypeVar

from saddlepoint.errors import SaddlepointError

T = TypeVar("T")


class Registry(Generic[T]):
    """A dict from name to entry, with a helpful error for unknown names."""

    def __init__(self, kind: str) -> None:
        self.kind = kind  # e.g. "dataset", used in error messages
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T) -> T:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._entries, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            names = ", ".join(sorted(self._entries))
            raise SaddlepointError(
                f"unknown {self.kind} {name!r}; choose one of: {names}.{hint}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def items(self) -> list[tuple[str, T]]:
        return sorted(self._entries.items())
