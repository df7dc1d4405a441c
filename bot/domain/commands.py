"""Chat commands: a known word at the start of the text (any case); anything else is an issue report."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bot.domain.calendar import WEEKDAYS
from bot.domain.floor import SITE_MAX, parse_areas, parse_days
from bot.domain.model import Area, Role, Severity, Status

_NUMBER = re.compile(r"^#?(\d{1,9})\b\s*(.*)$", re.DOTALL)


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True)


class ShowHelp(_Command):
    pass


class ReportIssue(_Command):
    text: str


class ListIssues(_Command):
    severity: Severity | None = None
    mine: bool = False
    unassigned: bool = False
    breached: bool = False
    statuses: frozenset[Status] | None = None  # None: the open ones
    filters: tuple[str, ...] = ()


class ShowIssue(_Command):
    number: int


class ShowHistory(_Command):
    number: int


class AssignIssue(_Command):
    number: int


class AcknowledgeIssue(_Command):
    number: int


class ResolveIssue(_Command):
    number: int
    notes: str


class ManageRoles(_Command):
    action: Literal["list", "add", "remove"]
    role: Role | None = None
    # `roles add me oncall`: the sender, no mention needed.
    myself: bool = False


class ShowOnCall(_Command):
    pass


class SetOnCall(_Command):
    """`oncall set @person [until 2026-12-01 18:00]` (local time of the war room); clear: no person."""

    clear: bool = False
    until_local: datetime | None = None


# The most people one command may mention: each of them is looked up in the directory.
MAX_MENTIONS = 20


class SetRota(_Command):
    """`oncall rota @a @b @c [handover mon 09:00]`: weekly turns in the order mentioned (at most MAX_MENTIONS people)."""

    handover_weekday: int = 0
    handover_time: time = time(9, 0)


class ShowFloor(_Command):
    pass


class AddFloorWalker(_Command):
    """`floor add @person areas finance,warehouse [days mon,tue] [site Rotterdam]`; no days: every working day."""

    areas: tuple[Area, ...]
    days: frozenset[int] | None = None
    site: str | None = None


class RemoveFloorWalker(_Command):
    """`floor remove @person`."""


class PostStandup(_Command):
    pass


class MakeHome(_Command):
    """`standup here`: this channel is where the war room's stand-ups and announcements go."""


class ShowSetup(_Command):
    pass


class ShowExit(_Command):
    pass


class ShowStatus(_Command):
    pass


class HandOver(_Command):
    pass


class ExtendPhase(_Command):
    """`extend 2026-12-18 reason` or `extend 2w reason`."""

    until: date | None = None
    weeks: int | None = None
    reason: str


class NewRunbook(_Command):
    pass


class SearchRunbooks(_Command):
    words: str


ChatCommand = (
    ShowHelp | ReportIssue | ListIssues | ShowIssue | ShowHistory | AssignIssue | AcknowledgeIssue | ResolveIssue
    | ManageRoles | ShowOnCall | SetOnCall | SetRota | ShowFloor | AddFloorWalker | RemoveFloorWalker | PostStandup | MakeHome
    | ShowSetup | ShowExit | ShowStatus | ExtendPhase | HandOver | NewRunbook | SearchRunbooks
)


class CommandError(_Command):
    """A command word with arguments that do not fit: say how to write it."""

    message: str


LIST_FILTERS = ("sev1", "sev2", "sev3", "sev4", "mine", "unassigned", "breached", "deferred", "resolved", "all")


def _issue_number(rest: str) -> tuple[int, str] | None:
    match = _NUMBER.match(rest.strip())
    if not match:
        return None
    return int(match.group(1)), match.group(2).strip()


