"""Agreeing priorities at the stand-up, and each person's own view of an issue card, over real HTTP (SQLite, PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import IssueEventRow, IssueRow
from tests.support.activities import LENA, NOBODY, OMAR, TENANT, USER, execute_action
from tests.support.connector import FakeConnector
from tests.support.server import RunningBot
from tests.support.war_room import RaisedIssue, WarRoom, card_text, find_execute

SUPPORT = {"id": "29:sara", "name": "Sara Lind", "aadObjectId": "aad-sara"}


@pytest.fixture
async def room(bot: RunningBot, connector: FakeConnector) -> WarRoom:
    war_room = WarRoom(bot, connector)
    connector.members.append(dict(SUPPORT, email="sara@contoso.com"))
    await war_room.grant(LENA, "triage_lead")
    await war_room.grant(OMAR, "oncall")
    await war_room.grant(SUPPORT, "support")
    return war_room


def verbs(card: dict[str, Any]) -> set[str]:
    """Every Action.Execute verb on a card (fold-outs included, the card's own refresh not)."""
    found: set[str] = set()
    stack: list[Any] = [{key: value for key, value in card.items() if key != "refresh"}]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "Action.Execute":
                found.add(node["verb"])
            stack.extend(value for key, value in node.items() if key != "fallback")
        elif isinstance(node, list):
            stack.extend(node)
    return found


async def own_view(bot: RunningBot, issue: RaisedIssue, viewer: dict[str, str], *, issue_id: int | None = None) -> dict[str, Any]:
    """Teams asking for `viewer`'s view of the card (its `refresh`, triggered automatically)."""
    refresh = issue.card["refresh"]["action"]
    activity = execute_action(issue.thread, refresh["verb"], {**refresh["data"], **({"issue_id": issue_id} if issue_id else {})},
                              card_activity_id=issue.card_message_id, sender=viewer)
    activity["value"]["trigger"] = "automatic"
    status, body = await bot.post_activity(activity)
    assert status == 200 and body["statusCode"] == 200
    return body["value"]


# -- each person's own buttons -------------------------------------------------------------------


async def test_the_card_lists_the_reporter_and_the_triage_team_for_their_own_view(room: WarRoom) -> None:
    issue = await room.raise_issue("sev2 - AP cannot post vendor invoices in USMF")

    refresh = issue.card["refresh"]
    assert refresh["action"] == {"type": "Action.Execute", "title": "Refresh", "verb": "issue.view", "data": {"issue_id": issue.issue_id}}
    # The reporter first, then the triage team by name; nobody without a triage role.
    assert refresh["userIds"] == ["8:orgid:aad-priya", "8:orgid:aad-lena", "8:orgid:aad-omar", "8:orgid:aad-sara"]
    # The card everyone is sent (and clients without refresh) keeps every button the status allows.
    assert {"issue.ack", "issue.take", "issue.resolve", "issue.severity", "issue.update", "issue.metoo"} <= verbs(issue.card)


async def test_refresh_answers_a_triage_lead_an_oncall_the_reporter_and_anyone_else_their_own_buttons(
    room: WarRoom, bot: RunningBot, connector: FakeConnector
) -> None:
    issue = await room.raise_issue("sev3 - the aged debt report is slow")
    before = len(connector.calls)

    lead, oncall, reporter, other = [await own_view(bot, issue, person) for person in (LENA, OMAR, USER, NOBODY)]

    assert {"issue.ack", "issue.take", "issue.severity", "issue.defer", "issue.duplicate", "issue.escalate"} <= verbs(lead)
    assert {"issue.ack", "issue.take", "issue.resolve", "issue.assign"} <= verbs(oncall)
    assert not {"issue.severity", "issue.defer", "issue.escalate"} & verbs(oncall)
    assert verbs(reporter) == verbs(other) == {"issue.update", "issue.metoo"}
    assert all(card["refresh"] == issue.card["refresh"] for card in (lead, oncall, reporter, other))
    assert connector.calls[before:] == []  # a view is nobody else's business: no PUT, no post


async def test_a_resolved_issue_offers_its_reporter_the_sign_off_then_reopen_and_nobody_else(room: WarRoom, bot: RunningBot) -> None:
    issue = await room.raise_issue("sev3 - the aged debt report is slow")
    await room.click(issue, "issue.resolve", {"resolve_notes": "Index rebuilt", "resolve_type": "fixed"}, sender=OMAR)

    assert {"issue.confirm", "issue.broken"} <= verbs(await own_view(bot, issue, USER))
    assert not {"issue.confirm", "issue.broken", "issue.reopen"} & verbs(await own_view(bot, issue, NOBODY))

    await room.click(issue, "issue.confirm", sender=USER)

    assert "issue.reopen" in verbs(await own_view(bot, issue, USER))
    assert "issue.reopen" not in verbs(await own_view(bot, issue, NOBODY))


async def test_the_server_still_refuses_a_button_the_view_would_not_show(room: WarRoom, engine: AsyncEngine) -> None:
    issue = await room.raise_issue("sev3 - the aged debt report is slow")

    card = await room.click(issue, "issue.ack", sender=NOBODY)

    assert "To acknowledge issues you need the role" in card_text(card)
    async with engine.connect() as connection:
        assert (await connection.execute(select(IssueRow.status))).scalar_one() == "new"


async def test_a_view_of_another_war_rooms_issue_shows_nothing(room: WarRoom, bot: RunningBot) -> None:
    issue = await room.raise_issue("sev3 - the aged debt report is slow")

    card = await own_view(bot, issue, LENA, issue_id=issue.issue_id + 1000)

    assert "There is no issue like that in this war room" in card_text(card) and "refresh" not in card


# -- Needs a decision, on the stand-up ------------------------------------------------------------


THREADS: dict[str, dict[str, Any]] = {}


async def standup(room: WarRoom) -> tuple[dict[str, Any], str]:
    message, [reply] = await room.post("standup")
    assert reply.card is not None and reply.sent_id is not None
    THREADS[reply.sent_id] = message
    return reply.card, reply.sent_id


async def decide(bot: RunningBot, room: WarRoom, card: dict[str, Any], message_id: str, title: str, issue_id: int,
                 sender: dict[str, str], inputs: dict[str, str] | None = None) -> dict[str, Any]:
    [button] = [action for action in _decision_buttons(card, issue_id) if action["title"] == title]
    thread = THREADS[message_id]
    status, body = await bot.post_activity(
        execute_action(thread, button["verb"], {**button["data"], **(inputs or {})}, card_activity_id=message_id, sender=sender)
    )
    assert status == 200 and body["statusCode"] == 200
    await bot.settle()
    return body["value"]


def _decision_buttons(card: dict[str, Any], issue_id: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    stack: list[Any] = [card]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "Action.Execute" and node.get("verb") == "standup.decide" and node["data"]["issue_id"] == issue_id:
                found.append(node)
            stack.extend(value for key, value in node.items() if key != "fallback")
        elif isinstance(node, list):
            stack.extend(node)
    return found


async def events(engine: AsyncEngine, issue_id: int) -> list[tuple[str, str, str | None, str | None]]:
    statement = select(IssueEventRow.verb, IssueEventRow.actor_name, IssueEventRow.to_value, IssueEventRow.reason).where(
        IssueEventRow.issue_id == issue_id, IssueEventRow.verb == "decide"
    )
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(statement)]


async def test_standup_issue_lines_link_to_the_issue_cards(room: WarRoom) -> None:
    issue = await room.raise_issue("sev1 - nobody can log in to D365")

    card, _ = await standup(room)

    links = [node["selectAction"]["url"] for node in _walk(card) if isinstance(node, dict) and "selectAction" in node]
    root = issue.thread["id"]
    assert links and all(link.startswith(f"https://teams.microsoft.com/l/message/19%3Awar-room-general%40thread.tacv2/{issue.card_message_id}?")
                         for link in links)
    assert f"tenantId={TENANT}" in links[0] and f"parentMessageId={root}" in links[0] and "teamName=Go-live+war+room" in links[0]


def _walk(node: Any) -> list[Any]:
    nodes, stack = [], [node]
    while stack:
        here = stack.pop()
        nodes.append(here)
        if isinstance(here, dict):
            stack.extend(here.values())
        elif isinstance(here, list):
            stack.extend(here)
    return nodes


async def test_a_triage_lead_keeps_an_issue_in_hypercare_at_the_standup_and_everyone_sees_it(
    room: WarRoom, bot: RunningBot, engine: AsyncEngine
) -> None:
    issue = await room.raise_issue("sev1 - nobody can log in to D365")
    card, message_id = await standup(room)
    assert "Needs a decision (1)" in card_text(card)
    assert {button["title"] for button in _decision_buttons(card, issue.issue_id)} == {"Keep in hypercare", "Set severity"}

    answer = await decide(bot, room, card, message_id, "Keep in hypercare", issue.issue_id, LENA)

    text = card_text(answer)
    assert "#1: kept in hypercare by Lena Berg." in text and "Needs a decision (0)" in text and "Agreed at this stand-up (1)" in text
    [(verb, actor, to_value, reason)] = await events(engine, issue.issue_id)
    assert (verb, actor, to_value) == ("decide", "Lena Berg", "kept in hypercare") and reason.startswith("At the stand-up of 2026-")
    assert [call.card for call in room.updates_of(message_id)][-1] == answer  # the stand-up, redrawn for everyone


async def test_someone_without_the_role_is_refused_and_nothing_is_recorded(room: WarRoom, bot: RunningBot, engine: AsyncEngine) -> None:
    issue = await room.raise_issue("sev1 - nobody can log in to D365")
    card, message_id = await standup(room)

    answer = await decide(bot, room, card, message_id, "Keep in hypercare", issue.issue_id, OMAR)

    assert "To agree priorities at the stand-up you need the role triage_lead." in card_text(answer)
    assert "Needs a decision (1)" in card_text(answer)
    assert await events(engine, issue.issue_id) == [] and room.updates_of(message_id) == []


async def test_a_stale_stand_up_decides_nothing_and_says_what_changed(room: WarRoom, bot: RunningBot, engine: AsyncEngine) -> None:
    issue = await room.raise_issue("sev2 - AP cannot post vendor invoices in USMF")
    card, message_id = await standup(room)
    await room.click(issue, "issue.update", {"update_text": "Looking at the posting profile"}, sender=OMAR)

    answer = await decide(bot, room, card, message_id, "Keep in hypercare", issue.issue_id, LENA)

    assert "#1 changed since this card was drawn: Omar Haddad added an update to this" in card_text(answer)
    assert await events(engine, issue.issue_id) == [] and room.updates_of(message_id) == []


async def test_changing_the_severity_at_the_standup_and_deferring_a_sev3(room: WarRoom, bot: RunningBot, engine: AsyncEngine) -> None:
    urgent = await room.raise_issue("sev2 - AP cannot post vendor invoices in USMF")
    card, message_id = await standup(room)

    answer = await decide(bot, room, card, message_id, "Set severity", urgent.issue_id, LENA,
                          {f"decide_severity_{urgent.issue_id}": "3", f"decide_reason_{urgent.issue_id}": "One user, workaround"})

    assert "#1: severity changed to Sev 3 by Lena Berg." in card_text(answer)
    async with engine.connect() as connection:
        row = (await connection.execute(select(IssueRow.severity, IssueRow.decision, IssueRow.decided_by_name))).one()
    assert (row.severity, row.decision, row.decided_by_name) == (3, "severity", "Lena Berg")
    [(_, _, to_value, reason)] = await events(engine, urgent.issue_id)
    assert to_value == "3" and reason.endswith(": One user, workaround")
    # The issue's own card shows the new severity; reopened, it needs a decision again, and a Sev 3 can be deferred.
    urgent.card = room.updates_of(urgent.card_message_id)[-1].card or {}
    assert "Sev 3" in card_text(urgent.card)
    await room.click(urgent, "issue.resolve", {"resolve_notes": "Profile fixed", "resolve_type": "fixed"}, sender=OMAR)
    await room.click(urgent, "issue.broken", {"broken_text": "Back in DEMF"}, sender=LENA)
    card, message_id = await standup(room)
    assert {b["title"] for b in _decision_buttons(card, urgent.issue_id)} == {"Keep in hypercare", "Defer to after hypercare", "Set severity"}

    answer = await decide(bot, room, card, message_id, "Defer to after hypercare", urgent.issue_id, LENA)

    assert "#1: deferred to after hypercare by Lena Berg." in card_text(answer)
    async with engine.connect() as connection:
        assert (await connection.execute(select(IssueRow.status))).scalar_one() == "deferred"
