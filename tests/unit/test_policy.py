"""Bounds of the severity policy, and settings stored before those bounds existed."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from bot.domain.calendar import WorkingCalendar
from bot.domain.policy import DEFAULT_POLICY, SeverityRule, Span
from bot.domain.reminders import ReminderState, plan_reminders
from bot.domain.war_room import WarRoomSettings, apply_setting_changes
from tests.support.factories import make_issue


def rule(**changes: str | None) -> dict[str, Any]:
    return DEFAULT_POLICY.rules[2].model_dump(mode="json") | changes  # type: ignore[index]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("remind_unacknowledged_every", "0m", "'0m' is no time at all"),
        ("remind_open_every", "4m", "'4m' is too often: reminders come at least 5 minutes apart"),
        ("remind_open_every", "0.05h", "reminders come at least 5 minutes apart"),
        ("acknowledge_within", "0d", "'0d' is no time at all"),
        ("resolve_within", "99999999999d", "longer than a year"),
        ("resolve_within", "366d", "longer than a year"),
        ("acknowledge_within", "8761h", "longer than a year"),
        ("remind_open_every", "525601m", "longer than a year"),
    ],
)
def test_spans_out_of_bounds_are_refused_with_the_field_named(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        SeverityRule.model_validate(rule(**{field: value}))
    [problem] = refused.value.errors()
    assert problem["loc"] == (field,) and message in problem["msg"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("remind_unacknowledged_every", "5m"), ("remind_open_every", "0.1h"), ("resolve_within", "365d"),
     ("acknowledge_within", "1m"), ("acknowledge_within", "8760h"), ("resolve_within", None)],
)
def test_spans_within_bounds_are_kept(field: str, value: str | None) -> None:
    kept = SeverityRule.model_validate(rule(**{field: value}))
    assert (str(getattr(kept, field)) if value else None) == value


def test_a_span_built_without_text_is_bounded_too() -> None:
    with pytest.raises(ValidationError, match="no time at all"):
        Span(amount=0, unit="m")
    with pytest.raises(ValidationError, match="longer than a year"):
        Span(amount=366, unit="d")


def test_the_command_line_changes_are_refused_with_the_setting_named() -> None:
    with pytest.raises(ValueError) as refused:
        apply_setting_changes(WarRoomSettings(), ["sev2.remind_unacknowledged_every=0m"])
    assert str(refused.value) == "sev2.remind_unacknowledged_every: '0m' is no time at all (give a duration such as 15m, or none)"
    with pytest.raises(ValueError, match="sev2.resolve_within: '99999999999d' is longer than a year"):
        apply_setting_changes(WarRoomSettings(), ["sev2.resolve_within=99999999999d"])


def stored(**rules: dict[str, str]) -> dict[str, Any]:
    """Settings as a war room row holds them, with some severity rules changed."""
    data = WarRoomSettings().model_dump(mode="json")
    data["calendar"]["time_zone"] = "Europe/Berlin"
    for severity, changes in rules.items():
        data["policy"]["rules"][severity.removeprefix("sev")].update(changes)
    return data


def test_stored_settings_that_break_todays_rules_fall_back_value_by_value() -> None:
    settings, problems = WarRoomSettings.from_stored(
        stored(sev2={"remind_unacknowledged_every": "0m", "resolve_within": "99999999999d"})
    )
    sev2 = settings.policy.rule(2)  # type: ignore[arg-type]
    assert (str(sev2.remind_unacknowledged_every), str(sev2.resolve_within)) == ("2h", "2d")
    assert settings.calendar.time_zone == "Europe/Berlin"  # the rest is kept
    assert problems == (
        "sev2.remind_unacknowledged_every: '0m' is no time at all (give a duration such as 15m, or none); using the default 2h",
        "sev2.resolve_within: '99999999999d' is longer than a year (at most 365d, 8760h or 525600m); using the default 2d",
    )


def test_stored_settings_that_are_valid_or_absent_have_no_problems() -> None:
    assert WarRoomSettings.from_stored(stored()) == (WarRoomSettings.model_validate(stored()), ())
    assert WarRoomSettings.from_stored(None) == (WarRoomSettings(), ())


def test_stored_settings_broken_as_a_whole_fall_back_to_the_defaults() -> None:
    data = stored()
    data["calendar"] |= {"day_start": "18:00:00", "day_end": "08:00:00"}  # no single value is wrong, the pair is
    settings, problems = WarRoomSettings.from_stored(data)
    assert settings.calendar == WarRoomSettings().calendar
    assert problems == ("calendar: the working day must start before it ends; using the defaults",)
    assert WarRoomSettings.from_stored({"policy": "garbage"})[0] == WarRoomSettings()


def test_reminders_stay_five_minutes_apart_on_a_working_day_of_one_minute() -> None:
    """`0.01d` passes as a span, but on a working day of 08:00–08:01 it would be 0.6 seconds of working time."""
    calendar = WorkingCalendar(day_start=time(8, 0), day_end=time(8, 1))
    sev3 = SeverityRule.model_validate(rule(acknowledge_within=None, remind_unacknowledged_every="0.01d", clock="working"))
    monday_8 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    issue = make_issue(severity=3, created_at=monday_8, updated_at=monday_8, resolve_by=None)
    plan = plan_reminders(issue, ReminderState(), rule=sev3, calendar=calendar, now=monday_8 + timedelta(seconds=50))
    assert plan.due == ()
    # The next one after five minutes of working time: on the fifth working day.
    assert plan.next_due_at == datetime(2026, 11, 27, 8, 1, tzinfo=UTC)
