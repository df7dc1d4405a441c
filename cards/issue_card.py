"""The issue card: what everyone in the war room sees about one issue, with its triage buttons."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from bot.domain.model import Issue, Person, Severity, Status
from bot.domain.events import Verb
from bot.domain.priorities import scope_note
from bot.domain.views import IssueCardContext, Viewer, refresh_viewers, visible_verbs
from cards.common import (
    NAME_MAX,
    Card,
    adaptive_card,
    card_time,
    choice_set,
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
from cards.issue_actions import (
    HANDLED_BY_CHOICES,
    INPUT_RULES,
    RESOLUTION_CHOICES,
    SEVERITY_CHOICES,
    card_verb,
)

# Long descriptions are stored whole; the card shows the start so it stays far below Teams' size limit.
CARD_DESCRIPTION_MAX = 1500
CARD_NOTE_MAX = 600

_SEVERITY_COLOUR = {Severity.SEV1: "Attention", Severity.SEV2: "Warning", Severity.SEV3: "Accent", Severity.SEV4: "Default"}
_STATUS_COLOUR = {Status.RESOLVED: "Good", Status.DEFERRED: "Default", Status.DUPLICATE: "Default"}


# Teams asks for each listed person's own view of the card with this verb (user-specific views).
VIEW_VERB = "issue.view"


class Panel(BaseModel):
    """An action's inputs shown open on the card, with what the user typed and what was wrong with it."""

    model_config = ConfigDict(frozen=True)

    verb: Verb
    values: dict[str, str] = {}
    errors: dict[str, str] = {}


def _fact(title: str, value: str) -> dict[str, str]:
    return {"title": title, "value": value}


def action_inputs(verb: Verb, issue: Issue, values: dict[str, str], errors: dict[str, str]) -> list[dict[str, Any]]:
    """The inputs an action needs: the same in the button's fold-out and in a panel shown after an error."""
    def field(element: dict[str, Any]) -> list[dict[str, Any]]:
        return [element, *input_error(element["id"], errors)]

    match verb:
        case Verb.ADD_UPDATE:
            return field(
                text_input("update_text", "Progress update", value=values.get("update_text", ""), isMultiline=True,
                           isRequired=True, maxLength=2000, errorMessage=INPUT_RULES["update_text"])
            )
        case Verb.RESOLVE:
            return [
                *field(text_input("resolve_notes", "What fixed it (becomes the runbook)", value=values.get("resolve_notes", ""),
                                  isMultiline=True, isRequired=True, maxLength=4000, errorMessage=INPUT_RULES["resolve_notes"])),
                *field(choice_set("resolve_type", "Resolution", RESOLUTION_CHOICES, value=values.get("resolve_type", "fixed"),
                                  isRequired=True, errorMessage=INPUT_RULES["resolve_type"])),
                *field(choice_set("resolve_handled_by", "Handled by (only a triage lead may change it)", HANDLED_BY_CHOICES,
                                  value=values.get("resolve_handled_by", ""), placeholder="From my role",
                                  errorMessage=INPUT_RULES["resolve_handled_by"])),
                {"type": "Input.Toggle", "id": "resolve_runbook", "title": "Save as a runbook", "label": "Runbook",
                 "value": values.get("resolve_runbook", "false"), "valueOn": "true", "valueOff": "false"},
                *field(text_input("resolve_runbook_title", "Runbook title", value=values.get("resolve_runbook_title", ""),
                                  placeholder=truncate(issue.title, 60), maxLength=120,
                                  errorMessage=INPUT_RULES["resolve_runbook_title"])),
            ]
        case Verb.CHANGE_SEVERITY:
            return [
                *field(choice_set("severity_new", "New severity", SEVERITY_CHOICES,
                                  value=values.get("severity_new", str(int(issue.severity))), isRequired=True,
                                  errorMessage=INPUT_RULES["severity_new"])),
                *field(text_input("severity_reason", "Reason", value=values.get("severity_reason", ""), isRequired=True,
                                  maxLength=500, errorMessage=INPUT_RULES["severity_reason"])),
            ]
        case Verb.REOPEN:
            return field(text_input("reopen_reason", "Why reopen it?", value=values.get("reopen_reason", ""), isRequired=True,
                                    maxLength=500, errorMessage=INPUT_RULES["reopen_reason"]))
        case Verb.DUPLICATE:
            return field(text_input("duplicate_of", "Duplicate of issue number", value=values.get("duplicate_of", ""),
                                    isRequired=True, placeholder="e.g. 12", maxLength=10, errorMessage=INPUT_RULES["duplicate_of"]))
        case Verb.ASSIGN:
            return field(_people_picker(values.get("assign_person", "")))
        case Verb.DEFER:
            return field(text_input("defer_reason", "Why defer it? (optional)", value=values.get("defer_reason", ""),
                                    maxLength=500, errorMessage=INPUT_RULES["defer_reason"]))
        case Verb.STILL_BROKEN:
            return field(text_input("broken_text", "What is still wrong?", value=values.get("broken_text", ""), isMultiline=True,
                                    isRequired=True, maxLength=500, errorMessage=INPUT_RULES["broken_text"]))
        case Verb.ESCALATE:
            return field(text_input("escalate_reason", "Why does the partner need to take it?", value=values.get("escalate_reason", ""),
                                    isMultiline=True, isRequired=True, maxLength=500, errorMessage=INPUT_RULES["escalate_reason"]))
    return []


