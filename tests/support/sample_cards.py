"""One of every card the bot can produce, with realistic (and some extreme) data.

Used by the structural card tests, and by the Adaptive Cards renderer and the screenshots.
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bot.domain.exit_criteria import evaluate_exit
from bot.charts import render_phase_chart
from bot.domain.metrics import PhaseMetrics, compute_metrics
from bot.domain.model import (
    Area,
    Category,
    HandledBy,
    Issue,
    Person,
    ProgressNote,
    Resolution,
    ResolutionType,
    Role,
    Runbook,
    Severity,
    Status,
    Suggestion,
)
from bot.domain.reminders import Due
from bot.domain.standup import build_standup
from bot.domain.triage import Event, Verb
from bot.domain.war_room import OnCall, OnCallOverride, OnCallView, WarRoomSettings
from cards.issue_card import Panel, render_issue_card
from cards.issue_form import IssueFormValues, render_issue_form, validate_issue_submission
from cards.lists import render_history, render_issue_list, render_roles
from cards.notice import render_announcement, render_notices, render_too_large
from cards.oncall import render_oncall
from cards.phase import render_exit, render_setup
from cards.runbooks import render_runbook, render_runbook_form, render_runbook_results, suggestion_block
from cards.status import render_status
from cards.reminders import render_reminder
from cards.standup import render_standup
from tests.support.factories import OMAR, PRIYA, RAISED_AT, make_issue

NOW = RAISED_AT + timedelta(hours=3)
LENA = Person(aad_object_id="aad-lena", name="Lena Berg")
# A thousand people said "me too", with the longest names a card shows and real AAD ids.
CROWD = tuple(
    Person(aad_object_id=f"3f2504e0-4f89-41d3-9a0c-{n:012d}", name=f"Émilie-Anne {n:04d} Lefèvre-Ødegård, Finance Operations EMEA")
    for n in range(1, 1001)
)
SEVERITIES = list(Severity)


def many_issues(count: int) -> list[Issue]:
    return [
        make_issue(
            id=n, number=n, title=f"Issue number {n}: " + "long title words " * 5, severity=SEVERITIES[n % 4],
            created_at=RAISED_AT - timedelta(hours=n), updated_at=RAISED_AT, assignee=OMAR if n % 3 else None,
            status=Status.REOPENED if n % 7 == 0 else Status.IN_PROGRESS,
        )
        for n in range(1, count + 1)
    ]


def _chart_file(metrics: PhaseMetrics) -> str:
    """The sample chart as a local file: the renderer loads it without touching the network."""
    path = Path(tempfile.gettempdir()) / "hypercare-sample-chart.png"
    path.write_bytes(render_phase_chart(metrics))
    return path.as_uri()


def sample_cards() -> dict[str, dict[str, Any]]:
    resolved = make_issue(
        status=Status.RESOLVED,
        assignee=OMAR,
        acknowledged_by=OMAR,
        acknowledged_at=RAISED_AT + timedelta(minutes=5),
        followers=(LENA,),
        latest_update=ProgressNote(text="Posting profile recreated in UAT", author=OMAR, at=RAISED_AT + timedelta(hours=1)),
        resolution=Resolution(
            type=ResolutionType.CONFIGURATION_CHANGED, notes="Added the vendor posting profile for USMF.",
            handled_by=HandledBy.SUPPORT, resolved_by=OMAR, resolved_at=RAISED_AT + timedelta(hours=2),
            save_as_runbook=True, runbook_title="Missing vendor posting profile",
        ),
    )
    in_progress = make_issue(status=Status.IN_PROGRESS, assignee=OMAR, acknowledged_by=OMAR, acknowledged_at=RAISED_AT)
    followed = make_issue(status=Status.IN_PROGRESS, assignee=OMAR, acknowledged_by=OMAR, acknowledged_at=RAISED_AT, followers=CROWD)
    crowd_notices = render_notices(
        "Resolved: #12 AP cannot post vendor invoices (Fixed).\nAdded the vendor posting profile for USMF.",
        notify=(PRIYA, *CROWD), issue_number=12,
    )
    events = [
        Event(verb="created", actor=PRIYA, at=RAISED_AT, to_value="Sev 1"),
        Event(verb="ack", actor=OMAR, at=RAISED_AT + timedelta(minutes=5), from_value="new", to_value="acknowledged"),
        Event(verb="severity", actor=LENA, at=RAISED_AT + timedelta(minutes=9), from_value="2", to_value="1", reason="Month-end blocked"),
    ]
    standup = build_standup(
        war_room_name="Contoso go-live", open_issues=many_issues(5), recent=many_issues(3) + [resolved], deferred_count=4,
        since=RAISED_AT - timedelta(days=1), now=NOW,
    )
    big_standup = build_standup(
        war_room_name="Contoso go-live", open_issues=many_issues(400), recent=many_issues(400), deferred_count=40,
        since=None, now=NOW,
    )
    empty_standup = build_standup(war_room_name="Quiet room", open_issues=[], recent=[], deferred_count=0, since=NOW, now=NOW)
    oncall = OnCallView(
        on_call=OMAR, oncall=OnCall(override=OnCallOverride(person=OMAR, until=NOW + timedelta(days=1))), settings=WarRoomSettings()
    )
    settings = WarRoomSettings(starts_on=date(2026, 11, 16), ends_on=date(2026, 11, 25))
    phase_issues = many_issues(40) + [resolved]
    report = evaluate_exit(phase_issues, settings, now=NOW)
    metrics = compute_metrics(phase_issues, settings=settings, now=NOW, runbook_linked_issue_ids={resolved.id})
    runbook = Runbook(
        id=7, war_room_id=1, title="Missing vendor posting profile", symptoms="Vendor invoices cannot be posted in USMF.",
        steps="1. Accounts payable > Setup > Vendor posting profiles.\n2. Add the profile for the vendor group.", area=Area.ACCOUNTS_PAYABLE,
        category=Category.CONFIGURATION, owner=OMAR, issue_ids=(12,), created_at=NOW, updated_at=NOW,
    )
    suggestions = [
        Suggestion(kind="issue", id=3, number=3, title="AP cannot post vendor invoices", summary="Added the posting profile."),
        Suggestion(kind="runbook", id=7, title="Missing vendor posting profile", summary="Vendor posting profiles: add the group."),
    ]
    return {
        "setup": render_setup(settings),
        "setup-errors": render_setup(settings, errors={"ends_on": "the planned end must be after the start", "sev2_acknowledge_within": "not a duration"},
                                     values={"ends_on": "2026-11-01", "sev2_acknowledge_within": "soon"}),
        "exit-failing": render_exit(report, war_room_name="Contoso go-live"),
        "exit-passing": render_exit(evaluate_exit([resolved], settings, now=NOW), war_room_name="Contoso go-live"),
        "exit-signed-off": render_exit(evaluate_exit([resolved], settings, now=NOW, signed_off_at=NOW, signed_off_by=LENA), war_room_name="Contoso go-live"),
        "status": render_status(metrics, report, chart_url=_chart_file(metrics), war_room_name="Contoso go-live"),
        "runbook": render_runbook(runbook),
        "runbook-form": render_runbook_form(form_id="f" * 32),
        "runbook-results": render_runbook_results("posting profile", [runbook]),
        "form-with-suggestions": render_issue_form(IssueFormValues(title="AP cannot post"), form_id="f" * 32, suggestions=suggestion_block(suggestions)),
        "issue-in-progress": render_issue_card(in_progress),
        "issue-resolved": render_issue_card(resolved),
        "issue-deferred": render_issue_card(make_issue(severity=Severity.SEV4, status=Status.DEFERRED, resolve_by=None)),
        "issue-duplicate": render_issue_card(make_issue(status=Status.DUPLICATE, duplicate_of=3)),
        "issue-stale-notice": render_issue_card(in_progress, notice="Omar Haddad acknowledged this 2 minutes ago."),
        "issue-resolve-panel": render_issue_card(
            in_progress, panel=Panel(verb=Verb.RESOLVE, values={"resolve_notes": ""}, errors={"resolve_notes": "Say what fixed it."})
        ),
        "list": render_issue_list("Issues open now", many_issues(15), 42, now=NOW, hint="Narrow it down with `list sev1`."),
        "list-empty": render_issue_list("Issues open now", [], 0, now=NOW),
        "history": render_history(resolved, events),
        "roles": render_roles([(LENA, Role.TRIAGE_LEAD), (OMAR, Role.ONCALL), (PRIYA, Role.SUPPORT)]),
        "announcement": render_announcement("Resolved: #12 AP cannot post (Fixed).\nAdded the profile.", notify=(PRIYA, LENA)),
        "issue-1000-followers": render_issue_card(followed),
        "notice-1000-followers-first": crowd_notices[0],
        "notice-1000-followers-last": crowd_notices[-1],
        "escalation-1000-leads": render_reminder(Due(kind="ack_breach", dedupe_key="k"), make_issue(), notify=(OMAR, *CROWD), now=NOW),
        "too-large": render_too_large("19:general@thread.tacv2;messageid=100"),
        "reminder": render_reminder(Due(kind="reminder", dedupe_key="k", reminder_kind="unacknowledged", seq=2),
                                    make_issue(), notify=(OMAR,), now=NOW),
        "escalation": render_reminder(Due(kind="resolve_breach", dedupe_key="k"), in_progress, notify=(LENA, OMAR), now=NOW),
        "standup": render_standup(standup),
        "standup-long": render_standup(big_standup),
        "standup-empty": render_standup(empty_standup),
        "oncall": render_oncall(oncall, now=NOW),
        "form-prefilled": render_issue_form(
            IssueFormValues(title="AP cannot post vendor invoices", severity="1", area="accounts_payable", company="USMF",
                            affected_users="12", description="sev1 - nobody in AP can post vendor invoices"),
            form_id="f" * 32,
        ),
        "form-errors": render_issue_form(
            IssueFormValues(title="", severity="7", affected_users="many"),
            form_id="f" * 32,
            errors=validate_issue_submission({"form_id": "f" * 32, "title": "", "severity": "7", "affected_users": "many"}),  # type: ignore[arg-type]
        ),
    }

