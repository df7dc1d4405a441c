"""A unit of work that tells observability what happened in it, without the use cases knowing.

The war room a turn is about becomes known when a use case looks it up: from then on the turn's log lines carry
its id. The issues raised and resolved are counted from the events written, once the transaction commits (a
rolled-back change, a refused or stale click, counts nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.domain.model import Issue, NewIssue, Severity
from bot.domain.ports import UnitOfWork
from bot.domain.events import Event
from bot.domain.messages import ConversationRef
from bot.observability.logs import WAR_ROOM_ID
from bot.observability.metrics import Metrics


class _WarRooms:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def ensure(self, ref: ConversationRef, *, now: datetime) -> int:
        war_room_id: int = await self._inner.ensure(ref, now=now)
        WAR_ROOM_ID.set(war_room_id)
        return war_room_id

    async def ensure_room(self, ref: ConversationRef, *, now: datetime) -> Any:
        room = await self._inner.ensure_room(ref, now=now)
        WAR_ROOM_ID.set(room.id)
        return room

    async def ensure_room_with_roles(self, ref: ConversationRef, *, now: datetime, aad_object_id: str | None) -> Any:
        room, roles = await self._inner.ensure_room_with_roles(ref, now=now, aad_object_id=aad_object_id)
        WAR_ROOM_ID.set(room.id)
        return room, roles

    async def find(self, ref: ConversationRef) -> int | None:
        war_room_id: int | None = await self._inner.find(ref)
        if war_room_id is not None:
            WAR_ROOM_ID.set(war_room_id)
        return war_room_id


class _Events:
    def __init__(self, inner: Any, written: list[tuple[str, Severity]]) -> None:
        self._inner = inner
        self._written = written

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def add(self, issue: Issue, event: Event) -> None:
        await self._inner.add(issue, event)
        self._written.append((event.verb, issue.severity))


class _Issues:
    def __init__(self, inner: Any, written: list[tuple[str, Severity]]) -> None:
        self._inner = inner
        self._written = written

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def add(self, new: NewIssue, *, created: Event) -> Issue:
        issue: Issue = await self._inner.add(new, created=created)
        self._written.append((created.verb, issue.severity))  # a new issue's first event is written with it
        return issue


class ObservedUnitOfWork:
    def __init__(self, inner: UnitOfWork, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics
        self._written: list[tuple[str, Severity]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def __aenter__(self) -> ObservedUnitOfWork:
        await self._inner.__aenter__()
        self._written.clear()
        self.war_rooms = _WarRooms(self._inner.war_rooms)
        self.events = _Events(self._inner.events, self._written)
        self.issues = _Issues(self._inner.issues, self._written)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self._written.clear()
        await self._inner.__aexit__(*exc)

    async def commit(self) -> None:
        await self._inner.commit()
        for verb, severity in self._written:
            self._metrics.issue_event(verb, severity)
        self._written.clear()


def observed(uow_factory: Callable[[], UnitOfWork], metrics: Metrics) -> Callable[[], UnitOfWork]:
    """`uow_factory`, its units of work observed (wired in app.py for the chat; the scheduler raises no issues)."""
    return lambda: ObservedUnitOfWork(uow_factory(), metrics)  # type: ignore[return-value]
