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
# A second team of the same customer, with its own war room.
FINANCE_TEAM_ID = "19:finance-team@thread.tacv2"
FINANCE_CHANNEL_ID = "19:finance-general@thread.tacv2"
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
    channel_id: str = CHANNEL_ID,
    sender: dict[str, str] | None = None,
    mentioning: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """A post in the war-room channel that @mentions the bot (a new thread unless root_id is given).

    `{name}` placeholders in `text` for each person in `mentioning` become real mentions.
    """
    activity_id = next_id()
    conversation_id = f"{channel_id};messageid={root_id or activity_id}"
    people = mentioning or []
    for person in people:
        text = text.replace("{" + person["name"] + "}", f"<at>{person['name']}</at>")
    activity = _base(
        service_url,
        {"id": conversation_id, "conversationType": "channel", "isGroup": True, "tenantId": tenant},
        {"tenant": {"id": tenant}, "team": {"id": team_id, "name": "Go-live war room"}, "channel": {"id": channel_id}},
        sender=sender,
        type="message",
        text=f"<p><at>{BOT_NAME}</at> {text}</p>",
        textFormat="plain",
        entities=[_mention_entity(), *(_person_mention(person) for person in people)],
    )
    activity["id"] = activity_id
    return activity


def personal_chat(person: dict[str, str], tenant: str = TENANT) -> dict[str, Any]:
    """The conversation of `person`'s personal chat with the bot."""
    return {"id": f"a:personal-{person['id'].removeprefix('29:')}", "conversationType": "personal", "tenantId": tenant}


def personal_message(service_url: str, text: str, *, tenant: str = TENANT, sender: dict[str, str] | None = None) -> dict[str, Any]:
    return _base(
        service_url, personal_chat(sender or USER, tenant), {"tenant": {"id": tenant}}, sender=sender, type="message", text=text,
        textFormat="plain",
    )


def _team_channel(tenant: str, team_id: str, channel_id: str, team_name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    conversation = {"id": channel_id, "conversationType": "channel", "isGroup": True, "tenantId": tenant}
    channel_data = {"tenant": {"id": tenant}, "team": {"id": team_id, "name": team_name}, "channel": {"id": channel_id}}
    return conversation, channel_data


def bot_added_to_team(
    service_url: str, *, by: dict[str, str] | None = None, tenant: str = TENANT, team_id: str = TEAM_ID,
    channel_id: str = CHANNEL_ID, team_name: str = "Go-live war room",
) -> dict[str, Any]:
    """Teams' conversationUpdate when someone (`by`) adds the bot to a team: the bot is among `membersAdded`."""
    conversation, channel_data = _team_channel(tenant, team_id, channel_id, team_name)
    return _base(
        service_url, conversation, channel_data | {"eventType": "teamMemberAdded"}, sender=by, type="conversationUpdate",
        membersAdded=[{"id": BOT_ID}],
    )


def installation_update(
    service_url: str, action: str = "add", *, by: dict[str, str] | None = None, tenant: str = TENANT, team_id: str = TEAM_ID,
    channel_id: str = CHANNEL_ID, team_name: str = "Go-live war room",
) -> dict[str, Any]:
    """Teams' installationUpdate (`add`, `remove`) for the team, sent besides the conversationUpdate."""
    conversation, channel_data = _team_channel(tenant, team_id, channel_id, team_name)
    return _base(service_url, conversation, channel_data, sender=by, type="installationUpdate", action=action)


def team_members_changed(
    service_url: str, *, added: list[dict[str, str]] = (), removed: list[dict[str, str]] = (),  # type: ignore[assignment]
    tenant: str = TENANT, team_id: str = TEAM_ID, channel_id: str = CHANNEL_ID,
) -> dict[str, Any]:
    """People joining or leaving the team (conversationUpdate with teamMemberAdded / teamMemberRemoved)."""
    conversation, channel_data = _team_channel(tenant, team_id, channel_id, "Go-live war room")
    event = "teamMemberAdded" if added else "teamMemberRemoved"
    extra: dict[str, Any] = {"membersAdded": list(added)} if added else {"membersRemoved": list(removed)}
    return _base(service_url, conversation, channel_data | {"eventType": event}, type="conversationUpdate", **extra)


def bot_added_to_personal_chat(service_url: str, person: dict[str, str], *, tenant: str = TENANT) -> dict[str, Any]:
    """The conversationUpdate of a person installing the bot for themselves (personal scope)."""
    return _base(
        service_url, personal_chat(person, tenant), {"tenant": {"id": tenant}}, sender=person, type="conversationUpdate",
        membersAdded=[{"id": BOT_ID}],
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
