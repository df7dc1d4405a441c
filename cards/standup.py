"""The daily stand-up card."""

from __future__ import annotations

from typing import Any

from bot.domain.mentions import MENTIONS_PER_MESSAGE, Mentions
from bot.domain.model import Issue, Person, Priority, Severity
from bot.domain.standup import LIST_LIMIT, StandupSummary, decision_text, where_it_stands
from bot.domain.events import ago
from bot.domain.triage import DEFERRABLE
from cards.common import (
    MAX_CARD_BYTES,
    Card,
    card_bytes,
    adaptive_card,
    capped_mention_lines,
    choice_set,
    execute,
    issue_link,
    mention_lines,
    open_link,
    plain_text,
    show_card,
    text_block,
    text_input,
    text_run,
    truncate,
    with_mentions,
)
from cards.phase import SETUP_OPEN_VERB, criteria_lines
from cards.signoff import SignOffPanel, signoff_section

# A priority agreed on the stand-up's card ("Needs a decision"); the card is redrawn with it.
DECIDE_VERB = "standup.decide"
# Short: each item on the card carries its own choice.
_SEVERITIES = [(severity.label, str(int(severity))) for severity in Severity]


def _issue_line(issue: Issue, summary: StandupSummary, note: str = "") -> dict[str, Any]:
    """One issue, a link to its card (the message that shows it)."""
    line: dict[str, Any] = {
        "type": "RichTextBlock",
        "inlines": [
            text_run(f"#{issue.number} {issue.severity.label} ", weight="Bolder", color="Accent"),
            text_run(truncate(issue.title, 70)),
            text_run(f" — {where_it_stands(issue)}, {ago(summary.now - issue.created_at)}{note}", isSubtle=True),
        ],
    }
    link = issue_link(issue, tenant_id=summary.tenant_id, team_name=summary.team_name)
    return {"type": "Container", "spacing": "Small", "items": [line]} | open_link(link, f"Open #{issue.number}")


def decision_data(issue: Issue, summary: StandupSummary, priority: Priority, *, chart_id: int | None, told: bool) -> dict[str, Any]:
    """What a decision button sends: the issue as the card showed it, and the stand-up to redraw (its date, the stand-up
    before it, its chart, whether it @mentioned people)."""
    return {
        "issue_id": issue.id,
        "version": issue.version,
        "priority": priority.value,
        "standup_on": summary.standup_on.isoformat() if summary.standup_on else None,
        "since": summary.since.isoformat() if summary.since else None,
        "chart_id": chart_id,
        "told": told,
    }


def _decisions(issue: Issue, summary: StandupSummary, *, chart_id: int | None, told: bool) -> dict[str, Any]:
    """Keep in hypercare, defer to after hypercare (Sev 3/4), change severity: a triage lead's call, at the stand-up."""
    def data(priority: Priority) -> dict[str, Any]:
        return decision_data(issue, summary, priority, chart_id=chart_id, told=told)

    # Input ids are unique on a card: each item's own, the handler reads them back by the issue's id.
    severity_inputs = [
        choice_set(f"decide_severity_{issue.id}", "New severity", _SEVERITIES, value=str(int(issue.severity)), isRequired=True,
                   errorMessage="Choose the new severity."),
        text_input(f"decide_reason_{issue.id}", "Why (optional)", maxLength=500),
    ]
    actions = [execute("Keep in hypercare", DECIDE_VERB, data(Priority.KEEP))]
    if issue.severity in DEFERRABLE:
        actions.append(execute("Defer to after hypercare", DECIDE_VERB, data(Priority.DEFER)))
    actions.append(show_card("Change severity", severity_inputs, [execute("Set severity", DECIDE_VERB, data(Priority.SEVERITY))]))
    return {"type": "ActionSet", "spacing": "None", "id": f"decide_{issue.id}", "actions": actions}


def _scope(summary: StandupSummary) -> list[dict[str, Any]]:
    """Scope discipline: how many Sev 3/4 issues hypercare is still working, by whom, and how a Sev 3 is chased."""
    scope = summary.scope
    owners = [f"{name} {count}" for name, count in scope.owners] + ([f"unassigned {scope.unassigned}"] if scope.unassigned else [])
    elements = [text_block(f"Sev 3/4 worked in hypercare: **{scope.total}**", weight="Bolder", spacing="Medium", id="scope")]
    if owners:
        elements.append(plain_text(truncate(", ".join(owners), 600), spacing="None"))  # names are user text
    elements.append(text_block(f"A Sev 3 is {summary.sev3_chasing}.", isSubtle=True, size="Small", spacing="None"))
    return elements


def _section(title: str, issues: list[dict[str, Any]], *, empty: str, counted: bool = True, limit: int = LIST_LIMIT) -> list[dict[str, Any]]:
    heading = f"{title} ({len(issues)})" if counted else title
    elements: list[dict[str, Any]] = [text_block(heading, weight="Bolder", spacing="Medium")]
    if not issues:
        return [*elements, text_block(empty, isSubtle=True, spacing="None")]
    elements += issues[:limit]
    if len(issues) > limit:
        elements.append(text_block(f"…and {len(issues) - limit} more: `list` shows them.", isSubtle=True))
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


