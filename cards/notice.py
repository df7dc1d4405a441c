"""Short messages from the bot, as cards (a card can replace a clicked card in place)."""

from __future__ import annotations

from typing import Any

from bot.domain.model import Person
from cards.common import Card, adaptive_card, mention, plain_text, text_block, with_mentions


def render_notice_card(message: str) -> Card:
    """Our own words only: the text is read as markdown."""
    return adaptive_card([text_block(message)])


def render_announcement(text: str, *, notify: tuple[Person, ...] = (), heading: str | None = None) -> Card:
    """A message into a thread: `text` may hold user words (shown literally), `notify` are @mentioned."""
    body: list[dict[str, Any]] = []
    if heading:
        body.append(text_block(heading, weight="Bolder"))
    body.append(plain_text(text))
    mentions = [mention(person.aad_object_id, person.name) for person in notify]
    if mentions:
        body.append(text_block(", ".join(shown for shown, _ in mentions), spacing="Small"))
    return with_mentions(adaptive_card(body), [entity for _, entity in mentions])
