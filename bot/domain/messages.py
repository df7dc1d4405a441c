"""Plain inbound and outbound messages: what `bot/teams` translates Bot Framework activities to and from.

Nothing here knows botbuilder, so a move to another SDK only rewrites the translation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from bot.domain.model import Person


class ConversationRef(BaseModel):
    """Enough to speak in a conversation later (a stored Bot Framework conversation reference)."""

    model_config = ConfigDict(frozen=True)

    conversation_id: str
    conversation_type: str | None
    service_url: str
    channel: str
    bot_id: str
    bot_name: str | None = None
    tenant_id: str | None = None
    team_id: str | None = None
    channel_id: str | None = None
    # Teams names the team in some activities (conversationUpdate, installationUpdate): the war room's name.
    team_name: str | None = None
    # The key of the war room this conversation acts in when it is not its own: a personal chat acts in its
    # person's war room (set by bot/chat once the person's membership is checked, never read from an activity).
    acting_in: str | None = None

    @property
    def base_conversation_id(self) -> str:
        """A channel thread's id is `<channel>;messageid=<root>`; the war room is the channel's, not the thread's."""
        return self.conversation_id.split(";", 1)[0]

    @property
    def is_thread(self) -> bool:
        """A channel thread (`<channel>;messageid=<root>`); chats have no threads."""
        return ";messageid=" in self.conversation_id

    @property
    def is_personal(self) -> bool:
        """A one-to-one chat with the bot: never a war room of its own (see `acting_in`)."""
        return self.conversation_type == "personal"

    @property
    def war_room_key(self) -> str:
        """A team is one war room across its channels; a group chat outside a team is its own.

        The tenant is part of the key: a forged activity naming another tenant's team id cannot reach that war room.
        """
        if self.acting_in:
            return self.acting_in
        place = f"team:{self.team_id}" if self.team_id else f"chat:{self.base_conversation_id}"
        return f"{self.tenant_id or 'no-tenant'}/{place}"


class Mention(BaseModel):
    """Someone @mentioned in a message (not the bot). `user_id` is the channel's id for them, not the AAD id."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    name: str


class InboundMessage(BaseModel):
    """A user's text addressed to the bot, mention removed and HTML reduced to text."""

    model_config = ConfigDict(frozen=True)

    activity_id: str | None
    text: str
    sender: Person
    conversation: ConversationRef
    mentions: tuple[Mention, ...] = ()


class SourceMessage(BaseModel):
    """A message someone chose "Raise hypercare issue" on: its text, author and link."""

    model_config = ConfigDict(frozen=True)

    text: str
    author: str | None
    url: str | None
    sender: Person
    conversation: ConversationRef


class InboundCardAction(BaseModel):
    """A button pressed on one of our cards (Action.Execute invoke, or Action.Submit message)."""

    model_config = ConfigDict(frozen=True)

    activity_id: str | None
    verb: str | None
    data: dict[str, Any]
    sender: Person
    conversation: ConversationRef
    # The message holding the card, when the channel tells us (it is the one to update in place).
    card_activity_id: str | None
    via: Literal["execute", "submit"]


Card = dict[str, Any]


class ReplyCard(BaseModel):
    """Post a card in reply, in the thread of the message that was answered."""

    card: Card


class UpdateCard(BaseModel):
    """Replace the card shown by an earlier message (an issue card, after a change made elsewhere)."""

    conversation_id: str
    activity_id: str
    card: Card


class PostCard(BaseModel):
    """Post a card into another conversation or thread (e.g. an announcement in an issue's thread)."""

    conversation_id: str
    card: Card


class PostIssueCard(BaseModel):
    """Post an issue's card as a new message in `where`; the issue lives in that message's thread from then on."""

    where: ConversationRef
    issue_id: int
    card: Card


Outbound = ReplyCard | UpdateCard | PostCard | PostIssueCard


class CardActionResult(BaseModel):
    """The card that replaces the clicked one.

    `refresh_for_everyone`: the change matters to the whole conversation, not only to the clicker
    (a form answered with errors concerns only the person filling it in).
    """

    card: Card
    issue_id: int | None = None
    refresh_for_everyone: bool = False
    # Further messages the action causes: other cards refreshed, announcements in threads.
    side_effects: tuple[UpdateCard | PostCard | PostIssueCard, ...] = ()


class OutboundMessage(BaseModel):
    """A message the bot sends on its own (reminder, escalation, stand-up), queued in the outbox."""

    model_config = ConfigDict(frozen=True)

    dedupe_key: str
    war_room_id: int
    tenant_id: str | None
    service_url: str
    # "message": into `conversation_id` (a chat, or a channel thread); "channel_post": a new thread in that channel.
    kind: Literal["message", "channel_post"]
    conversation_id: str
    bot_id: str | None
    card: Card


class OutboxItem(OutboundMessage):
    id: int
    attempts: int


class Settled(BaseModel):
    """How a claimed message ended: sent at `at`, to be tried again from `at` (`attempted=False`: only held back by a
    rate limit), or failed for good. A delivery round records all of its messages' ends together."""

    model_config = ConfigDict(frozen=True)

    item_id: int
    kind: Literal["sent", "retry", "failed"]
    at: datetime
    activity_id: str | None = None
    error: str = ""
    attempted: bool = True
