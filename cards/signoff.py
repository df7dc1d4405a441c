"""Signing off resolutions: the reporter's "Fixed for me / Still broken" in the issue's thread, and the stand-up's
"Resolved since the last stand-up: sign off" section with Confirm / Reopen for triage leads and key users."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.events import ago
from bot.domain.model import HandledBy, Issue
from bot.domain.standup import LIST_LIMIT, StandupSummary
from cards.common import (
    NAME_MAX,
    Card,
    adaptive_card,
    card_time,
    execute,
    input_error,
    mention_lines,
    plain_text,
    rich_text,
    show_card,
    text_block,
    text_input,
    text_run,
    truncate,
    with_mentions,
)
from cards.issue_actions import INPUT_RULES

# The reporter's question in the issue's thread (answered with the question, as it then stands).
FIXED_VERB = "signoff.fixed"
BROKEN_VERB = "signoff.broken"
# The stand-up's buttons (answered with the stand-up, redrawn).
CONFIRM_VERB = "signoff.confirm"
REOPEN_VERB = "signoff.reopen"
BROKEN_INPUT = "broken_text"


def reopen_input(issue_id: int) -> str:
    """The stand-up lists several issues, each with its own Reopen fold-out: input ids are unique on a card."""
    return f"{BROKEN_INPUT}_{issue_id}"


class SignOffTarget(BaseModel):
    """What a sign-off button carries: the issue, the version it was drawn from, and (on the stand-up) the stand-up's
    "since" and chart, so that the redrawn stand-up is the same one."""

    model_config = ConfigDict(extra="ignore")

    issue_id: int = Field(ge=1)
    version: int = Field(ge=1)
    since: datetime | None = None
    chart_id: int | None = None


class SignOffPanel(BaseModel):
    """A Reopen refused for its input: shown open under its issue, with what was typed and what is wrong."""

    model_config = ConfigDict(frozen=True)

    issue_id: int
    value: str = ""
    error: str = ""


def _target(issue: Issue) -> dict[str, Any]:
    return {"issue_id": issue.id, "version": issue.version}


def _broken_input(input_id: str, label: str, value: str, error: str) -> list[dict[str, Any]]:
    element = text_input(input_id, label, value=value, isMultiline=True, isRequired=True, maxLength=500,
                         errorMessage=INPUT_RULES[BROKEN_INPUT])
    return [element, *input_error(input_id, {input_id: error} if error else {})]


def _state(issue: Issue) -> str:
    """Where the issue stands now, said when it no longer waits for an answer."""
    confirmation = issue.resolution.confirmation if issue.resolution else None
    if confirmation is not None:
        return (f"#{issue.number} is closed: it closed automatically, {card_time(confirmation.at)}." if confirmation.by is None
                else f"#{issue.number} is closed: {truncate(confirmation.by.name, NAME_MAX)} confirmed the fix, {card_time(confirmation.at)}.")
    return f"#{issue.number} is {issue.status_text.lower()} now."


def render_fixed_question(issue: Issue, *, notice: str | None = None, typed: str = "", error: str = "") -> Card:
    """The reporter is asked, with a real @mention, whether the fix works for them. Once answered (by anyone, or
    closed by itself) the same card says where the issue stands and has no buttons."""
    resolution = issue.resolution
    asking, entities = mention_lines("", [issue.reporter], spacing="None")
    body: list[dict[str, Any]] = [
        rich_text(text_run(f"#{issue.number} ", weight="Bolder", isSubtle=True), text_run(issue.title, weight="Bolder")),
    ]
    if notice:
        body.append({"type": "Container", "style": "emphasis", "id": "notice", "items": [plain_text(notice)]})
    if resolution is not None:
        body += [
            rich_text(
                text_run("Resolved ", weight="Bolder", color="Good"),
                text_run(f"by {truncate(resolution.resolved_by.name, NAME_MAX)}, {card_time(resolution.resolved_at)} "
                         f"({resolution.type.label}):"),
                spacing="Small",
            ),
            plain_text(truncate(resolution.notes, 600), spacing="None"),
        ]
    if not issue.awaiting_confirmation:
        body.append(plain_text(_state(issue), spacing="Medium", id="answered"))
        return with_mentions(adaptive_card(body), entities)
    until = f" If nobody answers, it closes by itself {card_time(resolution.close_by)}." if resolution and resolution.close_by else ""
    body += [*asking, text_block(f"Is it fixed for you?{until}", weight="Bolder", spacing="Small")]
    broken = _broken_input(BROKEN_INPUT, "What is still wrong?", typed, error)
    reopen = execute("Reopen it", BROKEN_VERB, _target(issue), style="destructive")
    if error:  # refused for its words: the input open, as typed, the problem under it
        body += [{"type": "Container", "style": "emphasis", "id": "panel", "items": [*broken, {"type": "ActionSet", "actions": [reopen]}]}]
        actions = [execute("Fixed for me", FIXED_VERB, _target(issue), style="positive")]
    else:
        actions = [execute("Fixed for me", FIXED_VERB, _target(issue), style="positive"), show_card("Still broken", broken, [reopen])]
    return with_mentions(adaptive_card(body, actions), entities)


def _signoff_item(issue: Issue, summary: StandupSummary, panel: SignOffPanel | None, chart_id: int | None) -> list[dict[str, Any]]:
    resolution = issue.resolution
    assert resolution is not None  # resolved (waiting, or closed since the last stand-up)
    who = f"{truncate(resolution.resolved_by.name, NAME_MAX)} ({resolution.handled_by.label.lower()}), {ago(summary.now - resolution.resolved_at)}"
    line = rich_text(
        text_run(f"#{issue.number} {issue.severity.label} ", weight="Bolder"),
        text_run(truncate(issue.title, 70)),
        text_run(f" — resolved by {who} · {issue.status_text.lower()}", isSubtle=True),
        spacing="Small",
    )
    if not issue.awaiting_confirmation:
        confirmation = resolution.confirmation
        by = confirmation.by.name if confirmation and confirmation.by else None
        return [line, *([plain_text(f"Confirmed by {truncate(by, NAME_MAX)}", isSubtle=True, spacing="None")] if by else [])]
    data = _target(issue) | {"since": summary.since.isoformat() if summary.since else None, "chart_id": chart_id}
    confirm = execute("Confirm", CONFIRM_VERB, data, style="positive")
    reopen = execute("Reopen", REOPEN_VERB, data, style="destructive")
    input_id = reopen_input(issue.id)
    if panel is not None and panel.issue_id == issue.id:
        fields = _broken_input(input_id, f"Why reopen #{issue.number}?", panel.value, panel.error)
        return [line, {"type": "Container", "style": "emphasis", "id": f"panel_{issue.id}",
                       "items": [*fields, {"type": "ActionSet", "actions": [confirm, reopen]}]}]
    fold_out = show_card("Reopen", _broken_input(input_id, f"Why reopen #{issue.number}?", "", ""), [reopen])
    return [line, {"type": "ActionSet", "spacing": "None", "actions": [confirm, fold_out]}]


def signoff_section(summary: StandupSummary, *, panel: SignOffPanel | None = None, chart_id: int | None = None) -> list[dict[str, Any]]:
    """"Resolved since the last stand-up: sign off": each resolution still waiting, with Confirm (closed) and Reopen
    (with a reason) for a triage lead or key user; then those resolved since the last stand-up that are closed.
    `chart_id`: the stand-up's chart, carried by the buttons so that the redrawn stand-up shows it again."""
    counts = summary.resolved_by
    heading = (f"Resolved since the last stand-up: sign off ({len(summary.sign_off)}) · support team {counts[HandledBy.SUPPORT]}, "
               f"floor walkers {counts[HandledBy.FLOOR_WALKER]}, partner {counts[HandledBy.PARTNER]}")
    elements: list[dict[str, Any]] = [text_block(heading, weight="Bolder", spacing="Medium", id="sign_off")]
    if not summary.sign_off:
        return [*elements, text_block("Nothing resolved since the last stand-up, and nothing waiting for confirmation.",
                                      isSubtle=True, spacing="None")]
    for issue in summary.sign_off[:LIST_LIMIT]:
        elements += _signoff_item(issue, summary, panel, chart_id)
    if len(summary.sign_off) > LIST_LIMIT:
        elements.append(text_block(f"…and {len(summary.sign_off) - LIST_LIMIT} more: `list resolved` shows them.", isSubtle=True))
    return elements