def confirmation_lines(issue: Issue) -> list[dict[str, Any]]:
    """Where the sign-off of a resolution stands: waiting for whom and until when, or who closed it."""
    resolution = issue.resolution
    if resolution is None or issue.status is not Status.RESOLVED:
        return []
    confirmation = resolution.confirmation
    if confirmation is None:
        until = f"; it closes by itself {card_time(resolution.close_by)} unless someone says it is still broken" if resolution.close_by else ""
        return [rich_text(text_run("Awaiting confirmation ", weight="Bolder", color="Warning"),
                          text_run(f"from {truncate(issue.reporter.name, NAME_MAX)}, a key user or a triage lead{until}."),
                          spacing="Small", id="confirmation")]
    if confirmation.by is None:
        return [rich_text(text_run("Closed automatically ", weight="Bolder"),
                          text_run(f"{card_time(confirmation.at)}: nobody confirmed it or said it was still broken in time."),
                          spacing="Small", id="confirmation")]
    return [rich_text(text_run("Confirmed fixed ", weight="Bolder", color="Good"),
                      text_run(f"by {truncate(confirmation.by.name, NAME_MAX)}, {card_time(confirmation.at)}. Closed."),
                      spacing="Small", id="confirmation")]


def _people_picker(value: str) -> dict[str, Any]:
    # Teams fills the choices from the organisation's directory; other clients get a text box.
    return {
        "type": "Input.ChoiceSet",
        "id": "assign_person",
        "label": "Assign to",
        "isRequired": True,
        "errorMessage": INPUT_RULES["assign_person"],
        "choices": [],
        "choices.data": {"type": "Data.Query", "dataset": "graph.microsoft.com/users"},
        "value": value,
        "fallback": {
            "type": "Input.Text",
            "id": "assign_person",
            "label": "Assign to (name or email)",
            "isRequired": True,
            "errorMessage": INPUT_RULES["assign_person"],
            "value": value,
        },
    }


_ACTION_TITLES = {
    Verb.ACKNOWLEDGE: "Acknowledge",
    Verb.TAKE: "Take it",
    Verb.ASSIGN: "Assign",
    Verb.ADD_UPDATE: "Add update",
    Verb.RESOLVE: "Resolve",
    Verb.CHANGE_SEVERITY: "Change severity",
    Verb.REOPEN: "Reopen",
    Verb.ME_TOO: "Me too",
    Verb.DUPLICATE: "Duplicate of #…",
    Verb.DEFER: "Defer",
    Verb.ESCALATE: "Escalate to partner",
    Verb.CONFIRM: "Confirm fixed",
    Verb.STILL_BROKEN: "Still broken",
}


