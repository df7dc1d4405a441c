"""The stand-up card: links to issue cards, decision buttons, who it @mentions, and its size in a big war room."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.domain.model import Person, Severity, Status
from bot.domain.priorities import standup_mentions
from bot.domain.standup import build_standup
from cards.common import MAX_CARD_BYTES, card_bytes, message_link
from cards.standup import DECIDE_VERB, render_standup
from tests.support.factories import make_issue

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SINCE = NOW - timedelta(days=1)


def test_a_channel_message_link_is_microsofts_documented_form() -> None:
    link = message_link("19:general@thread.tacv2;messageid=1711111111111", "1711111111999", tenant_id="t-1", team_name="Go-live")

    assert link == ("https://teams.microsoft.com/l/message/19%3Ageneral%40thread.tacv2/1711111111999?tenantId=t-1"
                    "&parentMessageId=1711111111111&teamName=Go-live&createdTime=1711111111999")
    assert message_link("19:chat@thread.v2", "5", tenant_id="t-1").endswith("/5?tenantId=t-1&context=%7B%22contextType%22%3A%22chat%22%7D")


def test_decision_buttons_carry_the_issue_its_version_and_the_standup() -> None:
    issue = make_issue(severity=Severity.SEV3, status=Status.REOPENED, version=4)
    summary = build_standup(war_room_name="Go-live", open_issues=[issue], recent=[], deferred_count=0, since=SINCE, now=NOW,
                            standup_on=date(2026, 11, 24))

    card = render_standup(summary, chart_id=7)

    actions = card["body"]
    buttons = [a for element in _all(actions) if isinstance(element, dict) and element.get("verb") == DECIDE_VERB for a in [element]]
    assert {b["title"] for b in buttons} == {"Keep in hypercare", "Defer to after hypercare", "Set severity"}
    assert all(b["data"] | {"priority": None} == {"issue_id": 1, "version": 4, "priority": None, "standup_on": "2026-11-24",
                                                  "since": SINCE.isoformat(), "chart_id": 7, "told": False} for b in buttons)


def test_a_big_war_rooms_standup_mentions_one_messages_worth_and_stays_under_the_size_limit() -> None:
    long_name = "Maximilian-Alexander Featherstonehaugh-Worthington"
    people = [Person(aad_object_id=f"00000000-0000-0000-0000-{n:012d}", name=f"{long_name} {n}") for n in range(1000)]
    issues = [
        make_issue(id=n, number=n, severity=Severity(1 + n % 4), status=Status.REOPENED if n % 3 else Status.NEW,
                   title=("Posting profile missing for vendor invoices in every legal entity " * 3)[:120],
                   assignee=people[n] if n % 2 else None, created_at=NOW - timedelta(days=n % 20), resolve_by=NOW - timedelta(hours=1),
                   conversation_id=f"19:general@thread.tacv2;messageid={1711111111111 + n}", card_activity_id=str(1711111111111 + n))
        for n in range(1, 400)
    ]
    summary = build_standup(war_room_name="Go-live " * 20, open_issues=issues, recent=issues, deferred_count=50, since=SINCE, now=NOW,
                            standup_on=date(2026, 11, 24), tenant_id="72f988bf-86f1-41af-91ab-2d7cd011db47", team_name="Go-live")

    card = render_standup(summary, chart_url="https://bot.example/charts/1/2/" + "x" * 32 + ".png", chart_id=2,
                          participants=standup_mentions(summary.owners_to_tell, people))

    assert card_bytes(card) < MAX_CARD_BYTES
    assert len(card["msteams"]["entities"]) == 40
    assert "and 960 others not mentioned" in str(card)


def _all(node: object) -> list[object]:
    found, stack = [], [node]
    while stack:
        here = stack.pop()
        found.append(here)
        if isinstance(here, dict):
            stack.extend(value for key, value in here.items() if key != "fallback")
        elif isinstance(here, list):
            stack.extend(here)
    return found
