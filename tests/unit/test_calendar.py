"""Working time: which instants count, across weekends, daylight-saving changes and other zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.domain.calendar import WorkingCalendar

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
SYDNEY = ZoneInfo("Australia/Sydney")
JERUSALEM = ZoneInfo("Asia/Jerusalem")

CAL = WorkingCalendar()  # Europe/London, Monday to Friday, 08:00 to 18:00
SUN_TO_THU = frozenset({6, 0, 1, 2, 3})


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """The aware UTC instant of a local wall-clock time."""
    return datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


H = timedelta(hours=1)
M = timedelta(minutes=1)


# -- the defaults ----------------------------------------------------------------------------------


def test_defaults_are_london_monday_to_friday_eight_to_six() -> None:
    assert CAL.time_zone == "Europe/London"
    assert CAL.working_days == frozenset({0, 1, 2, 3, 4})
    assert (CAL.day_start, CAL.day_end) == (time(8), time(18))
    assert CAL.working_day_length == 10 * H


def test_working_day_length_follows_the_configured_hours() -> None:
    assert WorkingCalendar(day_start=time(9, 30), day_end=time(17, 15)).working_day_length == timedelta(hours=7, minutes=45)


def test_local_date_uses_the_zone_not_utc() -> None:
    # 23:30 UTC on a summer Sunday is already Monday in London; in winter it is still Sunday.
    assert CAL.local_date(utc(2026, 6, 7, 23, 30)) == date(2026, 6, 8)
    assert CAL.local_date(utc(2026, 1, 11, 23, 30)) == date(2026, 1, 11)


def test_at_local_gives_the_utc_instant_of_a_local_wall_clock_time() -> None:
    assert CAL.at_local(date(2026, 1, 12), time(9)) == utc(2026, 1, 12, 9)
    assert CAL.at_local(date(2026, 7, 13), time(9)) == utc(2026, 7, 13, 8)
    assert CAL.at_local(date(2026, 7, 13), time(9)).utcoffset() == timedelta(0)


def test_next_working_day_skips_the_weekend() -> None:
    assert CAL.next_working_day(date(2026, 11, 20)) == date(2026, 11, 23)  # Friday -> Monday
    assert CAL.next_working_day(date(2026, 11, 21)) == date(2026, 11, 23)  # Saturday -> Monday
    assert CAL.next_working_day(date(2026, 11, 23)) == date(2026, 11, 24)  # Monday -> Tuesday (strictly after)


# -- add: the Sev2 case across weekends and daylight-saving changes ---------------------------------


def test_two_working_hours_from_friday_half_past_five_is_monday_half_past_nine() -> None:
    start = local(LONDON, 2026, 11, 20, 17, 30)
    result = CAL.add(start, 2 * H)
    assert result == local(LONDON, 2026, 11, 23, 9, 30)
    assert result == utc(2026, 11, 23, 9, 30)
    assert result.utcoffset() == timedelta(0)


def test_two_working_hours_across_the_march_change() -> None:
    start = utc(2026, 3, 27, 17, 30)  # Friday 17:30 GMT
    assert start == local(LONDON, 2026, 3, 27, 17, 30)
    result = CAL.add(start, 2 * H)
    assert result == local(LONDON, 2026, 3, 30, 9, 30)  # Monday 09:30 BST
    assert result == utc(2026, 3, 30, 8, 30)


def test_two_working_hours_across_the_october_change() -> None:
    start = utc(2026, 10, 23, 16, 30)  # Friday 17:30 BST
    assert start == local(LONDON, 2026, 10, 23, 17, 30)
    result = CAL.add(start, 2 * H)
    assert result == local(LONDON, 2026, 10, 26, 9, 30)  # Monday 09:30 GMT
    assert result == utc(2026, 10, 26, 9, 30)


def test_add_starting_before_opening_counts_from_opening() -> None:
    assert CAL.add(local(LONDON, 2026, 11, 23, 6, 0), H) == local(LONDON, 2026, 11, 23, 9, 0)
    # Summer: 06:30 UTC is 07:30 BST, still before opening.
    assert CAL.add(utc(2026, 7, 13, 6, 30), 30 * M) == utc(2026, 7, 13, 7, 30)


@pytest.mark.parametrize(
    "start",
    [
        local(LONDON, 2026, 11, 21, 12, 0),  # Saturday noon
        local(LONDON, 2026, 11, 22, 23, 59),  # Sunday just before midnight
        local(LONDON, 2026, 11, 20, 22, 0),  # Friday night
    ],
)
def test_add_starting_at_the_weekend_counts_from_monday_opening(start: datetime) -> None:
    assert CAL.add(start, H) == local(LONDON, 2026, 11, 23, 9, 0)


def test_add_starting_exactly_at_closing_continues_next_working_day() -> None:
    assert CAL.add(local(LONDON, 2026, 11, 20, 18, 0), H) == local(LONDON, 2026, 11, 23, 9, 0)
    assert CAL.add(local(LONDON, 2026, 11, 24, 18, 0), H) == local(LONDON, 2026, 11, 25, 9, 0)


def test_add_that_exactly_fills_the_day_ends_at_closing_not_next_morning() -> None:
    assert CAL.add(local(LONDON, 2026, 11, 20, 17, 0), H) == local(LONDON, 2026, 11, 20, 18, 0)
    assert CAL.add(local(LONDON, 2026, 11, 23, 8, 0), 10 * H) == local(LONDON, 2026, 11, 23, 18, 0)


def test_add_over_several_days_and_a_weekend() -> None:
    # Wednesday 10:00: 8h Wednesday, 10h Thursday, 10h Friday, then 2h on Monday.
    assert CAL.add(local(LONDON, 2026, 11, 18, 10, 0), 30 * H) == local(LONDON, 2026, 11, 23, 10, 0)


def test_ten_working_days_is_two_weeks_later_on_a_monday_to_friday_calendar() -> None:
    start = local(LONDON, 2026, 11, 23, 9, 5)
    assert CAL.add(start, 10 * CAL.working_day_length) == local(LONDON, 2026, 12, 7, 9, 5)


def test_ten_working_days_across_the_march_change_keeps_local_time() -> None:
    start = local(LONDON, 2026, 3, 23, 9, 5)  # GMT
    result = CAL.add(start, 10 * CAL.working_day_length)
    assert result == local(LONDON, 2026, 4, 6, 9, 5)  # BST
    assert result == utc(2026, 4, 6, 8, 5)


def test_add_is_monotonic_in_duration() -> None:
    start = local(LONDON, 2026, 3, 26, 16, 0)
    results = [CAL.add(start, n * 10 * M) for n in range(0, 200)]
    assert results == sorted(results)


# -- between ---------------------------------------------------------------------------------------


def test_between_is_zero_when_end_is_not_after_start() -> None:
    moment = local(LONDON, 2026, 11, 23, 10)
    assert CAL.between(moment, moment) == timedelta(0)
    assert CAL.between(moment, moment - H) == timedelta(0)


def test_between_outside_working_hours_is_zero() -> None:
    assert CAL.between(local(LONDON, 2026, 11, 20, 18), local(LONDON, 2026, 11, 23, 8)) == timedelta(0)
    assert CAL.between(local(LONDON, 2026, 11, 23, 19), local(LONDON, 2026, 11, 24, 7, 59)) == timedelta(0)


def test_between_across_a_weekend_is_the_sum_of_working_windows() -> None:
    # Friday 12:00 -> Tuesday 12:00: 6h Friday + 10h Monday + 4h Tuesday.
    assert CAL.between(local(LONDON, 2026, 11, 20, 12), local(LONDON, 2026, 11, 24, 12)) == 20 * H


def test_between_across_the_march_change_is_the_sum_of_working_windows() -> None:
    start = local(LONDON, 2026, 3, 27, 12)  # Friday 12:00 GMT
    end = local(LONDON, 2026, 3, 31, 12)  # Tuesday 12:00 BST
    assert end - start == timedelta(days=4) - H  # one hour shorter in real time...
    assert CAL.between(start, end) == 20 * H  # ...but the same working time


def test_between_across_the_october_change_is_the_sum_of_working_windows() -> None:
    start = local(LONDON, 2026, 10, 23, 12)  # Friday 12:00 BST
    end = local(LONDON, 2026, 10, 27, 12)  # Tuesday 12:00 GMT
    assert end - start == timedelta(days=4) + H
    assert CAL.between(start, end) == 20 * H


def test_a_whole_week_around_each_change_is_fifty_hours() -> None:
    for monday in (date(2026, 3, 23), date(2026, 3, 30), date(2026, 10, 19), date(2026, 10, 26)):
        start = CAL.at_local(monday, time(0))
        end = CAL.at_local(monday + timedelta(days=7), time(0))
        assert CAL.between(start, end) == 50 * H, monday


def test_a_window_containing_the_change_counts_real_elapsed_time() -> None:
    # Every day 00:30-03:00 London: the March change day loses an hour, the October one gains one.
    nights = WorkingCalendar(working_days=frozenset(range(7)), day_start=time(0, 30), day_end=time(3))
    def day(d: date) -> timedelta:
        return nights.between(nights.at_local(d, time(0)), nights.at_local(d, time(12)))
    assert day(date(2026, 3, 28)) == timedelta(hours=2, minutes=30)
    assert day(date(2026, 3, 29)) == timedelta(hours=1, minutes=30)
    assert day(date(2026, 10, 25)) == timedelta(hours=3, minutes=30)
    # add agrees: 2h from 00:30 on the March change day ends 00:30 the next night.
    assert nights.add(nights.at_local(date(2026, 3, 29), time(0, 30)), 2 * H) == nights.at_local(date(2026, 3, 30), time(1))


# -- add and between are inverse -------------------------------------------------------------------


def _starts(calendar: WorkingCalendar, first: date, days: int, step: timedelta) -> list[datetime]:
    moment = calendar.at_local(first, time(0))
    end = moment + timedelta(days=days)
    out = []
    while moment < end:
        out.append(moment)
        moment += step
    return out


DURATIONS = [timedelta(0), M, 15 * M, 2 * H, 7 * H + 13 * M, 10 * H, 10 * H + M, 23 * H, 47 * H + 59 * M, 100 * H]

INVERSE_CALENDARS = [
    CAL,
    WorkingCalendar(time_zone="America/New_York"),
    WorkingCalendar(time_zone="Asia/Kolkata", day_start=time(9, 30), day_end=time(18, 30)),
    WorkingCalendar(time_zone="Australia/Sydney"),
    WorkingCalendar(time_zone="Asia/Jerusalem", working_days=SUN_TO_THU),
]


@pytest.mark.parametrize("calendar", INVERSE_CALENDARS, ids=lambda c: c.time_zone)
@pytest.mark.parametrize("first", [date(2026, 3, 20), date(2026, 10, 17), date(2026, 3, 31)], ids=str)
def test_between_of_add_is_the_duration(calendar: WorkingCalendar, first: date) -> None:
    checked = 0
    for start in _starts(calendar, first, 14, timedelta(minutes=97)):
        for duration in DURATIONS:
            end = calendar.add(start, duration)
            assert end >= start
            assert calendar.between(start, end) == duration, (start, duration, end)
            checked += 1
    assert checked > 1500


@pytest.mark.parametrize("calendar", INVERSE_CALENDARS, ids=lambda c: c.time_zone)
def test_add_of_between_lands_on_the_end_when_the_end_is_working_time(calendar: WorkingCalendar) -> None:
    starts = _starts(calendar, date(2026, 3, 24), 10, timedelta(minutes=211))
    ends = _starts(calendar, date(2026, 3, 24), 12, timedelta(minutes=53))
    inside = 0
    for start in starts:
        for end in ends:
            if end <= start:
                continue
            elapsed = calendar.between(start, end)
            landed = calendar.add(start, elapsed)
            day = calendar.local_date(end)
            opens, closes = calendar.at_local(day, calendar.day_start), calendar.at_local(day, calendar.day_end)
            if calendar.is_working_day(day) and opens < end <= closes and elapsed > timedelta(0):
                assert landed == end, (start, end)
                inside += 1
            elif elapsed > timedelta(0):
                # End outside working time: the earliest instant with that much working time, none in between.
                assert landed <= end
                assert calendar.between(landed, end) == timedelta(0), (start, end, landed)
            else:
                # No working time at all: add(start, 0) is the next working instant, with none before it.
                assert landed >= start
                assert calendar.between(start, landed) == timedelta(0), (start, end, landed)
    assert inside > 500


def test_between_is_additive() -> None:
    a = local(LONDON, 2026, 3, 26, 15, 7)
    for hours in range(0, 120, 5):
        b = a + timedelta(hours=hours)
        c = b + timedelta(hours=31, minutes=11)
        assert CAL.between(a, c) == CAL.between(a, b) + CAL.between(b, c)


# -- other zones -----------------------------------------------------------------------------------


def test_new_york_across_its_march_change() -> None:
    calendar = WorkingCalendar(time_zone="America/New_York")
    start = local(NEW_YORK, 2026, 3, 6, 17, 30)  # Friday 17:30 EST
    assert start == utc(2026, 3, 6, 22, 30)
    assert calendar.add(start, 2 * H) == local(NEW_YORK, 2026, 3, 9, 9, 30) == utc(2026, 3, 9, 13, 30)


def test_new_york_across_its_november_change() -> None:
    calendar = WorkingCalendar(time_zone="America/New_York")
    start = local(NEW_YORK, 2026, 10, 30, 17, 30)  # Friday 17:30 EDT
    assert start == utc(2026, 10, 30, 21, 30)
    assert calendar.add(start, 2 * H) == local(NEW_YORK, 2026, 11, 2, 9, 30) == utc(2026, 11, 2, 14, 30)


def test_kolkata_half_hour_offset() -> None:
    calendar = WorkingCalendar(time_zone="Asia/Kolkata")
    start = local(KOLKATA, 2026, 6, 5, 17, 30)  # Friday 17:30 IST
    assert start == utc(2026, 6, 5, 12, 0)
    assert calendar.add(start, 2 * H) == utc(2026, 6, 8, 4, 0)  # Monday 09:30 IST
    # A working day there is 02:30-12:30 UTC.
    assert calendar.between(utc(2026, 6, 8, 0, 0), utc(2026, 6, 8, 23, 0)) == 10 * H
    assert calendar.between(utc(2026, 6, 8, 2, 0), utc(2026, 6, 8, 3, 0)) == 30 * M


def test_sydney_across_its_april_change() -> None:
    calendar = WorkingCalendar(time_zone="Australia/Sydney")
    start = local(SYDNEY, 2026, 4, 3, 17, 30)  # Friday 17:30 AEDT (UTC+11)
    assert start == utc(2026, 4, 3, 6, 30)
    result = calendar.add(start, 2 * H)
    assert result == local(SYDNEY, 2026, 4, 6, 9, 30)  # Monday 09:30 AEST (UTC+10)
    assert result == utc(2026, 4, 5, 23, 30)  # still Sunday in UTC


def test_sydney_across_its_october_change() -> None:
    calendar = WorkingCalendar(time_zone="Australia/Sydney")
    start = local(SYDNEY, 2026, 10, 2, 17, 30)  # Friday 17:30 AEST (UTC+10)
    assert start == utc(2026, 10, 2, 7, 30)
    result = calendar.add(start, 2 * H)
    assert result == local(SYDNEY, 2026, 10, 5, 9, 30)  # Monday 09:30 AEDT (UTC+11)
    assert result == utc(2026, 10, 4, 22, 30)


def test_sydney_monday_morning_is_sunday_evening_utc_and_counts() -> None:
    calendar = WorkingCalendar(time_zone="Australia/Sydney")
    # Sunday 2026-11-22 21:00-23:00 UTC is Monday 08:00-10:00 AEDT: working time.
    assert calendar.between(utc(2026, 11, 22, 21), utc(2026, 11, 22, 23)) == 2 * H
    # Friday 2026-11-20 07:00-09:00 UTC is Friday 18:00-20:00 AEDT: not working time.
    assert calendar.between(utc(2026, 11, 20, 7), utc(2026, 11, 20, 9)) == timedelta(0)


def test_sunday_to_thursday_week() -> None:
    calendar = WorkingCalendar(time_zone="Asia/Jerusalem", working_days=SUN_TO_THU)
    # Thursday 17:30 + 2h -> Sunday 09:30; across Israel's change on Friday 2026-03-27 (UTC+2 -> UTC+3).
    start = local(JERUSALEM, 2026, 3, 26, 17, 30)
    assert start == utc(2026, 3, 26, 15, 30)
    assert calendar.add(start, 2 * H) == local(JERUSALEM, 2026, 3, 29, 9, 30) == utc(2026, 3, 29, 6, 30)
    # Friday and Saturday do not count; Sunday does.
    assert calendar.between(local(JERUSALEM, 2026, 11, 20, 0), local(JERUSALEM, 2026, 11, 22, 0)) == timedelta(0)
    assert calendar.between(local(JERUSALEM, 2026, 11, 22, 0), local(JERUSALEM, 2026, 11, 23, 0)) == 10 * H
    assert calendar.next_working_day(date(2026, 11, 19)) == date(2026, 11, 22)  # Thursday -> Sunday
    assert calendar.next_working_day(date(2026, 11, 22)) == date(2026, 11, 23)  # Sunday -> Monday
    # Starting on Friday counts from Sunday opening.
    assert calendar.add(local(JERUSALEM, 2026, 11, 20, 10), H) == local(JERUSALEM, 2026, 11, 22, 9)


def test_one_working_day_a_week() -> None:
    calendar = WorkingCalendar(time_zone="UTC", working_days=frozenset({2}), day_start=time(9), day_end=time(11))
    # Wednesday 10:00 + 5h: 1h this Wednesday, 2h next, 2h the one after.
    assert calendar.add(utc(2026, 11, 18, 10), 5 * H) == utc(2026, 12, 2, 11)


def test_add_with_a_sparse_calendar_whose_window_spans_the_march_change() -> None:
    # Regression: add's loop bound once assumed every window is working_day_length long, and a window shortened
    # by the change made it run out and raise its "unreachable" AssertionError.
    # Sundays only, 00:30-03:00 London: 2h30 a week, but only 1h30 on 2026-03-29 (clocks go forward at 01:00).
    calendar = WorkingCalendar(working_days=frozenset({6}), day_start=time(0, 30), day_end=time(3))
    # From Monday 2026-02-23: four full Sundays in March (10h), 1h30 on the 29th, then 30 minutes on 5 April.
    assert calendar.add(utc(2026, 2, 23), 12 * H) == local(LONDON, 2026, 4, 5, 1, 0)
    assert calendar.between(utc(2026, 2, 23), local(LONDON, 2026, 4, 5, 1, 0)) == 12 * H


def test_add_and_between_agree_on_sparse_calendars_whose_windows_span_a_change() -> None:
    calendars = [
        WorkingCalendar(working_days=frozenset({6}), day_start=time(0, 30), day_end=time(3)),
        WorkingCalendar(working_days=frozenset({6}), day_start=time(0, 30), day_end=time(2)),  # 30 minutes on 29 March
        WorkingCalendar(time_zone="America/New_York", working_days=frozenset({6}), day_start=time(1), day_end=time(3, 30)),
    ]
    for calendar in calendars:
        for start in _starts(calendar, date(2026, 2, 1), 60, timedelta(hours=37, minutes=11)):
            for days in (0.1, 0.5, 0.99, 1, 1.5, 3, 7.25, 20):
                duration = calendar.working_day_length * days
                end = calendar.add(start, duration)
                assert calendar.between(start, end) == duration, (calendar.time_zone, calendar.day_start, start, days)


def test_add_when_the_change_leaves_only_minutes_of_a_sunday_window() -> None:
    # Sundays only, 00:59-02:01 London: 62 minutes a week, but only 00:59-01:01 UTC (2 minutes) on 29 March.
    calendar = WorkingCalendar(working_days=frozenset({6}), day_start=time(0, 59), day_end=time(2, 1))
    start = utc(2026, 3, 22, 12)  # Sunday, after that day's window
    expected = local(LONDON, 2026, 4, 5, 1, 3)  # 2 minutes on 29 March, then 4 minutes from 00:59 BST on 5 April
    assert calendar.between(start, expected) == 6 * M
    assert calendar.add(start, 6 * M) == expected


# -- validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "Europe", "europe/london", "../etc/passwd", "GMT+1 "])
def test_unknown_time_zone_is_rejected_with_a_clear_message(zone: str) -> None:
    with pytest.raises(ValidationError) as caught:
        WorkingCalendar(time_zone=zone)
    message = str(caught.value)
    assert "unknown time zone" in message
    assert "IANA" in message


@pytest.mark.parametrize("days", [frozenset(), frozenset({7}), frozenset({-1, 0})])
def test_empty_or_invalid_working_days_are_rejected(days: frozenset[int]) -> None:
    with pytest.raises(ValidationError, match="working days must be a non-empty set of weekdays"):
        WorkingCalendar(working_days=days)


@pytest.mark.parametrize(("start", "end"), [(time(18), time(8)), (time(9), time(9))])
def test_day_must_start_before_it_ends(start: time, end: time) -> None:
    with pytest.raises(ValidationError, match="the working day must start before it ends"):
        WorkingCalendar(day_start=start, day_end=end)


def test_calendar_is_frozen() -> None:
    with pytest.raises(ValidationError):
        CAL.time_zone = "UTC"  # type: ignore[misc]
