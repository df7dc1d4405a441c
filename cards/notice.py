"""Short messages from the bot, as cards (a card can replace a clicked card in place)."""

from __future__ import annotations

from typing import Any

from bot.domain.model import Person
from bot.domain.mentions import plan_mentions
from cards.common import Card, adaptive_card, mention_lines, message_link, plain_text, text_block, with_mentions


def render_notice_card(message: str) -> Card:
    """A short message: plain text, since most quote something a user wrote (a name, a filter, a title)."""
    return adaptive_card([plain_text(message)])


def render_announcement(
    text: str, *, notify: tuple[Person, ...] = (), others: int = 0, heading: str | None = None
) -> Card:
    """A message into a thread: `text` may hold user words (shown literally), `notify` are @mentioned.

    `others`: how many more the message is for, counted after the mentions rather than named.
    """
    body: list[dict[str, Any]] = []
    if heading:
        body.append(text_block(heading, weight="Bolder"))
    body.append(plain_text(text))
    people, entities = mention_lines("", notify, others=others, who="who followed this issue.", spacing="Small")
    return with_mentions(adaptive_card(body + people), entities)


def render_notices(text: str, *, notify: tuple[Person, ...], issue_number: int) -> list[Card]:
    """`text` for many people: the first mentions with it, the next ones in a few follow-ups, the rest counted in the last."""
    plan = plan_mentions(notify)
    batches = plan.batches or ((),)
    return [
        render_announcement(
            text if position == 0 else f"Also for everyone following #{issue_number}:",
            notify=batch,
            others=plan.others if position == len(batches) - 1 else 0,
        )
        for position, batch in enumerate(batches)
    ]


def render_too_large(conversation_id: str) -> Card:
    """What is sent instead of a message Teams would refuse as too large, pointing to the thread it belongs to."""
    body = [
        text_block(
            "This message was too large for Teams to show, so this note stands in for it. "
            "`show #N` shows an issue's card and `history #N` what happened to it; `list` shows the open issues."
        )
    ]
    _, _, root = conversation_id.partition(";messageid=")
    actions = [{"type": "Action.OpenUrl", "title": "Open the thread", "url": message_link(conversation_id, root)}] if root else None
    return adaptive_card(body, actions)