def _button(verb: Verb, issue: Issue, title: str | None = None, **style: Any) -> dict[str, Any]:
    return execute(title or _ACTION_TITLES[verb], card_verb(verb), {"issue_id": issue.id, "version": issue.version}, **style)


def _fold_out(verb: Verb, issue: Issue, confirm: str) -> dict[str, Any]:
    return show_card(_ACTION_TITLES[verb], action_inputs(verb, issue, {}, {}), [_button(verb, issue, title=confirm)])


def _section(verb: Verb, issue: Issue, confirm: str) -> dict[str, Any]:
    """One action inside the "More" fold-out: its inputs and its button."""
    return {
        "type": "Container",
        "separator": True,
        "items": [
            *action_inputs(verb, issue, {}, {}),
            {"type": "ActionSet", "actions": [_button(verb, issue, title=confirm)]},
        ],
    }


def _actions(issue: Issue, open_panel: Verb | None, viewer: Viewer | None) -> list[dict[str, Any]]:
    """The card's buttons; an action whose inputs are open in a panel is not offered a second time. A viewer's own
    view offers only what they may press; the card everyone is sent offers all."""
    top: list[tuple[Verb, dict[str, Any]]] = []
    more: list[tuple[Verb, dict[str, Any]]] = []
    if issue.status.is_open:
        if issue.status in (Status.NEW, Status.REOPENED):
            top.append((Verb.ACKNOWLEDGE, _button(Verb.ACKNOWLEDGE, issue, style="positive")))
        top += [
            (Verb.TAKE, _button(Verb.TAKE, issue)),
            (Verb.RESOLVE, _fold_out(Verb.RESOLVE, issue, "Resolve")),
            (Verb.ADD_UPDATE, _fold_out(Verb.ADD_UPDATE, issue, "Post update")),
        ]
        more = [
            (Verb.ASSIGN, _section(Verb.ASSIGN, issue, "Assign")),
            (Verb.CHANGE_SEVERITY, _section(Verb.CHANGE_SEVERITY, issue, "Change severity")),
            (Verb.DUPLICATE, _section(Verb.DUPLICATE, issue, "Close as duplicate")),
        ]
        if issue.escalation is None:
            more.append((Verb.ESCALATE, _section(Verb.ESCALATE, issue, "Escalate to partner")))
        if issue.severity in (Severity.SEV3, Severity.SEV4):
            more.append((Verb.DEFER, _section(Verb.DEFER, issue, "Defer to after hypercare")))
    elif issue.awaiting_confirmation:
        # Signed off by the reporter, a key user or a triage lead; "Still broken" is how it is reopened meanwhile.
        top += [
            (Verb.CONFIRM, _button(Verb.CONFIRM, issue, style="positive")),
            (Verb.STILL_BROKEN, _fold_out(Verb.STILL_BROKEN, issue, "Reopen it")),
            (Verb.ADD_UPDATE, _fold_out(Verb.ADD_UPDATE, issue, "Post update")),
        ]
    else:
        top += [(Verb.REOPEN, _fold_out(Verb.REOPEN, issue, "Reopen")), (Verb.ADD_UPDATE, _fold_out(Verb.ADD_UPDATE, issue, "Post update"))]
        if issue.status is Status.DEFERRED:
            more = [
                (Verb.CHANGE_SEVERITY, _section(Verb.CHANGE_SEVERITY, issue, "Change severity")),
                (Verb.DUPLICATE, _section(Verb.DUPLICATE, issue, "Close as duplicate")),
            ]
    if issue.status.is_open or issue.status is Status.DEFERRED:
        me_too = {"type": "ActionSet", "actions": [_button(Verb.ME_TOO, issue, title="Me too: it affects me as well")]}
        more.insert(0, (Verb.ME_TOO, me_too))
    offered = {verb for verb, _ in (*top, *more)}
    shown = visible_verbs(offered, viewer.roles, is_reporter=viewer.is_reporter) if viewer else offered
    actions = [element for verb, element in top if verb is not open_panel and verb in shown]
    folded = [element for verb, element in more if verb is not open_panel and verb in shown]
    if folded:
        actions.append({"type": "Action.ShowCard", "title": "More…", "card": {"type": "AdaptiveCard", "body": folded}})
    return actions


