"""Short messages from the bot, as cards (a card can replace a clicked card in place)."""

from __future__ import annotations

from typing import Any

from bot.domain.model import Person
from cards.common import Card, adaptive_card, mention_lines, plain_text, text_block, with_mentions


def render_notice_card(message: str) -> Card:
    """A short message: plain text, since most quote something a user wrote (a name, a filter, a title)."""
    return adaptive_card([plain_text(message)])


def render_announcement(text: str, *, notify: tuple[Person, ...] = (), heading: str | None = None) -> Card:
    """A message into a thread: `text` may hold user words (shown literally), `notify` are @mentioned."""
    body: list[dict[str, Any]] = []
    if heading:
        body.append(text_block(heading, weight="Bolder"))
    body.append(plain_text(text))
    people, entities = mention_lines("", notify, spacing="Small")
    return with_mentions(adaptive_card(body + people), entities)
