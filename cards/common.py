"""Building blocks shared by every card: the envelope, safe user text, times, the size bound."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

Card = dict[str, Any]

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


def plain_text(text: str, **style: Any) -> dict[str, Any]:
    """A paragraph of user-supplied text."""
    return {"type": "RichTextBlock", "inlines": [text_run(text)], **style}


def text_block(text: str, **style: Any) -> dict[str, Any]:
    """Our own words (never user text): markdown allowed."""
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def card_time(moment: datetime) -> str:
    """A time every viewer sees in their own time zone: Teams formats DATE()/TIME() on the device."""
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{{{{DATE({stamp}, SHORT)}}}} {{{{TIME({stamp})}}}}"


def card_bytes(card: Card) -> int:
    """The card's size as Teams counts it (UTF-16)."""
    return len(json.dumps(card, ensure_ascii=False, separators=(",", ":")).encode("utf-16-le"))
