"""The activities the benchmark sends: Teams-shaped JSON of about 2 KB, as templates.

Placeholders are filled per request by `bench/wrk/activities.lua` (and by `fill()` for the few setup
requests the runner sends itself), so every request is unique where the bot deduplicates:

    @@ID@@     a number unique across the whole benchmark run (activity id, thread root, form id)
    @@ISSUE@@  the issue clicked: a range of pre-created issue ids, each clicked once (acknowledge, sign-off), or
               cycled through (refresh, which changes nothing)
    @@SERVICE_URL@@ is filled in once, by the runner (the fake Bot Connector's address)
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from cards.issue_card import VIEW_VERB
from cards.signoff import CONFIRM_VERB

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
TEAM_ID = "19:Qx7kP2vHqYtN0mB8sJcLrA1fWdE3uZ5g@thread.tacv2"
CHANNEL_ID = "19:a1b2c3d4e5f60718293a4b5c6d7e8f90@thread.tacv2"
BOT = {"id": "28:7b9c3f0e-5a3d-4c2b-9e1f-0a8d6c4b2e19", "name": "Hypercare"}
# The reporter / clicker. Their AAD object id is given to the bot as HYPERCARE_ADMINS, and they take
# the oncall role (`roles add me oncall`) before the Acknowledge scenario.
USER = {
    "id": "29:1Fq9zN3kWvR8mT2xLpY6cH0sJdG4bK7aE5uV9oI1nM3wQ8rS2tX6yZ0aB4cD7eF9gH1jK3lM5nP7qR9sT",
    "name": "Priya Shah",
    "aadObjectId": "5c1f8e2a-9b3d-4e6f-a7c8-d9e0f1a2b3c4",
}
TEXT = "sev2 - AP cannot post vendor invoices in USMF, posting profile missing, 12 users affected since this morning"
REPLY_TO = "1732352400123"  # the message holding the form / issue card that is clicked
# The stand-up sign-off row (i) has a war room of its own (a war room is a team), so that the issues it signs off are
# not the ones the other rows click, and its stand-up lists only what it was seeded with.
STANDUP_TEAM_ID = "19:Wm4rT8yHnB2vK6pXcQ0sLdF1gJ3eZ7a9@thread.tacv2"
STANDUP_CHANNEL_ID = "19:f0e1d2c3b4a5968778695a4b3c2d1e0f@thread.tacv2"
# The stand-up the sign-off buttons were on counts "resolved since" from the previous one: a day before the run.
STANDUP_SINCE = (datetime.now(timezone.utc) - timedelta(days=1)).replace(microsecond=0).isoformat()
# What a Confirm on the stand-up answers (bot/chat/signoff.py), checked in every answer of row (i).
SIGNED_OFF = "confirmed fixed and closed by"


def _base(kind: str, *, thread_root: str = "@@ID@@", team_id: str = TEAM_ID, channel_id: str = CHANNEL_ID) -> dict[str, Any]:
    return {
        "type": kind,
        "id": "@@ID@@",
        "timestamp": "2026-11-23T09:00:00.1234567Z",
        "localTimestamp": "2026-11-23T09:00:00.1234567+00:00",
        "channelId": "msteams",
        "serviceUrl": "@@SERVICE_URL@@",
        "from": dict(USER),
        "conversation": {
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": TENANT,
            "id": f"{channel_id};messageid={thread_root}",
        },
        "recipient": dict(BOT),
        "entities": [
            {"locale": "en-GB", "country": "GB", "platform": "Web", "timezone": "Europe/London", "type": "clientInfo"}
        ],
        "channelData": {
            "teamsTeamId": team_id,
            "teamsChannelId": channel_id,
            "tenant": {"id": TENANT},
            "team": {"id": team_id, "name": "Contoso D365 go-live war room", "aadGroupId": "0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"},
            "channel": {"id": channel_id, "name": "General"},
            "settings": {"selectedChannel": {"id": channel_id}},
        },
        "locale": "en-GB",
        "localTimezone": "Europe/London",
    }


def mention(text: str = TEXT, **where: str) -> dict[str, Any]:
    """A new channel post @mentioning the bot: the bot answers with the prefilled issue form."""
    activity = _base("message", **where)
    activity["text"] = f"<p><at>{BOT['name']}</at> {text}</p>"
    activity["textFormat"] = "plain"
    activity["attachments"] = [
        {
            "contentType": "text/html",
            "content": (
                f'<div><div><span itemscope="" itemtype="http://schema.skype.com/Mention" itemid="0">{BOT["name"]}</span>'
                f" {text}</div></div>"
            ),
        }
    ]
    activity["entities"].insert(0, {"mentioned": dict(BOT), "text": f"<at>{BOT['name']}</at>", "type": "mention"})
    return activity


def _card_action(verb: str, data: dict[str, Any], *, trigger: str = "manual", **where: str) -> dict[str, Any]:
    """Action.Execute on a card the bot posted in the thread (`automatic`: Teams asking for a card's `refresh`)."""
    activity = _base("invoke", **where)
    activity["name"] = "adaptiveCard/action"
    activity["replyToId"] = REPLY_TO
    activity["value"] = {"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": trigger}
    return activity


def submit(**where: str) -> dict[str, Any]:
    """Action.Execute "Raise issue" on the form: a fresh form_id each time, so every submit stores an issue."""
    return _card_action("issue.create", {
        "form_id": "bench-form-@@ID@@",
        "title": "AP cannot post vendor invoices in USMF, posting profile missing",
        "description": TEXT,
        "severity": "2",
        "category": "configuration",
        "area": "accounts_payable",
        "company": "USMF",
        "affected_users": "12",
    }, **where)


def acknowledge() -> dict[str, Any]:
    """Action.Execute "Acknowledge" on an issue card, at the version the card was drawn from (1)."""
    return _card_action("issue.ack", {"issue_id": "@@ISSUE@@", "version": 1})


def refresh() -> dict[str, Any]:
    """Teams asking for one person's view of an issue card: the card's `refresh` action (cards/issue_card.py), sent
    automatically when someone listed in its `userIds` looks at it. The answer is their card; nothing is stored or PUT."""
    return _card_action(VIEW_VERB, {"issue_id": "@@ISSUE@@"}, trigger="automatic")


def signoff(chart_id: int | None = None) -> dict[str, Any]:
    """Confirm on the stand-up's "Resolved since the last stand-up: sign off" (cards/signoff.py), in the stand-up's war
    room, each resolved issue clicked once at the version the card was drawn from (1); `chart_id`: the chart of the
    stand-up the button is on (the runner posts one, then writes this template again with it)."""
    data = {"issue_id": "@@ISSUE@@", "version": 1, "since": STANDUP_SINCE, "chart_id": chart_id}
    return _card_action(CONFIRM_VERB, data, team_id=STANDUP_TEAM_ID, channel_id=STANDUP_CHANNEL_ID)


def resolve(issue_id: int, version: int) -> dict[str, Any]:
    """Resolve on an issue card of the stand-up's war room, as its fold-out submits it (seeding row (i))."""
    data = {"issue_id": issue_id, "version": version, "resolve_notes": "Posting profile added to the vendor group in USMF.",
            "resolve_type": "configuration_changed", "resolve_handled_by": "support"}
    return _card_action("issue.resolve", data, team_id=STANDUP_TEAM_ID, channel_id=STANDUP_CHANNEL_ID)


TEMPLATES = {"mention": mention, "submit": submit, "acknowledge": acknowledge, "refresh": refresh, "signoff": signoff}


def render(activity: dict[str, Any], service_url: str) -> str:
    """The JSON text of an activity, its service URL filled in; `@@ISSUE@@` becomes a bare number."""
    text = json.dumps(activity, ensure_ascii=False, separators=(",", ":"))
    return text.replace('"@@ISSUE@@"', "@@ISSUE@@").replace("@@SERVICE_URL@@", service_url)


def template(name: str, service_url: str) -> str:
    return render(TEMPLATES[name](), service_url)


def fill(text: str, unique: int, issue: int = 0) -> bytes:
    return text.replace("@@ID@@", str(unique)).replace("@@ISSUE@@", str(issue)).encode()
