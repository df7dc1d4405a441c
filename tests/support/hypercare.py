"""A team running hypercare with the bot, driven over HTTP as its people would (messages, card buttons, personal
chats) while a frozen clock moves and the scheduler ticks; for the end-to-end lifecycle scenario."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from app import SCHEDULER
from tests.support.activities import CHANNEL_ID, channel_message, execute_action, personal_message
from tests.support.clock import FrozenClock
from tests.support.connector import FakeConnector, RecordedCall
from tests.support.server import RunningBot
from tests.support.war_room import RaisedIssue, card_text, filled_in, find_execute

# The team's "Hypercare" channel, made the war room's home (stand-ups, announcements) with `standup here`.
HOME = "19:war-room-hypercare@thread.tacv2"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def working_days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1) if (first + timedelta(days=n)).weekday() < 5]


def mentioned(card: dict[str, Any]) -> set[str]:
    return {entity["mentioned"]["id"] for entity in card.get("msteams", {}).get("entities", [])}


def element(card: dict[str, Any], element_id: str) -> dict[str, Any] | None:
    return next((e for e in card["body"] if e.get("id") == element_id), None)


@dataclass
class Hypercare:
    """The team, its people and the bot, driven as they would: messages, card buttons, personal chats, the clock."""

    bot: RunningBot
    connector: FakeConnector
    clock: FrozenClock
    sent: list[tuple[datetime, RecordedCall]] = field(default_factory=list)  # what the scheduler sent, and when

    def move_to(self, when: datetime) -> None:
        assert when >= self.clock.now(), f"the scenario runs forward: {when} is before {self.clock.now()}"
        self.clock.advance(when - self.clock.now())

    async def tick(self, when: datetime) -> list[RecordedCall]:
        """Move the clock to `when` and run one scheduler pass: what it sent."""
        self.move_to(when)
        before = len(self.connector.calls)
        await self.bot.app[SCHEDULER].tick(when)
        calls = self.connector.calls[before:]
        self.sent += [(when, call) for call in calls]
        return calls

    async def post(self, activity: dict[str, Any]) -> tuple[Any, list[RecordedCall]]:
        before = len(self.connector.calls)
        status, body = await self.bot.post_activity(activity)
        assert status == 200, body
        await self.bot.settle()
        return body, self.connector.calls[before:]

    async def say(self, text: str, *, sender: dict[str, str], channel: str = CHANNEL_ID, mentioning: list[dict[str, str]] | None = None) -> str:
        """A message to the bot in a channel: the text of its one reply."""
        _, [reply] = await self.post(channel_message(self.connector.url, text, channel_id=channel, sender=sender, mentioning=mentioning))
        return card_text(reply.card or {})

    async def press(self, card: dict[str, Any], verb: str, inputs: dict[str, Any] | None = None, *, sender: dict[str, str],
                    channel: str = HOME, message_id: str = "card") -> dict[str, Any]:
        """Press a button on a card the bot posted in a channel: the card it answers with."""
        where = channel_message(self.connector.url, "", channel_id=channel, root_id=message_id)
        data = dict(find_execute(card, verb)["data"]) | (inputs or {})
        body, _ = await self.post(execute_action(where, verb, data, card_activity_id=message_id, sender=sender))
        assert body["statusCode"] == 200, body
        return body["value"]

    async def raise_in_channel(self, text: str, *, sender: dict[str, str]) -> RaisedIssue:
        message = channel_message(self.connector.url, text, sender=sender)
        form_id, body, _ = await self._mention_and_submit(message, sender)
        return RaisedIssue(thread=message, card_message_id=form_id, card=body["value"])

    async def _mention_and_submit(self, message: dict[str, Any], sender: dict[str, str]) -> tuple[str, dict[str, Any], list[RecordedCall]]:
        """The form the message gets, submitted by a reporter who keeps what the bot read and picks what it left."""
        _, [form] = await self.post(message)
        assert form.card is not None and form.sent_id is not None
        body, calls = await self.post(execute_action(message, "issue.create", filled_in(form.card), card_activity_id=form.sent_id, sender=sender))
        return form.sent_id, body, calls

    async def raise_in_chat(self, text: str, *, sender: dict[str, str]) -> RaisedIssue:
        """Raised in the person's personal chat: the card the bot posts in the home channel, where triage works on it."""
        _, body, calls = await self._mention_and_submit(personal_message(self.connector.url, text, sender=sender), sender)
        assert "your copy" in card_text(body["value"])
        [posted] = [call for call in calls if call.method == "POST"]
        assert posted.conversation_id == HOME and posted.card is not None and posted.sent_id is not None
        thread = channel_message(self.connector.url, "", channel_id=HOME, root_id=posted.sent_id)
        return RaisedIssue(thread=thread, card_message_id=posted.sent_id, card=posted.card)

    async def click(self, issue: RaisedIssue, verb: str, inputs: dict[str, Any] | None = None, *, sender: dict[str, str]) -> str:
        data = dict(find_execute(issue.card, verb)["data"]) | (inputs or {})
        body, _ = await self.post(execute_action(issue.thread, verb, data, card_activity_id=issue.card_message_id, sender=sender))
        assert body["statusCode"] == 200, body
        issue.card = body["value"]
        return card_text(issue.card)

    async def resolve(self, issue: RaisedIssue, *, by: dict[str, str], notes: str, runbook: str | None = None) -> None:
        inputs = {"resolve_notes": notes, "resolve_type": "configuration_changed"}
        if runbook:
            inputs |= {"resolve_runbook": "true", "resolve_runbook_title": runbook}
        assert "Resolved" in await self.click(issue, "issue.resolve", inputs, sender=by)
