"""Building blocks shared by every card: the envelope, safe user text, times, the size bound."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeGuard
from urllib.parse import quote, urlencode

from bot.domain.model import Issue, Person
from bot.domain.mentions import plan_mentions

Card = dict[str, Any]

# The id a form is rendered with and sent back with on submit, so that submitting it twice stores one thing.
FORM_ID_PATTERN = r"^[A-Za-z0-9-]{8,64}$"

CARD_VERSION = "1.5"  # the highest Teams renders
# Teams refuses messages over about 100 KB counted in UTF-16; stay well clear of it.
MAX_CARD_BYTES = 80 * 1024

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def adaptive_card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None) -> Card:
    card: Card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "msteams": {"width": "Full"},
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return card


def is_form_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and re.fullmatch(FORM_ID_PATTERN, value) is not None


def clean_text(text: str) -> str:
    """User text without control or direction-override characters (they garble or spoof a card)."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", text))


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def text_run(text: str, **style: Any) -> dict[str, Any]:
    """User-supplied text as a TextRun, which the card schema never reads as markdown or mentions.

    A TextBlock would turn `[x](https://evil)` into a link and `<at>` into a mention attempt.
    """
    return {"type": "TextRun", "text": clean_text(text) or " ", **style}


def rich_text(*inlines: dict[str, Any], **style: Any) -> dict[str, Any]:
    """A paragraph of TextRuns: every line that holds user text, styled run by run."""
    return {"type": "RichTextBlock", "inlines": list(inlines), **style}


def plain_text(text: str, **style: Any) -> dict[str, Any]:
    """A paragraph of user-supplied text."""
    return rich_text(text_run(text), **style)


def text_block(text: str, **style: Any) -> dict[str, Any]:
    """Our own words (never user text, not even a name): markdown allowed."""
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def input_error(input_id: str, errors: dict[str, str]) -> list[dict[str, Any]]:
    """What is wrong with an input, under it (plain text: a message may quote what was typed)."""
    if input_id not in errors:
        return []
    return [rich_text(text_run(errors[input_id], color="Attention", size="Small"), spacing="None", id=f"{input_id}_error")]


def card_time(moment: datetime) -> str:
    """A time every viewer sees in their own time zone: Teams formats DATE()/TIME() on the device."""
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{{{{DATE({stamp}, SHORT)}}}} {{{{TIME({stamp})}}}}"


def card_bytes(payload: dict[str, Any]) -> int:
    """The size of a card, or of a whole activity carrying cards, as Teams counts it: its JSON in UTF-16."""
    return len(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-16-le"))


def message_link(conversation_id: str, message_id: str, *, tenant_id: str | None = None, team_name: str | None = None) -> str:
    """A Teams deep link to one message of a conversation, in Microsoft's documented form (docs/teams-platform.md).

    A channel thread's id (`<channel>;messageid=<root>`) names its root post: `parentMessageId`, and the channel
    message's id is its creation time in milliseconds (`createdTime`). A chat's message says `contextType` chat.
    Parameters the bot does not know are left out (none is required).
    """
    conversation, _, root = conversation_id.partition(";messageid=")
    query: dict[str, str] = {"tenantId": tenant_id} if tenant_id else {}
    if root:
        query["parentMessageId"] = root
        if team_name:
            query["teamName"] = team_name
        if message_id.isdigit():
            query["createdTime"] = message_id
    else:
        query["context"] = '{"contextType":"chat"}'
    return f"https://teams.microsoft.com/l/message/{quote(conversation, safe='')}/{quote(message_id, safe='')}?{urlencode(query)}"


def issue_link(issue: Issue, *, tenant_id: str | None = None, team_name: str | None = None) -> str | None:
    """A Teams deep link to the message that shows the issue's card (None until it has been posted)."""
    if not issue.card_activity_id:
        return None
    return message_link(issue.conversation_id, issue.card_activity_id, tenant_id=tenant_id, team_name=team_name)


def open_link(link: str | None, title: str) -> dict[str, Any]:
    """`selectAction` for an element that opens `link` (nothing when there is none yet)."""
    return {"selectAction": {"type": "Action.OpenUrl", "url": link, "title": title}} if link else {}


NAME_MAX = 60
_NAME_MARKUP = re.compile(r"[\[\]()*_`~#<>|\\]")


def safe_name(name: str) -> str:
    """A display name to @mention in a TextBlock (where markdown is read): no markup characters, one line."""
    return truncate(" ".join(_NAME_MARKUP.sub("", clean_text(name)).split()), NAME_MAX) or "someone"


def mention_lines(
    lead: str, people: Sequence[Person], *, others: int = 0, who: str = "", **style: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`lead` and the people ("and 12 others {who}" when `others` were left out), and the `msteams.entities` that
    make Teams notify them.

    Teams reads `<at>Name</at>` only in a TextBlock, which also reads markdown: there a name is `safe_name`d.
    People Teams gave no id cannot be mentioned: their names are a plain line, like any user text. `people` should
    already be capped (`bot.domain.mentions.plan_mentions`).
    """
    mentioned = [(person.aad_object_id, safe_name(person.name)) for person in people if person.aad_object_id]
    entities = [{"type": "mention", "text": f"<at>{name}</at>", "mentioned": {"id": user_id, "name": name}} for user_id, name in mentioned]
    lines = [text_block(lead + ", ".join(entity["text"] for entity in entities), **style)] if entities else []
    names = [truncate(person.name, NAME_MAX) for person in people if not person.aad_object_id]
    if names:
        lines.append(plain_text(("" if entities else lead) + ", ".join(names), **style))
    if others:
        lines.append(text_block(f"and {others} other{'s' if others != 1 else ''} {who}".strip(), **style))
    return lines, entities


def capped_mention_lines(lead: str, people: Sequence[Person], **style: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`mention_lines` for a message of its own: as many as one message may mention, the rest counted."""
    plan = plan_mentions(tuple(people), messages=1)
    return mention_lines(lead, plan.batches[0] if plan.batches else (), others=plan.others, **style)


def with_mentions(card: Card, entities: list[dict[str, Any]]) -> Card:
    unique: dict[str, dict[str, Any]] = {}
    for entity in entities:
        unique.setdefault(entity["text"], entity)
    if unique:
        card["msteams"] = {**card.get("msteams", {}), "entities": list(unique.values())}
    return card


def execute(title: str, verb: str, data: dict[str, Any], **style: Any) -> dict[str, Any]:
    """An Action.Execute, falling back to an Action.Submit (verb in the data) on clients without Universal Actions."""
    return {
        "type": "Action.Execute",
        "title": title,
        "verb": verb,
        "data": data,
        **style,
        "fallback": {"type": "Action.Submit", "title": title, "data": {**data, "verb": verb}, **style},
    }


def show_card(title: str, body: list[dict[str, Any]], actions: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "Action.ShowCard",
        "title": title,
        "card": {"type": "AdaptiveCard", "body": body, "actions": actions},
    }


def choice_set(input_id: str, label: str, choices: list[tuple[str, str]], *, value: str = "", **extra: Any) -> dict[str, Any]:
    return {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "label": label,
        "style": "compact",
        "choices": [{"title": title, "value": choice} for title, choice in choices],
        "value": value,
        **extra,
    }


def text_input(input_id: str, label: str, *, value: str = "", **extra: Any) -> dict[str, Any]:
    return {"type": "Input.Text", "id": input_id, "label": label, "value": value, **extra}
