"""bot/services/signoff.py and the sign-off commands through bot/services/triage.py, on the in-memory unit of work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.events import AUTO_CLOSED
from bot.domain.model import Confirmation, Person, ResolutionType, Role, Severity, Status
from bot.domain.results import Applied, Refused, Stale
from bot.domain.signoff import AUTO_CLOSER
from bot.domain.triage import ConfirmFix, Resolve, StillBroken
from bot.domain.war_room import WarRoom, WarRoomSettings
from bot.services.signoff import close_unconfirmed
from bot.services.standup import redraw_standup
from bot.services.triage import triage_issue
from tests.support.factories import OMAR, PRIYA, make_issue
from tests.support.fakes import FakeStore, FakeUnitOfWork
from tests.support.scene import CHANNEL, LENA, NO_ADMINS, NOW, open_war_room, resolved_by_support

SARA = Person(aad_object_id="aad-sara", name="Sara Lind")
CLOSES = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def people(store: FakeStore, room: WarRoom) -> None:
    store.grant(room.id, OMAR, Role.ONCALL)
    store.grant(room.id, LENA, Role.TRIAGE_LEAD)
    store.grant(room.id, SARA, Role.SUPPORT)


def waiting(**overrides: object) -> dict[str, object]:
    issue = resolved_by_support(**overrides)
    assert issue.resolution is not None
    return {"resolution": issue.resolution.model_copy(update={"close_by": CLOSES})} | {"status": Status.RESOLVED}


async def test_resolving_waits_for_confirmation_for_the_war_rooms_working_days(store: FakeStore, room: WarRoom, uow: FakeUnitOfWork) -> None:
    store.war_rooms[room.id] = room.model_copy(update={"settings": WarRoomSettings(auto_close_working_days=2)})
    store.add_issue(make_issue(status=Status.IN_PROGRESS))

    result = await triage_issue(uow=uow, now=NOW, conversation=CHANNEL, actor=OMAR, number=12, admins=NO_ADMINS,
                                command=Resolve(notes="Recreated the profile", resolution_type=ResolutionType.FIXED))

    assert isinstance(result, Applied)
    stored = store.issues[1]
    assert stored.awaiting_confirmation and stored.resolution is not None
    assert stored.resolution.close_by == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # Monday 09:00 + 2 working days


async def test_the_reporters_fixed_for_me_closes_it_once_and_a_resent_click_is_stale(store: FakeStore, uow: FakeUnitOfWork) -> None:
    store.add_issue(make_issue(**waiting(), version=3))

    first = await triage_issue(uow=uow, now=NOW, conversation=CHANNEL, actor=PRIYA, issue_id=1, card_version=3, command=ConfirmFix(),
                               admins=NO_ADMINS)
    again = await triage_issue(uow=uow, now=NOW, conversation=CHANNEL, actor=PRIYA, issue_id=1, card_version=3, command=ConfirmFix(),
                               admins=NO_ADMINS)

    assert isinstance(first, Applied) and first.subject.status_text == "Closed, confirmed"
    assert store.issues[1].resolution is not None and store.issues[1].resolution.confirmation == Confirmation(at=NOW, by=PRIYA)
    assert [event.verb for event in store.events_of(1)] == ["confirm"]
    assert again == Stale(subject=store.issues[1], change=None)  # Teams delivered the same click twice


async def test_a_stale_card_says_who_answered_first(store: FakeStore, uow: FakeUnitOfWork) -> None:
    store.add_issue(make_issue(**waiting()))
    await triage_issue(uow=uow, now=NOW, conversation=CHANNEL, actor=SARA, issue_id=1, card_version=1, command=ConfirmFix(), admins=NO_ADMINS)

    late = await triage_issue(uow=uow, now=NOW + timedelta(minutes=2), conversation=CHANNEL, actor=PRIYA, issue_id=1, card_version=1,
                              command=StillBroken(text="fails again"), admins=NO_ADMINS)

    assert isinstance(late, Stale) and late.change == "Sara Lind confirmed the fix of this 2 minutes ago."
    assert store.issues[1].status is Status.RESOLVED


async def test_still_broken_reopens_it_and_plans_its_reminders_again(store: FakeStore, uow: FakeUnitOfWork) -> None:
    store.add_issue(make_issue(**waiting()))

    result = await triage_issue(uow=uow, now=NOW, conversation=CHANNEL, actor=PRIYA, number=12, command=StillBroken(text="Still fails"),
                                admins=NO_ADMINS)

    assert isinstance(result, Applied) and result.notify == (OMAR,)
    assert store.issues[1].status is Status.REOPENED and store.reminders[1][1] == NOW


async def test_someone_else_is_refused_and_nothing_changes(store: FakeStore, uow: FakeUnitOfWork) -> None:
    store.add_issue(make_issue(**waiting()))

    result = await triage_issue(uow=uow, now=NOW, conversation=CHANNEL, actor=OMAR, number=12, command=ConfirmFix(), admins=NO_ADMINS)

    assert isinstance(result, Refused) and "support or triage_lead" in result.reason
    assert store.issues[1].awaiting_confirmation and store.events_of(1) == []


async def test_unconfirmed_resolutions_close_when_due_and_the_history_says_so(store: FakeStore, room: WarRoom) -> None:
    store.war_rooms[room.id] = room.model_copy(update={"settings": WarRoomSettings(auto_close_working_days=4)})
    store.add_issue(make_issue(**waiting()))
    later = waiting()["resolution"].model_copy(update={"close_by": CLOSES + timedelta(hours=1)})  # type: ignore[attr-defined]
    store.add_issue(make_issue(id=2, number=13, status=Status.RESOLVED, resolution=later))
    store.add_issue(make_issue(id=3, number=14, status=Status.IN_PROGRESS))

    assert await close_unconfirmed(uow=FakeUnitOfWork(store), now=CLOSES - timedelta(seconds=1), limit=10) == []
    closed = await close_unconfirmed(uow=FakeUnitOfWork(store), now=CLOSES, limit=10)

    assert [issue.number for issue in closed] == [12]
    assert store.issues[1].status_text == "Closed automatically" and store.issues[2].awaiting_confirmation
    [event] = store.events_of(1)
    assert (event.verb, event.actor, event.at) == (AUTO_CLOSED, AUTO_CLOSER, CLOSES)
    assert event.reason == "Nobody confirmed it or said it was still broken within 4 working days."
    assert await close_unconfirmed(uow=FakeUnitOfWork(store), now=CLOSES, limit=10) == []  # once


async def test_the_stand_up_redrawn_counts_from_its_own_since_and_lists_what_waits(store: FakeStore, uow: FakeUnitOfWork) -> None:
    store.add_issue(make_issue(**waiting(severity=Severity.SEV1)))
    store.add_issue(make_issue(id=2, number=13, status=Status.NEW, created_at=NOW - timedelta(days=2)))

    redrawn = await redraw_standup(uow=uow, now=NOW, conversation=CHANNEL, since=NOW - timedelta(days=1))
    assert redrawn is not None
    summary = redrawn.summary

    assert summary is not None and summary.since == NOW - timedelta(days=1)
    assert [issue.number for issue in summary.sign_off] == [12]
    assert [issue.number for issue in summary.new] == [12]  # #13 was raised before that stand-up
    assert summary.exit_report is not None and not summary.exit_report.criteria[0].passed  # the Sev 1 is not confirmed


async def test_the_first_stand_up_redrawn_counts_from_the_start_not_from_when_it_was_posted(store: FakeStore, uow: FakeUnitOfWork) -> None:
    store.war_rooms[1] = store.war_rooms[1].model_copy(update={"last_standup_at": NOW - timedelta(hours=1)})
    store.add_issue(make_issue(id=2, number=13, status=Status.NEW, created_at=NOW - timedelta(days=2)))

    redrawn = await redraw_standup(uow=uow, now=NOW, conversation=CHANNEL, since=None)  # the card's own: none before it

    assert redrawn is not None and redrawn.summary.since is None
    assert [issue.number for issue in redrawn.summary.new] == [13]
