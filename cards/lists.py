"""Cards that show several things at once: issue lists, an issue's history, the war room's roles."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.model import Issue, Person, Role
from bot.domain.events import Event, ago, describe_verb
from cards.common import Card, adaptive_card, card_time, issue_link, open_link, plain_text, text_block, text_run, truncate

HISTORY_MAX = 40


def _issue_row(issue: Issue, now: datetime, tenant_id: str | None) -> dict[str, Any]:
    owner = issue.assignee.name if issue.assignee else "unassigned"
    row: dict[str, Any] = {
        "type": "Container",
        "spacing": "Small",
        "items": [
            {
                "type": "RichTextBlock",
                "inlines": [
                    text_run(f"#{issue.number} ", weight="Bolder"),
                    text_run(f"{issue.severity.label} · ", color="Attention" if issue.severity == 1 else "Default"),
                    text_run(truncate(issue.title, 90)),
                ],
            },
            {
                "type": "RichTextBlock",
                "spacing": "None",
                "inlines": [text_run(f"{issue.status.label} · {owner} · raised {ago(now - issue.created_at)}", isSubtle=True, size="Small")],
            },
        ],
    }
    return row | open_link(issue_link(issue, tenant_id=tenant_id), f"Open #{issue.number}")


def render_issue_list(title: str, issues: list[Issue], total: int, *, now: datetime, hint: str = "", tenant_id: str | None = None) -> Card:
    body: list[dict[str, Any]] = [text_block(title, size="Medium", weight="Bolder")]
    if not issues:
        body.append(text_block("Nothing here. 🎉" if total == 0 else "No issues match.", isSubtle=True))
    body += [_issue_row(issue, now, tenant_id) for issue in issues]
    if total > len(issues):
        more = total - len(issues)
        body.append(text_block(f"…and {more} more. {hint}".strip(), isSubtle=True, id="more"))
    body.append(text_block("`show #N` opens one issue; `history #N` shows what happened to it.", isSubtle=True, size="Small"))
    return adaptive_card(body)


def _event_line(event: Event) -> dict[str, Any]:
    change = ""
    if event.from_value and event.to_value:
        change = f" ({event.from_value} → {event.to_value})"
    elif event.to_value:
        change = f" ({event.to_value})"
    items: list[dict[str, Any]] = [
        text_block(card_time(event.at), isSubtle=True, size="Small", spacing="Small"),
        {
            "type": "RichTextBlock",
            "spacing": "None",
            "inlines": [text_run(event.actor.name, weight="Bolder"), text_run(f" {describe_verb(event.verb)}{change}")],
        },
    ]
    if event.reason:
        items.append(plain_text(truncate(event.reason, 300), spacing="None"))
    return {"type": "Container", "items": items}


def render_history(issue: Issue, events: list[Event]) -> Card:
    shown = events[-HISTORY_MAX:]
    body: list[dict[str, Any]] = [
        {
            "type": "RichTextBlock",
            "inlines": [text_run(f"History of #{issue.number} ", size="Medium", weight="Bolder"), text_run(truncate(issue.title, 80))],
        }
    ]
    if len(events) > len(shown):
        body.append(text_block(f"{len(events) - len(shown)} earlier changes are not shown.", isSubtle=True))
    body += [_event_line(event) for event in shown]
    if not events:
        body.append(text_block("No changes recorded yet.", isSubtle=True))
    return adaptive_card(body)


def render_roles(members: list[tuple[Person, Role]]) -> Card:
    body: list[dict[str, Any]] = [text_block("Roles in this war room", size="Medium", weight="Bolder")]
    for role in Role:
        names = [person.name for person, held in members if held is role]
        body.append(
            {
                "type": "RichTextBlock",
                "inlines": [
                    text_run(f"{role.value}{'' if role.label == role.value else f' ({role.label})'}: ", weight="Bolder"),
                    text_run(", ".join(names) or "nobody yet"),
                ],
            }
        )
    body.append(
        text_block("Admins change roles: `roles add @person triage_lead`, `roles remove @person oncall`, `roles add me oncall`.", isSubtle=True)
    )
    return adaptive_card(body)
