from __future__ import annotations

import pytest

from bot.domain.war_room import WarRoom
from tests.support.fakes import FakeStore, FakeUnitOfWork
from tests.support.scene import open_war_room


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def uow(store: FakeStore) -> FakeUnitOfWork:
    return FakeUnitOfWork(store)


@pytest.fixture
async def room(store: FakeStore) -> WarRoom:
    """The war room of tests.support.scene.CHANNEL, id 1 (the factories' default), as first contact made it."""
    return await open_war_room(store)
