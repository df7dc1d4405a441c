"""Runbook cards: the form, one runbook, search results, and the suggestions shown on a new issue form."""

from __future__ import annotations

from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from bot.domain.model import DESCRIPTION_MAX, TITLE_MAX, Area, Category, Runbook, Suggestion
from cards.common import (
    Card,
    adaptive_card,
    choice_set,
    execute,
    input_error,
    plain_text,
    rich_text,
    show_card,
    text_block,
    text_input,
    text_run,
    truncate,
)

CREATE_RUNBOOK_VERB = "runbook.create"
UPDATE_RUNBOOK_VERB = "runbook.update"
E = TypeVar("E", bound=Enum)

RUNBOOK_INPUTS = ("runbook_title", "runbook_symptoms", "runbook_steps", "runbook_area", "runbook_category")


class RunbookForm(BaseModel):
    """A runbook form as submitted and checked."""

    model_config = ConfigDict(frozen=True)

    title: str
    symptoms: str
    steps: str
    area: Area | None
    category: Category | None


def runbook_values(data: dict[str, Any]) -> dict[str, str]:
    """What was typed into a runbook form, trimmed, to check or to show again."""
    return {key: value.strip() if isinstance(value := data.get(key), str) else "" for key in RUNBOOK_INPUTS}


def parse_runbook_form(data: dict[str, Any]) -> RunbookForm | dict[str, str]:
    """The runbook a form describes, or the problem with each input."""
    values = runbook_values(data)
    errors = {}
    if not values["runbook_title"] or len(values["runbook_title"]) > TITLE_MAX:
        errors["runbook_title"] = f"A title of 1 to {TITLE_MAX} characters."
    if not values["runbook_steps"] or len(values["runbook_steps"]) > DESCRIPTION_MAX:
        errors["runbook_steps"] = f"Steps of 1 to {DESCRIPTION_MAX:,} characters."
    if len(values["runbook_symptoms"]) > DESCRIPTION_MAX:
        errors["runbook_symptoms"] = f"At most {DESCRIPTION_MAX:,} characters."
    if errors:
        return errors
    return RunbookForm(
        title=values["runbook_title"], symptoms=values["runbook_symptoms"], steps=values["runbook_steps"],
        area=_member(Area, values["runbook_area"]), category=_member(Category, values["runbook_category"]),
    )


def _member(kind: type[E], value: str) -> E | None:
    try:
        return kind(value) if value else None
    except ValueError:
        return None


def _inputs(values: dict[str, str], errors: dict[str, str], *, with_tags: bool) -> list[dict[str, Any]]:
    elements = [
        text_input("runbook_title", "Title", value=values.get("runbook_title", ""), isRequired=True, maxLength=TITLE_MAX,
                   errorMessage=f"A title of 1 to {TITLE_MAX} characters"),
        *input_error("runbook_title", errors),
        text_input("runbook_symptoms", "Symptoms: what users see", value=values.get("runbook_symptoms", ""), isMultiline=True,
                   maxLength=DESCRIPTION_MAX),
        *input_error("runbook_symptoms", errors),
        text_input("runbook_steps", "Steps: how to fix it", value=values.get("runbook_steps", ""), isMultiline=True, isRequired=True,
                   maxLength=DESCRIPTION_MAX, errorMessage="Write the steps"),
        *input_error("runbook_steps", errors),
    ]
    if with_tags:
        elements += [
            choice_set("runbook_area", "D365 area", [(a.label, a.value) for a in Area], value=values.get("runbook_area", "")),
            choice_set("runbook_category", "Category", [(c.label, c.value) for c in Category], value=values.get("runbook_category", "")),
        ]
    return elements


