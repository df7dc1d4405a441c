"""bot/services/admin.py (the `hypercare` command line) on the in-memory unit of work."""

from __future__ import annotations

from datetime import time

import pytest

from bot.domain.model import Status
from bot.domain.war_room import WarRoom
from bot.services.admin import change_settings, find_war_room, outbox, print_standup, war_rooms
from bot.services.outbox import enqueue_message
from tests.support.factories import make_issue
from tests.support.fakes import FakeStore, FakeUnitOfWork
from tests.support.scene import ANOTHER_TEAM, CHANNEL, NOW, open_war_room


async def test_every_war_room_with_its_open_issues(uow: FakeUnitOfWork, store: FakeStore, room: WarRoom) -> None:
    other = await open_war_room(store, ANOTHER_TEAM)
    store.add_issue(make_issue(id=1, number=1))
    store.add_issue(make_issue(id=2, number=2, status=Status.RESOLVED))

    assert [(found.id, count) for found, count in await war_rooms(uow)] == [(room.id, 1), (other.id, 0)]


async def test_a_war_room_is_found_by_id_or_key(uow: FakeUnitOfWork, room: WarRoom) -> None:
    assert await find_war_room(uow, "1") == room
    assert await find_war_room(uow, CHANNEL.war_room_key) == room
    assert await find_war_room(uow, "7") is None


async def test_settings_changed_by_key_are_stored(uow: FakeUnitOfWork, store: FakeStore, room: WarRoom) -> None:
    settings = await change_settings(uow, room, ["standup_time=10:30", "time_zone=Europe/Berlin"], now=NOW)

    assert settings.standup_time == time(10, 30) and settings.calendar.time_zone == "Europe/Berlin"
    assert store.war_rooms[room.id].settings == settings and uow.commits == 1


async def test_a_wrong_setting_says_what_is_wrong_and_nothing_is_stored(uow: FakeUnitOfWork, store: FakeStore, room: WarRoom) -> None:
    with pytest.raises(ValueError, match="known settings are"):
        await change_settings(uow, room, ["colour=blue"], now=NOW)

    assert store.war_rooms[room.id] == room and uow.commits == 0


async def test_the_stand_up_as_text(uow: FakeUnitOfWork, store: FakeStore, room: WarRoom) -> None:
    store.add_issue(make_issue())

    text = await print_standup(uow, room, now=NOW)

    assert text.startswith("Hypercare stand-up — this war room — 2026-11-23 09:00 UTC")
    assert "#12" in text and "AP cannot post vendor invoices" in text


async def test_the_outbox_by_status(uow: FakeUnitOfWork) -> None:
    await enqueue_message(uow=uow, now=NOW, conversation=CHANNEL, card={}, dedupe_key="k1")

    assert [(entry.dedupe_key, entry.status) for entry in await outbox(uow, status="pending")] == [("k1", "pending")]
    assert await outbox(uow, status="failed") == []
