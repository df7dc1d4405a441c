"""Bot Framework activities to plain inbound messages, and our cards to outbound activities."""

from __future__ import annotations

import html
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from botbuilder.schema import Activity, ChannelAccount, ConversationAccount, Entity

from bot.domain.model import Person
from bot.domain.messages import Card, ConversationRef, InboundCardAction, InboundMessage, Mention, SourceMessage
from cards.common import MAX_CARD_BYTES, card_bytes
from cards.notice import render_too_large

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"

log = logging.getLogger(__name__)

# Teams refuses messages over about 100 KB counted in UTF-16, so no genuine message text is longer than this;
# the rest of a longer one is not read.
MAX_HTML_CHARS = 64 * 1024

_BLOCK_TAGS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"})
# One pass, linear in the text: a tag never spans a "<" or ">", so no match scans past the next one, and
# the possessive name never gives letters back for the rest to try again ("<aaa…" unclosed)
# (html.parser rescans unclosed tags, which makes "<p" * 40000 take seconds, CPython gh-135462).
_TAG = re.compile(r"<(?:/?([a-zA-Z][a-zA-Z0-9]*+)|[!?])[^<>]*+>")
_LONG_CHARREF = re.compile(r"&#([0-9]{8,});?")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def _block_break(tag: re.Match[str]) -> str:
    name = tag.group(1)
    return "\n" if name and name.lower() in _BLOCK_TAGS else ""


def _long_charref(reference: re.Match[str]) -> str:
    """html.unescape raises ValueError on a decimal reference longer than int()'s 4300 digits.

    Past 7 significant digits it is beyond U+10FFFF, which unescape would show as U+FFFD anyway.
    """
    digits = reference.group(1).lstrip("0")
    return "\ufffd" if len(digits) > 7 else f"&#{digits or 0};"


def html_to_text(text: str) -> str:
    """Teams sends message text as HTML: keep the words and the line breaks, drop the markup, decode entities."""
    if len(text) > MAX_HTML_CHARS:
        text = text[:MAX_HTML_CHARS]
        if text.rfind("<") > text.rfind(">"):
            text = text[: text.rfind("<")]  # a tag cut in half
    text = html.unescape(_LONG_CHARREF.sub(_long_charref, _TAG.sub(_block_break, text)))
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


def bot_was_added(activity: Activity) -> bool:
    """A conversationUpdate adding the bot itself (to a team, a group chat or a personal chat), or an
    installationUpdate `add` (Teams may send either first, or both)."""
    if activity.type == "installationUpdate":
        return (activity.action or "").startswith("add")
    bot_id = activity.recipient.id if activity.recipient else None
    return any(member is not None and member.id == bot_id for member in activity.members_added or [])


def people_changed(activity: Activity) -> tuple[list[Person], list[Person]]:
    """The people (not the bot) a conversationUpdate says joined and left the team or chat; those without an AAD
    object id cannot be told apart later and are left out."""
    bot_id = activity.recipient.id if activity.recipient else None

    def people(accounts: list[ChannelAccount] | None) -> list[Person]:
        return [
            Person(aad_object_id=account.aad_object_id, name=account.name or "Unknown user")
            for account in accounts or []
            if account is not None and account.id != bot_id and account.aad_object_id
        ]

    return people(activity.members_added), people(activity.members_removed)


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


def card_message(card: Card, *, activity_id: str | None = None) -> dict[str, Any]:
    """A message carrying one card, as the Bot Connector's JSON (no msrest round trip on the hot path)."""
    message: dict[str, Any] = {"type": "message", "attachments": [{"contentType": ADAPTIVE_CARD, "content": card}]}
    if activity_id:
        message["id"] = activity_id
    return message


def reply_to(activity: Activity, card: Card) -> dict[str, Any]:
    """A reply to `activity` (in its thread) carrying `card`."""
    message = card_message(card)
    message.update(
        serviceUrl=activity.service_url,
        channelId=activity.channel_id,
        conversation={"id": activity.conversation.id},
        replyToId=activity.id,
        **{"from": _account(activity.recipient)},
    )
    if activity.from_property is not None:
        message["recipient"] = _account(activity.from_property)
    return message


def compact_json(payload: Any) -> str:
    """`payload` as the JSON we send: compact, UTF-8 (serialised once per message: it is a good part of a turn's CPU)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


class JsonText(str):
    """JSON serialised already (an invoke answer): the endpoint writes it as it is."""


@dataclass(frozen=True)
class SerialisedCard:
    """A card as the JSON text Teams gets (or the short note in its place when it is too large), serialised once per
    change and spliced into every body that carries it: the clicker's invoke answer and the PUT for everyone."""

    text: str
    conversation_id: str

    @classmethod
    def of(cls, card: Card, *, conversation_id: str) -> SerialisedCard:
        text = compact_json(card)
        note = too_large(card, conversation_id=conversation_id, text=text)
        return cls(text if note is None else compact_json(note), conversation_id)

    def invoke_answer(self) -> JsonText:
        """The answer to an Action.Execute: this card replaces the clicked one."""
        return JsonText(f'{{"statusCode":200,"type":"{ADAPTIVE_CARD}","value":{self.text}}}')

    def update_body(self, activity_id: str) -> str:
        """`card_message(card, activity_id=...)` as JSON text (the same text), for the PUT of the message showing it."""
        attachment = f'{{"contentType":"{ADAPTIVE_CARD}","content":{self.text}}}'
        text = f'{{"type":"message","attachments":[{attachment}],"id":{compact_json(activity_id)}}}'
        note = _note_if_over(teams_size(text), self.conversation_id)
        return text if note is None else compact_json(card_message(note, activity_id=activity_id))