def _panel(panel: Panel, issue: Issue) -> dict[str, Any]:
    return {
        "type": "Container",
        "style": "emphasis",
        "id": "panel",
        "items": [
            text_block(f"{_ACTION_TITLES[panel.verb]}: please correct the fields below.", weight="Bolder", color="Attention"),
            *action_inputs(panel.verb, issue, panel.values, panel.errors),
            {"type": "ActionSet", "actions": [_button(panel.verb, issue, title=_ACTION_TITLES[panel.verb], style="positive")]},
        ],
    }


def _refresh(issue: Issue, context: IssueCardContext) -> dict[str, Any] | None:
    """Teams asks the bot for the view of each listed person (their Teams user MRI, `8:orgid:<AAD object id>`)."""
    viewers = refresh_viewers(issue.reporter, context.triage_team)
    if not viewers:
        return None
    return {
        "action": {"type": "Action.Execute", "title": "Refresh", "verb": VIEW_VERB, "data": {"issue_id": issue.id}},
        "userIds": [f"8:orgid:{person.aad_object_id}" for person in viewers],
    }


def render_issue_card(
    issue: Issue,
    *,
    notice: str | None = None,
    panel: Panel | None = None,
    floor_walkers: tuple[Person, ...] = (),
    context: IssueCardContext | None = None,
    viewer: Viewer | None = None,
) -> Card:
    """`floor_walkers`: those a new question called (on its first card): @mentioned, since they may take it.
    `context`: the war room's policy (the Sev 3 wording) and triage team (who gets their own view); `viewer`: whose
    own view this is (None: the card everyone is sent, every button the status allows)."""
    context = context or IssueCardContext()
    entities: list[dict[str, Any]] = []
    resolve_by = card_time(issue.resolve_by) if issue.resolve_by else "Deferred to after hypercare"
    affected = str(issue.affected_users) if issue.affected_users is not None else "Not known"
    facts = [
        _fact("Status", issue.status_text + (f" (duplicate of #{issue.duplicate_of})" if issue.duplicate_of else "")),
        _fact("Category", issue.category.label if issue.category else "Not set"),
        _fact("Area", issue.area.label if issue.area else "Not set"),
        # Company codes are validated to letters, digits and - _ . : nothing markdown can use.
        _fact("Legal entity", issue.company or "Not set"),
        _fact("Affected users", affected + (f" (+{len(issue.followers)} said me too)" if issue.followers else "")),
        *([_fact("Environment", issue.environment.label)] if issue.environment else []),
        _fact("Raised", card_time(issue.created_at)),
        _fact("Resolve by", resolve_by),
    ]
    body: list[dict[str, Any]] = [
        {
            "type": "RichTextBlock",
            "inlines": [
                text_run(f"#{issue.number} ", size="Medium", weight="Bolder", isSubtle=True),
                text_run(issue.title, size="Medium", weight="Bolder"),
            ],
        },
        text_block(
            f"**{issue.severity.label}** — {issue.severity.meaning}",
            color=_SEVERITY_COLOUR[issue.severity],
            spacing="Small",
        ),
    ]
    if notice:
        body.append({"type": "Container", "style": "emphasis", "id": "notice", "items": [plain_text(notice)]})
    scope = scope_note(issue.severity, context.policy)
    if scope and (issue.status.is_open or issue.status is Status.DEFERRED):
        body.append(text_block(scope, isSubtle=True, size="Small", spacing="Small", id="scope"))
    if issue.assignee:
        assignee, entities = mention_lines("Assigned to ", [issue.assignee], spacing="Small")
        body += assignee
    if floor_walkers and issue.assignee is None:
        lines, called = mention_lines("On the floor today, and may take it: ", floor_walkers, spacing="Small")
        body += lines
        entities = entities + called
    if issue.escalation:
        escalation = issue.escalation
        to = truncate(escalation.to.name, NAME_MAX) if escalation.to else "the partner team"
        body += [
            rich_text(
                text_run("Escalated to the partner ", weight="Bolder", color="Warning"),
                text_run(f"({to}) by {truncate(escalation.escalated_by.name, NAME_MAX)}, {card_time(escalation.escalated_at)}"),
                spacing="Small",
                id="escalation",
            ),
            plain_text(truncate(escalation.reason, CARD_NOTE_MAX), spacing="None"),
        ]
    if issue.acknowledged_by and issue.acknowledged_at:
        acknowledged = f"Acknowledged by {truncate(issue.acknowledged_by.name, NAME_MAX)}, {card_time(issue.acknowledged_at)}"
        body.append(plain_text(acknowledged, spacing="Small", id="acknowledged"))
    body.append({"type": "FactSet", "facts": facts})
    if issue.documents:
        # Typed by the reporter: TextRuns, never a fact's markdown.
        body.append(rich_text(text_run("Documents: ", isSubtle=True), text_run(issue.documents), spacing="Small", id="documents"))
    body.append(
        {
            "type": "RichTextBlock",
            "spacing": "Small",
            "inlines": [text_run("Raised by ", isSubtle=True), text_run(truncate(issue.reporter.name, NAME_MAX), weight="Bolder")]
            + ([text_run(" · also affected: ", isSubtle=True), text_run(truncate(", ".join(p.name for p in issue.followers), 300))]
               if issue.followers else []),
        }
    )
    if issue.resolution:
        resolution = issue.resolution
        body += [
            rich_text(
                text_run("Resolved ", weight="Bolder", color="Good"),
                text_run(
                    f"{card_time(resolution.resolved_at)} by {truncate(resolution.resolved_by.name, NAME_MAX)} "
                    f"({resolution.handled_by.label.lower()}): {resolution.type.label}"
                    + (" · saved as a runbook" if resolution.save_as_runbook else ""),
                    color="Good",
                ),
                separator=True,
                id="resolution",
            ),
            plain_text(truncate(resolution.notes, CARD_NOTE_MAX)),
            *confirmation_lines(issue),
        ]
    if issue.latest_update:
        note = issue.latest_update
        body += [
            rich_text(
                text_run("Latest update ", weight="Bolder"),
                text_run(f"from {truncate(note.author.name, NAME_MAX)}, {card_time(note.at)}"),
                separator=True,
                id="latest_update",
            ),
            plain_text(truncate(note.text, CARD_NOTE_MAX)),
        ]
    if issue.source_url:
        body.append(
            {
                "type": "Container",
                "id": "source",
                "selectAction": {"type": "Action.OpenUrl", "url": issue.source_url, "title": "Open the original message"},
                "items": [text_block("↗ Raised from a message: open the original", color="Accent", size="Small")],
            }
        )
    if issue.description:
        body.append(plain_text(truncate(issue.description, CARD_DESCRIPTION_MAX), separator=True))
        if len(issue.description) > CARD_DESCRIPTION_MAX:
            body.append(text_block("The description is shortened here; the full text is stored.", isSubtle=True, size="Small"))
    if panel:
        body.append(_panel(panel, issue))
    card = with_mentions(adaptive_card(body, _actions(issue, panel.verb if panel else None, viewer)), entities)
    refresh = _refresh(issue, context)
    if refresh:
        card["refresh"] = refresh
    return card
