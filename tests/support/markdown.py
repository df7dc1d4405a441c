"""Where a card's text is read as markdown (and for @mentions) by Teams, and what user text may appear there.

Teams reads markdown and `<at>` mentions in a TextBlock's `text` and in a FactSet's fact titles and values;
a TextRun (inside a RichTextBlock) is shown exactly as written. Inputs' values, placeholders, labels, choice
titles and action titles are plain text too.

The rule for user text: it reaches a markdown field only as the name inside an `<at>…</at>` mention (Teams
reads mentions nowhere else), that mention is backed by one of the card's `msteams.entities`, and the name
carries no markup character and no line break. Everything else a user wrote is a TextRun.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# Characters markdown, HTML or a mention could use; a mentioned name has none of them.
MARKUP = set("[]()*_`~#<>|\\\n\r")
_MENTION = re.compile(r"<at>(.*?)</at>", re.DOTALL)


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every element, action, fact and nested card (fallbacks included: some clients show them)."""
    if isinstance(node, dict):
        yield node
        for key, value in node.items():
            if key != "msteams":  # Teams' own properties: mention entities, not card content
                yield from _nodes(value)
    elif isinstance(node, list):
        for item in node:
            yield from _nodes(item)


def markdown_fields(card: dict[str, Any]) -> list[str]:
    """The text of every place in the card where Teams reads markdown and mentions."""
    fields = []
    for node in _nodes(card):
        if node.get("type") == "TextBlock":
            fields.append(str(node.get("text", "")))
        elif node.get("type") == "FactSet":
            for fact in node.get("facts", []):
                fields += [str(fact.get("title", "")), str(fact.get("value", ""))]
    return fields


def shown_text(element: dict[str, Any]) -> str:
    """The text of a TextBlock or of a RichTextBlock's runs."""
    if element.get("type") == "RichTextBlock":
        return "".join(str(run.get("text", "")) for run in element.get("inlines", []))
    return str(element.get("text", ""))


def shown_lines(card: dict[str, Any]) -> list[str]:
    """What each text element of the card shows, a rich text's runs joined (a run may be a link)."""
    return [shown_text(node) for node in _nodes(card) if node.get("type") in ("TextBlock", "RichTextBlock")]


def plain_runs(card: dict[str, Any]) -> list[str]:
    return [str(node.get("text", "")) for node in _nodes(card) if node.get("type") == "TextRun"]


def user_text_problems(card: dict[str, Any], marker: str) -> list[str]:
    """Where user text (every value a user wrote contains `marker`) breaks the rule above; [] when it never does."""
    entities = {entity.get("text") for entity in card.get("msteams", {}).get("entities", [])}
    problems = []
    for text in markdown_fields(card):
        for mentioned in _MENTION.finditer(text):
            if marker in mentioned.group(1):
                if mentioned.group(0) not in entities:
                    problems.append(f"a mention no entity backs: {mentioned.group(0)!r}")
                if MARKUP & set(mentioned.group(1)):
                    problems.append(f"markup in a mentioned name: {mentioned.group(0)!r}")
        if marker in _MENTION.sub("", text):
            problems.append(f"user text read as markdown: {text!r}")
    return problems
