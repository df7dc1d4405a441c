"""The hypercare window over HTTP, the clock moved day by day and the scheduler ticked: the setup prompt, presets and
the required end, the overrun, "ready for sign-off", silence after sign-off and its withdrawal, and which war rooms
get a stand-up at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app import SCHEDULER
from storage.models import IssueRow, WarRoomRow
from tests.e2e.test_phase import BOSS, press, setup_values, war_room_row
from tests.support.activities import ADMIN, LENA, NOBODY, OMAR, execute_action, group_chat_message, personal_message
from tests.support.clock import FrozenClock
from tests.support.connector import FakeConnector, RecordedCall
from tests.support.markdown import shown_text
from tests.support.server import RunningBot
from tests.support.war_room import WarRoom, card_text, find_execute

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # the clock's start; 09:00 in London too
DAY = timedelta(days=1)


@pytest.fixture
async def room(bot: RunningBot, connector: FakeConnector) -> WarRoom:
    war_room = WarRoom(bot, connector)
    connector.members.append(dict(BOSS, email="bea@contoso.com"))
    await war_room.grant(LENA, "triage_lead")
    await war_room.grant(OMAR, "admin")
    await war_room.grant(NOBODY, "support")
    await war_room.grant(BOSS, "leadership")
    return war_room


async def tick(bot: RunningBot, connector: FakeConnector, clock: FrozenClock, at: datetime) -> list[RecordedCall]:
    """Move the clock to `at` and run one scheduler pass: what it sent."""
    clock.advance(at - clock.now())
    before = len(connector.calls)
    await bot.app[SCHEDULER].tick(at)
    return connector.calls[before:]


def posts(calls: list[RecordedCall]) -> list[dict[str, Any]]:
    """The new channel posts (stand-ups, "ready for sign-off") among `calls`, as cards."""
    return [call.card for call in calls if call.path == "/v3/conversations" and call.card]


def mentioned(card: dict[str, Any]) -> set[str]:
    return {entity["mentioned"]["id"] for entity in card.get("msteams", {}).get("entities", [])}


async def set_up(room: WarRoom, **values: Any) -> dict[str, Any]:
    [reply] = await room.say("setup", sender=ADMIN)
    return await press(room, reply.card, "setup.save", setup_values(reply.card) | values, sender=ADMIN)


def resolve_inputs() -> dict[str, str]:
    return {"resolve_notes": "Showed the user the report", "resolve_type": "user_trained", "resolve_handled_by": "support"}


async def test_until_set_up_the_standup_asks_admins_and_triage_leads_with_a_set_up_button(
    room: WarRoom, bot: RunningBot, connector: FakeConnector, clock: FrozenClock
) -> None:
    [standup] = posts(await tick(bot, connector, clock, MONDAY + DAY))
    prompt = next(element for element in standup["body"] if element.get("id") == "setup_prompt")
    assert "Hypercare here has no agreed end yet." in card_text(prompt)
    assert "Admins and triage leads: <at>Omar Haddad</at>, <at>Lena Berg</at>" in card_text(prompt)
    assert mentioned(standup) == {"aad-omar", "aad-lena"}  # real Teams mentions; leadership is not asked to set up
    button = find_execute(standup, "setup.open")
    assert button["title"] == "Set up hypercare"

    refused = await press(room, standup, "setup.open", sender=NOBODY)
    assert "To set up the war room you need the role admin. Ask an admin of this war room to set it up." in card_text(refused)
    form = await press(room, standup, "setup.open", sender=OMAR)
    assert "Set up this war room" in card_text(form)
    assert setup_values(form)["starts_on"] == "2026-11-24"  # today offered as the start
    assert "Business Central, SMB, 2–4 weeks (3 by default)" in card_text(form)

    # Still not set up the next working day: asked again.
    [again] = posts(await tick(bot, connector, clock, MONDAY + 2 * DAY))
    assert any(element.get("id") == "setup_prompt" for element in again["body"])


async def test_setup_from_a_preset_takes_its_usual_length_and_warns_outside_its_band(room: WarRoom, engine: AsyncEngine) -> None:
    saved = await set_up(room, preset="bc_smb", starts_on="2026-11-23", ends_on="", weeks="")
    assert "Saved." in card_text(saved) and "band_warning" not in card_text(saved)
    settings = (await war_room_row(engine)).settings
    assert (settings["preset"], settings["starts_on"], settings["ends_on"]) == ("bc_smb", "2026-11-23", "2026-12-13")  # 3 weeks

    long = await set_up(room, preset="bc_smb", starts_on="2026-11-23", ends_on="2027-01-03")
    warning = next(element for element in long["body"] if element.get("id") == "band_warning")
    assert shown_text(warning["items"][0]) == (
        "Business Central, SMB hypercare usually runs 2–4 weeks; this window runs 6 weeks (23 Nov – 03 Jan 2027). "
        "Saved as you asked; check it is what was agreed."
    )
    assert (await war_room_row(engine)).settings["ends_on"] == "2027-01-03"  # warned, not refused

    enterprise = await set_up(room, preset="fscm_enterprise", starts_on="2026-11-23", ends_on="", weeks="")
    assert "band_warning" not in card_text(enterprise)
    assert (await war_room_row(engine)).settings["ends_on"] == "2027-01-17"  # 8 weeks


async def test_an_end_is_required_and_what_was_typed_is_kept(room: WarRoom, engine: AsyncEngine) -> None:
    card = await set_up(room, preset="custom", starts_on="2026-11-23", ends_on="", weeks="", sev2_cap=3, standup_time="08:30")
    errors = {element["id"]: shown_text(element) for element in card["body"] if element.get("id", "").endswith("_error")}
    assert errors == {"ends_on_error": "Give the planned end, or the length in weeks: hypercare needs an agreed end."}
    shown = setup_values(card)
    assert (shown["preset"], shown["starts_on"], str(shown["sev2_cap"]), shown["standup_time"]) == ("custom", "2026-11-23", "3", "08:30")
    assert (await war_room_row(engine)).settings is None  # nothing saved


async def test_past_the_planned_end_the_standup_says_so_and_mentions_leadership_the_first_day_only(
    room: WarRoom, bot: RunningBot, connector: FakeConnector, clock: FrozenClock
) -> None:
    await set_up(room, starts_on="2026-11-02", ends_on="2026-11-20")  # ended last Friday
    [tuesday] = posts(await tick(bot, connector, clock, MONDAY + DAY))
    assert "Day 23: 2 working days past the planned end" in card_text(tuesday)
    assert "Day 19 of 19" not in card_text(tuesday) and "planned to end today" not in card_text(tuesday)
    warning = next(element for element in tuesday["body"] if element.get("id") == "warning")
    assert shown_text(warning["items"][0]).startswith("Hypercare has run past its planned end (2026-11-20) and the exit criteria are not met")
    assert "Leadership: extend it (`extend 2w REASON`) or sign it off (`exit`)." in shown_text(warning["items"][0])
    assert "Leadership: <at>Bea Boss</at>" in card_text(warning)
    # Leadership the first day past the end; the stand-up's participants (the triage leads) every day.
    assert mentioned(tuesday) == {"aad-bea", "aad-lena"}

    [wednesday] = posts(await tick(bot, connector, clock, MONDAY + 2 * DAY))
    assert "Day 24: 3 working days past the planned end" in card_text(wednesday)
    assert "Leadership: extend it" in card_text(wednesday)  # still said plainly every day
    assert mentioned(wednesday) == {"aad-lena"}  # but leadership is @mentioned once

    [done] = await room.say("extend 2026-11-27 payroll run pending", sender=BOSS)
    assert "moved the end of hypercare to Friday 27 November 2026" in card_text(done.card)
    [thursday] = posts(await tick(bot, connector, clock, MONDAY + 3 * DAY))
    assert "Day 25 of 26" in card_text(thursday) and mentioned(thursday) == {"aad-lena"}


async def test_ready_for_sign_off_is_told_once_with_the_sign_off_button(
    room: WarRoom, bot: RunningBot, connector: FakeConnector, clock: FrozenClock, engine: AsyncEngine
) -> None:
    await set_up(room, starts_on="2026-11-16", ends_on="2026-12-18")
    issue = await room.raise_issue("sev3 - how do I print the vendor aging report")
    await room.click(issue, "issue.resolve", resolve_inputs(), sender=NOBODY)

    tuesday = posts(await tick(bot, connector, clock, MONDAY + DAY))
    assert len(tuesday) == 2 and "Hypercare stand-up" in card_text(tuesday[0])
    ready = tuesday[1]
    assert "Ready for sign-off" in card_text(ready) and "Every exit criterion the bot measures passes." in card_text(ready)
    assert mentioned(ready) == {"aad-bea"}
    sign = find_execute(ready, "phase.signoff")
    assert sign["title"] == "Sign off hypercare" and sign["isEnabled"] is True

    wednesday = posts(await tick(bot, connector, clock, MONDAY + 2 * DAY))
    assert len(wednesday) == 1 and "Ready for sign-off" not in card_text(wednesday[0])  # once
    assert (await war_room_row(engine)).ready_told_at == MONDAY + DAY

    signed = await press(room, ready, "phase.signoff", sender=BOSS)
    assert "signed off by Bea Boss" in card_text(signed)


async def test_after_sign_off_silence_and_a_withdrawal_resumes_with_one_message_per_issue(
    room: WarRoom, bot: RunningBot, connector: FakeConnector, clock: FrozenClock, engine: AsyncEngine
) -> None:
    await set_up(room, starts_on="2026-11-16", ends_on="2026-12-18")
    open_sev2 = await room.raise_issue("sev2 - the bank file is rejected")
    answered = await room.raise_issue("sev3 - how do I print the vendor aging report")
    await room.click(answered, "issue.resolve", resolve_inputs(), sender=NOBODY)
    [exit_card] = await room.say("exit")
    signed = await press(room, exit_card.card, "phase.signoff", sender=BOSS)
    assert "signed off by Bea Boss" in card_text(signed)

    # Four working days and a weekend, ticked every two hours: no stand-up, no reminder, no escalation.
    silent: list[RecordedCall] = []
    for hours in range(2, 24 * 7, 2):
        silent += await tick(bot, connector, clock, MONDAY + timedelta(hours=hours))
    assert silent == []
    async with engine.connect() as connection:
        held = (await connection.execute(select(IssueRow.next_due_at, IssueRow.reminders_paused).where(IssueRow.number == 1))).one()
        next_standup = (await connection.execute(select(WarRoomRow.next_standup_at))).scalar_one()
    assert tuple(held) == (None, True) and next_standup is None

    sunday_morning = clock.now()
    withdrawn = await press(room, signed, "phase.withdraw", {"withdraw_reason": "the payroll run failed"}, sender=BOSS)
    assert "signed off by" not in card_text(withdrawn)
    # The Sev 2 fell past its acknowledgement and resolution targets while signed off: one message, not one per miss.
    resumed = await tick(bot, connector, clock, sunday_morning + timedelta(minutes=5))
    in_thread = [call for call in resumed if call.path != "/v3/conversations"]
    assert len(in_thread) == 1 and in_thread[0].conversation_id == open_sev2.thread["conversation"]["id"]
    assert "#1 Sev 2" in card_text(in_thread[0].card or {})
    assert await tick(bot, connector, clock, sunday_morning + timedelta(minutes=10)) == []
    [standup] = posts(await tick(bot, connector, clock, MONDAY + 7 * DAY))  # the next working morning
    assert "Hypercare stand-up" in card_text(standup) and "#1 Sev 2" in card_text(standup)


async def test_personal_chats_never_get_a_standup_group_chats_only_once_set_up(
    room: WarRoom, bot: RunningBot, connector: FakeConnector, clock: FrozenClock
) -> None:
    group = "19:group-chat-finance@thread.v2"
    for activity in (personal_message(connector.url, "list"), group_chat_message(connector.url, "list")):
        status, _ = await bot.post_activity(activity)
        assert status == 200
    await bot.settle()
    tuesday = await tick(bot, connector, clock, MONDAY + DAY)
    assert [card_text(call.card or {})[:60] for call in tuesday if call.path != "/v3/conversations"] == []
    assert len(posts(tuesday)) == 1  # the team's channel only

    setup = group_chat_message(connector.url, "setup", sender=ADMIN)
    status, _ = await bot.post_activity(setup)
    assert status == 200
    await bot.settle()
    [form] = [call for call in connector.calls if call.conversation_id == group and "Set up this war room" in card_text(call.card or {})]
    values = setup_values(form.card or {}) | {"starts_on": "2026-11-23", "ends_on": "2026-12-18"}
    status, body = await bot.post_activity(execute_action(setup, "setup.save", values, card_activity_id=form.sent_id or "", sender=ADMIN))
    assert status == 200 and "Saved." in card_text(body["value"])
    await bot.settle()
    wednesday = await tick(bot, connector, clock, MONDAY + 2 * DAY)
    in_group = [call for call in wednesday if call.conversation_id == group]
    assert len(in_group) == 1 and "Hypercare stand-up" in card_text(in_group[0].card or {})
    assert "a:personal-priya" not in {call.conversation_id for call in wednesday}
