"""What every handler is given: the bot's dependencies (`Chat`) and the turn it answers (`Said` or `Clicked`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.ports import Clock
from bot.domain.messages import CardActionResult, InboundCardAction, InboundMessage, Outbound
from bot.domain.model import IssueDraft, Person
from bot.domain.prefill import Prefiller
from bot.domain.ports import PeopleDirectory, UnitOfWork
from bot.services.intake import Received
from bot.services.membership import PersonsWarRooms


@dataclass(frozen=True)
class Chat:
    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    # Lower-case AAD object ids the operator made admins everywhere (HYPERCARE_ADMINS).
    admins: frozenset[str] = frozenset()
    # The issue form's prefill (vocabulary and model): built once at start-up, it holds ~3 MB of weights.
    prefiller: Prefiller = field(default_factory=Prefiller)
    bot_name: str = "Hypercare"
    # Links the bot serves itself (bot/links.py): a kept chart (war room id, chart id), a hand-over pack (war room id, now).
    chart_url_for: Callable[[int, int], str] | None = None
    handover_url_for: Callable[[int, datetime], str] | None = None
    # Told of every draft the parser reads for an issue form, "please choose" fields empty (the metrics of how much
    # it could fill in).
    on_draft: Callable[[IssueDraft], None] | None = None

    def uow(self) -> UnitOfWork:
        """A fresh unit of work: one per use case called."""
        return self.uow_factory()

    def now(self) -> datetime:
        return self.clock.now()

    def chart_url(self, war_room_id: int, chart_id: int) -> str | None:
        return self.chart_url_for(war_room_id, chart_id) if self.chart_url_for else None

    def handover_url(self, war_room_id: int, now: datetime) -> str | None:
        return self.handover_url_for(war_room_id, now) if self.handover_url_for else None


class NoDirectory:
    """A channel that cannot look people up."""

    async def person(self, user_id: str) -> Person | None:
        return None

    async def search(self, text: str) -> Person | None:
        return None


@dataclass(frozen=True)
class Said:
    """A message to answer, and how to find the people it mentions."""

    message: InboundMessage
    directory: PeopleDirectory = NoDirectory()
    # What storage said when the message was claimed: its war room, the issue whose thread it is in, past fixes.
    received: Received | None = None
    # In a personal chat: the person's war rooms (the one acted in is `message.conversation.acting_in`).
    personal: PersonsWarRooms | None = None

    @property
    def sender(self) -> Person:
        return self.message.sender

    async def mentioned_person(self) -> Person | None:
        """The first person @mentioned, as the directory knows them (or by the name shown)."""
        if not self.message.mentions:
            return None
        mentioned = self.message.mentions[0]
        return await self.person(mentioned.user_id, mentioned.name)

    async def person(self, user_id: str, name: str) -> Person:
        return await self.directory.person(user_id) or Person(aad_object_id=None, name=name)


@dataclass(frozen=True)
class Clicked:
    """A card button pressed (or a card form submitted)."""

    action: InboundCardAction
    directory: PeopleDirectory = NoDirectory()
    # In a personal chat: the person's war rooms (the one acted in is `action.conversation.acting_in`).
    personal: PersonsWarRooms | None = None

    @property
    def sender(self) -> Person:
        return self.action.sender

    def text(self, key: str) -> str:
        value = self.action.data.get(key)
        return value.strip() if isinstance(value, str) else ""


CommandHandler = Callable[[Chat, Any, Said], Awaitable[list[Outbound]]]
CardHandler = Callable[[Chat, Clicked], Awaitable[CardActionResult]]
