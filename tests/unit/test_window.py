"""The hypercare window: which war rooms hold stand-ups, presets and their bands, the overrun, and what leadership
is told once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.exit_criteria import evaluate_exit, phase_day
from bot.domain.model import HandledBy, Resolution, ResolutionType, Severity, Status
from bot.domain.standup import standup_notices
from bot.domain.war_room import OnCall, WarRoom, WarRoomSettings
from bot.domain.window import WarRoomKind, WindowPreset, band_warning, holds_standups, window_end
from tests.support.factories import OMAR, make_issue

MONDAY = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)  # Monday 14 December 2026, 09:00 in London
ENDED_FRIDAY = WarRoomSettings(starts_on=date(2026, 11, 16), ends_on=date(2026, 12, 11))


def room(settings: WarRoomSettings = ENDED_FRIDAY, **overrides: object) -> WarRoom:
    fields: dict[str, object] = dict(
        id=1, key="t/team:1", tenant_id="t", team_id="19:team", name="War room", settings=settings, oncall=OnCall(),
        home_conversation_id="19:general", home_channel_id="19:general", home_service_url="https://smba.example",
        bot_id="28:bot", next_standup_at=None, last_standup_at=None,
    )
    return WarRoom.model_validate(fields | overrides)


def passing_issues(now: datetime) -> list:
    resolution = Resolution(type=ResolutionType.FIXED, notes="x", handled_by=HandledBy.SUPPORT, resolved_by=OMAR,
                            resolved_at=now - timedelta(days=1))
    return [make_issue(status=Status.RESOLVED, severity=Severity.SEV3, resolution=resolution, created_at=now - timedelta(days=2))]


# -- which war rooms hold a stand-up ------------------------------------------------------------------

@pytest.mark.parametrize(
    ("kind", "set_up", "signed_off", "held"),
    [
        (WarRoomKind.PERSONAL_CHAT, False, False, False),
        (WarRoomKind.PERSONAL_CHAT, True, False, False),  # never, even set up
        (WarRoomKind.GROUP_CHAT, False, False, False),
        (WarRoomKind.GROUP_CHAT, True, False, True),
        (WarRoomKind.TEAM, False, False, True),  # with the setup prompt
        (WarRoomKind.TEAM, True, False, True),
        (WarRoomKind.TEAM, True, True, False),  # after sign-off, silence
        (WarRoomKind.GROUP_CHAT, True, True, False),
    ],
)
def test_which_war_rooms_hold_a_standup(kind: WarRoomKind, set_up: bool, signed_off: bool, held: bool) -> None:
    assert holds_standups(kind, set_up=set_up, signed_off=signed_off) is held


def test_the_kind_of_a_war_room_comes_from_its_first_conversation() -> None:
    assert WarRoomKind.of(team_id="19:team", conversation_type="channel") is WarRoomKind.TEAM
    assert WarRoomKind.of(team_id=None, conversation_type="groupChat") is WarRoomKind.GROUP_CHAT
    assert WarRoomKind.of(team_id=None, conversation_type="personal") is WarRoomKind.PERSONAL_CHAT


def test_next_standup_follows_the_rule() -> None:
    assert room().next_standup(MONDAY) == MONDAY + timedelta(days=1)
    assert room(kind=WarRoomKind.PERSONAL_CHAT).next_standup(MONDAY) is None
    assert room(WarRoomSettings(), kind=WarRoomKind.GROUP_CHAT).next_standup(MONDAY) is None
    assert room(signed_off_at=MONDAY, signed_off_by=OMAR).next_standup(MONDAY) is None


# -- presets and their bands ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("preset", "weeks", "ends_on"),
    [
        (WindowPreset.BC_SMB, None, date(2026, 12, 6)),  # 3 weeks by default, the last day included
        (WindowPreset.FSCM_ENTERPRISE, None, date(2027, 1, 10)),  # 8 weeks by default
        (WindowPreset.FSCM_ENTERPRISE, 6, date(2026, 12, 27)),
        (WindowPreset.CUSTOM, 5, date(2026, 12, 20)),
        (WindowPreset.CUSTOM, None, None),  # a custom window needs its end or its length
    ],
)
def test_window_end_from_a_preset(preset: WindowPreset, weeks: int | None, ends_on: date | None) -> None:
    assert window_end(preset, date(2026, 11, 16), weeks) == ends_on


@pytest.mark.parametrize(
    ("preset", "days", "warns"),
    [
        (WindowPreset.BC_SMB, 13, True),
        (WindowPreset.BC_SMB, 14, False),
        (WindowPreset.BC_SMB, 28, False),
        (WindowPreset.BC_SMB, 29, True),
        (WindowPreset.FSCM_ENTERPRISE, 27, True),
        (WindowPreset.FSCM_ENTERPRISE, 28, False),
        (WindowPreset.FSCM_ENTERPRISE, 84, False),
        (WindowPreset.FSCM_ENTERPRISE, 85, True),
        (WindowPreset.CUSTOM, 200, False),
    ],
)
def test_band_warning_at_the_edges(preset: WindowPreset, days: int, warns: bool) -> None:
    starts_on = date(2026, 11, 16)
    assert (band_warning(preset, starts_on, starts_on + timedelta(days=days - 1)) is not None) is warns


def test_band_warning_says_what_was_expected_and_what_was_set() -> None:
    warning = band_warning(WindowPreset.BC_SMB, date(2026, 11, 16), date(2026, 12, 27))
    assert warning == ("Business Central, SMB hypercare usually runs 2–4 weeks; this window runs 6 weeks "
                       "(16 Nov – 27 Dec 2026). Saved as you asked; check it is what was agreed.")
    assert "1 week, 3 days" in (band_warning(WindowPreset.FSCM_ENTERPRISE, date(2026, 11, 16), date(2026, 11, 25)) or "")


def test_the_window_is_set_up_once_it_has_an_end() -> None:
    assert not WarRoomSettings(starts_on=date(2026, 11, 16)).set_up
    assert ENDED_FRIDAY.set_up


# -- the overrun ------------------------------------------------------------------------------------

def test_past_the_planned_end_counts_working_days_by_the_war_rooms_calendar() -> None:
    day = phase_day(ENDED_FRIDAY, MONDAY + timedelta(days=1))  # Tuesday 15 December
    assert day is not None and (day.day, day.of, day.past_end, day.overrun) == (30, 26, 2, True)
    assert day.text() == "Day 30: 2 working days past the planned end"
    saturday = phase_day(ENDED_FRIDAY, MONDAY - timedelta(days=2))
    assert saturday is not None and saturday.text() == "Day 27: past the planned end"
    assert phase_day(ENDED_FRIDAY, MONDAY).text() == "Day 29: 1 working day past the planned end"  # type: ignore[union-attr]
    # A six-day week counts its Saturday.
    six_days = ENDED_FRIDAY.model_copy(update={"calendar": ENDED_FRIDAY.calendar.model_copy(update={"working_days": frozenset(range(6))})})
    assert phase_day(six_days, MONDAY).past_end == 2  # type: ignore[union-attr]


def test_on_the_last_day_it_is_still_day_n_of_n() -> None:
    day = phase_day(ENDED_FRIDAY, MONDAY - timedelta(days=3))
    assert day is not None and day.text() == "Day 26 of 26" and not day.overrun


def test_the_overrun_asks_leadership_to_extend_or_sign_off_whether_or_not_the_criteria_pass() -> None:
    failing = evaluate_exit([make_issue(severity=Severity.SEV1, status=Status.NEW)], ENDED_FRIDAY, now=MONDAY)
    assert failing.warning == (
        "Hypercare has run past its planned end (2026-12-11) and the exit criteria are not met (No open Sev 1; "
        "Support team handles the incoming volume; Sev 1/2 resolved within target). Leadership: extend it (`extend 2w REASON`) or sign it off (`exit`)."
    )
    passing = evaluate_exit(passing_issues(MONDAY), ENDED_FRIDAY, now=MONDAY)
    assert passing.measured_pass and passing.warning is not None and "the exit criteria are met" in passing.warning
    signed = evaluate_exit(passing_issues(MONDAY), ENDED_FRIDAY, now=MONDAY, signed_off_at=MONDAY, signed_off_by=OMAR)
    assert signed.warning is None


# -- told once ----------------------------------------------------------------------------------------

def test_leadership_is_mentioned_on_the_first_overrun_stand_up_only() -> None:
    report = evaluate_exit([], ENDED_FRIDAY, now=MONDAY)
    first = standup_notices(room(), report, now=MONDAY)
    assert first.overrun_mention and first.overrun_told_for == date(2026, 12, 11)
    told = room(overrun_told_for=first.overrun_told_for)
    second = standup_notices(told, evaluate_exit([], ENDED_FRIDAY, now=MONDAY + timedelta(days=1)), now=MONDAY + timedelta(days=1))
    assert not second.overrun_mention and second.overrun_told_for == date(2026, 12, 11)
    # Extended, then overrun again: news again.
    extended = ENDED_FRIDAY.ending_on(date(2026, 12, 14))
    later = MONDAY + timedelta(days=1)
    again = standup_notices(room(extended, overrun_told_for=date(2026, 12, 11)), evaluate_exit([], extended, now=later), now=later)
    assert again.overrun_mention and again.overrun_told_for == date(2026, 12, 14)
    # Before the end, nothing.
    before = MONDAY - timedelta(days=7)
    assert not standup_notices(room(), evaluate_exit([], ENDED_FRIDAY, now=before), now=before).overrun_mention


def test_ready_for_sign_off_is_told_once_and_again_only_after_a_stand_up_saw_the_criteria_fail() -> None:
    settings = WarRoomSettings(starts_on=date(2026, 12, 1), ends_on=date(2026, 12, 31))
    passing = evaluate_exit(passing_issues(MONDAY), settings, now=MONDAY)
    first = standup_notices(room(settings), passing, now=MONDAY)
    assert first.ready_for_sign_off and first.ready_told_at == MONDAY
    told = room(settings, ready_told_at=MONDAY)
    assert not standup_notices(told, passing, now=MONDAY + timedelta(days=1)).ready_for_sign_off
    regressed = standup_notices(told, evaluate_exit([make_issue(severity=Severity.SEV1, status=Status.NEW)], settings, now=MONDAY),
                                now=MONDAY + timedelta(days=2))
    assert not regressed.ready_for_sign_off and regressed.ready_told_at is None
    again = standup_notices(room(settings, ready_told_at=None), passing, now=MONDAY + timedelta(days=3))
    assert again.ready_for_sign_off


def test_the_setup_prompt_stands_until_the_window_has_an_end() -> None:
    assert standup_notices(room(WarRoomSettings()), evaluate_exit([], WarRoomSettings(), now=MONDAY), now=MONDAY).setup_prompt
    assert not standup_notices(room(), evaluate_exit([], ENDED_FRIDAY, now=MONDAY), now=MONDAY).setup_prompt
