"""Who is on call."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.war_room import OnCallView
from cards.common import Card, adaptive_card, card_time, mention_lines, text_block, text_run, with_mentions

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def render_oncall(view: OnCallView, *, now: datetime) -> Card:
    body: list[dict[str, Any]] = [text_block("On call", size="Medium", weight="Bolder")]
    entities: list[dict[str, Any]] = []
    if view.on_call:
        now_on_call, entities = mention_lines("Now: ", [view.on_call])
        body += now_on_call
    else:
        body.append(text_block("Nobody is on call: reminders go to the triage leads.", color="Warning"))
    override = view.oncall.override
    if override and (override.until is None or now < override.until):
        until = f" until {card_time(override.until)}" if override.until else " until changed"
        body.append({"type": "RichTextBlock", "inlines": [text_run(f"Set by hand{until}: "), text_run(override.person.name)]})
    rota = view.oncall.rota
    if rota:
        body.append(
            {
                "type": "RichTextBlock",
                "inlines": [
                    text_run(f"Rota (handover {_DAYS[rota.handover_weekday]} {rota.handover_time:%H:%M}, "
                             f"{view.settings.calendar.time_zone}): "),
                    text_run(", ".join(person.name for person in rota.people)),
                ],
            }
        )
    body.append(
        text_block("`oncall set @person [until 2026-12-01 18:00]` · `oncall rota @a @b @c [handover mon 09:00]` · `oncall clear`",
                   isSubtle=True, size="Small")
    )
    return with_mentions(adaptive_card(body), entities)