def teams_size(text: str) -> int:
    """The size of serialised JSON as Teams counts it, in UTF-16 (without encoding it when it is ASCII)."""
    return 2 * len(text) if text.isascii() else len(text.encode("utf-16-le"))


def too_large(payload: dict[str, Any], *, conversation_id: str, text: str | None = None) -> Card | None:
    """None when Teams takes `payload` (a card or a whole activity; `text`: it serialised already); else the short
    card to send in its place.

    Teams refuses a message over about 100 KB (413 MessageSizeTooBig) and nobody would be told; the
    replacement is logged here, once per message.
    """
    return _note_if_over(teams_size(text) if text is not None else card_bytes(payload), conversation_id)


def _note_if_over(size: int, conversation_id: str) -> Card | None:
    if size <= MAX_CARD_BYTES:
        return None
    log.warning("a message for %s is too large for Teams (%d bytes in UTF-16, over %d): a short note is sent instead",
                conversation_id, size, MAX_CARD_BYTES)
    return render_too_large(conversation_id)


def within_size_limit(activity: dict[str, Any], *, conversation_id: str) -> dict[str, Any]:
    """`activity`, or, when it is too large for Teams, the same activity carrying only the short note."""
    return _fitted(activity, conversation_id, compact_json(activity))[0]


def serialised_within_size_limit(activity: dict[str, Any], *, conversation_id: str) -> str:
    """`within_size_limit`'s activity as JSON text, serialised once (twice only when it had to be replaced)."""
    return _fitted(activity, conversation_id, compact_json(activity))[1]


def _fitted(activity: dict[str, Any], conversation_id: str, text: str) -> tuple[dict[str, Any], str]:
    note = too_large(activity, conversation_id=conversation_id, text=text)
    if note is None:
        return activity, text
    kept = {key: value for key, value in activity.items() if key not in ("text", "entities", "attachments")}
    replaced = {**kept, "attachments": [{"contentType": ADAPTIVE_CARD, "content": note}]}
    return replaced, compact_json(replaced)


def _account(account: ChannelAccount) -> dict[str, Any]:
    return {key: value for key, value in (("id", account.id), ("name", account.name)) if value}


class MalformedActivity(ValueError):
    """A request body that is JSON but not an activity we can route: answered 400."""


def _text(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    if value is None or isinstance(value, str):
        return value
    raise MalformedActivity(f"{key} must be a string")


def _object(payload: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = payload.get(key)
    if value is None or isinstance(value, dict):
        return value
    raise MalformedActivity(f"{key} must be an object")


def _channel_account(payload: dict[str, Any] | None) -> ChannelAccount | None:
    if payload is None:
        return None
    return ChannelAccount(
        id=_text(payload, "id"), name=_text(payload, "name"), aad_object_id=_text(payload, "aadObjectId"), role=_text(payload, "role")
    )


def _entity(payload: Any) -> Entity | None:
    if not isinstance(payload, dict):
        return None  # ignored like a null entry: only well-formed mentions are ever read
    entity = Entity(type=payload.get("type") if isinstance(payload.get("type"), str) else None)
    entity.additional_properties = {key: value for key, value in payload.items() if key != "type"}
    return entity


def activity_from_json(payload: dict[str, Any]) -> Activity:
    """The Activity for a request body, built directly from the fields the bot reads.

    msrest's generic deserializer costs about a millisecond per activity and answers wrong shapes
    with exceptions of many kinds; this checks the shapes it relies on and says which one is wrong.
    """
    conversation = _object(payload, "conversation")
    recipient = _object(payload, "recipient")
    entities = payload.get("entities")
    members_added = payload.get("membersAdded")
    members_removed = payload.get("membersRemoved")
    activity = Activity(
        type=_text(payload, "type"),
        id=_text(payload, "id"),
        service_url=_text(payload, "serviceUrl"),
        channel_id=_text(payload, "channelId"),
        from_property=_channel_account(_object(payload, "from")),
        recipient=_channel_account(recipient),
        conversation=ConversationAccount(
            id=_text(conversation, "id"),
            name=_text(conversation, "name"),
            conversation_type=_text(conversation, "conversationType"),
            tenant_id=_text(conversation, "tenantId"),
            is_group=conversation.get("isGroup") if isinstance(conversation.get("isGroup"), bool) else None,
        ) if conversation is not None else None,
        text=_text(payload, "text"),
        text_format=_text(payload, "textFormat"),
        locale=_text(payload, "locale"),
        reply_to_id=_text(payload, "replyToId"),
        name=_text(payload, "name"),
        value=payload.get("value"),
        channel_data=payload.get("channelData"),
        entities=[_entity(entity) for entity in entities] if isinstance(entities, list) else None,
        members_added=[_channel_account(m) for m in members_added if isinstance(m, dict)] if isinstance(members_added, list) else None,
        members_removed=(
            [_channel_account(m) for m in members_removed if isinstance(m, dict)] if isinstance(members_removed, list) else None
        ),
        action=_text(payload, "action"),
    )
    if not (activity.conversation and activity.conversation.id and activity.service_url and activity.recipient and activity.recipient.id):
        raise MalformedActivity("an activity needs conversation.id, serviceUrl and recipient.id")
    return activity
