"""The daily stand-up card."""

from __future__ import annotations

from typing import Any

from bot.domain.model import HandledBy, Issue, Severity
from bot.domain.standup import LIST_LIMIT, StandupSummary
from bot.domain.triage import ago
from cards.common import Card, adaptive_card, plain_text, text_block, text_run, truncate
from cards.phase import criteria_lines


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


def render_standup(summary: StandupSummary, *, chart_url: str | None = None) -> Card:
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
    if report:
        criteria = [text_block(line, spacing="None", size="Small") for line in criteria_lines(report)]
        body[2:2] = [text_block("Exit criteria", weight="Bolder", spacing="Medium"), *criteria]
        if report.warning:
            body.insert(1, {"type": "Container", "style": "attention", "id": "warning", "items": [plain_text(report.warning)]})
    if chart_url:
        body.append({"type": "Image", "url": chart_url, "altText": "Open issues by severity and daily incoming vs resolved", "size": "Stretch"})
    return adaptive_card(body)
