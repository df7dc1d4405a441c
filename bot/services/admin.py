"""What the `hypercare` command line does besides serving: look after war rooms, settings and the outbox."""

from __future__ import annotations

from datetime import datetime

from bot.domain.model import OPEN_STATUSES
from bot.domain.ports import OutboxEntry, UnitOfWork
from bot.domain.standup import standup_text
from bot.domain.war_room import WarRoom, WarRoomSettings, apply_setting_changes
from bot.services.standup import standup_summary


async def war_rooms(uow: UnitOfWork) -> list[tuple[WarRoom, int]]:
    """Every war room with its number of open issues."""
    async with uow:
        rooms = await uow.war_rooms.all()
        return [(room, await uow.issues.count(room.id, OPEN_STATUSES)) for room in rooms]


async def find_war_room(uow: UnitOfWork, reference: str) -> WarRoom | None:
    """By id (`3`) or key (`team:19:…`)."""
    async with uow:
        return await uow.war_rooms.by_reference(reference)


async def change_settings(uow: UnitOfWork, room: WarRoom, assignments: list[str], *, now: datetime) -> WarRoomSettings:
    """Apply `key=value` changes (ValueError says what is wrong) and store them."""
    settings = apply_setting_changes(room.settings, assignments)
    async with uow:
        await uow.war_rooms.save_settings(room.id, settings, next_standup_at=room.model_copy(update={"settings": settings}).next_standup(now))
        await uow.commit()
    return settings


async def print_standup(uow: UnitOfWork, room: WarRoom, *, now: datetime) -> str:
    async with uow:
        return standup_text(await standup_summary(uow, room, now=now))


async def outbox(uow: UnitOfWork, *, status: str) -> list[OutboxEntry]:
    async with uow:
        return await uow.outbox.list(status=status)
