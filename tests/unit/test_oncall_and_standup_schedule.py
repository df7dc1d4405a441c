"""Who is on call (override, weekly rota across daylight-saving changes) and when the next stand-up is."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.domain.calendar import WorkingCalendar
from bot.domain.model import Person
from bot.domain.war_room import OnCall, OnCallOverride, OnCallRota, WarRoomSettings
from tests.support.factories import OMAR, PRIYA

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")
CAL = WorkingCalendar()
RAVI = Person(aad_object_id="aad-ravi", name="Ravi Menon")
LENA = Person(aad_object_id="aad-lena", name="Lena Fischer")


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def rota(starts: date, *people: Person, weekday: int = 0, at: time = time(9)) -> OnCallRota:
    return OnCallRota(people=people, handover_weekday=weekday, handover_time=at, starts=starts)


# -- overrides -------------------------------------------------------------------------------------


def test_nobody_is_on_call_without_override_or_rota() -> None:
    assert OnCall().on_call(utc(2026, 11, 23, 12), CAL) is None


def test_override_without_until_wins_for_ever_even_over_a_rota() -> None:
    oncall = OnCall(override=OnCallOverride(person=LENA), rota=rota(date(2026, 11, 2), PRIYA, OMAR))
    for now in (utc(2026, 11, 1), utc(2026, 11, 23, 12), utc(2030, 1, 1)):
        assert oncall.on_call(now, CAL) == LENA


def test_override_with_until_wins_until_then_and_the_rota_takes_over() -> None:
    until = utc(2026, 11, 25, 18)
    oncall = OnCall(override=OnCallOverride(person=LENA, until=until), rota=rota(date(2026, 11, 2), PRIYA, OMAR))
    assert oncall.on_call(until - timedelta(seconds=1), CAL) == LENA
    # Week of Monday 23 November is the rota's fourth: people[3 % 2] = Omar.
    assert oncall.on_call(until, CAL) == OMAR
    assert oncall.on_call(until + timedelta(days=1), CAL) == OMAR


def test_an_expired_override_without_a_rota_leaves_nobody() -> None:
    oncall = OnCall(override=OnCallOverride(person=LENA, until=utc(2026, 11, 20)))
    assert oncall.on_call(utc(2026, 11, 19, 23, 59), CAL) == LENA
    assert oncall.on_call(utc(2026, 11, 20), CAL) is None


# -- the weekly rota -------------------------------------------------------------------------------


def test_before_the_rota_starts_nobody_is_on_call() -> None:
    oncall = OnCall(rota=rota(date(2026, 11, 23), PRIYA, OMAR))
    assert oncall.on_call(utc(2026, 11, 1), CAL) is None
    assert oncall.on_call(utc(2026, 11, 23, 8, 59), CAL) is None  # the first handover is 09:00 that Monday
    assert oncall.on_call(utc(2026, 11, 23, 9, 0), CAL) == PRIYA


def test_rota_turns_week_by_week_at_the_handover_time() -> None:
    oncall = OnCall(rota=rota(date(2026, 11, 2), PRIYA, OMAR, RAVI))
    expected = {
        utc(2026, 11, 2, 9): PRIYA,
        utc(2026, 11, 4, 23): PRIYA,
        utc(2026, 11, 8, 23, 59): PRIYA,  # Sunday night: still Priya's week
        utc(2026, 11, 9, 8, 59): PRIYA,  # Monday just before the handover
        utc(2026, 11, 9, 9, 0): OMAR,
        utc(2026, 11, 16, 8, 59): OMAR,
        utc(2026, 11, 16, 9, 0): RAVI,
        utc(2026, 11, 23, 9, 0): PRIYA,  # and round again
        utc(2026, 11, 30, 12, 0): OMAR,
        utc(2026, 12, 7, 12, 0): RAVI,
    }
    assert {now: oncall.on_call(now, CAL) for now in expected} == expected


def test_rota_hands_over_at_0900_london_across_the_march_change() -> None:
    # Starts Monday 16 March (GMT); the third handover, Monday 30 March, is 09:00 BST = 08:00 UTC.
    oncall = OnCall(rota=rota(date(2026, 3, 16), PRIYA, OMAR, RAVI))
    assert oncall.on_call(utc(2026, 3, 16, 9), CAL) == PRIYA
    assert oncall.on_call(utc(2026, 3, 23, 9), CAL) == OMAR
    assert oncall.on_call(utc(2026, 3, 30, 7, 59), CAL) == OMAR
    assert oncall.on_call(utc(2026, 3, 30, 8, 0), CAL) == RAVI  # an hour "early" in UTC
    assert oncall.on_call(local(LONDON, 2026, 3, 30, 9, 0), CAL) == RAVI
    assert oncall.on_call(utc(2026, 4, 6, 7, 59), CAL) == RAVI
    assert oncall.on_call(utc(2026, 4, 6, 8, 0), CAL) == PRIYA


def test_rota_hands_over_at_0900_london_across_the_october_change() -> None:
    oncall = OnCall(rota=rota(date(2026, 10, 12), PRIYA, OMAR))
    assert oncall.on_call(utc(2026, 10, 19, 8, 0), CAL) == OMAR  # 09:00 BST
    assert oncall.on_call(utc(2026, 10, 26, 8, 30), CAL) == OMAR  # 08:30 GMT: not yet
    assert oncall.on_call(utc(2026, 10, 26, 9, 0), CAL) == PRIYA  # 09:00 GMT


def test_rota_in_sydney_hands_over_on_monday_local_which_is_sunday_utc() -> None:
    sydney = WorkingCalendar(time_zone="Australia/Sydney")
    oncall = OnCall(rota=rota(date(2026, 11, 2), PRIYA, OMAR))
    # Monday 9 November 09:00 AEDT = Sunday 8 November 22:00 UTC.
    assert oncall.on_call(utc(2026, 11, 8, 21, 59), sydney) == PRIYA
    assert oncall.on_call(utc(2026, 11, 8, 22, 0), sydney) == OMAR
    assert oncall.on_call(local(SYDNEY, 2026, 11, 9, 9), sydney) == OMAR
    assert oncall.on_call(utc(2026, 11, 1, 21, 59), sydney) is None  # before the first handover


def test_rota_with_another_handover_day_and_time() -> None:
    # Friday 17:00 handovers, starting Friday 6 November.
    oncall = OnCall(rota=rota(date(2026, 11, 6), PRIYA, OMAR, weekday=4, at=time(17)))
    assert oncall.on_call(utc(2026, 11, 6, 16, 59), CAL) is None
    assert oncall.on_call(utc(2026, 11, 6, 17), CAL) == PRIYA
    assert oncall.on_call(utc(2026, 11, 13, 16, 59), CAL) == PRIYA
    assert oncall.on_call(utc(2026, 11, 13, 17), CAL) == OMAR
    assert oncall.on_call(utc(2026, 11, 16, 10), CAL) == OMAR


def test_one_person_rota_is_always_that_person_once_started() -> None:
    oncall = OnCall(rota=rota(date(2026, 1, 5), LENA))
    for week in range(0, 60, 7):
        assert oncall.on_call(utc(2026, 1, 5, 9) + timedelta(weeks=week), CAL) == LENA


def test_rota_that_does_not_start_on_its_handover_weekday_is_rejected() -> None:
    with pytest.raises(ValidationError, match="the rota must start on its handover weekday"):
        OnCall(rota=rota(date(2026, 11, 3), PRIYA, OMAR))  # a Tuesday, handover on Mondays
    with pytest.raises(ValidationError, match="the rota must start on its handover weekday"):
        OnCall(rota=rota(date(2026, 11, 2), PRIYA, weekday=4))  # a Monday, handover on Fridays


def test_rota_needs_people_and_a_real_weekday() -> None:
    with pytest.raises(ValidationError):
        OnCallRota(people=(), starts=date(2026, 11, 2))
    with pytest.raises(ValidationError):
        OnCallRota(people=(PRIYA,), handover_weekday=7, starts=date(2026, 11, 2))


# -- next stand-up ---------------------------------------------------------------------------------

SETTINGS = WarRoomSettings()  # London, stand-up at 09:00


def test_next_standup_later_the_same_working_day() -> None:
    assert SETTINGS.next_standup_at(utc(2026, 11, 23, 7)) == utc(2026, 11, 23, 9)
    assert SETTINGS.next_standup_at(utc(2026, 11, 23, 8, 59)) == utc(2026, 11, 23, 9)


def test_next_standup_is_strictly_after() -> None:
    assert SETTINGS.next_standup_at(utc(2026, 11, 23, 9)) == utc(2026, 11, 24, 9)
    assert SETTINGS.next_standup_at(utc(2026, 11, 23, 9) + timedelta(microseconds=1)) == utc(2026, 11, 24, 9)


@pytest.mark.parametrize(
    "after",
    [utc(2026, 11, 20, 9), utc(2026, 11, 20, 23, 59), utc(2026, 11, 21, 9), utc(2026, 11, 22, 12), utc(2026, 11, 23, 8)],
)
def test_next_standup_skips_the_weekend(after: datetime) -> None:
    assert SETTINGS.next_standup_at(after) == utc(2026, 11, 23, 9)


def test_next_standup_across_the_march_change() -> None:
    assert SETTINGS.next_standup_at(utc(2026, 3, 27, 10)) == utc(2026, 3, 30, 8) == local(LONDON, 2026, 3, 30, 9)


def test_next_standup_across_the_october_change() -> None:
    assert SETTINGS.next_standup_at(utc(2026, 10, 23, 10)) == utc(2026, 10, 26, 9) == local(LONDON, 2026, 10, 26, 9)
    # 08:30 UTC on Monday is 08:30 GMT: the stand-up is still to come that day.
    assert SETTINGS.next_standup_at(utc(2026, 10, 26, 8, 30)) == utc(2026, 10, 26, 9)


def test_next_standup_in_new_york_uses_the_local_date_and_time() -> None:
    settings = WarRoomSettings(calendar=WorkingCalendar(time_zone="America/New_York"), standup_time=time(9, 30))
    # Monday 02:00 UTC is Sunday 21:00 EST: the next stand-up is Monday 09:30 EST.
    assert settings.next_standup_at(utc(2026, 11, 23, 2)) == utc(2026, 11, 23, 14, 30)
    # Across the March change (8 March): Friday 6th after the stand-up -> Monday 9th 09:30 EDT.
    assert settings.next_standup_at(local(NEW_YORK, 2026, 3, 6, 10)) == local(NEW_YORK, 2026, 3, 9, 9, 30) == utc(2026, 3, 9, 13, 30)


def test_next_standup_in_sydney_can_fall_on_a_sunday_in_utc() -> None:
    settings = WarRoomSettings(calendar=WorkingCalendar(time_zone="Australia/Sydney"))
    # Friday 20 November 09:00 AEDT has passed; next is Monday 23rd 09:00 AEDT = Sunday 22nd 22:00 UTC.
    assert settings.next_standup_at(utc(2026, 11, 20, 12)) == utc(2026, 11, 22, 22)
    # Across Sydney's April change: Friday 3 April (AEDT) -> Monday 6 April 09:00 AEST = Sunday 23:00 UTC.
    assert settings.next_standup_at(local(SYDNEY, 2026, 4, 3, 10)) == utc(2026, 4, 5, 23)


def test_next_standup_on_a_sunday_to_thursday_week() -> None:
    settings = WarRoomSettings(calendar=WorkingCalendar(time_zone="Asia/Dubai", working_days=frozenset({6, 0, 1, 2, 3})))
    # Thursday 19 November after the stand-up -> Sunday 22nd 09:00 (UTC+4).
    assert settings.next_standup_at(utc(2026, 11, 19, 6)) == utc(2026, 11, 22, 5)


def test_next_standup_with_one_working_day_a_week_is_a_week_later() -> None:
    settings = WarRoomSettings(calendar=WorkingCalendar(working_days=frozenset({0})))
    assert settings.next_standup_at(utc(2026, 11, 23, 9)) == utc(2026, 11, 30, 9)