def render_runbook_form(*, form_id: str, values: dict[str, str] | None = None, errors: dict[str, str] | None = None) -> Card:
    errors = errors or {}
    body = [text_block("Write a runbook", size="Medium", weight="Bolder"),
            text_block("So the support team can fix it next time without waiting for the partner.", isSubtle=True)]
    if errors:
        body.append(text_block(f"Nothing was saved. Please correct: {', '.join(errors)}.", color="Attention", weight="Bolder"))
    if "form_id" in errors:
        body.append(text_block(errors["form_id"], color="Attention", id="form_id_error"))
    body += _inputs(values or {}, errors, with_tags=True)
    return adaptive_card(body, [execute("Save runbook", CREATE_RUNBOOK_VERB, {"form_id": form_id}, style="positive")])


def render_runbook(runbook: Runbook, *, notice: str | None = None) -> Card:
    tags = " · ".join(label for label in (runbook.area.label if runbook.area else "", runbook.category.label if runbook.category else "") if label)
    body: list[dict[str, Any]] = [
        {"type": "RichTextBlock", "inlines": [text_run(f"Runbook R{runbook.id} ", weight="Bolder", size="Medium", isSubtle=True),
                                              text_run(runbook.title, weight="Bolder", size="Medium")]},
    ]
    if notice:
        body.append(rich_text(text_run(notice, color="Good")))
    if tags:
        body.append(text_block(tags, isSubtle=True, spacing="Small"))
    if runbook.symptoms:
        body += [text_block("Symptoms", weight="Bolder"), plain_text(truncate(runbook.symptoms, 1500))]
    body += [text_block("Steps", weight="Bolder"), plain_text(truncate(runbook.steps, 3000))]
    owner = [text_run("Owner ", isSubtle=True), text_run(runbook.owner.name)]
    if runbook.issue_ids:
        owner.append(text_run(f" · written from {len(runbook.issue_ids)} issue(s)", isSubtle=True))
    body.append({"type": "RichTextBlock", "inlines": owner})
    values = {"runbook_title": runbook.title, "runbook_symptoms": runbook.symptoms, "runbook_steps": runbook.steps}
    edit = show_card("Edit", _inputs(values, {}, with_tags=False),
                     [execute("Save changes", UPDATE_RUNBOOK_VERB, {"runbook_id": runbook.id})])
    return adaptive_card(body, [edit])


def render_runbook_results(words: str, runbooks: list[Runbook]) -> Card:
    body: list[dict[str, Any]] = [{"type": "RichTextBlock", "inlines": [text_run("Runbooks for ", weight="Bolder"), text_run(words)]}]
    if not runbooks:
        body.append(text_block("None found. `runbook new` writes one.", isSubtle=True))
    for runbook in runbooks:
        body.append({"type": "Container", "separator": True, "items": [
            {"type": "RichTextBlock", "inlines": [text_run(f"R{runbook.id} ", weight="Bolder"), text_run(runbook.title, weight="Bolder")]},
            plain_text(truncate(runbook.steps, 400)),
        ]})
    return adaptive_card(body)


def suggestion_block(suggestions: list[Suggestion]) -> list[dict[str, Any]]:
    """"Before you raise it": up to three past fixes that look like the new report, on the issue form."""
    if not suggestions:
        return []
    items: list[dict[str, Any]] = [text_block("Before you raise it: these look similar", weight="Bolder", color="Accent")]
    for suggestion in suggestions:
        label = f"#{suggestion.number} " if suggestion.kind == "issue" else f"Runbook R{suggestion.id} "
        inlines = [text_run(label, weight="Bolder"), text_run(truncate(suggestion.title, 90))]
        if suggestion.summary:
            inlines.append(text_run(f" — {truncate(suggestion.summary, 160)}", isSubtle=True))
        items.append({"type": "RichTextBlock", "spacing": "Small", "inlines": inlines})
    items.append(text_block("If one of these fixes it, there is no need to raise an issue (`show #N` or `runbook …`).", isSubtle=True, size="Small"))
    return [{"type": "Container", "style": "emphasis", "id": "suggestions", "items": items}]
