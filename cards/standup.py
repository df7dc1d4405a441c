"""The daily stand-up card."""

from __future__ import annotations

from typing import Any

from bot.domain.model import HandledBy, Issue, Person, Severity
from bot.domain.standup import LIST_LIMIT, StandupSummary
from bot.domain.events import ago
from cards.common import Card, adaptive_card, capped_mention_lines, execute, plain_text, text_block, text_run, truncate, with_mentions
from cards.phase import SETUP_OPEN_VERB, criteria_lines


def _issue_line(issue: Issue, summary: StandupSummary, note: str = "") -> dict[str, Any]:
    owner = issue.assignee.name if issue.assignee else "unassigned"
    line: dict[str, Any] = {
        "type": "RichTextBlock",
        "spacing": "Small",
        "inlines": [
            text_run(f"#{issue.number} {issue.severity.label} ", weight="Bolder"),
            text_run(truncate(issue.title, 70)),
            text_run(f" — {issue.status.label.lower()}, {owner}, {ago(summary.now - issue.created_at)}{note}", isSubtle=True),
        ],
    }
    return line


def _section(title: str, issues: list[dict[str, Any]], *, empty: str, counted: bool = True) -> list[dict[str, Any]]:
    heading = f"{title} ({len(issues)})" if counted else title
    elements: list[dict[str, Any]] = [text_block(heading, weight="Bolder", spacing="Medium")]
    if not issues:
        return [*elements, text_block(empty, isSubtle=True, spacing="None")]
    elements += issues[:LIST_LIMIT]
    if len(issues) > LIST_LIMIT:
        elements.append(text_block(f"…and {len(issues) - LIST_LIMIT} more: `list` shows them.", isSubtle=True))
    return elements


def _setup_prompt(asked: tuple[Person, ...]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Until the window is set up: what is missing, who is asked (@mentioned), and the button that opens the form."""
    people, entities = capped_mention_lines("Admins and triage leads: ", asked, spacing="Small")
    prompt = {
        "type": "Container",
        "style": "warning",
        "id": "setup_prompt",
        "items": [
            text_block("Hypercare here has no agreed end yet.", weight="Bolder"),
            text_block("Set up the window (its start, planned end and exit targets) so that the stand-up counts the days "
                       "and everyone knows when hypercare is over. An admin can do it now.", spacing="Small"),
            *people,
            {"type": "ActionSet", "actions": [execute("Set up hypercare", SETUP_OPEN_VERB, {}, style="positive")]},
        ],
    }
    return prompt, entities


def render_standup(
    summary: StandupSummary, *, chart_url: str | None = None, asked: tuple[Person, ...] = (), leadership: tuple[Person, ...] = ()
) -> Card:
    """`asked`: who the setup prompt @mentions (a stand-up on demand names nobody); `leadership`: @mentioned under
    the overrun warning, on the first stand-up past the planned end only."""
    severity_facts = [{"title": severity.label, "value": str(summary.open_by_severity[severity])} for severity in Severity]
    resolved_title = (
        f"Resolved since the last stand-up: support team {summary.resolved_by[HandledBy.SUPPORT]}, "
        f"partner {summary.resolved_by[HandledBy.PARTNER]}"
    )
    report = summary.exit_report
    phase = f" · {report.phase.text()}" if report and report.phase else ""
    body: list[dict[str, Any]] = [
        {
            "type": "RichTextBlock",
            "inlines": [
                text_run("Hypercare stand-up · ", size="Medium", weight="Bolder"),
                text_run(summary.war_room_name + phase, size="Medium"),
            ],
        },
        text_block(f"Open now: **{summary.open_total}** · deferred to after hypercare: **{summary.deferred_count}**", spacing="Small"),
        {"type": "FactSet", "facts": severity_facts},
        *_section("New since the last stand-up", [_issue_line(i, summary) for i in summary.new], empty="No new issues."),
        *_section("Open Sev 1 and Sev 2", [_issue_line(i, summary) for i in summary.urgent], empty="None open."),
        *_section("Past their resolution target", [_issue_line(i, summary) for i in summary.breached], empty="None."),
        *_section(resolved_title, [_issue_line(i, summary) for i in summary.resolved], empty="None."),
        *_section(
            "Needs a decision",
            [_issue_line(i, summary, f" [{why}]") for i, why in summary.needs_decision],
            empty="Nothing waiting for a decision.",
        ),
        *_section("Oldest open", [_issue_line(i, summary) for i in summary.oldest_open], empty="None.", counted=False),
    ]
    if summary.floor_walkers:
        # Today's floor walkers, one line (names are user text).
        walkers = "; ".join(f"{w.person.name} ({', '.join(area.label for area in w.areas)})" for w in summary.floor_walkers)
        body.append(plain_text(truncate(f"On the floor today: {walkers}", 1000), spacing="Medium", id="floor_walkers"))
    if summary.runbook_candidates:
        body += _section(
            "Write a runbook: recurring without one",
            # The label quotes words of the issues' titles.
            [plain_text(f"{label}: " + ", ".join(f"#{n}" for n in numbers), spacing="Small") for label, numbers in summary.runbook_candidates],
            empty="",
        )
    entities: list[dict[str, Any]] = []
    if report:
        criteria = [text_block(line, spacing="None", size="Small") for line in criteria_lines(report)]
        body[2:2] = [text_block("Exit criteria", weight="Bolder", spacing="Medium"), *criteria]
        if report.warning:
            told, entities = capped_mention_lines("Leadership: ", leadership, spacing="Small") if leadership else ([], [])
            body.insert(1, {"type": "Container", "style": "attention", "id": "warning", "items": [plain_text(report.warning), *told]})
    if not summary.set_up:
        prompt, asked_entities = _setup_prompt(asked)
        body.insert(1, prompt)
        entities += asked_entities
    if chart_url:
        body.append({"type": "Image", "url": chart_url, "altText": "Open issues by severity and daily incoming vs resolved", "size": "Stretch"})
    return with_mentions(adaptive_card(body), entities)
