"""bot/services/triage.py snooze_reminders on the in-memory unit of work."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.model import Role, Status
from bot.domain.reminders import ReminderState
from bot.domain.results import Applied, NotFound, Refused
from bot.domain.triage import SNOOZED
from bot.services.triage import snooze_reminders
from tests.support.clock import FrozenClock
from tests.support.factories import OMAR, PRIYA, make_conversation, make_issue
from tests.support.fakes import FakeStore, FakeUnitOfWork

NOW = FrozenClock().now()
CHANNEL = make_conversation()
NO_ADMINS: frozenset[str] = frozenset()


async def _war_room_with_issue(uow: FakeUnitOfWork, store: FakeStore, **overrides: object) -> int:
    async with uow:
        war_room_id = await uow.war_rooms.ensure(CHANNEL, now=NOW)
        await uow.commit()
    store.add_issue(make_issue(**({"war_room_id": war_room_id} | overrides)))
    store.roles[(war_room_id, OMAR.aad_object_id or "")] = (OMAR, frozenset({Role.ONCALL}))
    return war_room_id


async def test_on_call_snoozes_an_open_issue_until_now_plus_the_period(uow: FakeUnitOfWork, store: FakeStore) -> None:
    await _war_room_with_issue(uow, store)

    result = await snooze_reminders(uow=uow, now=NOW, conversation=CHANNEL, actor=OMAR, issue_id=1, period=timedelta(hours=2), admins=NO_ADMINS)

    until = NOW + timedelta(hours=2)
    assert isinstance(result, Applied) and result.event.verb == SNOOZED
    assert store.reminders[1] == (ReminderState(snoozed_until=until), until)
    assert [(issue_id, event.verb, event.actor) for issue_id, event in store.events] == [(1, SNOOZED, OMAR)]


async def test_someone_without_the_role_is_refused_and_the_reminders_stay(uow: FakeUnitOfWork, store: FakeStore) -> None:
    await _war_room_with_issue(uow, store)

    result = await snooze_reminders(uow=uow, now=NOW, conversation=CHANNEL, actor=PRIYA, issue_id=1, period=timedelta(hours=2), admins=NO_ADMINS)

    assert isinstance(result, Refused)
    assert result.reason == "To snooze reminders you need the role oncall or triage_lead."
    assert store.reminders[1] == (ReminderState(), None) and store.events == []


async def test_a_resolved_issue_gets_no_more_reminders(uow: FakeUnitOfWork, store: FakeStore) -> None:
    await _war_room_with_issue(uow, store, status=Status.RESOLVED)

    result = await snooze_reminders(uow=uow, now=NOW, conversation=CHANNEL, actor=OMAR, issue_id=1, period=timedelta(hours=2), admins=NO_ADMINS)

    assert isinstance(result, Refused) and result.reason == "#12 is resolved: no more reminders."


async def test_another_war_rooms_issue_is_not_found(uow: FakeUnitOfWork, store: FakeStore) -> None:
    await _war_room_with_issue(uow, store, war_room_id=99)

    result = await snooze_reminders(uow=uow, now=NOW, conversation=CHANNEL, actor=OMAR, issue_id=1, period=timedelta(hours=2), admins=NO_ADMINS)

    assert result == NotFound(reason="There is no issue like that in this war room.")
