"""A war room on the in-memory store, set up as a unit test needs it (tests/unit/services, tests/unit/chat)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.domain.model import HandledBy, Issue, Person, Resolution, ResolutionType, Severity, Status
from bot.domain.war_room import WarRoom
from tests.support.clock import FrozenClock
from tests.support.factories import OMAR, make_conversation, make_issue
from tests.support.fakes import FakeStore, FakeUnitOfWork

NOW = FrozenClock().now()
# A thread in the General channel of the team; the war room is the team's.
CHANNEL = make_conversation()
ANOTHER_TEAM = make_conversation(
    conversation_id="19:other@thread.tacv2;messageid=7", team_id="19:other-team@thread.tacv2", channel_id="19:other@thread.tacv2"
)
LENA = Person(aad_object_id="aad-lena", name="Lena Berg")
NO_ADMINS: frozenset[str] = frozenset()


async def open_war_room(store: FakeStore, conversation: Any = CHANNEL, **changes: Any) -> WarRoom:
    """The conversation's war room as first contact makes it, then `changes` (settings, sign-off …) written over it."""
    async with FakeUnitOfWork(store) as uow:
        room = await uow.war_rooms.ensure_room(conversation, now=NOW)
        await uow.commit()
    store.war_rooms[room.id] = room.model_copy(update=changes)
    return store.war_rooms[room.id]


def resolved_by_support(**overrides: Any) -> Issue:
    """A Sev 3 the support team fixed an hour ago: with it, the exit criteria pass."""
    resolved_at = NOW - timedelta(hours=1)
    values: dict[str, Any] = {
        "severity": Severity.SEV3, "status": Status.RESOLVED, "created_at": resolved_at - timedelta(hours=2),
        "resolve_by": resolved_at + timedelta(days=5),
        "resolution": Resolution(type=ResolutionType.FIXED, notes="Added the vendor posting profile for USMF.",
                                 handled_by=HandledBy.SUPPORT, resolved_by=OMAR, resolved_at=resolved_at),
    }
    return make_issue(**(values | overrides))
