"""Chat commands: a known word at the start of the text (any case); anything else is an issue report."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bot.domain.model import Role, Severity, Status

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


ChatCommand = ShowHelp | ReportIssue | ListIssues | ShowIssue | ShowHistory | AssignIssue | AcknowledgeIssue | ResolveIssue | ManageRoles


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
    severity = next((Severity(int(word[3])) for word in words if word.startswith("sev")), None)
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
    if not words:
        return ManageRoles(action="list")
    action = words[0].lower()
    if action not in ("add", "remove"):
        return None
    role_word = words[-1].lower() if len(words) > 1 else ""
    try:
        role = Role(role_word)
    except ValueError:
        return CommandError(message=f"End with one of the roles: {', '.join(role.value for role in Role)}.")
    return ManageRoles(action=action, role=role)  # type: ignore[arg-type]


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
            if parsed is None:
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
    return None
