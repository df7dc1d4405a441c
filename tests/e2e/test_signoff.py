"""Signing off resolutions over real HTTP, on SQLite and PostgreSQL: the reporter's Fixed for me / Still broken in the
thread, Confirm / Reopen on the stand-up, refusals for the wrong role, stale clicks, and the scheduler closing what
nobody confirmed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app import SCHEDULER
from storage.models import ChartSnapshotRow, IssueEventRow, IssueRow
from tests.support.activities import LENA, NOBODY, OMAR, USER, execute_action
from tests.support.clock import FrozenClock
from tests.support.connector import FakeConnector, RecordedCall
from tests.support.server import RunningBot
from tests.support.war_room import RaisedIssue, WarRoom, card_text, find_execute

SARA = {"id": "29:sara", "name": "Sara Lind", "aadObjectId": "aad-sara"}
FIX = {"resolve_notes": "Recreated the vendor posting profile", "resolve_type": "configuration_changed"}


@pytest.fixture
async def room(bot: RunningBot, connector: FakeConnector) -> WarRoom:
    war_room = WarRoom(bot, connector)
    connector.members.append(dict(SARA, email="sara@contoso.com"))
    await war_room.grant(OMAR, "oncall")
    await war_room.grant(LENA, "triage_lead")
    await war_room.grant(SARA, "support")
    return war_room


async def stored(engine: AsyncEngine, issue_id: int) -> Any:
    async with engine.connect() as connection:
        return (await connection.execute(select(IssueRow).where(IssueRow.id == issue_id))).one()


async def events(engine: AsyncEngine, issue_id: int) -> list[tuple[str, str, str | None, str | None]]:
    statement = select(IssueEventRow.verb, IssueEventRow.actor_name, IssueEventRow.to_value, IssueEventRow.reason).where(
        IssueEventRow.issue_id == issue_id).order_by(IssueEventRow.id)
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(statement)]  # type: ignore[misc]


class Question:
    """The "Fixed for me / Still broken" card the bot posted in the issue's thread."""

    def __init__(self, room: WarRoom, issue: RaisedIssue, call: RecordedCall) -> None:
        self.room, self.issue, self.message_id = room, issue, call.sent_id
        assert call.card is not None and self.message_id is not None
        self.card: dict[str, Any] = call.card

    async def press(self, verb: str, inputs: dict[str, Any] | None = None, *, sender: dict[str, str] = USER) -> dict[str, Any]:
        data = dict(find_execute(self.card, verb)["data"]) | (inputs or {})
        assert self.message_id is not None
        status, body = await self.room.bot.post_activity(
            execute_action(self.issue.thread, verb, data, card_activity_id=self.message_id, sender=sender)
        )
        assert status == 200 and body["statusCode"] == 200, body
        await self.room.bot.settle()
        return body["value"]


async def resolved(room: WarRoom, text: str = "sev2 - AP cannot post vendor invoices in USMF") -> tuple[RaisedIssue, Question]:
    """Priya raises it, Omar (on call) resolves it; the question the bot then asks Priya in the thread."""
    issue = await room.raise_issue(text)
    before = len(room.connector.calls)
    await room.click(issue, "issue.resolve", FIX, sender=OMAR)
    [call] = [c for c in room.connector.calls[before:] if c.method == "POST" and c.card and "Is it fixed for you?" in card_text(c.card)]
    return issue, Question(room, issue, call)


# -- the reporter, in the thread ------------------------------------------------------------------


