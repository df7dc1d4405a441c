"""bot/services/oncall.py on the in-memory unit of work: who is on call, an override, a rota; only a triage lead or admin."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.domain.model import Role
from bot.domain.results import Applied, Refused
from bot.domain.war_room import OnCall, OnCallOverride, OnCallRota, WarRoom
from bot.services.oncall import change_oncall, oncall_refusal, show_oncall
from tests.support.factories import OMAR, PRIYA, make_conversation
from tests.support.fakes import FakeStore, FakeUnitOfWork
from tests.support.scene import CHANNEL, LENA, NO_ADMINS, NOW

REFUSED = Refused(reason="To change who is on call you need the role triage_lead or admin.")


@pytest.fixture(autouse=True)
def lena_leads_triage(store: FakeStore, room: WarRoom) -> None:
    store.grant(room.id, LENA, Role.TRIAGE_LEAD)


async def test_a_triage_lead_may_change_who_is_on_call(uow: FakeUnitOfWork) -> None:
    assert await oncall_refusal(uow=uow, now=NOW, conversation=CHANNEL, actor=LENA, admins=NO_ADMINS) is None
    assert await oncall_refusal(uow=uow, now=NOW, conversation=CHANNEL, actor=PRIYA, admins=frozenset({"aad-priya"})) is None


async def test_anyone_else_is_refused_before_anyone_is_looked_up(uow: FakeUnitOfWork) -> None:
    assert await oncall_refusal(uow=uow, now=NOW, conversation=CHANNEL, actor=OMAR, admins=NO_ADMINS) == REFUSED


async def test_nobody_is_on_call_in_a_war_room_not_met_yet(uow: FakeUnitOfWork) -> None:
    view = await show_oncall(uow=uow, now=NOW, conversation=make_conversation(team_id="19:unknown"))

    assert view.on_call is None and view.oncall == OnCall()


async def test_an_override_until_a_local_time_is_stored_and_shown(uow: FakeUnitOfWork, store: FakeStore) -> None:
    result = await change_oncall(
        uow=uow, now=NOW, conversation=CHANNEL, actor=LENA, admins=NO_ADMINS, person=OMAR, until_local=datetime(2026, 11, 24, 18, 0)
    )

    assert isinstance(result, Applied) and result.message == "Omar Haddad is on call until 2026-11-24 18:00 (Europe/London)."
    assert store.war_rooms[1].oncall.override == OnCallOverride(person=OMAR, until=datetime(2026, 11, 24, 18, 0, tzinfo=UTC))
    assert (await show_oncall(uow=uow, now=NOW, conversation=CHANNEL)).on_call == OMAR
    assert uow.commits == 1  # showing who is on call writes nothing


async def test_an_end_time_already_past_is_refused_and_nothing_changes(uow: FakeUnitOfWork, store: FakeStore) -> None:
    result = await change_oncall(
        uow=uow, now=NOW, conversation=CHANNEL, actor=LENA, admins=NO_ADMINS, person=OMAR, until_local=datetime(2026, 11, 23, 8, 0)
    )

    assert result == Refused(reason="That end time has already passed.")
    assert store.war_rooms[1].oncall == OnCall() and uow.commits == 0


async def test_clearing_the_override_leaves_the_rota(uow: FakeUnitOfWork, store: FakeStore) -> None:
    rota = OnCallRota(people=(LENA,), starts=date(2026, 11, 16))
    store.war_rooms[1] = store.war_rooms[1].model_copy(update={"oncall": OnCall(override=OnCallOverride(person=OMAR), rota=rota)})

    result = await change_oncall(uow=uow, now=NOW, conversation=CHANNEL, actor=LENA, admins=NO_ADMINS)

    assert isinstance(result, Applied) and result.message == "The on-call override is cleared; the rota (if any) applies."
    assert store.war_rooms[1].oncall == OnCall(rota=rota)


async def test_a_rota_starts_with_its_first_person_at_the_latest_handover(uow: FakeUnitOfWork, store: FakeStore) -> None:
    result = await change_oncall(
        uow=uow, now=NOW, conversation=CHANNEL, actor=LENA, admins=NO_ADMINS, rota=(OMAR, PRIYA), handover_weekday=4,
        handover_time=time(17, 0),
    )

    assert isinstance(result, Applied)
    assert result.message == "On-call rota: Omar Haddad, Priya Shah, a week each, handing over 17:00 on Fridays."
    # Monday 23 November, 09:00: the latest Friday 17:00 handover was on the 20th.
    assert store.war_rooms[1].oncall.rota == OnCallRota(
        people=(OMAR, PRIYA), handover_weekday=4, handover_time=time(17, 0), starts=date(2026, 11, 20)
    )
    assert (await show_oncall(uow=uow, now=NOW, conversation=CHANNEL)).on_call == OMAR


async def test_someone_without_the_role_may_not_set_anyone_on_call(uow: FakeUnitOfWork, store: FakeStore) -> None:
    result = await change_oncall(uow=uow, now=NOW, conversation=CHANNEL, actor=OMAR, admins=NO_ADMINS, person=OMAR)

    assert result == REFUSED and store.war_rooms[1].oncall == OnCall() and uow.commits == 0
