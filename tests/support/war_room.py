"""A war-room channel driven over HTTP: people post, raise issues and click card buttons."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.support.activities import ADMIN, LENA, NOBODY, OMAR, USER, channel_message, execute_action
from tests.support.connector import FakeConnector, RecordedCall
from tests.support.server import RunningBot

EVERYONE = [USER, OMAR, LENA, ADMIN, NOBODY]


def find_execute(card: dict[str, Any], verb: str) -> dict[str, Any]:
    """The Action.Execute for `verb` anywhere in a card (top level, fold-outs, action sets)."""
    stack: list[Any] = [card]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "Action.Execute" and node.get("verb") == verb:
                return node
            stack.extend(value for key, value in node.items() if key != "fallback")
        elif isinstance(node, list):
            stack.extend(node)
    raise AssertionError(f"no {verb} button on the card")


def card_text(card: dict[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False)


# What a reporter picks where the form says "please choose" (the prefill could not tell): the form requires it.
PICKED = {"severity": "3", "category": "defect", "area": "platform"}


def filled_in(form: dict[str, Any]) -> dict[str, Any]:
    """What pressing the form's button sends from a reporter who keeps every prefilled value and picks what is left."""
    data = dict(form["actions"][0]["data"])
    values = {e["id"]: e.get("value", "") for e in form["body"] if e["type"].startswith("Input.")}
    return data | values | {field: PICKED[field] for field in data.get("please_choose", []) if not values.get(field)}


@dataclass
class RaisedIssue:
    thread: dict[str, Any]  # the channel message that started the thread
    card_message_id: str
    card: dict[str, Any]

    @property
    def issue_id(self) -> int:
        return int(find_execute(self.card, "issue.update")["data"]["issue_id"])


class WarRoom:
    def __init__(self, bot: RunningBot, connector: FakeConnector) -> None:
        self.bot = bot
        self.connector = connector
        connector.members = [dict(person, email=f"{person['name'].split()[0].lower()}@contoso.com") for person in EVERYONE]

    async def post(
        self,
        text: str,
        *,
        sender: dict[str, str] = USER,
        root_id: str | None = None,
        mentioning: list[dict[str, str]] | None = None,
    ) -> tuple[dict[str, Any], list[RecordedCall]]:
        """Post a message mentioning the bot: the message, and the calls the bot made in answer."""
        before = len(self.connector.calls)
        message = channel_message(self.connector.url, text, sender=sender, root_id=root_id, mentioning=mentioning)
        status, _ = await self.bot.post_activity(message)
        assert status == 200
        await self.bot.settle()
        return message, self.connector.calls[before:]

    async def say(self, text: str, **kwargs: Any) -> list[RecordedCall]:
        return (await self.post(text, **kwargs))[1]

    async def grant(self, person: dict[str, str], role: str) -> None:
        [reply] = await self.say(f"roles add {{{person['name']}}} {role}", sender=ADMIN, mentioning=[person])
        assert "is now" in card_text(reply.card) or "already was" in card_text(reply.card)

    async def raise_issue(self, text: str = "sev2 - AP cannot post vendor invoices in USMF", *, sender: dict[str, str] = USER) -> RaisedIssue:
        message, [form_reply] = await self.post(text, sender=sender)
        data = filled_in(form_reply.card)
        assert form_reply.sent_id is not None
        status, body = await self.bot.post_activity(
            execute_action(message, "issue.create", data, card_activity_id=form_reply.sent_id, sender=sender)
        )
        assert status == 200
        await self.bot.settle()
        return RaisedIssue(thread=message, card_message_id=form_reply.sent_id, card=body["value"])

    async def click(
        self,
        issue: RaisedIssue,
        verb: str,
        inputs: dict[str, Any] | None = None,
        *,
        sender: dict[str, str] = USER,
        card: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Press a button on the issue's card (by default the latest one the clicker saw) and return the new card."""
        data = dict(find_execute(card or issue.card, verb)["data"]) | (inputs or {})
        status, body = await self.bot.post_activity(
            execute_action(issue.thread, verb, data, card_activity_id=issue.card_message_id, sender=sender)
        )
        assert status == 200, body
        await self.bot.settle()
        assert body["statusCode"] == 200
        issue.card = body["value"]
        return body["value"]

    def updates_of(self, message_id: str) -> list[RecordedCall]:
        return [call for call in self.connector.calls if call.method == "PUT" and call.activity_id == message_id]

