from __future__ import annotations

import pytest

from bot.chat.context import Chat
from bot.chat.conversation import Conversation
from bot.domain.war_room import WarRoom
from tests.support.chat import Bot
from tests.support.clock import FrozenClock
from tests.support.fakes import FakeDirectory, FakeStore, FakeUnitOfWorkFactory
from tests.support.scene import open_war_room

# Priya is the admin the operator named.
ADMINS = frozenset({"aad-priya"})


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def uow_factory(store: FakeStore) -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory(store)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def chat(uow_factory: FakeUnitOfWorkFactory, clock: FrozenClock) -> Chat:
    return Chat(uow_factory=uow_factory, clock=clock, admins=ADMINS, bot_name="Contoso Hypercare")


@pytest.fixture
def conversation(chat: Chat) -> Conversation:
    return Conversation(chat)


@pytest.fixture
async def room(store: FakeStore) -> WarRoom:
    return await open_war_room(store)


@pytest.fixture
def directory() -> FakeDirectory:
    return FakeDirectory()


@pytest.fixture
def bot(conversation: Conversation, directory: FakeDirectory) -> Bot:
    return Bot(conversation, directory)
