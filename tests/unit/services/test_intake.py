"""bot/services/intake.py on the in-memory unit of work: first contact, messages claimed once, issues reported."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.model import IssueDraft, Severity, Status
from bot.domain.events import CREATED
from bot.domain.war_room import WarRoom
from bot.services.intake import (
    ACTIVITY_LEASE,
    WarRoomClosed,
    finish_activity,
    purge_processed_activities,
    receive_message,
    record_contact,
    release_activity,
    report_issue,
)
from tests.support.factories import PRIYA
from tests.support.fakes import FakeStore, FakeUnitOfWork
from tests.support.scene import CHANNEL, NOW, open_war_room, resolved_by_support

DRAFT = IssueDraft(title="AP cannot post vendor invoices", description="Posting profile missing.", severity=Severity.SEV2)


async def test_first_contact_makes_the_war_room_named_after_the_team_and_remembers_the_conversation(
    uow: FakeUnitOfWork, store: FakeStore
) -> None:
    await record_contact(uow=uow, now=NOW, conversation=CHANNEL.model_copy(update={"team_name": "Contoso go-live"}))

    assert [(room.id, room.name) for room in store.war_rooms.values()] == [(1, "Contoso go-live")]
    assert store.conversations == {CHANNEL.conversation_id: (CHANNEL, 1)}
    assert uow.commits == 1


async def test_a_named_war_room_keeps_its_name(uow: FakeUnitOfWork, store: FakeStore) -> None:
    await open_war_room(store, name="Contoso go-live")

    await record_contact(uow=uow, now=NOW, conversation=CHANNEL.model_copy(update={"team_name": "Renamed"}))

    assert store.war_rooms[1].name == "Contoso go-live"


async def test_a_message_is_claimed_with_its_war_room_and_past_fixes_that_look_like_it(uow: FakeUnitOfWork, store: FakeStore) -> None:
    await open_war_room(store)
    store.add_issue(resolved_by_support(id=3, number=3, title="Vendor invoices cannot be posted", conversation_id="elsewhere"))

    received = await receive_message(
        uow=uow, now=NOW, conversation=CHANNEL, activity_id="act-1", report_text="sev2 vendor invoices will not post",
    )

    assert received.claim == "claimed" and received.room is not None and received.room.id == 1
    assert [(s.kind, s.number) for s in received.suggestions] == [("issue", 3)]
    assert store.activities[(CHANNEL.conversation_id, "act-1")].received_at == NOW
    assert uow.commits == 1


async def test_a_reply_in_an_issues_thread_finds_that_issue_and_suggests_nothing(uow: FakeUnitOfWork, store: FakeStore) -> None:
    room = await open_war_room(store)
    store.add_issue(resolved_by_support(id=3, number=3, conversation_id="19:general@thread.tacv2;messageid=900"))
    thread_issue = store.add_issue(resolved_by_support(id=4, number=4, war_room_id=room.id))

    received = await receive_message(
        uow=uow, now=NOW, conversation=CHANNEL, activity_id="act-1", report_text="vendor invoices", look_in_thread=True
    )

    assert received.thread_issue is not None and received.thread_issue.id == thread_issue.id
    assert received.suggestions == ()


async def test_a_signed_off_war_room_suggests_nothing(uow: FakeUnitOfWork, store: FakeStore) -> None:
    await open_war_room(store, signed_off_at=NOW - timedelta(days=1), signed_off_by=PRIYA)
    store.add_issue(resolved_by_support(id=3, number=3, title="Vendor invoices cannot be posted", conversation_id="elsewhere"))

    received = await receive_message(uow=uow, now=NOW, conversation=CHANNEL, activity_id="act-1", report_text="vendor invoices")

    assert received.claim == "claimed" and received.suggestions == ()


@pytest.mark.parametrize(("finished", "claim"), [(False, "busy"), (True, "done")])
async def test_a_message_delivered_again_is_not_claimed_twice_and_nothing_else_is_read(
    uow: FakeUnitOfWork, store: FakeStore, finished: bool, claim: str
) -> None:
    await receive_message(uow=uow, now=NOW, conversation=CHANNEL, activity_id="act-1")
    if finished:
        await finish_activity(uow=uow, now=NOW, conversation_id=CHANNEL.conversation_id, activity_id="act-1", claimed_at=NOW)

    again = await receive_message(uow=uow, now=NOW + timedelta(seconds=5), conversation=CHANNEL, activity_id="act-1")

    assert again.claim == claim and again.room is None and again.thread_issue is None
    assert store.activities[(CHANNEL.conversation_id, "act-1")].received_at == NOW


async def test_a_claim_left_unfinished_past_its_lease_is_taken_over_and_the_first_cannot_finish_it(
    uow: FakeUnitOfWork, store: FakeStore
) -> None:
    await receive_message(uow=uow, now=NOW, conversation=CHANNEL, activity_id="act-1")
    later = NOW + ACTIVITY_LEASE

    again = await receive_message(uow=uow, now=later, conversation=CHANNEL, activity_id="act-1")
    first_finished = await finish_activity(uow=uow, now=later, conversation_id=CHANNEL.conversation_id, activity_id="act-1", claimed_at=NOW)
    second_finished = await finish_activity(uow=uow, now=later, conversation_id=CHANNEL.conversation_id, activity_id="act-1", claimed_at=later)

    assert (again.claim, first_finished, second_finished) == ("claimed", False, True)
    assert store.activities[(CHANNEL.conversation_id, "act-1")].done_at == later


async def test_a_released_claim_lets_the_next_delivery_answer(uow: FakeUnitOfWork, store: FakeStore) -> None:
    await receive_message(uow=uow, now=NOW, conversation=CHANNEL, activity_id="act-1")

    await release_activity(uow=uow, conversation_id=CHANNEL.conversation_id, activity_id="act-1", claimed_at=NOW)

    assert store.activities == {}
    assert (await receive_message(uow=uow, now=NOW, conversation=CHANNEL, activity_id="act-1")).claim == "claimed"


async def test_old_claims_are_purged_and_counted(uow: FakeUnitOfWork, store: FakeStore) -> None:
    await receive_message(uow=uow, now=NOW - timedelta(days=3), conversation=CHANNEL, activity_id="old")
    await receive_message(uow=uow, now=NOW, conversation=CHANNEL, activity_id="new")

    purged = await purge_processed_activities(uow=uow, older_than=NOW - timedelta(days=1))

    assert purged == 1 and list(store.activities) == [(CHANNEL.conversation_id, "new")]


async def test_a_reported_issue_is_numbered_stored_with_its_deadline_and_recorded_as_raised(uow: FakeUnitOfWork, store: FakeStore) -> None:
    room = await open_war_room(store)

    issue = await report_issue(
        uow=uow, now=NOW, draft=DRAFT, reporter=PRIYA, conversation=CHANNEL, form_id="form-1", card_activity_id="card-1"
    )

    assert (issue.number, issue.status, issue.severity, issue.reporter) == (1, Status.NEW, Severity.SEV2, PRIYA)
    assert issue.resolve_by == room.settings.policy.resolve_by(Severity.SEV2, raised_at=NOW, calendar=room.settings.calendar)
    assert store.issues == {issue.id: issue}
    assert [(e.verb, e.actor, e.to_value) for e in store.events_of(issue.id)] == [(CREATED, PRIYA, "Sev 2")]
    assert store.reminders[issue.id][1] == NOW  # the scheduler plans its reminders on its next pass
    assert uow.commits == 1


async def test_a_sev4_is_deferred_as_it_is_raised(uow: FakeUnitOfWork, store: FakeStore) -> None:
    issue = await report_issue(
        uow=uow, now=NOW, draft=DRAFT.model_copy(update={"severity": Severity.SEV4}), reporter=PRIYA, conversation=CHANNEL,
        form_id="form-1", card_activity_id=None,
    )

    assert store.issues[issue.id].status is Status.DEFERRED


async def test_the_same_form_submitted_again_returns_the_issue_it_made(uow: FakeUnitOfWork, store: FakeStore) -> None:
    first = await report_issue(uow=uow, now=NOW, draft=DRAFT, reporter=PRIYA, conversation=CHANNEL, form_id="form-1", card_activity_id=None)

    again = await report_issue(
        uow=uow, now=NOW + timedelta(seconds=1), draft=DRAFT, reporter=PRIYA, conversation=CHANNEL, form_id="form-1", card_activity_id=None
    )

    assert again == first
    assert list(store.issues) == [first.id] and len(store.events) == 1
    assert store.last_issue_numbers[1] == 1  # the number the second try drew was rolled back with it


async def test_after_sign_off_an_issue_is_refused_with_the_support_route_and_nothing_is_stored(
    uow: FakeUnitOfWork, store: FakeStore, room: WarRoom
) -> None:
    settings = room.settings.model_copy(update={"steady_state_support": "the IT service desk"})
    await open_war_room(store, settings=settings, signed_off_at=NOW - timedelta(days=1), signed_off_by=PRIYA)

    with pytest.raises(WarRoomClosed, match="the IT service desk"):
        await report_issue(uow=uow, now=NOW, draft=DRAFT, reporter=PRIYA, conversation=CHANNEL, form_id="form-1", card_activity_id=None)

    assert store.issues == {} and store.conversations == {} and uow.commits == 0


async def test_an_issue_needs_a_severity(uow: FakeUnitOfWork, store: FakeStore) -> None:
    with pytest.raises(ValueError, match="needs a severity"):
        await report_issue(
            uow=uow, now=NOW, draft=DRAFT.model_copy(update={"severity": None}), reporter=PRIYA, conversation=CHANNEL,
            form_id="form-1", card_activity_id=None,
        )

    assert store.war_rooms == {} and uow.commits == 0
