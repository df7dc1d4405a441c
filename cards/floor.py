"""The `floor` card: who is on the floor today, by area, and everyone who walks it."""

from __future__ import annotations

from typing import Any

from bot.domain.floor import FloorView, FloorWalker, by_area
from bot.domain.model import Person
from cards.common import (
    NAME_MAX,
    Card,
    adaptive_card,
    mention_lines,
    plain_text,
    rich_text,
    text_block,
    text_run,
    truncate,
    with_mentions,
)

HOW_TO_ADD = "Add one with `floor add @person areas finance,warehouse [days mon,tue] [site Rotterdam]`."


def _names(walkers: list[FloorWalker]) -> str:
    return ", ".join(truncate(w.person.name, NAME_MAX) + (f" ({truncate(w.site, 40)})" if w.site else "") for w in walkers)


def render_floor(view: FloorView) -> Card:
    today = view.calendar.local_date(view.now)
    body: list[dict[str, Any]] = [text_block(f"On the floor today · {today:%A %d %B}", size="Medium", weight="Bolder")]
    entities: list[dict[str, Any]] = []
    if not view.walkers:
        body.append(text_block("Nobody walks the floor in this war room yet. " + HOW_TO_ADD, isSubtle=True))
        return adaptive_card(body)
    if view.today:
        # Each person once, @mentioned, then the areas with who covers them.
        people: list[Person] = [walker.person for walker in view.today]
        lines, entities = mention_lines("", people, spacing="Small")
        body += lines
        # Names are user text: TextRuns, never a FactSet value (which Teams reads as markdown).
        body += [
            rich_text(text_run(f"{area.label}: ", weight="Bolder"), text_run(_names(walkers)), spacing="Small")
            for area, walkers in by_area(list(view.today))
        ]
    else:
        body.append(text_block("Nobody is on the floor today.", isSubtle=True))
    body.append(text_block("Who walks the floor", weight="Bolder", spacing="Medium"))
    for walker in view.walkers:
        areas = ", ".join(area.label for area in walker.areas)
        site = f" · {walker.site}" if walker.site else ""
        body.append(plain_text(f"{walker.person.name} — {areas} — {walker.days_text()}{site}", spacing="Small"))
    body.append(text_block(HOW_TO_ADD + " `floor remove @person` takes them off.", isSubtle=True, size="Small", spacing="Medium"))
    return with_mentions(adaptive_card(body), entities)
