"""The issue form: prefilled from the parser, corrected and confirmed by the reporter."""

from __future__ import annotations

import re
from urllib.parse import urlparse
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.domain.model import (
    AFFECTED_USERS_MAX,
    COMPANY_MAX,
    DESCRIPTION_MAX,
    DOCUMENTS_MAX,
    TITLE_MAX,
    Area,
    Category,
    Environment,
    IssueDraft,
    Severity,
)
from cards.issue_actions import SEVERITY_CHOICES
from cards.common import FORM_ID_PATTERN, Card, adaptive_card, clean_text, execute, rich_text, text_block, text_run, truncate

CREATE_VERB = "issue.create"
_SEVERITY_VALUES = {str(int(s)) for s in Severity}
_COMPANY = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9_.-]{{0,{COMPANY_MAX - 1}}}$")

FIELD_LABELS = {
    "title": "Title",
    "severity": "Severity",
    "description": "Description",
    "category": "Category",
    "area": "D365 area",
    "company": "Legal entity",
    "affected_users": "Affected users",
    "environment": "Environment",
    "documents": "Documents and vouchers",
    "form_id": "Form",
    "war_room": "War room",
}
# The fields the prefill may leave for the reporter ("please choose"), and what the form says when one is left empty.
CHOOSE_RULES = {
    "severity": "I could not tell how bad it is from your message: please choose a severity.",
    "category": "I could not tell what kind of problem it is from your message: please choose a category.",
    "area": "I could not tell the part of Dynamics 365 from your message: please choose an area.",
}
CHOOSABLE = tuple(CHOOSE_RULES)
PLEASE_CHOOSE = "please choose"

# What each field expects, said once: the same words guide the client-side check and our own.
FIELD_RULES = {
    "title": f"Enter a title of 1 to {TITLE_MAX} characters.",
    "severity": "Choose a severity from Sev 1 to Sev 4.",
    "description": f"Keep the description under {DESCRIPTION_MAX:,} characters.",
    "category": "Choose a category from the list, or leave it empty.",
    "area": "Choose an area from the list, or leave it empty.",
    "company": f"Enter a legal entity code (letters and digits, at most {COMPANY_MAX}), or leave it empty.",
    "affected_users": f"Enter a whole number of people from 0 to {AFFECTED_USERS_MAX:,}, or leave it empty.",
    "environment": "Choose production, UAT / test or sandbox, or leave it empty.",
    "documents": f"Keep the document and voucher numbers under {DOCUMENTS_MAX} characters.",
    "form_id": "This form is damaged; mention the bot again to get a fresh one.",
    "war_room": "Choose the war room (your team's hypercare) this issue is for.",
}


class IssueFormValues(BaseModel):
    """What the form shows: the draft, or what the user typed (kept as typed when it was invalid)."""

    model_config = ConfigDict(frozen=True)

    title: str = ""
    description: str = ""
    severity: str = ""
    category: str = ""
    area: str = ""
    company: str = ""
    affected_users: str = ""
    environment: str = ""
    documents: str = ""
    # Fields the prefill could not tell (CHOOSABLE): shown "please choose", and required.
    please_choose: tuple[str, ...] = ()

    @classmethod
    def from_draft(cls, draft: IssueDraft, please_choose: frozenset[str] = frozenset()) -> IssueFormValues:
        return cls(
            title=draft.title,
            description=draft.description,
            severity=str(int(draft.severity)) if draft.severity else "",
            category=draft.category.value if draft.category else "",
            area=draft.area.value if draft.area else "",
            company=draft.company or "",
            affected_users=str(draft.affected_users) if draft.affected_users is not None else "",
            environment=draft.environment.value if draft.environment else "",
            documents=draft.documents or "",
            please_choose=tuple(field for field in CHOOSABLE if field in please_choose),
        )

    @classmethod
    def from_submitted(cls, data: dict[str, Any]) -> IssueFormValues:
        """Whatever came back, shown again as text so nothing the user typed is lost."""

        def as_text(key: str, limit: int) -> str:
            value = data.get(key)
            if value is None or isinstance(value, (dict, list)):
                return ""
            return truncate(clean_text(str(value)), limit)

        return cls(
            title=as_text("title", TITLE_MAX * 4),
            description=as_text("description", DESCRIPTION_MAX),
            severity=as_text("severity", 10),
            category=as_text("category", 40),
            area=as_text("area", 40),
            company=as_text("company", COMPANY_MAX * 4),
            affected_users=as_text("affected_users", 20),
            environment=as_text("environment", 20),
            documents=as_text("documents", DOCUMENTS_MAX * 4),
            please_choose=to_choose(data),
        )


