"""The help card: what the bot does and how to talk to it."""

from __future__ import annotations

from bot.domain.model import Severity
from cards.common import Card, adaptive_card, text_block

COMMANDS = [
    ("new TEXT", "raise an issue (any message that is not a command does the same)"),
    ("list [sev1|mine|unassigned|breached|deferred|resolved|all]", "open issues, most severe and oldest first"),
    ("show #12", "an issue's card"),
    ("history #12", "everything that happened to an issue"),
    ("ack #12", "acknowledge it"),
    ("assign #12 @person", "give it to someone"),
    ("resolve #12 NOTES", "resolve it (the notes become the runbook)"),
    ("roles · roles add|remove @person ROLE", "who does what in this war room"),
    ("oncall · oncall set @person [until DATE TIME] · oncall rota @a @b", "who is on call"),
    (
        "floor · floor add @person areas finance,warehouse [days mon,tue] [site NAME] · floor remove @person",
        "who walks the floor today, by area (add and remove: triage lead or admin)",
    ),
    ("standup · status · exit", "the stand-up, the phase's figures, the exit criteria"),
    ("standup here", "stand-ups and announcements go to this channel (admin or triage lead)"),
    ("runbook new · runbook WORDS", "write a runbook, or find one"),
    ("setup · extend 2w REASON", "set up the phase (admin); move its end (leadership or admin)"),
    ("handover", "the hand-over pack for steady-state support: issue log, runbooks, backlog (triage lead, leadership, admin)"),
]


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
                "affected users). Check it, correct anything I got wrong, and press **Raise issue**. "
                "A reply in an issue's thread is added to it as an update."
            ),
            text_block("Severities", weight="Bolder", spacing="Medium"),
            {"type": "FactSet", "facts": severities},
            text_block("Commands", weight="Bolder", spacing="Medium"),
            *(text_block(f"`{command}` — {meaning}", spacing="Small") for command, meaning in COMMANDS),
            text_block(
                "In a personal chat everything acts on your team's war room. In several, end a command with "
                "`in <war room>` (`list in Finance`); I remember your choice.",
                spacing="Medium",
                isSubtle=True,
            ),
        ]
    )
