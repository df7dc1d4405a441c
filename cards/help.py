"""The help card: what the bot does and how to talk to it."""

from __future__ import annotations

from bot.domain.model import Severity
from cards.common import Card, adaptive_card, text_block


def render_help_card(bot_name: str = "Hypercare") -> Card:
    severities = [{"title": s.label, "value": s.meaning} for s in Severity]
    return adaptive_card(
        [
            text_block(f"{bot_name}: the hypercare war-room bot", size="Medium", weight="Bolder"),
            text_block(
                "To raise an issue, mention me and describe the problem in your own words, for example:"
            ),
            text_block(
                "*sev1 - nobody in AP can post vendor invoices in USMF, posting profile missing*",
                isSubtle=True,
            ),
            text_block(
                "I fill in an issue form from your words (title, severity, category, area, legal entity, "
                "affected users). Check it, correct anything I got wrong, and press **Raise issue**."
            ),
            text_block("Severities", weight="Bolder", spacing="Medium"),
            {"type": "FactSet", "facts": severities},
            text_block("Send **help** at any time to see this card again.", isSubtle=True, spacing="Medium"),
        ]
    )
