"""Which war room a personal chat acts in.

A personal chat is never a war room of its own: it acts in a war room of its person (one whose team roster
holds them, or where the bot has seen them act). The one they name (`list in Finance`), else their only one,
else the one they chose last.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.domain.war_room import WarRoom

NO_WAR_ROOM = (
    "You are not in a war room I know yet, so I cannot raise issues or look them up for you here. "
    "Ask in your team's hypercare channel: mention me there with the problem. "
    "If your team has no hypercare war room yet, ask your admin to add me to the team."
)


def war_room_label(room: WarRoom) -> str:
    """How a person names a war room in chat and sees it on the form: its team's name, or its number."""
    return room.name or f"war room {room.id}"


def named_war_room(text: str, rooms: Sequence[WarRoom]) -> tuple[str, WarRoom | None]:
    """`text` without a trailing `in <war room>` naming one of `rooms` (any case, any spacing), and that war room.

    Only a war room of theirs is taken from the words, so "resolve #3 fixed it in Production" keeps its notes.
    """
    # The longest name first: "in Finance EMEA" is not "in Finance" followed by "EMEA".
    for room in sorted(rooms, key=lambda r: -len(war_room_label(r))):
        words = war_room_label(room).split()
        ending = re.compile(r"\S\s+in\s+" + r"\s+".join(map(re.escape, words)) + r"\s*$", re.IGNORECASE)
        found = ending.search(text)
        if found:
            return text[: found.start() + 1], room
    return text, None


def acting_war_room(rooms: Sequence[WarRoom], *, named: WarRoom | None = None, chosen: int | None = None) -> WarRoom | None:
    """The war room to act in: the one named, the only one, or the one chosen last (if still theirs); None: ask."""
    if named is not None:
        return named
    if len(rooms) == 1:
        return rooms[0]
    return next((room for room in rooms if room.id == chosen), None)


def several_war_rooms(rooms: Sequence[WarRoom]) -> str:
    """What to answer a command in personal chat that does not say which of several war rooms it is for."""
    labels = [war_room_label(room) for room in rooms]
    return (
        f"You are in {len(rooms)} war rooms: {', '.join(labels)}. Say which one, at the end of the command: "
        f"for example `list in {labels[0]}`. I remember your choice for next time."
    )
