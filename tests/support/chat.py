"""Driving bot/chat without Teams: messages and card clicks as `bot/teams` would hand them over, and what came back."""

from __future__ import annotations

import json
from typing import Any

from bot.chat.conversation import Conversation
from bot.domain.messages import CardActionResult, ConversationRef, InboundCardAction, InboundMessage, Mention, Outbound
from bot.domain.model import Person
from tests.support.factories import PRIYA
from tests.support.fakes import FakeDirectory
from tests.support.scene import CHANNEL


def message(text: str, *, sender: Person = PRIYA, activity_id: str | None = "act-1", mentions: tuple[Mention, ...] = (),
            conversation: Any = CHANNEL) -> InboundMessage:
    return InboundMessage(activity_id=activity_id, text=text, sender=sender, conversation=conversation, mentions=mentions)


def click(verb: str | None, data: dict[str, Any] | None = None, *, sender: Person = PRIYA, conversation: Any = CHANNEL,
          card_activity_id: str | None = "card-100") -> InboundCardAction:
    return InboundCardAction(activity_id="act-click", verb=verb, data=data or {}, sender=sender, conversation=conversation,
                             card_activity_id=card_activity_id, via="execute")


def text(card: dict[str, Any]) -> str:
    """Everything a card says (and its JSON around it): assert that words are in it."""
    return json.dumps(card, ensure_ascii=False)


def inputs(card: dict[str, Any]) -> dict[str, Any]:
    """What a card's inputs submit as they are filled in: what Teams sends back when the card's button is pressed."""
    found: dict[str, Any] = {}
    stack: list[Any] = [card]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input.") and "id" in node:
                found[node["id"]] = node.get("value", "")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def action_data(card: dict[str, Any], verb: str | None = None) -> dict[str, Any]:
    """The data of the card's Action.Execute for `verb` (its Action.Submit when no verb), anywhere in the card."""
    stack: list[Any] = [card]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            wanted = node.get("type") == "Action.Execute" and node.get("verb") == verb if verb else node.get("type") == "Action.Submit"
            if wanted:
                return {key: value for key, value in node.get("data", {}).items() if key != "verb"}
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    raise AssertionError(f"no {verb or 'submit'} button on the card")


def submitted(card: dict[str, Any], verb: str | None = None) -> dict[str, Any]:
    """What pressing the button sends, the inputs as they are filled in: the button's data and the inputs' values."""
    return action_data(card, verb) | inputs(card)


def verbs(card: dict[str, Any]) -> set[str]:
    """Every Action.Execute verb a card can send."""
    found: set[str] = set()
    stack: list[Any] = [card]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "Action.Execute" and isinstance(node.get("verb"), str):
                found.add(node["verb"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


class Delivered:
    """A `deliver` for Conversation.on_message that keeps what it was given (or fails, when told to)."""

    def __init__(self, *, fail: BaseException | None = None) -> None:
        self.answers: list[list[Outbound]] = []
        # The conversation each answer was for (a personal chat's, acting in a war room).
        self.where: list[ConversationRef] = []
        self._fail = fail

    async def __call__(self, outbound: list[Outbound], where: ConversationRef) -> None:
        self.answers.append(outbound)
        self.where.append(where)
        if self._fail is not None:
            raise self._fail

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [item.card for answer in self.answers for item in answer]


class Bot:
    """The conversation as a test reads best: `await bot.say("list")` gives what was answered, `bot.press(...)` a card."""

    def __init__(self, conversation: Conversation, directory: FakeDirectory) -> None:
        self.conversation = conversation
        self.directory = directory
        self._said = 0

    async def say(self, text: str, **details: Any) -> list[Outbound]:
        """A message (each one a new activity), answered in one delivery."""
        self._said += 1
        delivered = Delivered()
        await self.conversation.on_message(message(text, activity_id=f"act-{self._said}", **details), delivered, self.directory)
        [answer] = delivered.answers
        return answer

    async def press(self, verb: str | None, data: dict[str, Any] | None = None, **details: Any) -> CardActionResult:
        return await self.conversation.on_card_action(click(verb, data, **details), self.directory)