def to_choose(data: dict[str, Any]) -> tuple[str, ...]:
    """The "please choose" fields a form was sent with (its button's data); anything else in there is ignored."""
    named = data.get("please_choose")
    return tuple(field for field in CHOOSABLE if isinstance(named, list) and field in named)


class IssueSubmission(BaseModel):
    """A submitted issue form, validated. Extra keys from the client are ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    form_id: str = Field(pattern=FORM_ID_PATTERN)
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    severity: Severity
    category: Category | None = None
    area: Area | None = None
    company: str | None = None
    affected_users: int | None = Field(default=None, ge=0, le=AFFECTED_USERS_MAX)
    environment: Environment | None = None
    documents: str | None = Field(default=None, max_length=DOCUMENTS_MAX)
    # The Teams message the issue was raised from (only a Teams link is kept).
    source_url: str | None = None

    @field_validator("title", "description", mode="before")
    @classmethod
    def _text_only(cls, value: object) -> object:
        # A card sends strings; a number or list here is a forged or broken submission.
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ValueError("expected text")
        return clean_text(value)

    @field_validator("category", "area", "company", "affected_users", "environment", "documents", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("documents")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        return " ".join(clean_text(value).split()) if value is not None else None

    @field_validator("severity", mode="before")
    @classmethod
    def _severity_number(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("expected 1 to 4")
        return value

    @field_validator("source_url", mode="before")
    @classmethod
    def _teams_link_only(cls, value: object) -> object:
        return value if isinstance(value, str) and is_teams_link(value) else None

    @field_validator("company")
    @classmethod
    def _company_code(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _COMPANY.match(value):
            raise ValueError("not a legal entity code")
        return value.upper()


def is_teams_link(url: str) -> bool:
    """An https link into Teams; anything else (javascript:, another site) is never shown as a link."""
    parsed = urlparse(url)
    host = (parsed.hostname or "").lower()
    teams = host == "teams.microsoft.com" or host.endswith(".teams.microsoft.com") or host == "teams.cloud.microsoft"
    return parsed.scheme == "https" and teams and len(url) <= 1000


def validate_issue_submission(data: dict[str, Any]) -> IssueSubmission | dict[str, str]:
    """The submission, or the error to show under each bad field. A "please choose" field left empty is an error."""
    errors = {
        field: CHOOSE_RULES[field]
        for field in to_choose(data)
        if not str(data.get(field) or "").strip()
    }
    try:
        submission = IssueSubmission.model_validate(data)
    except ValidationError as error:
        for problem in error.errors():
            field = str(problem["loc"][0]) if problem["loc"] else "form_id"
            errors.setdefault(field, FIELD_RULES.get(field, "This value is not valid."))
        return errors
    return errors or submission


def _choice(title: str, value: str) -> dict[str, str]:
    return {"title": title, "value": value}


def _field_error(field: str, errors: dict[str, str], typed: str = "") -> list[dict[str, Any]]:
    """The rule the value broke, and the value itself when its input cannot show it."""
    if field not in errors:
        return []
    inlines = [text_run(errors[field], color="Attention", size="Small")]
    if typed:
        inlines.append(text_run(f" You entered: {typed}", size="Small"))
    return [rich_text(*inlines, id=f"{field}_error", spacing="None")]


def render_issue_form(
    values: IssueFormValues,
    *,
    form_id: str,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    in_dialog: bool = False,
    source_url: str | None = None,
    suggestions: list[dict[str, Any]] | None = None,
    war_rooms: list[tuple[str, str]] | None = None,
    war_room: str = "",
) -> Card:
    """The issue form. `in_dialog`: shown in a Teams dialog ("Raise from message"), where only Action.Submit works.

    From a personal chat: `war_rooms` (label, id) to choose from when the person is in several, `war_room` the one
    chosen (or the only one, kept in the button's data).
    """
    errors = errors or {}
    body: list[dict[str, Any]] = [
        text_block("Raise a hypercare issue", size="Medium", weight="Bolder"),
        text_block(
            "I read your message and filled in what I could. Check every field, correct it, then raise the issue.",
            isSubtle=True,
            spacing="Small",
        ),
    ]
    if notice:
        body.append(rich_text(text_run(notice, color="Warning")))  # it can name the author of a message
    body += suggestions or []
    if errors:
        named = ", ".join(FIELD_LABELS.get(field, field) for field in errors)
        body.append(
            text_block(f"Nothing was saved. Please correct: {named}.", color="Attention", weight="Bolder", id="form_errors")
        )
    if war_rooms:
        body += [
            {
                "type": "Input.ChoiceSet",
                "id": "war_room",
                "label": FIELD_LABELS["war_room"],
                "isRequired": True,
                "style": "compact",
                "placeholder": "Which team's hypercare is it for?",
                "errorMessage": FIELD_RULES["war_room"],
                "choices": [_choice(label, value) for label, value in war_rooms],
                "value": war_room,
            },
            *_field_error("war_room", errors),
        ]
    body += [
        {
            "type": "Input.Text",
            "id": "title",
            "label": FIELD_LABELS["title"],
            "isRequired": True,
            "maxLength": TITLE_MAX,
            "placeholder": "What is wrong, in one line",
            "errorMessage": FIELD_RULES["title"],
            "value": values.title,
        },
        *_field_error("title", errors),
        _choice_set(
            "severity", "How bad is it?", SEVERITY_CHOICES, values, required=True, errorMessage=FIELD_RULES["severity"]
        ),
        *_field_error("severity", errors, "" if values.severity in _SEVERITY_VALUES else values.severity),
        {
            "type": "Input.Text",
            "id": "description",
            "label": FIELD_LABELS["description"],
            "isMultiline": True,
            "maxLength": DESCRIPTION_MAX,
            "errorMessage": FIELD_RULES["description"],
            "value": values.description,
        },
        *_field_error("description", errors),
        _choice_set("category", "What kind of problem?", [(c.label, c.value) for c in Category], values),
        *_field_error("category", errors),
        _choice_set("area", "Which part of Dynamics 365?", [(a.label, a.value) for a in Area], values),
        *_field_error("area", errors),
        {
            "type": "Input.Text",
            "id": "company",
            "label": FIELD_LABELS["company"],
            "maxLength": COMPANY_MAX,
            "placeholder": "e.g. USMF",
            "errorMessage": FIELD_RULES["company"],
            "value": values.company,
        },
        *_field_error("company", errors),
        _affected_users_input(values.affected_users),
        *_field_error(
            "affected_users", errors, "" if values.affected_users.isdigit() else values.affected_users
        ),
        # Dynamics 365 details read from the message, to correct like the rest.
        _choice_set("environment", "Production, UAT / test or sandbox?", [(e.label, e.value) for e in Environment], values),
        *_field_error("environment", errors),
        {
            "type": "Input.Text",
            "id": "documents",
            "label": FIELD_LABELS["documents"],
            "maxLength": DOCUMENTS_MAX,
            "placeholder": "e.g. PO-000482, INV-2024-00891",
            "errorMessage": FIELD_RULES["documents"],
            "value": values.documents,
        },
        *_field_error("documents", errors),
        *_field_error("form_id", errors),
    ]
    data: dict[str, Any] = {"form_id": form_id}
    if values.please_choose:
        data["please_choose"] = list(values.please_choose)
    if war_room and not war_rooms:
        data["war_room"] = war_room
    if source_url:
        data["source_url"] = source_url
    if in_dialog:
        return adaptive_card(body, [{"type": "Action.Submit", "title": "Raise issue", "data": data, "style": "positive"}])
    return adaptive_card(body, [execute("Raise issue", CREATE_VERB, data, style="positive")])


def _choice_set(
    field: str, placeholder: str, choices: Sequence[tuple[str, str]], values: IssueFormValues, *, required: bool = False,
    **extra: str,
) -> dict[str, Any]:
    """A choice among fixed values. One the prefill could not tell is "please choose": no value, said in its label,
    and required (the client asks first, our own check in `validate_issue_submission` refuses it empty too)."""
    value = getattr(values, field)
    element: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": field,
        "label": FIELD_LABELS[field],
        "style": "compact",
        "placeholder": placeholder,
        "choices": [_choice(title, choice) for title, choice in choices],
        "value": value,
        **extra,
    }
    if field in values.please_choose:
        element |= {"isRequired": True, "errorMessage": CHOOSE_RULES[field]}
        if not value:
            element |= {"label": f"{FIELD_LABELS[field]} ({PLEASE_CHOOSE})", "placeholder": f"{PLEASE_CHOOSE.capitalize()}: {placeholder.lower()}"}
    elif required:
        element["isRequired"] = True
    return element


def _affected_users_input(typed: str) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "Input.Number",
        "id": "affected_users",
        "label": FIELD_LABELS["affected_users"],
        "min": 0,
        "max": AFFECTED_USERS_MAX,
        "placeholder": "How many people are affected?",
        "errorMessage": FIELD_RULES["affected_users"],
    }
    # Input.Number only takes a number; something else typed is named in the error instead.
    if typed.strip().isdigit():
        element["value"] = int(typed)
    return element
