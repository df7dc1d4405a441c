"""The `status` card: where the hypercare phase stands against its exit criteria, and the figures behind it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.domain.exit_criteria import ExitReport, Ratio
from bot.domain.metrics import DurationStats, PhaseMetrics
from bot.domain.model import Issue, Severity
from cards.common import NAME_MAX, Card, adaptive_card, card_time, issue_link, rich_text, text_block, text_run, truncate

# How many days of the support-share trend the card shows (the chart and the export have them all).
TREND_DAYS = 7
PASS, FAIL = "✅", "❌"
# The card names this many floor walkers, and this many issues of each (the export has them all).
FLOOR_WALKERS_SHOWN = 8
NUMBERS_SHOWN = 10


def duration_text(delta: timedelta | None) -> str:
    """`45 min`, `3 h 10 min`, `2 d 4 h`; `–` without data."""
    if delta is None:
        return "–"
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def percent_text(ratio: Ratio) -> str:
    return "–" if ratio.percent is None else f"{ratio.percent:.0f}%"


def speed_text(acknowledge: DurationStats, resolve: DurationStats) -> str:
    return (
        f"acknowledged in {duration_text(acknowledge.median)} (n={acknowledge.samples}) · "
        f"resolved in {duration_text(resolve.median)} (n={resolve.samples})"
    )


def _phase_line(metrics: PhaseMetrics, report: ExitReport) -> str:
    if report.phase is not None:
        text = f"**{report.phase.text()}**"
        if report.ends_on_text:
            text += f" · planned end {report.ends_on_text}"
        return text
    if metrics.days:
        return f"**Day {len(metrics.days)}** · no planned end set (`settings`)"
    return "The phase has not started yet."


def _numbers(numbers: tuple[int, ...], links: dict[int, str]) -> list[dict[str, Any]]:
    """`#3, #5`: each number a link to its issue's card, where it has one."""
    runs: list[dict[str, Any]] = []
    for position, number in enumerate(numbers):
        link = links.get(number)
        action = {"selectAction": {"type": "Action.OpenUrl", "url": link, "title": f"Open #{number}"}, "color": "Accent"} if link else {}
        runs += [*([text_run(", ")] if position else []), text_run(f"#{number}", **action)]
    return runs


def render_status(
    metrics: PhaseMetrics, exit_report: ExitReport, *, chart_url: str | None, war_room_name: str, issues: tuple[Issue, ...] = (),
    tenant_id: str | None = None, team_name: str | None = None,
) -> Card:
    """`issues`: the war room's, so that each issue named links to its card (`tenant_id`, `team_name`: for the links)."""
    links = {issue.number: link for issue in issues if (link := issue_link(issue, tenant_id=tenant_id, team_name=team_name))}
    body: list[dict[str, Any]] = [
        {
            "type": "RichTextBlock",
            "inlines": [text_run("Hypercare status · ", size="Medium", weight="Bolder"), text_run(war_room_name, size="Medium")],
        },
        text_block(_phase_line(metrics, exit_report), spacing="Small"),
    ]
    if exit_report.signed_off_at is not None:
        who = exit_report.signed_off_by.name if exit_report.signed_off_by else "someone"
        body.append(rich_text(text_run(f"Signed off by {who} on {card_time(exit_report.signed_off_at)}.", color="Good")))

    body.append(text_block("Exit criteria", weight="Bolder", spacing="Medium"))
    for criterion in exit_report.criteria:
        mark = PASS if criterion.passed else FAIL
        body.append(
            text_block(
                f"{mark} {criterion.label}: **{criterion.value}** (target {criterion.target})",
                spacing="None",
                color="Default" if criterion.passed else "Attention",
            )
        )
    if exit_report.warning:
        body.append(text_block(exit_report.warning, color="Warning", spacing="Small"))

    body.append(text_block("Open now", weight="Bolder", spacing="Medium"))
    open_line = " · ".join(f"{severity.label}: {metrics.open_now[severity]}" for severity in Severity)
    body.append(text_block(f"**{metrics.open_now_total}** open — {open_line}", spacing="None"))

    body.append(text_block("Speed (median, by severity)", weight="Bolder", spacing="Medium"))
    body.append(
        {
            "type": "FactSet",
            "spacing": "Small",
            "facts": [
                {"title": acknowledge.severity.label, "value": speed_text(acknowledge, resolve)}
                for acknowledge, resolve in zip(metrics.mtta, metrics.mttr, strict=True)
            ],
        }
    )

    trend = [ratio for _, ratio in metrics.support_share_trend[-TREND_DAYS:]]
    trend_text = " → ".join(percent_text(ratio) for ratio in trend) if trend else "no days yet"
    escalations = [ratio for _, ratio in metrics.escalation_rate_trend[-TREND_DAYS:]]
    escalation_trend = " → ".join(percent_text(ratio) for ratio in escalations) if escalations else "no days yet"
    today = metrics.days[-1] if metrics.days else None
    facts = [
        {"title": "Sev 1/2 within target", "value": metrics.sla.text()},
        {"title": "Support team share, last 7 days", "value": metrics.support_share_now.text()},
        {"title": f"Support share trend, last {len(trend) or TREND_DAYS} days", "value": trend_text},
        {"title": "Incoming handled by support and floor walkers, last 7 days", "value": metrics.incoming_share_now.text()},
        {"title": "Escalated to the partner, last 7 days", "value": metrics.escalation_rate_now.text()},
        {"title": f"Escalation rate trend, last {len(escalations) or TREND_DAYS} days", "value": escalation_trend},
        {"title": "Runbook coverage of recurring issues", "value": metrics.runbook_coverage.text()},
        {"title": "Recurring issues without a runbook", "value": str(len(metrics.recurring_candidates))},
        {
            "title": "Raised / resolved, whole phase",
            "value": f"{metrics.raised_total} / {metrics.resolved_total} · deferred {metrics.deferred_total} · "
            f"duplicates {metrics.duplicate_total}",
        },
    ]
    if today is not None:
        facts.append({"title": "Raised / resolved today", "value": f"{today.incoming} / {today.resolved}"})
    body.append(text_block("Figures", weight="Bolder", spacing="Medium"))
    body.append({"type": "FactSet", "spacing": "Small", "facts": facts})

    if metrics.floor_walker_resolved:
        body.append(text_block("Resolved by floor walkers", weight="Bolder", spacing="Medium"))
        for entry in metrics.floor_walker_resolved[:FLOOR_WALKERS_SHOWN]:
            more = f" and {len(entry.numbers) - NUMBERS_SHOWN} more" if len(entry.numbers) > NUMBERS_SHOWN else ""
            # The name is user text: a TextRun, never markdown.
            body.append(rich_text(text_run(f"{truncate(entry.person.name, NAME_MAX)}: "), *_numbers(entry.numbers[:NUMBERS_SHOWN], links),
                                  text_run(f"{more} ({len(entry.numbers)})"), spacing="None"))
        if len(metrics.floor_walker_resolved) > FLOOR_WALKERS_SHOWN:
            body.append(text_block(f"…and {len(metrics.floor_walker_resolved) - FLOOR_WALKERS_SHOWN} more floor walkers.", isSubtle=True))

    if chart_url:
        body.append(
            {
                "type": "Image",
                "url": chart_url,
                "altText": "Chart: open issues by severity per day, and issues raised vs resolved per day",
                "size": "Stretch",
                "spacing": "Medium",
            }
        )
    return adaptive_card(body)
