"""Repositories and services on real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.domain.events import CREATED
from bot.domain.model import Area, IssueDraft, Person, Severity, Status
from bot.domain.messages import ConversationRef, OutboundMessage
from bot.domain.reminders import RemindedIssue, ReminderState
from bot.services.intake import (
    ACTIVITY_LEASE,
    finish_activity,
    purge_processed_activities,
    receive_message,
    record_contact,
    release_activity,
    report_issue,
)
from bot.services.triage import attach_card
from storage.db import create_engine, create_session_factory
from storage.uow import UnitOfWorkFactory
from tests.support.factories import make_conversation

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
REPORTER = Person(aad_object_id="aad-priya", name="Priya Shah")


def make_draft(**overrides: object) -> IssueDraft:
    values: dict[str, object] = {"title": "AP cannot post", "description": "AP cannot post", "severity": Severity.SEV1}
    return IssueDraft.model_validate(values | overrides)


async def report(uow_factory: UnitOfWorkFactory, form_id: str, *, ref: ConversationRef | None = None, now: datetime = NOW, **draft: object):
    return await report_issue(
        uow=uow_factory(),
        now=now,
        draft=make_draft(**draft),
        reporter=REPORTER,
        conversation=ref or make_conversation(),
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
    other_team = make_conversation(team_id="19:other-team@thread.tacv2", conversation_id="19:other@thread.tacv2;messageid=9")
    numbers = [
        (await report(uow_factory, "form-a1")).number,
        (await report(uow_factory, "form-a2")).number,
        (await report(uow_factory, "form-b1", ref=other_team)).number,
        # Another channel of the same team is the same war room.
        (await report(uow_factory, "form-a3", ref=make_conversation(conversation_id="19:finance@thread.tacv2;messageid=5"))).number,
    ]
    assert numbers == [1, 2, 1, 3]


async def test_same_form_twice_gives_the_same_issue(uow_factory: UnitOfWorkFactory) -> None:
    first = await report(uow_factory, "form-same")
    second = await report(uow_factory, "form-same", title="changed in between")
    assert second == first


def other_tenant() -> ConversationRef:
    return make_conversation(tenant_id="tenant-2", team_id="19:other-team@thread.tacv2", conversation_id="19:other@thread.tacv2;messageid=7")


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


async def test_an_issue_is_stored_with_its_created_event_and_a_duplicate_form_leaves_no_gap(uow_factory: UnitOfWorkFactory) -> None:
    first = await report(uow_factory, "form-e1", severity=Severity.SEV2)
    assert await report(uow_factory, "form-e1") == first
    second = await report(uow_factory, "form-e2")
    async with uow_factory() as uow:
        [created] = await uow.events.list_for(first.id)
    assert (created.verb, created.actor, created.at, created.to_value) == (CREATED, REPORTER, NOW, Severity.SEV2.label)
    assert (first.number, second.number, first.version) == (1, 2, 1)


async def test_two_replicas_reporting_at_once_number_without_gaps_or_repeats(database_url: str, uow_factory: UnitOfWorkFactory) -> None:
    engines = [create_engine(database_url) for _ in range(2)]
    try:
        replicas = [UnitOfWorkFactory(create_session_factory(engine)) for engine in engines]
        issues = await asyncio.gather(*(report(replicas[i % 2], f"form-r{i:03d}") for i in range(24)))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sorted(issue.number for issue in issues) == list(range(1, 25))
    async with uow_factory() as uow:
        stored = [await uow.issues.get(issue.id) for issue in issues]
        events = [await uow.events.list_for(issue.id) for issue in issues]
    assert stored == issues
    assert all([event.verb for event in issue_events] == [CREATED] for issue_events in events)


async def claim(uow_factory: UnitOfWorkFactory, at: datetime, activity_id: str = "a1") -> str:
    """How a delivery of the activity at `at` fares: "claimed" (answer it), "busy" or "done"."""
    return (await receive_message(uow=uow_factory(), now=at, conversation=make_conversation(), activity_id=activity_id)).claim


async def finish(uow_factory: UnitOfWorkFactory, claimed_at: datetime, at: datetime) -> bool:
    return await finish_activity(
        uow=uow_factory(), now=at, conversation_id=make_conversation().conversation_id, activity_id="a1", claimed_at=claimed_at
    )


async def release(uow_factory: UnitOfWorkFactory, claimed_at: datetime) -> None:
    await release_activity(uow=uow_factory(), conversation_id=make_conversation().conversation_id, activity_id="a1", claimed_at=claimed_at)


async def test_an_activity_is_answered_once_then_forgotten_after_the_retention(uow_factory: UnitOfWorkFactory) -> None:
    assert await claim(uow_factory, NOW) == "claimed"
    assert await claim(uow_factory, NOW + timedelta(seconds=15)) == "busy"  # Teams re-sent it while it was answered
    assert await finish(uow_factory, claimed_at=NOW, at=NOW + timedelta(seconds=16)) is True
    assert await claim(uow_factory, NOW + ACTIVITY_LEASE * 2) == "done"
    assert await purge_processed_activities(uow=uow_factory(), older_than=NOW + timedelta(hours=1)) == 1
    assert await claim(uow_factory, NOW + timedelta(hours=2)) == "claimed"


async def test_a_failed_answer_lets_the_next_delivery_claim_the_activity(uow_factory: UnitOfWorkFactory) -> None:
    assert await claim(uow_factory, NOW) == "claimed"
    await release(uow_factory, claimed_at=NOW)
    assert await claim(uow_factory, NOW + timedelta(seconds=1)) == "claimed"


async def test_a_claim_left_unfinished_past_its_lease_is_taken_over_by_one_delivery(uow_factory: UnitOfWorkFactory) -> None:
    assert await claim(uow_factory, NOW) == "claimed"  # and its process dies
    assert await claim(uow_factory, NOW + ACTIVITY_LEASE - timedelta(seconds=1)) == "busy"
    taken_over_at = NOW + ACTIVITY_LEASE
    assert await claim(uow_factory, taken_over_at) == "claimed"
    assert await claim(uow_factory, taken_over_at + timedelta(seconds=1)) == "busy"
    # The first claim, should its worker still be alive after all, can neither finish nor release the new one.
    assert await finish(uow_factory, claimed_at=NOW, at=taken_over_at + timedelta(seconds=2)) is False
    await release(uow_factory, claimed_at=NOW)
    assert await claim(uow_factory, taken_over_at + timedelta(seconds=3)) == "busy"
    assert await finish(uow_factory, claimed_at=taken_over_at, at=taken_over_at + timedelta(seconds=4)) is True
    assert await claim(uow_factory, taken_over_at + ACTIVITY_LEASE * 2) == "done"


async def test_replicas_receiving_one_activity_together_answer_it_once(database_url: str, uow_factory: UnitOfWorkFactory) -> None:
    assert await claim(uow_factory, NOW, activity_id="first-contact") == "claimed"  # the war room exists
    engines = [create_engine(database_url) for _ in range(2)]
    try:
        replicas = [UnitOfWorkFactory(create_session_factory(engine)) for engine in engines]
        deliveries = [replicas[n % 2] for n in range(8)]
        first = await asyncio.gather(*(claim(replica, NOW) for replica in deliveries))
        assert sorted(first) == ["busy"] * 7 + ["claimed"]
        # The claim's process died: after the lease, again exactly one delivery takes it over.
        later = await asyncio.gather(*(claim(replica, NOW + ACTIVITY_LEASE) for replica in deliveries))
        assert sorted(later) == ["busy"] * 7 + ["claimed"]
    finally:
        for engine in engines:
            await engine.dispose()


async def test_conversation_reference_is_upserted(uow_factory: UnitOfWorkFactory) -> None:
    ref = make_conversation()
    await record_contact(uow=uow_factory(), now=NOW, conversation=ref)
    moved = make_conversation(service_url="https://smba.example/amer/")
    await record_contact(uow=uow_factory(), now=NOW + timedelta(minutes=1), conversation=moved)
    async with uow_factory() as uow:
        assert await uow.conversations.get(ref.conversation_id) == moved


async def test_a_due_issue_is_read_with_what_its_reminders_need_as_stored(uow_factory: UnitOfWorkFactory) -> None:
    issue = await report(uow_factory, "form-due-1", area=Area.ACCOUNTS_PAYABLE)
    async with uow_factory() as uow:
        due = await uow.issues.due(NOW + timedelta(hours=1), limit=10)
    assert due.unreadable == [] and due.issues == [(RemindedIssue.of(issue), ReminderState())]
    reminded = due.issues[0][0]
    assert reminded.created_at == NOW and reminded.created_at.tzinfo is not None and reminded.resolve_by == issue.resolve_by


async def test_many_messages_are_enqueued_in_one_go_and_only_the_new_ones_count(uow_factory: UnitOfWorkFactory) -> None:
    issue = await report(uow_factory, "form-outbox-1")

    def message(key: str) -> OutboundMessage:
        return OutboundMessage(dedupe_key=key, war_room_id=issue.war_room_id, tenant_id="tenant-1", service_url="https://smba.example/",
                               kind="message", conversation_id=issue.conversation_id, bot_id="28:bot", card={"key": key})

    async with uow_factory() as uow:
        assert await uow.outbox.enqueue_many([message("a"), message("b"), message("a")], now=NOW) == 2
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outbox.enqueue_many([message("b"), message("c")], now=NOW) == 1  # another tick or replica
        await uow.commit()
    async with uow_factory() as uow:
        pending = await uow.outbox.list(status="pending")
        claimed = await uow.outbox.claim(NOW, limit=10, lease=timedelta(minutes=1))
    assert [entry.dedupe_key for entry in pending] == ["a", "b", "c"]
    assert claimed[0].card == {"key": "a"} and claimed[0].attempts == 0
