from __future__ import annotations

from collections.abc import Callable

from tests.support.fakes.store import FakeStore


class FakeRepository:
    """A repository of a fake unit of work: usable only inside `async with uow`, like the real ones."""

    def __init__(self, open_store: Callable[[], FakeStore]) -> None:
        self._open_store = open_store

    @property
    def _store(self) -> FakeStore:
        return self._open_store()
