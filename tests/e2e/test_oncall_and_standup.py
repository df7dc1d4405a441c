"""On-call and stand-up commands, and a reminder's Snooze button, over real HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app import SCHEDULER
from storage.models import IssueRow
from tests.support.activities import LENA, NOBODY, OMAR, execute_action
from tests.support.clock import FrozenClock
from tests.support.connector import FakeConnector
from tests.support.server import RunningBot
from tests.support.war_room import WarRoom, card_text, find_execute


@pytest.fixture
async def room(bot: RunningBot, connector: FakeConnector) -> WarRoom:
    war_room = WarRoom(bot, connector)
    await war_room.grant(LENA, "triage_lead")
    await war_room.grant(OMAR, "oncall")
    return war_room


async def test_oncall_set_show_rota_and_clear(room: WarRoom) -> None:
    [shown] = await room.say("oncall")
    assert "Nobody is on call" in card_text(shown.card)
    [refused] = await room.say("oncall set {Omar Haddad}", sender=NOBODY, mentioning=[OMAR])
    assert "need the role triage_lead or admin" in card_text(refused.card)
    [done] = await room.say("oncall set {Omar Haddad} until 2026-11-30 09:00", sender=LENA, mentioning=[OMAR])
    assert "Omar Haddad is on call until 2026-11-30 09:00 (Europe/London)" in card_text(done.card)
    [shown] = await room.say("oncall")
    assert "Now: <at>Omar Haddad</at>" in card_text(shown.card)
    assert shown.card["msteams"]["entities"][0]["mentioned"]["id"] == "aad-omar"
    [rota] = await room.say("oncall rota {Lena Berg} {Omar Haddad} handover tue 10:00", sender=LENA, mentioning=[LENA, OMAR])
    assert "Lena Berg, Omar Haddad, a week each, handing over 10:00 on Tuesdays" in card_text(rota.card)
    await room.say("oncall clear", sender=LENA)
    [shown] = await room.say("oncall")
    # Without the override the rota applies; it started with its first person at the last Tuesday handover.
    assert "Now: <at>Lena Berg</at>" in card_text(shown.card)
    [bad] = await room.say("oncall set {Omar Haddad} until 2026-02-30", sender=LENA, mentioning=[OMAR])
    assert "does not exist" in card_text(bad.card)


async def test_standup_on_demand(room: WarRoom) -> None:
    await room.raise_issue("sev1 - nobody can log in to D365")
    [standup] = await room.say("standup")
    text = card_text(standup.card)
    assert "Hypercare stand-up" in text and "Nobody can log in to D365" in text and "Open now: **1**" in text


async def test_snooze_on_a_reminder_postpones_the_next_one(
    room: WarRoom, bot: RunningBot, connector: FakeConnector, clock: FrozenClock, engine: AsyncEngine
) -> None:
    issue = await room.raise_issue("sev1 - warehouse app down")
    scheduler = bot.app[SCHEDULER]
    await scheduler.tick(clock.now() + timedelta(minutes=15))  # the escalation, with Acknowledge and Snooze buttons
    escalation = connector.calls[-1]
    assert "acknowledgement target" in card_text(escalation.card)
    snooze = find_execute(escalation.card, "issue.snooze")
    clock.advance(timedelta(minutes=20))
    status, body = await bot.post_activity(
        execute_action(issue.thread, "issue.snooze", snooze["data"], card_activity_id=escalation.sent_id or "", sender=NOBODY)
    )
    assert status == 200 and "need the role oncall or triage_lead" in card_text(body["value"])
    status, body = await bot.post_activity(
        execute_action(issue.thread, "issue.snooze", snooze["data"], card_activity_id=escalation.sent_id or "", sender=OMAR)
    )
    assert status == 200 and "snoozed until" in card_text(body["value"])
    async with engine.connect() as connection:
        snoozed_until = (await connection.execute(select(IssueRow.snoozed_until))).scalar_one()
    assert snoozed_until == clock.now() + timedelta(hours=1)
    before = len(connector.calls)
    await scheduler.tick(clock.now() + timedelta(minutes=30))
    assert [c for c in connector.calls[before:] if "not acknowledged yet" in card_text(c.card or {})] == []
    await scheduler.tick(clock.now() + timedelta(minutes=61))
    assert [c for c in connector.calls[before:] if "not acknowledged yet" in card_text(c.card or {})] != []
