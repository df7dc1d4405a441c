"""What the buttons on an issue card submit, validated into triage commands."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.domain.model import HandledBy, ResolutionType, Severity
from bot.domain.events import Verb
from bot.domain.triage import (
    NOTE_MAX,
    REASON_MAX,
    RESOLUTION_NOTES_MAX,
    Acknowledge,
    AddUpdate,
    ChangeSeverity,
    ConfirmFix,
    DecidePriority,
    Defer,
    Escalate,
    MarkDuplicate,
    MeToo,
    Reopen,
    Resolve,
    StillBroken,
    Take,
    TriageCommand,
)

VERB_PREFIX = "issue."

# Input ids on the issue card, one set per action that needs input.
INPUTS: dict[Verb, tuple[str, ...]] = {
    Verb.ADD_UPDATE: ("update_text",),
    Verb.RESOLVE: ("resolve_notes", "resolve_type", "resolve_handled_by", "resolve_runbook", "resolve_runbook_title"),
    Verb.CHANGE_SEVERITY: ("severity_new", "severity_reason"),
    Verb.REOPEN: ("reopen_reason",),
    Verb.DUPLICATE: ("duplicate_of",),
    Verb.ASSIGN: ("assign_person",),
    Verb.DEFER: ("defer_reason",),
    Verb.ESCALATE: ("escalate_reason",),
    Verb.DECIDE: ("decide_severity", "decide_reason"),
    Verb.STILL_BROKEN: ("broken_text",),
}

# The input on the card behind each field of a command.
FIELD_INPUTS: dict[Verb, dict[str, str]] = {
    Verb.ADD_UPDATE: {"text": "update_text"},
    Verb.RESOLVE: {
        "notes": "resolve_notes", "resolution_type": "resolve_type", "handled_by": "resolve_handled_by",
        "runbook_title": "resolve_runbook_title",
    },
    Verb.CHANGE_SEVERITY: {"severity": "severity_new", "reason": "severity_reason"},
    Verb.REOPEN: {"reason": "reopen_reason"},
    Verb.DUPLICATE: {"of_number": "duplicate_of"},
    Verb.DEFER: {"reason": "defer_reason"},
    Verb.ESCALATE: {"reason": "escalate_reason"},
    Verb.DECIDE: {"severity": "decide_severity", "reason": "decide_reason", "priority": "decide_severity", "standup_on": "decide_severity"},
    Verb.STILL_BROKEN: {"text": "broken_text"},
}

INPUT_RULES = {
    "update_text": f"Write the update (at most {NOTE_MAX:,} characters).",
    "resolve_notes": f"Say what fixed it (at most {RESOLUTION_NOTES_MAX:,} characters): these notes become the runbook.",
    "resolve_type": "Choose how it was resolved.",
    "resolve_handled_by": "Choose who handled it.",
    "resolve_runbook_title": "Keep the runbook title under 120 characters.",
    "severity_new": "Choose the new severity.",
    "severity_reason": f"Give a reason (at most {REASON_MAX} characters).",
    "reopen_reason": f"Give a reason (at most {REASON_MAX} characters).",
    "duplicate_of": "Enter the number of the issue this one duplicates, e.g. 12.",
    "assign_person": "Choose a person.",
    "defer_reason": f"Keep the reason under {REASON_MAX} characters.",
    "escalate_reason": f"Say why the partner is needed (at most {REASON_MAX} characters).",
    "decide_severity": "Choose the new severity.",
    "decide_reason": f"Keep the reason under {REASON_MAX} characters.",
    "broken_text": f"Say what is still wrong (at most {REASON_MAX} characters).",
}


def card_verb(verb: Verb) -> str:
    return VERB_PREFIX + verb.value


class IssueActionTarget(BaseModel):
    """Every issue-card button carries the issue and the version the card was rendered from."""

    model_config = ConfigDict(extra="ignore")

    issue_id: int = Field(ge=1)
    version: int = Field(ge=1)


class AssignRequest(BaseModel):
    """The people picker gives an AAD object id; the text fallback gives whatever was typed."""

    model_config = ConfigDict(frozen=True)

    person: str


def parse_verb(card_verb_text: str | None) -> Verb | None:
    if not card_verb_text or not card_verb_text.startswith(VERB_PREFIX):
        return None
    try:
        return Verb(card_verb_text.removeprefix(VERB_PREFIX))
    except ValueError:
        return None


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value.strip() if isinstance(value, str) else ""


def _flag(data: dict[str, Any], key: str) -> bool:
    return str(data.get(key, "")).lower() in {"true", "1", "yes", "on"}


def parse_command(verb: Verb, data: dict[str, Any]) -> TriageCommand | AssignRequest | dict[str, str]:
    """The command a button asks for, or the error to show under each bad input."""
    errors: dict[str, str] = {}

    def build(factory: Any, **values: Any) -> Any:
        field_map = FIELD_INPUTS[verb]
        try:
            return factory(**values)
        except ValidationError as error:
            for problem in error.errors():
                field = field_map.get(str(problem["loc"][0]) if problem["loc"] else "", next(iter(field_map.values())))
                errors.setdefault(field, INPUT_RULES[field])
            return errors

    match verb:
        case Verb.ACKNOWLEDGE:
            return Acknowledge()
        case Verb.TAKE:
            return Take()
        case Verb.ME_TOO:
            return MeToo()
        case Verb.ASSIGN:
            person = _text(data, "assign_person")
            return AssignRequest(person=person) if person else {"assign_person": INPUT_RULES["assign_person"]}
        case Verb.ADD_UPDATE:
            return build(AddUpdate, text=_text(data, "update_text"))
        case Verb.RESOLVE:
            return build(
                Resolve,
                notes=_text(data, "resolve_notes"),
                resolution_type=_text(data, "resolve_type") or None,
                handled_by=_text(data, "resolve_handled_by") or None,
                save_as_runbook=_flag(data, "resolve_runbook"),
                runbook_title=_text(data, "resolve_runbook_title") or None,
            )
        case Verb.CHANGE_SEVERITY:
            severity = _text(data, "severity_new")
            return build(
                ChangeSeverity,
                severity=int(severity) if severity.isdigit() else None,
                reason=_text(data, "severity_reason"),
            )
        case Verb.REOPEN:
            return build(Reopen, reason=_text(data, "reopen_reason"))
        case Verb.DUPLICATE:
            number = _text(data, "duplicate_of").lstrip("#")
            return build(MarkDuplicate, of_number=int(number) if number.isdigit() else None)
        case Verb.DEFER:
            return build(Defer, reason=_text(data, "defer_reason") or None)
        case Verb.ESCALATE:
            return build(Escalate, reason=_text(data, "escalate_reason"))
        case Verb.DECIDE:
            severity = _text(data, "decide_severity")
            return build(
                DecidePriority,
                priority=_text(data, "priority") or None,
                standup_on=_text(data, "standup_on") or None,
                severity=int(severity) if severity.isdigit() else None,
                reason=_text(data, "decide_reason") or None,
            )
        case Verb.CONFIRM:
            return ConfirmFix()
        case Verb.STILL_BROKEN:
            return build(StillBroken, text=_text(data, "broken_text"))
    raise AssertionError(f"unhandled verb {verb}")


RESOLUTION_CHOICES = [(t.label, t.value) for t in ResolutionType]
HANDLED_BY_CHOICES = [(h.label, h.value) for h in HandledBy]
SEVERITY_CHOICES = [(f"{s.label} — {s.meaning}", str(int(s))) for s in Severity]
