"""The issue card: what everyone in the war room sees about one issue, updated in place."""

from __future__ import annotations

from typing import Any

from bot.domain.model import Issue, Severity
from cards.common import Card, adaptive_card, card_time, plain_text, text_block, text_run, truncate

# Long descriptions are stored whole; the card shows the start so it stays far below Teams' size limit.
CARD_DESCRIPTION_MAX = 1500

_SEVERITY_COLOUR = {Severity.SEV1: "Attention", Severity.SEV2: "Warning", Severity.SEV3: "Accent", Severity.SEV4: "Default"}


def _fact(title: str, value: str) -> dict[str, str]:
    return {"title": title, "value": value}


def render_issue_card(issue: Issue) -> Card:
    resolve_by = card_time(issue.resolve_by) if issue.resolve_by else "Deferred to after hypercare"
    facts = [
        _fact("Status", issue.status.label),
        _fact("Category", issue.category.label if issue.category else "Not set"),
        _fact("Area", issue.area.label if issue.area else "Not set"),
        # Company codes are validated to letters, digits and - _ . : nothing markdown can use.
        _fact("Legal entity", issue.company or "Not set"),
        _fact("Affected users", str(issue.affected_users) if issue.affected_users is not None else "Not known"),
        _fact("Raised", card_time(issue.created_at)),
        _fact("Resolve by", resolve_by),
    ]
    description = truncate(issue.description, CARD_DESCRIPTION_MAX) if issue.description else ""
    body: list[dict[str, Any]] = [
        {
            "type": "RichTextBlock",
            "inlines": [
                {"type": "TextRun", "text": f"#{issue.number} ", "size": "Medium", "weight": "Bolder", "isSubtle": True},
                text_run(issue.title, size="Medium", weight="Bolder"),
            ],
        },
        text_block(
            f"**{issue.severity.label}** — {issue.severity.meaning}",
            color=_SEVERITY_COLOUR[issue.severity],
            spacing="Small",
        ),
        {"type": "FactSet", "facts": facts},
        {
            "type": "RichTextBlock",
            "spacing": "Small",
            "inlines": [
                {"type": "TextRun", "text": "Raised by ", "isSubtle": True},
                text_run(issue.reporter.name, weight="Bolder"),
            ],
        },
    ]
    if description:
        body.append(plain_text(description, separator=True))
        if len(issue.description) > CARD_DESCRIPTION_MAX:
            body.append(text_block("The description is shortened here; the full text is stored.", isSubtle=True, size="Small"))
    return adaptive_card(body)
