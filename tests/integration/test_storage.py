"""Repositories and services on real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.domain.model import Area, IssueDraft, Person, Severity, Status
from bot.messages import ConversationRef
from bot.services import attach_card, purge_processed_activities, record_contact, report_issue
from storage.uow import UnitOfWorkFactory
from tests.support.clock import FrozenClock

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
REPORTER = Person(aad_object_id="aad-priya", name="Priya Shah")


def make_ref(**overrides: object) -> ConversationRef:
    values: dict[str, object] = {
        "conversation_id": "19:general@thread.tacv2;messageid=1",
        "conversation_type": "channel",
        "service_url": "https://smba.example/emea/",
        "channel": "msteams",
        "bot_id": "28:bot",
        "tenant_id": "tenant-1",
        "team_id": "19:team@thread.tacv2",
        "channel_id": "19:general@thread.tacv2",
    }
    return ConversationRef.model_validate(values | overrides)


def make_draft(**overrides: object) -> IssueDraft:
    values: dict[str, object] = {"title": "AP cannot post", "description": "AP cannot post", "severity": Severity.SEV1}
    return IssueDraft.model_validate(values | overrides)


async def report(uow_factory: UnitOfWorkFactory, form_id: str, *, ref: ConversationRef | None = None, now: datetime = NOW, **draft: object):
    return await report_issue(
        uow=uow_factory(),
        now=now,
        draft=make_draft(**draft),
        reporter=REPORTER,
        conversation=ref or make_ref(),
        form_id=form_id,
        card_activity_id="card-1",
    )


async def test_reported_issue_round_trips_with_aware_utc_times(uow_factory: UnitOfWorkFactory) -> None:
    raised_at = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
    issue = await report(uow_factory, "form-0001", now=raised_at, area=Area.ACCOUNTS_PAYABLE, company="USMF")
    async with uow_factory() as uow:
        stored = await uow.issues.get(issue.id)
    assert stored == issue
    assert stored.created_at == raised_at and stored.created_at.tzinfo is not None
    assert stored.resolve_by == raised_at + timedelta(hours=4)
    assert (stored.status, stored.area, stored.company, stored.number) == (Status.NEW, Area.ACCOUNTS_PAYABLE, "USMF", 1)


async def test_sev4_has_no_resolution_target(uow_factory: UnitOfWorkFactory) -> None:
    issue = await report(uow_factory, "form-0002", severity=Severity.SEV4)
    assert issue.resolve_by is None


async def test_numbers_are_per_war_room(uow_factory: UnitOfWorkFactory) -> None:
    other_team = make_ref(team_id="19:other-team@thread.tacv2", conversation_id="19:other@thread.tacv2;messageid=9")
    numbers = [
        (await report(uow_factory, "form-a1")).number,
        (await report(uow_factory, "form-a2")).number,
        (await report(uow_factory, "form-b1", ref=other_team)).number,
        # Another channel of the same team is the same war room.
        (await report(uow_factory, "form-a3", ref=make_ref(conversation_id="19:finance@thread.tacv2;messageid=5"))).number,
    ]
    assert numbers == [1, 2, 1, 3]


async def test_same_form_twice_gives_the_same_issue(uow_factory: UnitOfWorkFactory) -> None:
    first = await report(uow_factory, "form-same")
    second = await report(uow_factory, "form-same", title="changed in between")
    assert second == first


def other_tenant() -> ConversationRef:
    return make_ref(tenant_id="tenant-2", team_id="19:other-team@thread.tacv2", conversation_id="19:other@thread.tacv2;messageid=7")


async def test_a_form_id_is_unique_per_war_room_only(uow_factory: UnitOfWorkFactory) -> None:
    home = await report(uow_factory, "form-shared", title="AP cannot post")
    elsewhere = await report(uow_factory, "form-shared", ref=other_tenant(), title="Labels print blank")
    assert (elsewhere.title, elsewhere.number) == ("Labels print blank", 1)
    assert elsewhere.war_room_id != home.war_room_id
    assert await report(uow_factory, "form-shared") == home


async def test_a_card_is_never_attached_to_another_war_rooms_issue(uow_factory: UnitOfWorkFactory) -> None:
    issue = await report(uow_factory, "form-home")
    elsewhere = other_tenant()
    await attach_card(uow=uow_factory(), now=NOW, issue_id=issue.id, activity_id="posted-elsewhere", thread=elsewhere)
    async with uow_factory() as uow:
        assert await uow.issues.get(issue.id) == issue  # same thread, same card
        assert await uow.conversations.get(elsewhere.conversation_id) is None  # not enrolled in the issue's war room


async def test_concurrent_submits_of_one_form_store_one_issue(uow_factory: UnitOfWorkFactory) -> None:
    results = await asyncio.gather(*(report(uow_factory, "form-race") for _ in range(8)))
    assert len({issue.id for issue in results}) == 1
    async with uow_factory() as uow:
        assert await uow.issues.get_by_number(results[0].war_room_id, 1) == results[0]
        assert await uow.issues.get_by_number(results[0].war_room_id, 2) is None


async def test_32_concurrent_reports_never_lock_and_number_without_gaps(uow_factory: UnitOfWorkFactory) -> None:
    issues = await asyncio.gather(*(report(uow_factory, f"form-c{i:03d}") for i in range(32)))
    assert sorted(issue.number for issue in issues) == list(range(1, 33))


async def test_activity_dedupe_and_retention(uow_factory: UnitOfWorkFactory) -> None:
    clock = FrozenClock(NOW)
    ref = make_ref()
    assert await record_contact(uow=uow_factory(), now=clock.now(), conversation=ref, activity_id="a1") is True
    assert await record_contact(uow=uow_factory(), now=clock.now(), conversation=ref, activity_id="a1") is False
    clock.advance(timedelta(hours=49))
    assert await purge_processed_activities(uow=uow_factory(), older_than=clock.now() - timedelta(hours=48)) == 1
    assert await record_contact(uow=uow_factory(), now=clock.now(), conversation=ref, activity_id="a1") is True


async def test_conversation_reference_is_upserted(uow_factory: UnitOfWorkFactory) -> None:
    ref = make_ref()
    await record_contact(uow=uow_factory(), now=NOW, conversation=ref, activity_id="a1")
    moved = make_ref(service_url="https://smba.example/amer/")
    await record_contact(uow=uow_factory(), now=NOW + timedelta(minutes=1), conversation=moved, activity_id="a2")
    async with uow_factory() as uow:
        assert await uow.conversations.get(ref.conversation_id) == moved