# How much of a big war room's stand-up one message can hold: lists of 8 and 40 mentions, else shorter lists and
# fewer mentions (the rest counted), until it fits Teams' size limit.
_FITS = ((LIST_LIMIT, MENTIONS_PER_MESSAGE), (5, MENTIONS_PER_MESSAGE), (5, 20), (3, 10))


def render_standup(
    summary: StandupSummary,
    *,
    chart_url: str | None = None,
    chart_id: int | None = None,
    asked: tuple[Person, ...] = (),
    leadership: tuple[Person, ...] = (),
    participants: Mentions | None = None,
    notice: str | None = None,
    signoff_panel: SignOffPanel | None = None,
) -> Card:
    """`asked`: who the setup prompt @mentions (a stand-up on demand names nobody); `leadership`: @mentioned under
    the overrun warning, on the first stand-up past the planned end only; `participants`: who the stand-up @mentions
    (owners of what is breached or undecided, then its participants; None on demand); `notice`: what a decision or a
    sign-off did; `signoff_panel`: a Reopen refused for its reason, open under its issue."""
    card: Card = {}
    for limit, cap in _FITS:
        told = _capped(participants, cap) if participants is not None else None
        card = _draw(summary, chart_url=chart_url, chart_id=chart_id, asked=asked, leadership=leadership, participants=told,
                     notice=notice, signoff_panel=signoff_panel, limit=limit)
        if card_bytes(card) <= MAX_CARD_BYTES:
            break
    return card  # the last, shortest try: the sender still replaces anything too large with a note


def _capped(mentions: Mentions, cap: int) -> Mentions:
    batch = mentions.batches[0] if mentions.batches else ()
    return Mentions(batches=(batch[:cap],) if batch else (), others=mentions.others + max(len(batch) - cap, 0))


def _draw(
    summary: StandupSummary,
    *,
    chart_url: str | None,
    chart_id: int | None,
    asked: tuple[Person, ...],
    leadership: tuple[Person, ...],
    participants: Mentions | None,
    notice: str | None,
    signoff_panel: SignOffPanel | None,
    limit: int,
) -> Card:
    told = participants is not None
    severity_facts = [{"title": severity.label, "value": str(summary.open_by_severity[severity])} for severity in Severity]
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
        *_section("New since the last stand-up", [_issue_line(i, summary) for i in summary.new], empty="No new issues.", limit=limit),
        *_section("Open Sev 1 and Sev 2", [_issue_line(i, summary) for i in summary.urgent], empty="None open.", limit=limit),
        *_section("Past their resolution target", [_issue_line(i, summary) for i in summary.breached], empty="None.", limit=limit),
        *signoff_section(summary, panel=signoff_panel, chart_id=chart_id),
        *_section(
            "Needs a decision",
            [
                {"type": "Container", "spacing": "Small", "items": [_issue_line(i, summary, f" [{why}]"),
                                                                     _decisions(i, summary, chart_id=chart_id, told=told)]}
                for i, why in summary.needs_decision
            ],
            empty="Nothing waiting for a decision.",
            limit=limit,
        ),
        *(_section("Agreed at this stand-up", [_issue_line(i, summary, f" [{decision_text(i)}]") for i in summary.decided], empty="")
          if summary.decided else []),
        *_section("Oldest open", [_issue_line(i, summary) for i in summary.oldest_open], empty="None.", counted=False),
        *_scope(summary),
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
    top: list[dict[str, Any]] = []  # under the header: what a decision or a sign-off did, then who is @mentioned
    if notice:
        top.append({"type": "Container", "style": "emphasis", "id": "notice", "items": [plain_text(notice)]})
    if participants is not None and participants.batches:
        lines, entities = mention_lines("Stand-up: ", participants.batches[0], others=participants.others, who="not mentioned",
                                        spacing="Small")
        top += lines
    if report:
        criteria = [text_block(line, spacing="None", size="Small") for line in criteria_lines(report)]
        body[2:2] = [text_block("Exit criteria", weight="Bolder", spacing="Medium"), *criteria]
        if report.warning:
            named, leaders = capped_mention_lines("Leadership: ", leadership, spacing="Small") if leadership else ([], [])
            entities += leaders
            body.insert(1, {"type": "Container", "style": "attention", "id": "warning", "items": [plain_text(report.warning), *named]})
    body[1:1] = top
    if not summary.set_up:
        prompt, asked_entities = _setup_prompt(asked)
        body.insert(1, prompt)
        entities += asked_entities
    if chart_url:
        body.append({"type": "Image", "url": chart_url, "altText": "Open issues by severity and daily incoming vs resolved", "size": "Stretch"})
    return with_mentions(adaptive_card(body), entities)
