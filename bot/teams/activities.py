"""Bot Framework activities to plain inbound messages, and our cards to outbound activities."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

from botbuilder.schema import Activity, Attachment

from bot.domain.model import Person
from bot.messages import Card, ConversationRef, InboundCardAction, InboundMessage, Mention, SourceMessage

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"

_BLOCK_TAGS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"})


class _TextExtractor(HTMLParser):
    """Teams sends message text as HTML; keep the words and the line breaks, drop the markup."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def html_to_text(text: str) -> str:
    if "<" in text:
        extractor = _TextExtractor()
        extractor.feed(text)
        extractor.close()
        text = "".join(extractor.parts)
    else:
        text = html.unescape(text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _mention_entities(activity: Activity) -> list[tuple[str, str, str]]:
    """(mentioned id, mentioned name, text in the message) of each well-formed mention entity."""
    found = []
    for entity in activity.entities or []:
        if entity is None:  # `"entities": [null]` deserialises to None
            continue
        props = entity.additional_properties or {}
        mentioned = props.get("mentioned")
        if entity.type != "mention" or not isinstance(mentioned, dict):
            continue
        user_id, text = mentioned.get("id"), props.get("text")
        if isinstance(user_id, str) and isinstance(text, str) and text:
            found.append((user_id, str(mentioned.get("name") or ""), text))
    return found


def people_mentioned(activity: Activity) -> tuple[Mention, ...]:
    bot_id = activity.recipient.id if activity.recipient else None
    return tuple(
        Mention(user_id=user_id, name=name or html_to_text(text))
        for user_id, name, text in _mention_entities(activity)
        if user_id != bot_id
    )


def strip_bot_mention(activity: Activity) -> str:
    """Remove the bot's own @mention using the mention entity's text.

    botbuilder's `remove_recipient_mention` deletes every occurrence of the bot's *name*, so a bot
    called "Ops" would eat the word in "Opsgenie is down".
    """
    text = activity.text or ""
    bot_id = activity.recipient.id if activity.recipient else None
    for user_id, _, mention_text in _mention_entities(activity):
        if user_id == bot_id:
            text = text.replace(mention_text, " ", 1)
    return text


def conversation_ref(activity: Activity) -> ConversationRef:
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    team = channel_data.get("team") if isinstance(channel_data.get("team"), dict) else {}
    channel = channel_data.get("channel") if isinstance(channel_data.get("channel"), dict) else {}
    return ConversationRef(
        conversation_id=activity.conversation.id,
        conversation_type=activity.conversation.conversation_type,
        service_url=activity.service_url,
        channel=activity.channel_id or "msteams",
        bot_id=activity.recipient.id,
        bot_name=activity.recipient.name,
        tenant_id=tenant_of(activity),
        team_id=team.get("id"),
        channel_id=channel.get("id"),
        team_name=team.get("name") if isinstance(team.get("name"), str) else None,
    )


def tenant_of(activity: Activity) -> str | None:
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant")
    if isinstance(tenant, dict) and isinstance(tenant.get("id"), str):
        return tenant["id"]
    if activity.conversation is not None and activity.conversation.tenant_id:
        return activity.conversation.tenant_id
    return None


def sender(activity: Activity) -> Person:
    account = activity.from_property
    name = (account.name if account else None) or "Unknown user"
    return Person(aad_object_id=account.aad_object_id if account else None, name=name)


def to_inbound_message(activity: Activity) -> InboundMessage:
    return InboundMessage(
        activity_id=activity.id,
        text=html_to_text(strip_bot_mention(activity)),
        sender=sender(activity),
        conversation=conversation_ref(activity),
        mentions=people_mentioned(activity),
    )


def submitted_card_action(activity: Activity) -> InboundCardAction | None:
    """An Action.Submit arrives as a message whose `value` holds the card's data and inputs."""
    if not isinstance(activity.value, dict):
        return None
    verb = activity.value.get("verb")
    return InboundCardAction(
        activity_id=activity.id,
        verb=verb if isinstance(verb, str) else None,
        data=activity.value,
        sender=sender(activity),
        conversation=conversation_ref(activity),
        card_activity_id=activity.reply_to_id,
        via="submit",
    )


def executed_card_action(activity: Activity) -> InboundCardAction:
    """An Action.Execute arrives as an `adaptiveCard/action` invoke with `value.action.{verb,data}`."""
    value = activity.value if isinstance(activity.value, dict) else {}
    action: dict[str, Any] = value.get("action") if isinstance(value.get("action"), dict) else {}
    verb = action.get("verb")
    data = action.get("data")
    return InboundCardAction(
        activity_id=activity.id,
        verb=verb if isinstance(verb, str) else None,
        data=data if isinstance(data, dict) else {},
        sender=sender(activity),
        conversation=conversation_ref(activity),
        card_activity_id=activity.reply_to_id,
        via="execute",
    )


def source_message(activity: Activity) -> SourceMessage:
    """The message a "Raise hypercare issue" message action was chosen on (`value.messagePayload`)."""
    value = activity.value if isinstance(activity.value, dict) else {}
    payload = value.get("messagePayload") if isinstance(value.get("messagePayload"), dict) else {}
    body = payload.get("body") if isinstance(payload.get("body"), dict) else {}
    content = body.get("content") if isinstance(body.get("content"), str) else ""
    sender_of_message = payload.get("from") if isinstance(payload.get("from"), dict) else {}
    user = sender_of_message.get("user") if isinstance(sender_of_message.get("user"), dict) else {}
    author = user.get("displayName")
    link = payload.get("linkToMessage")
    return SourceMessage(
        text=html_to_text(content),
        author=author if isinstance(author, str) else None,
        url=link if isinstance(link, str) else None,
        sender=sender(activity),
        conversation=conversation_ref(activity),
    )


def message_action_submission(activity: Activity) -> InboundCardAction:
    """The dialog's form, submitted (`composeExtension/submitAction`, inputs and data in `value.data`)."""
    value = activity.value if isinstance(activity.value, dict) else {}
    data = value.get("data")
    return InboundCardAction(
        activity_id=activity.id,
        verb=None,
        data=data if isinstance(data, dict) else {},
        sender=sender(activity),
        conversation=conversation_ref(activity),
        card_activity_id=None,
        via="submit",
    )


def card_activity(card: Card) -> Activity:
    return Activity(type="message", attachments=[Attachment(content_type=ADAPTIVE_CARD, content=card)])
