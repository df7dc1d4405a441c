"""Teams-shaped activities, as Teams (and the Agents Playground) send them."""

from __future__ import annotations

import itertools
from typing import Any

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
# A second customer of the same partner, also allowed.
SECOND_TENANT = "0b6e8a1c-2f4d-4c9e-8e1a-7d5c3b2a1f00"
BOT_ID = "28:hypercare-bot"
BOT_NAME = "Hypercare"
TEAM_ID = "19:war-room-team@thread.tacv2"
CHANNEL_ID = "19:war-room-general@thread.tacv2"
USER = {"id": "29:priya", "name": "Priya Shah", "aadObjectId": "aad-priya"}
OMAR = {"id": "29:omar", "name": "Omar Haddad", "aadObjectId": "aad-omar"}
LENA = {"id": "29:lena", "name": "Lena Berg", "aadObjectId": "aad-lena"}
ADMIN = {"id": "29:admin", "name": "Ada Admin", "aadObjectId": "aad-admin"}
NOBODY = {"id": "29:nobody", "name": "Nils Nobody", "aadObjectId": "aad-nobody"}

_ids = itertools.count(1000)


def next_id() -> str:
    return f"act-{next(_ids)}"


def _base(
    service_url: str, conversation: dict[str, Any], channel_data: dict[str, Any], *, sender: dict[str, str] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "id": next_id(),
        "channelId": "msteams",
        "serviceUrl": service_url,
        "timestamp": "2026-11-23T09:00:00.000Z",
        "from": dict(sender or USER),
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "conversation": conversation,
        "channelData": channel_data,
        "locale": "en-GB",
        **extra,
    }


def _mention_entity() -> dict[str, Any]:
    return {"type": "mention", "text": f"<at>{BOT_NAME}</at>", "mentioned": {"id": BOT_ID, "name": BOT_NAME}}


def _person_mention(person: dict[str, str]) -> dict[str, Any]:
    return {"type": "mention", "text": f"<at>{person['name']}</at>", "mentioned": {"id": person["id"], "name": person["name"]}}


def channel_message(
    service_url: str,
    text: str,
    *,
    root_id: str | None = None,
    tenant: str = TENANT,
    team_id: str = TEAM_ID,
    sender: dict[str, str] | None = None,
    mentioning: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """A post in the war-room channel that @mentions the bot (a new thread unless root_id is given).

    `{name}` placeholders in `text` for each person in `mentioning` become real mentions.
    """
    activity_id = next_id()
    conversation_id = f"{CHANNEL_ID};messageid={root_id or activity_id}"
    people = mentioning or []
    for person in people:
        text = text.replace("{" + person["name"] + "}", f"<at>{person['name']}</at>")
    activity = _base(
        service_url,
        {"id": conversation_id, "conversationType": "channel", "isGroup": True, "tenantId": tenant},
        {"tenant": {"id": tenant}, "team": {"id": team_id, "name": "Go-live war room"}, "channel": {"id": CHANNEL_ID}},
        sender=sender,
        type="message",
        text=f"<p><at>{BOT_NAME}</at> {text}</p>",
        textFormat="plain",
        entities=[_mention_entity(), *(_person_mention(person) for person in people)],
    )
    activity["id"] = activity_id
    return activity


def personal_message(service_url: str, text: str, *, tenant: str = TENANT) -> dict[str, Any]:
    return _base(
        service_url,
        {"id": "a:personal-priya", "conversationType": "personal", "tenantId": tenant},
        {"tenant": {"id": tenant}},
        type="message",
        text=text,
        textFormat="plain",
    )


def group_chat_message(service_url: str, text: str, *, tenant: str = TENANT, sender: dict[str, str] | None = None) -> dict[str, Any]:
    return _base(
        service_url,
        {"id": "19:group-chat-finance@thread.v2", "conversationType": "groupChat", "isGroup": True, "tenantId": tenant},
        {"tenant": {"id": tenant}},
        sender=sender,
        type="message",
        text=f"<at>{BOT_NAME}</at> {text}",
        textFormat="plain",
        entities=[_mention_entity()],
    )


def message_extension_action(
    service_url: str,
    name: str,
    value: dict[str, Any],
    *,
    tenant: str = TENANT,
    team_id: str = TEAM_ID,
    sender: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A message-extension invoke ("Raise hypercare issue" on a message) from the war-room channel."""
    activity = channel_message(service_url, "", tenant=tenant, team_id=team_id, sender=sender)
    activity.update(type="invoke", name=name, value=value, text=None, entities=[])
    return activity


def execute_action(
    like: dict[str, Any], verb: str, data: dict[str, Any], *, card_activity_id: str, sender: dict[str, str] | None = None
) -> dict[str, Any]:
    """An Action.Execute click on a card the bot posted into `like`'s conversation."""
    return _base(
        like["serviceUrl"],
        like["conversation"],
        like["channelData"],
        sender=sender,
        type="invoke",
        name="adaptiveCard/action",
        replyToId=card_activity_id,
        value={"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"},
    )


def submit_action(
    like: dict[str, Any], value: dict[str, Any], *, card_activity_id: str, sender: dict[str, str] | None = None
) -> dict[str, Any]:
    """An Action.Submit click: a message with `value` and no text, replying to the card's message."""
    return _base(
        like["serviceUrl"], like["conversation"], like["channelData"], sender=sender, type="message",
        replyToId=card_activity_id, value=value,
    )
