"""Reminder and escalation cards, posted into an issue's thread."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.model import Person
from bot.domain.reminders import Due, Reminded
from bot.domain.events import Verb, ago
from bot.domain.mentions import plan_mentions
from cards.common import Card, adaptive_card, card_time, execute, mention_lines, rich_text, text_run, with_mentions
from cards.issue_actions import card_verb

SNOOZE_VERB = "issue.snooze"


def _headline(due: Due, issue: Reminded, now: datetime) -> tuple[str, str]:
    age = ago(now - issue.created_at)
    label = f"#{issue.number} {issue.severity.label}"
    match due.kind:
        case "ack_breach":
            return "Attention", f"🚨 {label} has missed its acknowledgement target (raised {age})."
        case "resolve_breach":
            target = card_time(issue.resolve_by) if issue.resolve_by else "its target"
            return "Attention", f"🚨 {label} has passed its resolution target ({target})."
        case _ if due.reminder_kind == "unacknowledged":
            return "Accent", f"⏰ {label} is not acknowledged yet (raised {age})."
    owner = issue.assignee.name if issue.assignee else "nobody"
    return "Default", f"⏰ {label} is still open: {issue.status.label.lower()}, assigned to {owner}, raised {age}."


def render_reminder(due: Due, issue: Reminded, *, notify: tuple[Person, ...], now: datetime) -> Card:
    colour, headline = _headline(due, issue, now)
    plan = plan_mentions(notify, messages=1)
    people, entities = mention_lines("", plan.batches[0] if plan.batches else (), others=plan.others, spacing="Small")
    body: list[dict[str, Any]] = [
        rich_text(text_run(headline, weight="Bolder", color=colour)),  # it can name the assignee
        rich_text(text_run(issue.title)),
        *people,
    ]
    data = {"issue_id": issue.id, "version": issue.version}
    actions = []
    if issue.acknowledged_at is None:
        actions.append(execute("Acknowledge", card_verb(Verb.ACKNOWLEDGE), data, style="positive"))
    actions.append(execute("Snooze 1 h", SNOOZE_VERB, data))
    return with_mentions(adaptive_card(body, actions), entities)