async def test_the_reporter_is_asked_in_the_thread_and_fixed_for_me_closes_it(room: WarRoom, engine: AsyncEngine) -> None:
    issue, question = await resolved(room)
    row = await stored(engine, issue.issue_id)
    assert (row.status, row.confirmed_at) == ("resolved", None) and row.close_by is not None  # waiting
    # A real @mention of the reporter, and their two answers.
    assert question.card["msteams"]["entities"] == [
        {"type": "mention", "text": "<at>Priya Shah</at>", "mentioned": {"id": "aad-priya", "name": "Priya Shah"}}
    ]
    assert "Resolved, awaiting confirmation" in card_text(issue.card)

    before = len(room.connector.calls)
    answer = await question.press("signoff.fixed")

    assert "Priya Shah confirmed the fix" in card_text(answer) and "Fixed for me" not in card_text(answer)
    row = await stored(engine, issue.issue_id)
    assert (row.status, row.confirmed_by_id, row.confirmed_by_name, row.close_by) == ("resolved", "aad-priya", "Priya Shah", None)
    assert (await events(engine, issue.issue_id))[-1][:3] == ("confirm", "Priya Shah", "closed")
    # Everyone sees it answered, and the issue's own card says it is closed.
    puts = [c for c in room.connector.calls[before:] if c.method == "PUT"]
    assert {c.activity_id for c in puts} == {question.message_id, issue.card_message_id}
    issue_card = next(c.card for c in puts if c.activity_id == issue.card_message_id)
    assert issue_card is not None and "Closed, confirmed" in card_text(issue_card) and "Confirmed fixed" in card_text(issue_card)


async def test_still_broken_needs_words_and_keeps_what_was_typed(room: WarRoom, engine: AsyncEngine) -> None:
    issue, question = await resolved(room)

    answer = await question.press("signoff.broken", {"broken_text": "   "})

    assert "Say what is still wrong" in card_text(answer) and "Is it fixed for you?" in card_text(answer)
    assert (await stored(engine, issue.issue_id)).status == "resolved"
    long = "x" * 501
    answer = await question.press("signoff.broken", {"broken_text": long})
    assert long in card_text(answer) and "Say what is still wrong (at most 500 characters)." in card_text(answer)


async def test_still_broken_reopens_it_with_the_reporters_words_and_tells_the_resolver(room: WarRoom, engine: AsyncEngine) -> None:
    issue, question = await resolved(room)
    before = len(room.connector.calls)

    answer = await question.press("signoff.broken", {"broken_text": "DEMF invoices still fail to post"})

    assert "#1 is reopened now." in card_text(answer)
    row = await stored(engine, issue.issue_id)
    assert (row.status, row.resolved_at, row.confirmed_at) == ("reopened", None, None)
    assert (await events(engine, issue.issue_id))[-1] == ("broken", "Priya Shah", "reopened", "DEMF invoices still fail to post")
    [told] = [c for c in room.connector.calls[before:] if c.method == "POST" and c.card and "Still broken" in card_text(c.card)]
    assert "DEMF invoices still fail to post" in card_text(told.card)
    assert [e["mentioned"]["id"] for e in told.card["msteams"]["entities"]] == ["aad-omar"]  # type: ignore[index]


@pytest.mark.parametrize("sender", [OMAR, NOBODY], ids=["on call", "no role"])
async def test_someone_else_may_not_answer_for_the_reporter(room: WarRoom, engine: AsyncEngine, sender: dict[str, str]) -> None:
    issue, question = await resolved(room)

    for verb, inputs in (("signoff.fixed", None), ("signoff.broken", {"broken_text": "meh"})):
        answer = await question.press(verb, inputs, sender=sender)
        text = card_text(answer)
        assert "To sign off the resolution of an issue you did not report you need the role support or triage_lead." in text
        assert "Fixed for me" in text  # the question stays open
    row = await stored(engine, issue.issue_id)
    assert (row.status, row.confirmed_at) == ("resolved", None)
    assert [verb for verb, *_ in await events(engine, issue.issue_id)] == ["created", "resolve"]


async def test_a_key_user_may_answer_and_a_late_click_is_stale(room: WarRoom, engine: AsyncEngine, clock: FrozenClock) -> None:
    issue, question = await resolved(room)
    await question.press("signoff.fixed", sender=SARA)
    clock.advance(timedelta(minutes=3))

    answer = await question.press("signoff.broken", {"broken_text": "still fails"}, sender=USER)  # the card Priya still had

    assert "Sara Lind confirmed the fix of this 3 minutes ago. This is where it stands now." in card_text(answer)
    assert (await stored(engine, issue.issue_id)).status == "resolved"
    assert [verb for verb, *_ in await events(engine, issue.issue_id)] == ["created", "resolve", "confirm"]


