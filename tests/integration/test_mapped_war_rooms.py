"""War rooms mapped once per process (storage/repositories/war_rooms.py `MappedWarRooms`), with two replicas: what
one changes, the other sees at its next read, whatever it mapped before."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time

import pytest
from sqlalchemy import update

from bot.domain.events import CREATED, Event
from bot.domain.model import NewIssue, Person, Role, Severity, Status
from bot.domain.war_room import OnCall, WarRoom, WarRoomSettings
from bot.domain.messages import ConversationRef
from storage.db import create_engine, create_session_factory
from storage.models import WarRoomRow
from storage.uow import UnitOfWorkFactory
from tests.support.factories import make_conversation

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
OMAR = Person(aad_object_id="aad-omar", name="Omar")
PRIYA = Person(aad_object_id="aad-priya", name="Priya")
_teams = itertools.count(1)


@pytest.fixture
async def replicas(database_url: str) -> AsyncIterator[tuple[UnitOfWorkFactory, UnitOfWorkFactory]]:
    engines = [create_engine(database_url) for _ in range(2)]
    try:
        a, b = (UnitOfWorkFactory(create_session_factory(engine)) for engine in engines)
        yield a, b
    finally:
        for engine in engines:
            await engine.dispose()


@pytest.fixture
def ref() -> ConversationRef:
    team = f"19:mapped-{next(_teams)}@thread.tacv2"
    return make_conversation(team_id=team, channel_id=team, conversation_id=f"{team};messageid=1")


async def read(replica: UnitOfWorkFactory, ref: ConversationRef) -> WarRoom:
    async with replica() as uow:
        room = await uow.war_rooms.ensure_room(ref, now=NOW)
        await uow.commit()  # the first read creates it
    return room


async def test_a_war_room_read_again_unchanged_is_mapped_once(replicas: tuple[UnitOfWorkFactory, UnitOfWorkFactory], ref: ConversationRef) -> None:
    a, _ = replicas
    first = await read(a, ref)
    assert await read(a, ref) is first


async def test_settings_on_call_and_sign_off_changed_on_one_replica_are_seen_by_the_other(
    replicas: tuple[UnitOfWorkFactory, UnitOfWorkFactory], ref: ConversationRef
) -> None:
    a, b = replicas
    before = await read(b, ref)
    assert before.settings.standup_time != time(7, 30) and before.oncall.override is None
    async with a() as uow:
        room = await uow.war_rooms.ensure_room(ref, now=NOW)
        settings = WarRoomSettings.model_validate(room.settings.model_dump() | {"standup_time": "07:30"})
        await uow.war_rooms.save_settings(room.id, settings, next_standup_at=None)
        await uow.commit()
    assert (await read(b, ref)).settings.standup_time == time(7, 30)
    async with a() as uow:
        await uow.war_rooms.save_oncall(room.id, OnCall.model_validate({"override": {"person": OMAR.model_dump()}}))
        await uow.war_rooms.set_sign_off(room.id, by=OMAR, at=NOW, next_standup_at=None)
        await uow.commit()
    after = await read(b, ref)
    assert after.oncall.override is not None and after.oncall.override.person == OMAR
    assert after.signed_off_at == NOW and after.signed_off_by == OMAR


async def test_settings_written_by_hand_are_read_checked_like_any_others(
    replicas: tuple[UnitOfWorkFactory, UnitOfWorkFactory], ref: ConversationRef, database_url: str
) -> None:
    a, b = replicas
    room = await read(b, ref)
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:  # `hypercare settings`, or someone with psql
            await connection.execute(update(WarRoomRow).where(WarRoomRow.id == room.id).values(settings={"standup_time": "25:99"}))
    finally:
        await engine.dispose()
    refused = await read(b, ref)
    assert refused.settings == WarRoomSettings() and refused.settings_problems
    assert (await read(a, ref)).settings_problems == refused.settings_problems


async def test_a_new_issue_leaves_its_war_room_mapped(replicas: tuple[UnitOfWorkFactory, UnitOfWorkFactory], ref: ConversationRef) -> None:
    a, _ = replicas
    first = await read(a, ref)
    async with a() as uow:
        await uow.issues.add(
            NewIssue(
                war_room_id=first.id, title="AP cannot post", description="AP cannot post", severity=Severity.SEV2,
                category=None, area=None, company=None, affected_users=None, status=Status.NEW, reporter=OMAR,
                created_at=NOW, resolve_by=None, conversation_id=ref.conversation_id, tenant_id=None, team_id=None,
                channel_id=None, source_form_id="form-mapped",
            ),
            created=Event(verb=CREATED, actor=OMAR, at=NOW),
        )
        await uow.commit()
    # The issue counter moved, nothing a `WarRoom` is made of did: not mapped again.
    assert await read(a, ref) is first


async def roles(replica: UnitOfWorkFactory, ref: ConversationRef, person: Person) -> tuple[WarRoom, frozenset[Role]]:
    async with replica() as uow:
        found = await uow.war_rooms.ensure_room_with_roles(ref, now=NOW, aad_object_id=person.aad_object_id)
        await uow.commit()  # the first read creates it
    return found


async def test_roles_read_with_the_war_room_are_the_persons_own_and_current_on_every_replica(
    replicas: tuple[UnitOfWorkFactory, UnitOfWorkFactory], ref: ConversationRef
) -> None:
    a, b = replicas
    room, held = await roles(b, ref, OMAR)  # a war room made by this very read
    assert held == frozenset() and room == await read(a, ref)
    async with a() as uow:
        await uow.roles.grant(room.id, OMAR, Role.ONCALL, by=OMAR, now=NOW)
        await uow.roles.grant(room.id, OMAR, Role.TRIAGE_LEAD, by=OMAR, now=NOW)
        await uow.roles.grant(room.id, PRIYA, Role.PARTNER, by=OMAR, now=NOW)
        await uow.commit()
    again, held = await roles(b, ref, OMAR)
    assert held == {Role.ONCALL, Role.TRIAGE_LEAD}
    assert again is room  # the roles are not part of the mapped war room
    assert (await roles(b, ref, PRIYA))[1] == {Role.PARTNER}
    assert (await roles(b, ref, Person(aad_object_id=None, name="Guest")))[1] == frozenset()
    async with a() as uow:
        await uow.roles.revoke(room.id, "aad-omar", Role.ONCALL)
        await uow.commit()
    assert (await roles(b, ref, OMAR))[1] == {Role.TRIAGE_LEAD}


async def test_war_rooms_read_together_are_mapped_once_and_see_what_another_replica_changed(
    replicas: tuple[UnitOfWorkFactory, UnitOfWorkFactory], ref: ConversationRef
) -> None:
    a, b = replicas
    room = await read(b, ref)
    async with b() as uow:  # the scheduler reads the war rooms of its due reminders together
        assert (await uow.war_rooms.get_many({room.id}))[0] is room
    async with a() as uow:
        settings = WarRoomSettings.model_validate(room.settings.model_dump() | {"standup_time": "07:30"})
        await uow.war_rooms.save_settings(room.id, settings, next_standup_at=None)
        await uow.commit()
    async with b() as uow:
        assert [changed.settings.standup_time for changed in await uow.war_rooms.get_many({room.id})] == [time(7, 30)]