def _list(rest: str) -> ListIssues | CommandError | None:
    words = [word.lower().strip(",") for word in rest.split()]
    unknown = [word for word in words if word not in LIST_FILTERS]
    if unknown:
        # "list sev5" is a mistyped command; "list of vendors is wrong" is an issue report.
        if len(words) <= 2:
            return CommandError(message=f"I don't know the filter `{unknown[0]}`. Filters: {', '.join(LIST_FILTERS)}.")
        return None
    severities = {word for word in words if word.startswith("sev")}
    kinds = {word for word in words if word in ("deferred", "resolved", "all")}
    if len(severities) > 1 or len(kinds) > 1:
        return CommandError(message="Choose one severity and at most one of deferred, resolved or all.")
    severity = Severity(int(severities.pop()[3])) if severities else None
    statuses: frozenset[Status] | None = None
    if "deferred" in words:
        statuses = frozenset({Status.DEFERRED})
    elif "resolved" in words:
        statuses = frozenset({Status.RESOLVED})
    elif "all" in words:
        statuses = frozenset(Status)
    return ListIssues(
        severity=severity,
        mine="mine" in words,
        unassigned="unassigned" in words,
        breached="breached" in words,
        statuses=statuses,
        filters=tuple(words),
    )


def _roles(rest: str) -> ManageRoles | CommandError | None:
    words = rest.split()
    if not words or (len(words) == 1 and words[0].lower() == "list"):
        return ManageRoles(action="list")
    action = words[0].lower()
    if action not in ("add", "remove"):
        return None
    role_word = words[-1].lower() if len(words) > 1 else ""
    try:
        role = Role(role_word)
    except ValueError:
        return CommandError(message=f"End with one of the roles: {', '.join(role.value for role in Role)}.")
    myself = len(words) == 3 and words[1].lower() == "me"
    return ManageRoles(action=action, role=role, myself=myself)  # type: ignore[arg-type]


_UNTIL = re.compile(r"\buntil\s+(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}:\d{2}))?\s*$", re.IGNORECASE)
_HANDOVER = re.compile(r"\bhandover\s+(mon|tue|wed|thu|fri|sat|sun)\w*(?:\s+(\d{1,2}:\d{2}))?\s*$", re.IGNORECASE)


def _clock(text: str | None, default: time) -> time | None:
    if not text:
        return default
    hours, minutes = (int(part) for part in text.split(":"))
    return time(hours, minutes) if hours < 24 and minutes < 60 else None


def _oncall(rest: str) -> ShowOnCall | SetOnCall | SetRota | CommandError | None:
    words = rest.split()
    if not words:
        return ShowOnCall()
    action = words[0].lower()
    if action == "clear":
        return SetOnCall(clear=True)
    if action == "set":
        match = _UNTIL.search(rest)
        if not match:
            if "until" in rest.lower():
                return CommandError(message="Write the end as `until 2026-12-01 18:00` (the war room's local time).")
            return SetOnCall()
        clock = _clock(match.group(2), time(9, 0))
        try:
            day = date.fromisoformat(match.group(1))
        except ValueError:
            day = None
        if day is None or clock is None:
            return CommandError(message="That date or time does not exist; write `until 2026-12-01 18:00`.")
        return SetOnCall(until_local=datetime.combine(day, clock))
    if action == "rota":
        match = _HANDOVER.search(rest)
        if not match:
            return SetRota()
        clock = _clock(match.group(2), time(9, 0))
        if clock is None:
            return CommandError(message="Write the handover as `handover mon 09:00`.")
        return SetRota(handover_weekday=WEEKDAYS.index(match.group(1).lower()), handover_time=clock)
    return None


FLOOR_ADD_USAGE = "Write `floor add @person areas finance,warehouse [days mon,tue] [site Rotterdam]`."
_FLOOR_AREAS = re.compile(r"\bareas?\b(.*)$", re.IGNORECASE | re.DOTALL)
_FLOOR_OPTION = re.compile(r"\b(days?|site)\b", re.IGNORECASE)


