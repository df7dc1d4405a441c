"""How many people one notice may @mention, and in how many messages."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from bot.domain.model import Person

# Each @mention notifies its person and costs a few hundred bytes of a message Teams refuses above about 100 KB;
# a thread flooded with notices helps nobody either. Beyond these, people are told by count.
MENTIONS_PER_MESSAGE = 40
NOTICE_MESSAGES_MAX = 3


class Mentions(BaseModel):
    """Who a notice @mentions, message by message, and how many more it can only count."""

    model_config = ConfigDict(frozen=True)

    batches: tuple[tuple[Person, ...], ...]
    others: int = 0


def plan_mentions(people: tuple[Person, ...], *, messages: int = NOTICE_MESSAGES_MAX) -> Mentions:
    """The first `messages` × MENTIONS_PER_MESSAGE people in order (put whoever matters most first), the rest counted."""
    named = people[: messages * MENTIONS_PER_MESSAGE]
    batches = tuple(named[start : start + MENTIONS_PER_MESSAGE] for start in range(0, len(named), MENTIONS_PER_MESSAGE))
    return Mentions(batches=batches, others=len(people) - len(named))