async def test_the_issue_cards_own_buttons_sign_off_too(room: WarRoom, engine: AsyncEngine) -> None:
    issue, _ = await resolved(room)

    refused = await room.click(issue, "issue.confirm", sender=OMAR)
    assert "you need the role support or triage_lead" in card_text(refused)
    card = await room.click(issue, "issue.broken", {"broken_text": ""}, sender=USER)
    assert "Say what is still wrong" in card_text(card)
    card = await room.click(issue, "issue.confirm", sender=USER)
    assert "Closed, confirmed" in card_text(card) and (await stored(engine, issue.issue_id)).confirmed_by_name == "Priya Shah"


# -- the stand-up ---------------------------------------------------------------------------------


class Standup:
    def __init__(self, room: WarRoom, message: dict[str, Any], call: RecordedCall) -> None:
        self.room, self.message, self.message_id = room, message, call.sent_id
        assert call.card is not None
        self.card: dict[str, Any] = call.card

    async def press(self, verb: str, issue_id: int, inputs: dict[str, Any] | None = None, *, sender: dict[str, str] = LENA) -> dict[str, Any]:
        data = next(dict(action["data"]) for action in _executes(self.card, verb) if action["data"]["issue_id"] == issue_id)
        assert self.message_id is not None
        status, body = await self.room.bot.post_activity(
            execute_action(self.message, verb, data | (inputs or {}), card_activity_id=self.message_id, sender=sender)
        )
        assert status == 200 and body["statusCode"] == 200, body
        await self.room.bot.settle()
        return body["value"]


def _image(card: dict[str, Any]) -> str | None:
    return next((element["url"] for element in card["body"] if element["type"] == "Image"), None)


def _chart_id(card: dict[str, Any]) -> int | None:
    return next((action["data"].get("chart_id") for action in _executes(card, "signoff.confirm")), None)


