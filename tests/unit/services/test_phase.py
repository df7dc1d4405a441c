"""bot/services/phase.py on the in-memory unit of work: set up, extend, sign off and withdraw; the figures."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.domain.model import Role, Severity, Status
from bot.domain.results import Applied, Refused
from bot.domain.war_room import WarRoom, WarRoomSettings
from bot.services.phase import configure, extend, phase_figures, phase_view, sign_off, withdraw_sign_off
from tests.support.factories import OMAR, PRIYA, make_issue
from tests.support.fakes import FakeStore, FakeUnitOfWork
from tests.support.scene import CHANNEL, LENA, NO_ADMINS, NOW, resolved_by_support

ADMINS = frozenset({"aad-priya"})
# Lena is leadership; Priya an admin named by the operator; Omar neither.
PHASE = WarRoomSettings(starts_on=date(2026, 11, 2), ends_on=date(2026, 11, 27), steady_state_support="the IT service desk")


@pytest.fixture(autouse=True)
def phase(store: FakeStore, room: WarRoom) -> None:
    store.grant(room.id, LENA, Role.LEADERSHIP)
    store.war_rooms[room.id] = room.model_copy(update={"settings": PHASE})


async def test_the_phase_view_holds_the_war_room_its_issues_and_the_exit_report(uow: FakeUnitOfWork, store: FakeStore) -> None:
    store.add_issue(make_issue())

    view = await phase_view(uow=uow, now=NOW, conversation=CHANNEL)

    assert view.room == store.war_rooms[1] and [issue.id for issue in view.issues] == [1]
    assert [c.key for c in view.report.criteria if not c.passed] == ["sev1", "support_share"]


async def test_an_admin_saves_the_settings_and_the_change_is_recorded(uow: FakeUnitOfWork, store: FakeStore) -> None:
    settings = PHASE.model_copy(update={"ends_on": date(2026, 12, 4)})

    result = await configure(uow=uow, now=NOW, conversation=CHANNEL, actor=PRIYA, settings=settings, admins=ADMINS)

    assert isinstance(result, Applied) and result.message == "War room settings saved." and result.subject.room.settings == settings
    assert store.war_rooms[1].settings == settings and store.war_rooms[1].next_standup_at == settings.next_standup_at(NOW)
    [(war_room_id, event)] = store.war_room_events
    assert (war_room_id, event.verb, event.from_value, event.to_value) == (1, "setup", "2026-11-02 → 2026-11-27", "2026-11-02 → 2026-12-04")
    assert uow.commits == 1


async def test_only_an_admin_sets_up_the_war_room(uow: FakeUnitOfWork, store: FakeStore) -> None:
    result = await configure(uow=uow, now=NOW, conversation=CHANNEL, actor=LENA, settings=WarRoomSettings(), admins=ADMINS)

    assert result == Refused(reason="To set up the war room you need the role admin.")
    assert store.war_rooms[1].settings == PHASE and store.war_room_events == [] and uow.commits == 0


async def test_leadership_extends_by_weeks_and_the_war_room_is_told(uow: FakeUnitOfWork, store: FakeStore) -> None:
    result = await extend(uow=uow, now=NOW, conversation=CHANNEL, actor=LENA, reason="integration fixes in test", weeks=2, admins=NO_ADMINS)

    assert isinstance(result, Applied) and result.subject.ends_on == date(2026, 12, 11)
    assert result.message == "Hypercare now ends on Friday 11 December 2026."
    assert result.announcement == "Lena Berg moved the end of hypercare to Friday 11 December 2026: integration fixes in test"
    assert store.war_rooms[1].settings.ends_on == date(2026, 12, 11)
    assert [(e.verb, e.from_value, e.to_value, e.reason) for _, e in store.war_room_events] == [
        ("extend", "2026-11-27", "2026-12-11", "integration fixes in test")
    ]


@pytest.mark.parametrize(
    ("until", "reason"),
    [
        (date(2026, 11, 1), "The end must be after the start (2026-11-02)."),
        (date(2026, 11, 20), "The new end is in the past."),
        (date(2027, 12, 1), "The end was not moved: hypercare lasts at most a year: the planned end must be within a year of the start."),
    ],
)
async def test_an_end_that_cannot_be_is_refused_and_the_old_end_stays(uow: FakeUnitOfWork, store: FakeStore, until: date, reason: str) -> None:
    result = await extend(uow=uow, now=NOW, conversation=CHANNEL, actor=LENA, reason="why", until=until, admins=NO_ADMINS)

    assert result == Refused(reason=reason)
    assert store.war_rooms[1].settings.ends_on == date(2026, 11, 27) and store.war_room_events == []


async def test_someone_without_the_role_may_not_move_the_end(uow: FakeUnitOfWork, store: FakeStore) -> None:
    result = await extend(uow=uow, now=NOW, conversation=CHANNEL, actor=OMAR, reason="why", weeks=1, admins=NO_ADMINS)

    assert result == Refused(reason="To move the end of hypercare you need the role admin or leadership.") and uow.commits == 0


async def test_leadership_signs_off_once_the_criteria_pass(uow: FakeUnitOfWork, store: FakeStore) -> None:
    store.add_issue(resolved_by_support())

    result = await sign_off(uow=uow, now=NOW, conversation=CHANNEL, actor=LENA, admins=NO_ADMINS)

    assert isinstance(result, Applied) and result.message == "Hypercare is signed off."
    assert result.announcement == "Hypercare is signed off by Lena Berg: the exit criteria are met. New problems go to the IT service desk."
    assert (store.war_rooms[1].signed_off_at, store.war_rooms[1].signed_off_by) == (NOW, LENA)
    assert result.subject.room.signed_off_by == LENA
    assert [e.verb for _, e in store.war_room_events] == ["signoff"] and uow.commits == 1


async def test_no_sign_off_while_a_criterion_fails(uow: FakeUnitOfWork, store: FakeStore) -> None:
    store.add_issue(resolved_by_support())
    store.add_issue(make_issue(id=2, number=13, severity=Severity.SEV1, status=Status.IN_PROGRESS))

    result = await sign_off(uow=uow, now=NOW, conversation=CHANNEL, actor=LENA, admins=NO_ADMINS)

    assert isinstance(result, Refused) and result.reason == "Not yet: No open Sev 1." and result.subject is not None
    assert store.war_rooms[1].signed_off_at is None and store.war_room_events == []


async def test_a_second_sign_off_is_refused_naming_the_first(uow: FakeUnitOfWork, store: FakeStore) -> None:
    store.war_rooms[1] = store.war_rooms[1].model_copy(update={"signed_off_at": NOW - timedelta(days=1), "signed_off_by": PRIYA})

    result = await sign_off(uow=uow, now=NOW, conversation=CHANNEL, actor=LENA, admins=NO_ADMINS)

    assert isinstance(result, Refused) and result.reason == "Already signed off by Priya Shah." and store.war_rooms[1].signed_off_by == PRIYA


async def test_only_leadership_signs_off(uow: FakeUnitOfWork, store: FakeStore) -> None:
    store.add_issue(resolved_by_support())

    result = await sign_off(uow=uow, now=NOW, conversation=CHANNEL, actor=PRIYA, admins=ADMINS)

    assert result == Refused(reason="To sign off hypercare you need the role leadership.") and store.war_rooms[1].signed_off_at is None


async def test_leadership_withdraws_the_sign_off_with_a_reason(uow: FakeUnitOfWork, store: FakeStore) -> None:
    store.war_rooms[1] = store.war_rooms[1].model_copy(update={"signed_off_at": NOW - timedelta(days=1), "signed_off_by": LENA})

    result = await withdraw_sign_off(uow=uow, now=NOW, conversation=CHANNEL, actor=LENA, reason="payroll run failed", admins=NO_ADMINS)

    assert isinstance(result, Applied) and result.announcement == "Lena Berg withdrew the hypercare sign-off: payroll run failed"
    assert (store.war_rooms[1].signed_off_at, store.war_rooms[1].signed_off_by) == (None, None)
    assert [(e.verb, e.reason) for _, e in store.war_room_events] == [("withdraw", "payroll run failed")]


async def test_there_is_nothing_to_withdraw_before_a_sign_off(uow: FakeUnitOfWork, store: FakeStore) -> None:
    result = await withdraw_sign_off(uow=uow, now=NOW, conversation=CHANNEL, actor=LENA, reason="why", admins=NO_ADMINS)

    assert result == Refused(reason="Hypercare is not signed off.") and store.war_room_events == []


async def test_only_leadership_withdraws_the_sign_off(uow: FakeUnitOfWork, store: FakeStore) -> None:
    store.war_rooms[1] = store.war_rooms[1].model_copy(update={"signed_off_at": NOW, "signed_off_by": LENA})

    result = await withdraw_sign_off(uow=uow, now=NOW, conversation=CHANNEL, actor=OMAR, reason="why", admins=NO_ADMINS)

    assert result == Refused(reason="To withdraw the sign-off you need the role leadership.")
    assert store.war_rooms[1].signed_off_by == LENA


async def test_the_figures_of_a_war_room_and_none_for_an_unknown_one(uow: FakeUnitOfWork, store: FakeStore) -> None:
    store.add_issue(resolved_by_support())

    figures = await phase_figures(uow=uow, now=NOW, war_room_id=1)

    assert figures is not None and figures.room.id == 1 and [issue.id for issue in figures.issues] == [1]
    assert figures.report.measured_pass
    assert await phase_figures(uow=uow, now=NOW, war_room_id=99) is None