def _floor(rest: str) -> ShowFloor | AddFloorWalker | RemoveFloorWalker | CommandError | None:
    words = rest.split()
    if not words:
        return ShowFloor()
    action = words[0].lower()
    if action == "remove":
        return RemoveFloorWalker()
    if action != "add":
        return None  # "floor scanners are offline": a problem on the shop floor
    match = _FLOOR_AREAS.search(rest)
    if not match:
        return CommandError(message=FLOOR_ADD_USAGE)
    # After `areas`: the areas, then `days …` and `site …` in either order.
    parts = _FLOOR_OPTION.split(match.group(1))
    areas = parse_areas(parts[0])
    if isinstance(areas, str):
        return CommandError(message=areas)
    days: frozenset[int] | None = None
    site: str | None = None
    for keyword, value in zip(parts[1::2], parts[2::2], strict=True):
        if keyword.lower().startswith("day"):
            parsed = parse_days(value)
            if isinstance(parsed, str):
                return CommandError(message=parsed)
            days = parsed
        else:
            site = " ".join(value.split())
            if not site:
                return CommandError(message="Name the site after `site`, e.g. `site Rotterdam`.")
            if len(site) > SITE_MAX:
                return CommandError(message=f"Keep the site under {SITE_MAX} characters.")
    return AddFloorWalker(areas=areas, days=days, site=site)


_EXTEND = re.compile(r"^(?:(\d{4}-\d{2}-\d{2})|(\d{1,2})\s*w(?:eeks?)?)\b\s*(.*)$", re.IGNORECASE | re.DOTALL)


def _extend(rest: str) -> ExtendPhase | CommandError | None:
    match = _EXTEND.match(rest.strip())
    if not match:
        return CommandError(message="Write `extend 2026-12-18 why` or `extend 2w why`.") if len(rest.split()) <= 1 else None
    reason = match.group(3).strip()
    if not reason:
        return CommandError(message="Say why: `extend 2w integration fixes are still in test`.")
    if match.group(1):
        try:
            return ExtendPhase(until=date.fromisoformat(match.group(1)), reason=reason)
        except ValueError:
            return CommandError(message="That date does not exist.")
    weeks = int(match.group(2))
    if not 1 <= weeks <= 26:
        return CommandError(message="Extend by 1 to 26 weeks.")
    return ExtendPhase(weeks=weeks, reason=reason)


def parse_command(text: str) -> ChatCommand | CommandError | None:
    """The command in `text`, a CommandError for a command written wrongly, None for anything else."""
    stripped = text.strip()
    word, _, rest = stripped.partition(" ")
    if "\n" in word:
        word, _, tail = word.partition("\n")
        rest = tail + " " + rest
    word = word.lower().rstrip(":")
    # A command's arguments must fit, or the text is someone describing a problem ("show me how to …").
    match word:
        case "help" | "?" if not rest.strip():
            return ShowHelp()
        case "new":
            return ReportIssue(text=rest.strip()) if rest.strip() else CommandError(message="Write the problem after `new`.")
        case "list":
            return _list(rest)
        case "show" | "history" | "ack" | "assign":
            parsed = _issue_number(rest)
            # "show 500 error when posting" is a problem report; only `assign` takes words after the number.
            if parsed is None or (parsed[1] and word != "assign"):
                return CommandError(message=f"Say which issue, for example `{word} #12`.") if not rest.strip() else None
            commands = {"show": ShowIssue, "history": ShowHistory, "ack": AcknowledgeIssue, "assign": AssignIssue}
            return commands[word](number=parsed[0])
        case "resolve":
            parsed = _issue_number(rest)
            if parsed is None:
                return CommandError(message="Say which issue and what fixed it: `resolve #12 what fixed it`.") if not rest.strip() else None
            number, notes = parsed
            if not notes:
                return CommandError(message=f"Say what fixed it: `resolve #{number} what fixed it`.")
            return ResolveIssue(number=number, notes=notes)
        case "roles":
            return _roles(rest)
        case "oncall" | "on-call":
            return _oncall(rest)
        case "floor":
            return _floor(rest)
        case "standup" | "stand-up" if not rest.strip():
            return PostStandup()
        case "standup" | "stand-up" if rest.strip().lower() == "here":
            return MakeHome()
        case "setup" if not rest.strip():
            return ShowSetup()
        case "exit" if not rest.strip():
            return ShowExit()
        case "status" if not rest.strip():
            return ShowStatus()
        case "extend":
            return _extend(rest)
        case "handover" | "hand-over" if not rest.strip():
            return HandOver()
        case "runbook" | "runbooks":
            words = rest.strip()
            if words.lower() == "new":
                return NewRunbook()
            return SearchRunbooks(words=words) if words else CommandError(message="Write `runbook new`, or `runbook` and what to look for.")
    return None