async def charts_kept(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return (await connection.execute(select(func.count()).select_from(ChartSnapshotRow))).scalar_one()


def _executes(node: Any, verb: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "Action.Execute" and node.get("verb") == verb:
            found.append(node)
        for key, value in node.items():
            if key != "fallback":
                found += _executes(value, verb)
    elif isinstance(node, list):
        for item in node:
            found += _executes(item, verb)
    return found


async def standup(room: WarRoom) -> Standup:
    message, [reply] = await room.post("standup", sender=NOBODY)
    return Standup(room, message, reply)


async def test_the_standup_lists_resolutions_to_sign_off_and_a_triage_lead_confirms_one(room: WarRoom, engine: AsyncEngine) -> None:
    first, _ = await resolved(room)
    second, _ = await resolved(room, "sev3 - the vendor aging report is slow")
    board = await standup(room)
    text = card_text(board.card)
    assert "Resolved since the last stand-up: sign off (2)" in text
    assert len(_executes(board.card, "signoff.confirm")) == 2 and len(_executes(board.card, "signoff.reopen")) == 2

    before = len(board.room.connector.calls)
    answer = await board.press("signoff.confirm", first.issue_id)

    text = card_text(answer)
    assert "#1 confirmed fixed and closed by Lena Berg." in text and "Confirmed by Lena Berg" in text
    assert len(_executes(answer, "signoff.confirm")) == 1  # #2 still waits
    assert (await stored(engine, first.issue_id)).confirmed_by_name == "Lena Berg"
    assert (await stored(engine, second.issue_id)).confirmed_at is None
    puts = {c.activity_id for c in board.room.connector.calls[before:] if c.method == "PUT"}
    assert puts == {board.message_id, first.card_message_id}  # the stand-up for everyone, and #1's own card


async def test_a_signoff_on_the_standup_redraws_it_with_the_chart_it_was_posted_with(room: WarRoom, engine: AsyncEngine) -> None:
    """As a decision's redraw does: the chart's figures are not kept again on every click (that read the whole war
    room a second time), and the redrawn card's buttons carry the chart on."""
    first, _ = await resolved(room)
    second, _ = await resolved(room, "sev3 - the vendor aging report is slow")
    board = await standup(room)
    kept = await charts_kept(engine)

    answer = await board.press("signoff.confirm", first.issue_id)

    assert "#1 confirmed fixed and closed by Lena Berg." in card_text(answer)
    assert _image(answer) == _image(board.card) is not None
    assert await charts_kept(engine) == kept
    [again] = _executes(answer, "signoff.confirm")
    assert again["data"]["issue_id"] == second.issue_id and again["data"]["chart_id"] == _chart_id(board.card) is not None


async def test_reopen_on_the_standup_needs_a_reason_and_keeps_it(room: WarRoom, engine: AsyncEngine) -> None:
    issue, _ = await resolved(room)
    board = await standup(room)
    field = f"broken_text_{issue.issue_id}"

    answer = await board.press("signoff.reopen", issue.issue_id, {field: ""}, sender=SARA)
    assert "Say what is still wrong" in card_text(answer) and f'"id": "panel_{issue.issue_id}"' in card_text(answer)
    assert (await stored(engine, issue.issue_id)).status == "resolved"

    answer = await board.press("signoff.reopen", issue.issue_id, {field: "Users still see the error in DEMF"}, sender=SARA)
    assert "#1 reopened by Sara Lind." in card_text(answer)
    assert (await stored(engine, issue.issue_id)).status == "reopened"
    assert (await events(engine, issue.issue_id))[-1] == ("broken", "Sara Lind", "reopened", "Users still see the error in DEMF")


@pytest.mark.parametrize("sender", [OMAR, NOBODY], ids=["on call", "no role"])
async def test_the_standups_buttons_are_refused_to_the_wrong_role(room: WarRoom, engine: AsyncEngine, sender: dict[str, str]) -> None:
    issue, _ = await resolved(room)
    board = await standup(room)

    for verb, inputs in (("signoff.confirm", None), ("signoff.reopen", {f"broken_text_{issue.issue_id}": "no"})):
        answer = await board.press(verb, issue.issue_id, inputs, sender=sender)
        assert "you need the role support or triage_lead" in card_text(answer) and "Hypercare stand-up" in card_text(answer)
    assert (await stored(engine, issue.issue_id)).confirmed_at is None


async def test_a_stale_standup_click_shows_the_standup_as_it_is_now(room: WarRoom, engine: AsyncEngine) -> None:
    issue, question = await resolved(room)
    board = await standup(room)
    await question.press("signoff.fixed")  # Priya answered in the thread meanwhile

    answer = await board.press("signoff.reopen", issue.issue_id, {f"broken_text_{issue.issue_id}": "hm"})

    assert "Priya Shah confirmed the fix of this just now. This is the stand-up as it is now." in card_text(answer)
    assert _executes(answer, "signoff.confirm") == [] and (await stored(engine, issue.issue_id)).status == "resolved"


# -- closing by itself ------------------------------------------------------------------------------


async def test_the_scheduler_closes_an_unconfirmed_resolution_after_three_working_days(
    room: WarRoom, engine: AsyncEngine, bot: RunningBot, clock: FrozenClock
) -> None:
    issue, question = await resolved(room, "sev1 - nobody can post vendor invoices")  # Monday 09:00
    scheduler = bot.app[SCHEDULER]
    [exit_before] = [line for line in card_text((await standup(room)).card).split('"') if line.startswith("❌ No open Sev 1")]
    assert "1 resolved, awaiting confirmation" in exit_before

    assert (await scheduler.tick(clock.now() + timedelta(days=3) - timedelta(seconds=1))).auto_closed == 0
    report = await scheduler.tick(clock.now() + timedelta(days=3))  # Thursday 09:00: three working days later

    assert report.auto_closed == 1
    row = await stored(engine, issue.issue_id)
    assert (row.status, row.confirmed_by_name, row.close_by) == ("resolved", None, None) and row.confirmed_at is not None
    assert (await events(engine, issue.issue_id))[-1] == (
        "auto_closed", "Hypercare", "closed", "Nobody confirmed it or said it was still broken within 3 working days."
    )
    clock.advance(timedelta(days=3))
    answer = await question.press("signoff.fixed")  # too late: it is closed
    assert "#1 is closed: it closed automatically" in card_text(answer)
    [history] = await room.say("history #1")
    assert '"text": " closed it automatically, unconfirmed' in card_text(history.card)
    [exit_after] = [line for line in card_text((await standup(room)).card).split('"') if line.startswith("✅ No open Sev 1")]
    assert exit_after
