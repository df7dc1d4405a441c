"""Running the phase: setup, exit criteria, sign-off and its withdrawal, extension, scope discipline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.war_room import WarRoomSettings
from storage.models import IssueRow, WarRoomEventRow, WarRoomRow
from tests.support.activities import ADMIN, LENA, NOBODY, OMAR, USER, execute_action
from tests.support.connector import FakeConnector
from tests.support.markdown import shown_text
from tests.support.server import RunningBot
from tests.support.war_room import WarRoom, card_text, find_execute

BOSS = {"id": "29:bea", "name": "Bea Boss", "aadObjectId": "aad-bea"}


@pytest.fixture
async def room(bot: RunningBot, connector: FakeConnector) -> WarRoom:
    war_room = WarRoom(bot, connector)
    connector.members.append(dict(BOSS, email="bea@contoso.com"))
    await war_room.grant(LENA, "triage_lead")
    await war_room.grant(OMAR, "oncall")
    await war_room.grant(NOBODY, "support")
    await war_room.grant(BOSS, "leadership")
    return war_room


async def press(room: WarRoom, card: dict[str, Any], verb: str, inputs: dict[str, Any] | None = None, *, sender: dict[str, str]) -> dict[str, Any]:
    """Press a button on a card the bot answered in the channel (setup, exit)."""
    action = find_execute(card, verb)
    message, _ = await room.post("help")  # any message in the channel gives the activity's shape
    status, body = await room.bot.post_activity(
        execute_action(message, verb, dict(action["data"]) | (inputs or {}), card_activity_id="card-x", sender=sender)
    )
    assert status == 200
    await room.bot.settle()
    return body["value"]


def setup_values(card: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    stack: list[Any] = [card]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input.") and "id" in node:
                values[node["id"]] = node.get("value", "")
            stack.extend(value for key, value in node.items() if key != "fallback")
        elif isinstance(node, list):
            stack.extend(node)
    return values


async def war_room_row(engine: AsyncEngine) -> Any:
    async with engine.connect() as connection:
        return (await connection.execute(select(WarRoomRow))).one()


async def test_setup_by_an_admin_saves_the_phase(room: WarRoom, engine: AsyncEngine) -> None:
    [reply] = await room.say("setup", sender=ADMIN)
    form = reply.card
    values = setup_values(form) | {"starts_on": "2026-11-16", "ends_on": "", "weeks": 4, "sev2_cap": 3, "standup_time": "08:45"}
    card = await press(room, form, "setup.save", values, sender=ADMIN)
    assert "Saved." in card_text(card)
    settings = (await war_room_row(engine)).settings
    assert (settings["starts_on"], settings["ends_on"], settings["sev2_cap"], settings["standup_time"]) == (
        "2026-11-16", "2026-12-13", 3, "08:45:00"
    )


@pytest.mark.parametrize(
    ("changes", "bad_input", "message"),
    [
        ({"starts_on": "2026-12-01", "ends_on": "2026-11-20"}, "ends_on", "planned end must be after the start"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "unknown time zone"),
        ({"sla_target": 150}, "sla_target", "less than or equal to 100"),
        ({"day_start": "18:00", "day_end": "08:00"}, "day_end", "must start before it ends"),
        ({"sev2_acknowledge_within": "soon"}, "sev2_acknowledge_within", "not a duration"),
        ({"sev2_remind_unacknowledged_every": "0m"}, "sev2_remind_unacknowledged_every", "'0m' is no time at all"),
        ({"sev1_remind_open_every": "2m"}, "sev1_remind_open_every", "reminders come at least 5 minutes apart"),
        ({"sev2_resolve_within": "99999999999d"}, "sev2_resolve_within", "'99999999999d' is longer than a year"),
        ({"starts_on": "2026-11-16", "ends_on": "9999-12-31"}, "ends_on", "hypercare lasts at most a year"),
    ],
    ids=["end-before-start", "bad-zone", "target-over-100", "day-backwards", "bad-duration", "zero-reminder",
         "reminder-too-often", "target-over-a-year", "phase-over-a-year"],
)
async def test_setup_refuses_bad_values_and_keeps_what_was_typed(
    room: WarRoom, engine: AsyncEngine, changes: dict[str, Any], bad_input: str, message: str
) -> None:
    [reply] = await room.say("setup", sender=ADMIN)
    card = await press(room, reply.card, "setup.save", setup_values(reply.card) | changes, sender=ADMIN)
    errors = {e["id"]: shown_text(e) for e in card["body"] if e.get("id", "").endswith("_error")}
    assert message in errors[f"{bad_input}_error"]
    for key, value in changes.items():
        assert str(setup_values(card)[key]) == str(value)  # the user's values are still in the form
    assert (await war_room_row(engine)).settings is None  # nothing saved


async def test_settings_stored_before_spans_were_bounded_give_way_to_the_defaults(room: WarRoom, engine: AsyncEngine) -> None:
    data = WarRoomSettings().model_dump(mode="json")
    data["policy"]["rules"]["2"] |= {"remind_unacknowledged_every": "0m", "resolve_within": "99999999999d"}
    async with engine.begin() as connection:
        await connection.execute(update(WarRoomRow).values(settings=data))  # straight into the database
    await room.raise_issue("sev2 - the bank file is rejected")  # a 500 while the stored 99999999999d was used
    async with engine.connect() as connection:
        resolve_by = (await connection.execute(select(IssueRow.resolve_by))).scalar_one()
    assert resolve_by == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # the default: 2 working days from Monday 09:00
    [reply] = await room.say("setup", sender=ADMIN)  # the admin sees (and saves) the defaults in their place
    shown = setup_values(reply.card)
    assert (shown["sev2_remind_unacknowledged_every"], shown["sev2_resolve_within"]) == ("2h", "2d")


async def test_only_admins_set_up(room: WarRoom) -> None:
    [reply] = await room.say("setup", sender=LENA)
    card = await press(room, reply.card, "setup.save", setup_values(reply.card), sender=LENA)
    assert "you need the role admin" in card_text(card)


async def test_exit_criteria_sign_off_and_withdrawal(room: WarRoom, connector: FakeConnector, engine: AsyncEngine) -> None:
    sev1 = await room.raise_issue("sev1 - nobody can post vendor invoices")
    [reply] = await room.say("exit")
    card = reply.card
    assert "❌" in card_text(card) and "No open Sev 1" in card_text(card)
    sign = find_execute(card, "phase.signoff")
    assert sign["isEnabled"] is False  # locked while a criterion fails

    refused = await press(room, card, "phase.signoff", sender=BOSS)  # pressed anyway (an old card): checked again now
    assert "Not yet: No open Sev 1, Support team handles the incoming volume" in card_text(refused)
    assert (await war_room_row(engine)).signed_off_at is None

    await room.click(sev1, "issue.resolve", {"resolve_notes": "Posting profile added", "resolve_type": "configuration_changed"}, sender=NOBODY)
    [reply] = await room.say("exit")  # resolved, not confirmed: the Sev 1 still counts
    assert "❌" in card_text(reply.card) and "1 (1 resolved, awaiting confirmation)" in card_text(reply.card)
    await room.click(sev1, "issue.confirm")  # "Confirm fixed" by its reporter
    [reply] = await room.say("exit")
    assert "❌" not in card_text(reply.card)
    assert find_execute(reply.card, "phase.signoff")["isEnabled"] is True
    not_leadership = await press(room, reply.card, "phase.signoff", sender=LENA)
    assert "you need the role leadership" in card_text(not_leadership)

    before = len(connector.calls)
    signed = await press(room, reply.card, "phase.signoff", sender=BOSS)
    assert "signed off by Bea Boss" in card_text(signed)
    announcements = [
        c for c in connector.calls[before:] if "Hypercare is complete" in card_text(c.card or {}) and "Signed off by Bea Boss" in card_text(c.card or {})
    ]  # the celebration (tests/e2e/test_celebration.py)
    assert len(announcements) == 1 and ";messageid=" not in (announcements[0].conversation_id or "")  # a new channel post

    [routed] = await room.say("sev2 the bank file is rejected")
    assert "Hypercare has ended here" in card_text(routed.card)

    withdrawn = await press(room, signed, "phase.withdraw", {"withdraw_reason": "payroll run failed"}, sender=BOSS)
    assert "Leadership sign-off" in card_text(withdrawn) and "signed off by" not in card_text(withdrawn)
    [form] = await room.say("sev2 the bank file is rejected")
    assert "Raise a hypercare issue" in card_text(form.card)
    async with engine.connect() as connection:
        verbs = [row.verb for row in (await connection.execute(select(WarRoomEventRow).order_by(WarRoomEventRow.id)))]
    assert verbs == ["signoff", "withdraw"]


async def test_extend_moves_the_end_with_a_reason_kept_in_history(room: WarRoom, engine: AsyncEngine) -> None:
    [reply] = await room.say("setup", sender=ADMIN)
    await press(room, reply.card, "setup.save", setup_values(reply.card) | {"starts_on": "2026-11-16", "ends_on": "2026-12-11"}, sender=ADMIN)
    [refused] = await room.say("extend 2w integration still in test", sender=OMAR)
    assert "you need the role admin or leadership" in card_text(refused.card)
    [done] = await room.say("extend 2w integration still in test", sender=BOSS)
    assert "moved the end of hypercare to Friday 25 December 2026: integration still in test" in card_text(done.card)
    assert (await war_room_row(engine)).settings["ends_on"] == "2026-12-25"
    async with engine.connect() as connection:
        row = (await connection.execute(select(WarRoomEventRow).where(WarRoomEventRow.verb == "extend"))).one()
    assert (row.from_value, row.to_value, row.reason, row.actor_name) == ("2026-12-11", "2026-12-25", "integration still in test", "Bea Boss")
    # The end of time would make every stand-up count working days for seconds, for every war room: refused.
    [refused] = await room.say("extend 9999-12-31 until it is perfect", sender=BOSS)
    assert "The end was not moved: hypercare lasts at most a year" in card_text(refused.card)
    assert (await war_room_row(engine)).settings["ends_on"] == "2026-12-25"


async def test_standup_shows_the_day_the_criteria_and_warns_before_the_end(room: WarRoom) -> None:
    [reply] = await room.say("setup", sender=ADMIN)
    await press(room, reply.card, "setup.save", setup_values(reply.card) | {"starts_on": "2026-11-16", "ends_on": "2026-11-25"}, sender=ADMIN)
    await room.raise_issue("sev1 - warehouse app down")
    [standup] = await room.say("standup")
    text = card_text(standup.card)
    assert "Day 8 of 10" in text
    assert "No open Sev 1: 1 (target 0)" in text
    assert "planned to end in 2 working days and the exit criteria are not met" in text
