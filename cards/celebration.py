"""The end of hypercare: the celebration posted at sign-off, and the hand-over pack's card.

The hand-over link is personal: it is only ever in the answer to the person who pressed the button (an
Action.Execute answer replaces the card for the clicker alone), never in a card the channel sees. So the
button has no Action.Submit fallback, whose answer would replace the card for everyone.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.domain.celebration import Celebration
from bot.domain.model import Issue
from cards.common import Card, adaptive_card, card_time, rich_text, text_block, text_run, truncate
from cards.status import percent_text, speed_text

HANDOVER_VERB = "handover.link"
BACKLOG_LIMIT = 15
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")  # not strftime: no locale
PACK_CONTENTS = (
    "One ZIP file: the issue log and its history (CSV and Excel, as `hypercare export` writes them), the runbook "
    "library (Markdown and Excel) and the deferred Sev 3/4 backlog."
)


def _span(first: date, last: date) -> str:
    def day(d: date, year: bool) -> str:
        return f"{d.day} {_MONTHS[d.month - 1]}" + (f" {d.year}" if year else "")

    return f"{day(first, first.year != last.year)} – {day(last, True)}"


def handover_button(source: str) -> dict[str, Any]:
    """Gets the clicker their own link (`source`: the card it is on, drawn again with the link)."""
    return {"type": "Action.Execute", "title": "Get the hand-over pack", "verb": HANDOVER_VERB, "data": {"from": source}}


def _link(url: str | None, notice: str | None) -> list[dict[str, Any]]:
    if notice:
        return [rich_text(text_run(notice, color="Attention"), spacing="Medium")]
    if not url:
        return []
    return [
        {
            "type": "Container",
            "style": "emphasis",
            "spacing": "Medium",
            "items": [
                text_block("**Your hand-over pack is ready.** This link is shown only to you and works for an hour."),
                {"type": "ActionSet", "actions": [{"type": "Action.OpenUrl", "title": "Download the hand-over pack (ZIP)", "url": url}]},
            ],
        }
    ]


def _backlog_line(issue: Issue) -> dict[str, Any]:
    return rich_text(
        text_run(f"#{issue.number} {issue.severity.label} ", weight="Bolder"),
        text_run(truncate(issue.title, 80)),
        text_run(f" — reported by {issue.reporter.name}", isSubtle=True),
        spacing="Small",
    )


def render_celebration(
    celebration: Celebration, *, chart_url: str | None, handover_url: str | None = None, notice: str | None = None
) -> Card:
    c = celebration
    by = c.signed_off_by.name if c.signed_off_by else "leadership"
    body: list[dict[str, Any]] = [
        rich_text(text_run("Hypercare is complete · ", size="Large", weight="Bolder"), text_run(c.war_room_name, size="Large")),
        rich_text(
            text_run(f"Signed off by {by} on {card_time(c.signed_off_at)}. New problems go to "),
            text_run(c.steady_state_support or "the usual support process"),
            text_run(". Thank you all."),
        ),
        text_block("The phase in numbers", weight="Bolder", spacing="Medium"),
        {
            "type": "FactSet",
            "facts": [
                {"title": "Days", "value": f"{c.days} days ({_span(c.first_day, c.last_day)})" if c.first_day else "–"},
                {"title": "Issues raised", "value": str(c.raised)},
                {"title": "Issues resolved", "value": str(c.resolved)},
                {
                    "title": "Support team share",
                    "value": f"first week {percent_text(c.support_share_first_week)} → last week {percent_text(c.support_share_last_week)}",
                },
                {"title": "Runbooks written", "value": str(c.runbooks_written)},
            ],
        },
        text_block("Speed (median, by severity)", weight="Bolder", spacing="Medium"),
        {
            "type": "FactSet",
            "facts": [
                {"title": ack.severity.label, "value": speed_text(ack, fix)}
                for ack, fix in zip(c.mtta, c.mttr, strict=True)
                if ack.samples or fix.samples
            ] or [{"title": "–", "value": "nothing was acknowledged or resolved"}],
        },
    ]
    if chart_url:
        body.append({"type": "Image", "url": chart_url, "altText": "The phase: open issues by severity, and raised vs resolved, per day",
                     "size": "Stretch", "spacing": "Medium"})
    body.append(text_block("Thank you", weight="Bolder", spacing="Medium"))
    for group in c.thanks:
        if group.people:
            names = " · ".join(f"{tribute.person.name} ({tribute.count})" for tribute in group.people)
            body.append(rich_text(text_run(f"{group.heading}: ", weight="Bolder"), text_run(names), spacing="Small"))
    body.append(text_block(f"Hand-over backlog: deferred Sev 3/4 ({len(c.backlog)})", weight="Bolder", spacing="Medium"))
    if not c.backlog:
        body.append(text_block("Nothing was deferred.", isSubtle=True, spacing="None"))
    body += [_backlog_line(issue) for issue in c.backlog[:BACKLOG_LIMIT]]
    if len(c.backlog) > BACKLOG_LIMIT:
        body.append(text_block(f"…and {len(c.backlog) - BACKLOG_LIMIT} more: the hand-over pack lists them all.", isSubtle=True))
    body += _link(handover_url, notice)
    return adaptive_card(body, actions=[handover_button("celebration")])


def render_handover(war_room_name: str, *, url: str | None = None, notice: str | None = None) -> Card:
    body: list[dict[str, Any]] = [
        rich_text(text_run("Hand-over pack for steady-state support · ", size="Medium", weight="Bolder"), text_run(war_room_name, size="Medium")),
        text_block(PACK_CONTENTS, spacing="Small"),
        *_link(url, notice),
    ]
    return adaptive_card(body, actions=[handover_button("handover")])
