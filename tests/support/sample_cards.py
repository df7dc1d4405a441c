"""One of every card the bot can produce, with realistic (and some extreme) data.

Used by the structural card tests, and by the Adaptive Cards renderer and the screenshots.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

from bot.domain.exit_criteria import evaluate_exit
from bot.domain.membership import NO_WAR_ROOM
from bot.charts import render_phase_chart
from bot.domain.celebration import celebrate
from bot.domain.charts import ChartSeries
from bot.domain.floor import FloorView, FloorWalker
from bot.domain.metrics import compute_metrics
from bot.domain.model import (
    DOCUMENTS_MAX,
    Area,
    Category,
    Confirmation,
    Environment,
    Escalation,
    HandledBy,
    Issue,
    Person,
    Priority,
    PriorityDecision,
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
from bot.domain.priorities import standup_mentions
from bot.domain.standup import build_standup
from bot.domain.views import IssueCardContext, Viewer
from bot.domain.events import Event, Verb
from bot.domain.war_room import OnCall, OnCallOverride, OnCallRota, OnCallView, WarRoomSettings
from bot.domain.window import WindowPreset
from cards.celebration import render_celebration, render_handover
from cards.floor import render_floor
from cards.issue_card import Panel, render_issue_card
from cards.issue_form import IssueFormValues, render_issue_form, validate_issue_submission
from cards.lists import render_history, render_issue_list, render_roles
from cards.notice import render_announcement, render_notice_card, render_notices, render_too_large
from cards.oncall import render_oncall
from cards.phase import parse_setup, render_exit, render_ready_for_sign_off, render_setup
from cards.signoff import SignOffPanel, render_fixed_question
from cards.runbooks import render_runbook, render_runbook_form, render_runbook_results, suggestion_block
from cards.status import render_status
from cards.reminders import render_reminder
from cards.standup import render_standup
from cards.welcome import render_personal_welcome, render_welcome
from tests.support.factories import OMAR, PRIYA, RAISED_AT, make_issue

NOW = RAISED_AT + timedelta(hours=3)
LENA = Person(aad_object_id="aad-lena", name="Lena Berg")
# A thousand people said "me too", with the longest names a card shows and real AAD ids.
CROWD = tuple(
    Person(aad_object_id=f"3f2504e0-4f89-41d3-9a0c-{n:012d}", name=f"Émilie-Anne {n:04d} Lefèvre-Ødegård, Finance Operations EMEA")
    for n in range(1, 1001)
)
SEVERITIES = list(Severity)


def many_issues(count: int, user: Callable[[str], str] = str) -> list[Issue]:
    return [
        make_issue(
            id=n, number=n, title=user(f"Issue number {n}: " + "long title words " * 5), severity=SEVERITIES[n % 4],
            created_at=RAISED_AT - timedelta(hours=n), updated_at=RAISED_AT,
            assignee=Person(aad_object_id=OMAR.aad_object_id, name=user(OMAR.name)) if n % 3 else None,
            status=Status.REOPENED if n % 7 == 0 else Status.IN_PROGRESS,
        )
        for n in range(1, count + 1)
    ]


def _chart_file(series: ChartSeries) -> str:
    """The sample chart as a local file: the renderer loads it without touching the network."""
    path = Path(tempfile.gettempdir()) / f"hypercare-sample-chart-{abs(hash(series))}.png"
    path.write_bytes(render_phase_chart(series))
    return path.as_uri()


def sample_cards(user: Callable[[str], str] = str, *, chart: bool = True) -> dict[str, dict[str, Any]]:
    """Every card; each value a user could have written (a name, a title, a note, a war room's name, an
    input echoed back) is `user(realistic value)`, so a test can make them all hostile. `chart`: draw the chart."""
    omar, priya, lena = (Person(aad_object_id=p.aad_object_id, name=user(p.name)) for p in (OMAR, PRIYA, LENA))
    guest = Person(aad_object_id=None, name=user("Guest User"))  # Teams gave no id: cannot be @mentioned
    room_name = user("Contoso go-live")
    resolved = make_issue(
        title=user("AP cannot post vendor invoices"),
        description=user("Posting profile missing in USMF."),
        reporter=priya,
        status=Status.RESOLVED,
        assignee=omar,
        acknowledged_by=omar,
        acknowledged_at=RAISED_AT + timedelta(minutes=5),
        followers=(lena, guest),
        latest_update=ProgressNote(text=user("Posting profile recreated in UAT"), author=omar, at=RAISED_AT + timedelta(hours=1)),
        resolution=Resolution(
            type=ResolutionType.CONFIGURATION_CHANGED, notes=user("Added the vendor posting profile for USMF."),
            handled_by=HandledBy.PARTNER, resolved_by=omar, resolved_at=RAISED_AT + timedelta(hours=2),
            save_as_runbook=True, runbook_title=user("Missing vendor posting profile"),
            confirmation=Confirmation(at=RAISED_AT + timedelta(hours=3), by=priya),
        ),
    )
    # Resolved and waiting for its reporter (or a triage lead or key user) to confirm it; and one that closed by itself.
    assert resolved.resolution is not None
    awaiting = resolved.model_copy(update={"id": 5, "number": 15, "version": 4, "resolution": resolved.resolution.model_copy(
        update={"confirmation": None, "close_by": RAISED_AT + timedelta(days=3)})})
    auto_closed = resolved.model_copy(update={"id": 6, "number": 16, "resolution": resolved.resolution.model_copy(
        update={"confirmation": Confirmation(at=RAISED_AT + timedelta(days=3))})})
    in_progress = make_issue(
        title=user("AP cannot post vendor invoices"), description=user("Posting profile missing in USMF."), reporter=priya,
        status=Status.IN_PROGRESS, assignee=omar, acknowledged_by=omar, acknowledged_at=RAISED_AT,
        environment=Environment.PRODUCTION, documents=user("APINV-004512, PO-000482")[:DOCUMENTS_MAX],
    )
    unassigned_guest = make_issue(title=user("Payment journal stuck"), reporter=guest, assignee=guest, status=Status.IN_PROGRESS)
    followed = make_issue(status=Status.IN_PROGRESS, assignee=omar, acknowledged_by=omar, acknowledged_at=RAISED_AT, followers=CROWD)
    crowd_notices = render_notices(
        f"Resolved: #12 {resolved.title} (Fixed).\n{resolved.resolution.notes if resolved.resolution else ''}",
        notify=(priya, *CROWD), issue_number=12,
    )
    events = [
        Event(verb="created", actor=priya, at=RAISED_AT, to_value="Sev 1"),
        Event(verb="ack", actor=omar, at=RAISED_AT + timedelta(minutes=5), from_value="new", to_value="acknowledged"),
        Event(verb="severity", actor=lena, at=RAISED_AT + timedelta(minutes=9), from_value="2", to_value="1", reason=user("Month-end blocked")),
    ]
    ana, ben = Person(aad_object_id="aad-ana", name=user("Ana Ruiz")), Person(aad_object_id="aad-ben", name=user("Ben Okoro"))
    walkers = (
        FloorWalker(person=ana, areas=(Area.GENERAL_LEDGER, Area.ACCOUNTS_PAYABLE, Area.WAREHOUSE), site=user("Rotterdam DC")[:100]),
        FloorWalker(person=ben, areas=(Area.WAREHOUSE, Area.INVENTORY), days=frozenset({0, 2})),
        FloorWalker(person=lena, areas=(Area.TAX,), days=frozenset({1, 3})),
    )
    escalated = in_progress.model_copy(
        update={"escalation": Escalation(escalated_by=lena, escalated_at=NOW, reason=user("Needs a code fix in the posting class"), to=omar)}
    )
    standup_day = NOW.date()
    kept = make_issue(id=9, number=9, title=user("Bank statement import fails for EUR accounts"), severity=Severity.SEV2,
                      status=Status.REOPENED, assignee=lena,
                      decision=PriorityDecision(priority=Priority.KEEP, by=lena, at=NOW, standup_on=standup_day))
    waiting = make_issue(id=10, number=10, title=user("Warehouse app login loops on handhelds"), severity=Severity.SEV3,
                         status=Status.REOPENED, assignee=omar, reporter=priya)
    standup = build_standup(
        war_room_name=room_name, open_issues=[*many_issues(5, user), kept, waiting], recent=many_issues(3, user) + [resolved], deferred_count=4,
        since=RAISED_AT - timedelta(days=1), now=NOW,
        # The label names the words the issues share: words of their titles.
        runbook_candidates=((f"Accounts payable · Configuration / setup ({user('posting, profile')})", (3, 5)),),
        floor_walkers=walkers[:2], standup_on=standup_day, decided=(kept,), tenant_id="tenant-1", team_name=room_name,
    )
    participants = standup_mentions(standup.owners_to_tell, (lena, priya, guest))
    big_standup = build_standup(
        war_room_name=room_name, open_issues=many_issues(400, user), recent=many_issues(400, user), deferred_count=40,
        since=None, now=NOW,
    )
    signoff_standup = build_standup(
        war_room_name=room_name, open_issues=many_issues(3, user), recent=[resolved, auto_closed], deferred_count=0,
        since=RAISED_AT - timedelta(days=1), now=NOW, awaiting_confirmation=[awaiting, awaiting.model_copy(update={"id": 7, "number": 17})],
    )
    empty_standup = build_standup(war_room_name=user("Quiet room"), open_issues=[], recent=[], deferred_count=0, since=NOW, now=NOW)
    oncall = OnCallView(
        on_call=omar,
        oncall=OnCall(
            override=OnCallOverride(person=omar, until=NOW + timedelta(days=1)),
            rota=OnCallRota(people=(omar, lena, guest), handover_weekday=0, handover_time=time(9, 0), starts=date(2026, 11, 23)),
        ),
        settings=WarRoomSettings(),
    )
    settings = WarRoomSettings(starts_on=date(2026, 11, 16), ends_on=date(2026, 11, 25), steady_state_support=user("the IT service desk"))
    # A floor walker's resolutions and an escalation, for the status card's figures.
    by_walker = [
        make_issue(id=100 + n, number=100 + n, category=Category.HOW_TO, area=Area.WAREHOUSE, status=Status.RESOLVED,
                   created_at=RAISED_AT - timedelta(hours=n), resolution=Resolution(
                       type=ResolutionType.USER_TRAINED, notes="shown", handled_by=HandledBy.FLOOR_WALKER, resolved_by=ana,
                       resolved_at=RAISED_AT))
        for n in range(1, 4)
    ]
    phase_issues = many_issues(40, user) + [resolved, *by_walker, escalated.model_copy(update={"id": 200, "number": 200})]
    report = evaluate_exit(phase_issues, settings, now=NOW)
    metrics = compute_metrics(phase_issues, settings=settings, now=NOW, runbook_linked_issue_ids={resolved.id})
    runbook = Runbook(
        id=7, war_room_id=1, title=user("Missing vendor posting profile"), symptoms=user("Vendor invoices cannot be posted in USMF."),
        steps=user("1. Accounts payable > Setup > Vendor posting profiles.\n2. Add the profile for the vendor group."),
        area=Area.ACCOUNTS_PAYABLE, category=Category.CONFIGURATION, owner=omar, issue_ids=(12,), created_at=NOW, updated_at=NOW,
    )
    suggestions = [
        Suggestion(kind="issue", id=3, number=3, title=user("AP cannot post vendor invoices"), summary=user("Added the posting profile.")),
        Suggestion(kind="runbook", id=7, title=user("Missing vendor posting profile"), summary=user("Vendor posting profiles: add the group.")),
    ]
    # A setup form sent back: pydantic's message quotes the time zone as typed.
    setup_input = {
        "time_zone": user("Mars/Olympus"), "working_days": "0,1,2,3,4", "steady_state_support": user("the IT service desk"),
        "sev2_acknowledge_within": user("soon"),
    }
    setup_errors = parse_setup(setup_input, settings)
    assert isinstance(setup_errors, dict)
    deferred = [
        make_issue(id=100 + n, number=100 + n, title=user(f"Report layout tweak {n}: " + "long title words " * 4),
                   severity=Severity.SEV4 if n % 2 else Severity.SEV3, status=Status.DEFERRED, reporter=priya)
        for n in range(1, 21)
    ]
    celebration = celebrate(
        phase_issues + deferred, settings=settings, war_room_name=room_name, signed_off_at=NOW, signed_off_by=lena, runbooks_written=12,
    )
    quiet_celebration = celebrate(
        [], settings=WarRoomSettings(), war_room_name=room_name, signed_off_at=NOW, signed_off_by=None, runbooks_written=0,
    )
    link = "https://bot.example.com/handover/1/1798761600/" + "s" * 32 + ".zip"
    # Sent back with a bad title, severity and head count, and the "please choose" area left empty.
    submitted_form = {"form_id": "f" * 32, "title": "", "severity": user("7"), "affected_users": user("many"), "area": "",
                      "please_choose": ["area"]}
    # The window: a preset's band overrun, a stand-up before setup (its prompt @mentions 1,000 people) and after the end.
    long_smb = WarRoomSettings(preset=WindowPreset.BC_SMB, starts_on=date(2026, 11, 16), ends_on=date(2026, 12, 27),
                               steady_state_support=user("the IT service desk"))
    no_end = {"preset": "custom", "starts_on": "2026-11-23", "steady_state_support": user("the IT service desk")}
    no_end_errors = parse_setup(no_end, WarRoomSettings())
    assert isinstance(no_end_errors, dict)
    not_set_up = build_standup(war_room_name=room_name, open_issues=many_issues(3, user), recent=[], deferred_count=0, since=NOW,
                               now=NOW, exit_report=evaluate_exit([], WarRoomSettings(), now=NOW), set_up=False)
    ended = WarRoomSettings(starts_on=date(2026, 10, 26), ends_on=date(2026, 11, 20))
    overrun = build_standup(war_room_name=room_name, open_issues=many_issues(3, user), recent=[], deferred_count=2, since=NOW,
                            now=NOW, exit_report=evaluate_exit(many_issues(3, user), ended, now=NOW))
    return {
        "setup": render_setup(settings),
        "setup-errors": render_setup(settings, errors=setup_errors, values=setup_input),
        "setup-band-warning": render_setup(long_smb, saved=True),
        "setup-no-end": render_setup(WarRoomSettings(), errors=no_end_errors, values=no_end),
        "standup-setup-prompt": render_standup(not_set_up, asked=(omar, lena, guest, *CROWD)),
        "standup-overrun": render_standup(overrun, leadership=(lena, guest)),
        "ready-for-sign-off": render_ready_for_sign_off(evaluate_exit([resolved], settings, now=NOW), war_room_name=room_name,
                                                        leadership=(lena, omar, guest)),
        "exit-failing": render_exit(report, war_room_name=room_name),
        "exit-passing": render_exit(evaluate_exit([resolved], settings, now=NOW), war_room_name=room_name),
        "exit-signed-off": render_exit(
            evaluate_exit([resolved], settings, now=NOW, signed_off_at=NOW, signed_off_by=lena), war_room_name=room_name,
            notice=f"Already signed off by {lena.name}.",
        ),
        "status": render_status(metrics, report, chart_url=_chart_file(ChartSeries.of(metrics.days)) if chart else None, war_room_name=room_name),
        "status-signed-off": render_status(
            metrics, evaluate_exit([resolved], settings, now=NOW, signed_off_at=NOW, signed_off_by=lena), chart_url=None,
            war_room_name=room_name,
        ),
        "celebration": render_celebration(celebration, chart_url=_chart_file(celebration.chart) if chart else None),
        "celebration-with-link": render_celebration(celebration, chart_url=None, handover_url=link),
        "celebration-quiet": render_celebration(quiet_celebration, chart_url=None),
        "handover": render_handover(room_name),
        "handover-link": render_handover(room_name, url=link),
        "handover-refused": render_handover(room_name, notice="To download the hand-over pack you need the role admin, leadership or triage_lead."),
        "runbook": render_runbook(runbook),
        "runbook-saved": render_runbook(runbook, notice="Runbook saved."),
        "runbook-form": render_runbook_form(form_id="f" * 32),
        "runbook-form-errors": render_runbook_form(
            form_id="f" * 32, values={"runbook_title": user("Reset MFA"), "runbook_steps": ""}, errors={"runbook_steps": "Steps of 1 to 8,000 characters."}
        ),
        "runbook-results": render_runbook_results(user("posting profile"), [runbook]),
        "form-with-suggestions": render_issue_form(
            IssueFormValues(title=user("AP cannot post")), form_id="f" * 32, suggestions=suggestion_block(suggestions),
            notice=f"From a message by {user('Omar Haddad')}.",
        ),
        "issue-in-progress": render_issue_card(in_progress),
        "issue-floor-walker-called": render_issue_card(
            make_issue(title=user("How do I reprint a pick list?"), category=Category.HOW_TO, area=Area.WAREHOUSE, severity=Severity.SEV3,
                       reporter=priya),
            floor_walkers=(ana, ben, guest),
        ),
        "issue-escalated": render_issue_card(escalated),
        "issue-escalate-panel": render_issue_card(
            in_progress, panel=Panel(verb=Verb.ESCALATE, values={"escalate_reason": user("")}, errors={"escalate_reason": "Say why the partner is needed."})
        ),
        "floor": render_floor(FloorView(walkers=walkers, today=walkers[:2], calendar=WarRoomSettings().calendar, now=NOW)),
        "floor-empty": render_floor(FloorView(walkers=(), today=(), calendar=WarRoomSettings().calendar, now=NOW)),
        "issue-resolved": render_issue_card(resolved),
        "issue-guest-assignee": render_issue_card(unassigned_guest),
        "issue-deferred": render_issue_card(make_issue(title=user("Logo is blurry"), severity=Severity.SEV4, status=Status.DEFERRED, resolve_by=None)),
        "issue-duplicate": render_issue_card(make_issue(title=user("AP cannot post"), status=Status.DUPLICATE, duplicate_of=3)),
        "issue-stale-notice": render_issue_card(in_progress, notice=f"{omar.name} acknowledged this 2 minutes ago."),
        "issue-resolve-panel": render_issue_card(
            in_progress,
            panel=Panel(verb=Verb.RESOLVE, values={"resolve_notes": user("did things")}, errors={"resolve_notes": "Say what fixed it."}),
        ),
        "list": render_issue_list("Issues open now", many_issues(15, user), 42, now=NOW, hint="Narrow it down with `list sev1`."),
        "list-empty": render_issue_list("Issues open now", [], 0, now=NOW),
        "history": render_history(resolved, events),
        "roles": render_roles([(lena, Role.TRIAGE_LEAD), (omar, Role.ONCALL), (priya, Role.SUPPORT), (guest, Role.SUPPORT)]),
        "announcement": render_announcement(
            f"Resolved: #12 {resolved.title} (Fixed).\n{resolved.resolution.notes if resolved.resolution else ''}", notify=(priya, lena, guest)
        ),
        "notice": render_notice_card(f"#12 is already assigned to {omar.name}."),
        "notice-echo": render_notice_card(f"I don't know the filter `{user('sev5')}`. Filters: sev1, sev2, mine."),
        "issue-1000-followers": render_issue_card(followed),
        "notice-1000-followers-first": crowd_notices[0],
        "notice-1000-followers-last": crowd_notices[-1],
        "escalation-1000-leads": render_reminder(
            Due(kind="ack_breach", dedupe_key="k"), make_issue(title=user("Bank file rejected")), notify=(omar, *CROWD), now=NOW
        ),
        "too-large": render_too_large("19:general@thread.tacv2;messageid=100"),
        "reminder": render_reminder(Due(kind="reminder", dedupe_key="k", reminder_kind="unacknowledged", seq=2),
                                    make_issue(title=user("AP cannot post vendor invoices")), notify=(omar,), now=NOW),
        "reminder-open": render_reminder(Due(kind="reminder", dedupe_key="k", reminder_kind="open", seq=2), in_progress, notify=(omar, guest), now=NOW),
        "escalation": render_reminder(Due(kind="resolve_breach", dedupe_key="k"), in_progress, notify=(lena, omar), now=NOW),
        "standup": render_standup(standup, participants=participants, chart_id=1),
        "standup-decided": render_standup(standup, participants=participants, notice=f"#9: kept in hypercare by {lena.name}."),
        "issue-view-triage-lead": render_issue_card(
            in_progress, context=IssueCardContext(triage_team=(lena, omar)), viewer=Viewer(roles=frozenset({Role.TRIAGE_LEAD}), is_reporter=False)
        ),
        "issue-view-oncall": render_issue_card(
            in_progress, context=IssueCardContext(triage_team=(lena, omar)), viewer=Viewer(roles=frozenset({Role.ONCALL}), is_reporter=False)
        ),
        "issue-view-reporter": render_issue_card(
            in_progress, context=IssueCardContext(triage_team=(lena, omar)), viewer=Viewer(roles=frozenset(), is_reporter=True)
        ),
        "issue-view-everyone": render_issue_card(
            in_progress, context=IssueCardContext(triage_team=(lena, omar)), viewer=Viewer(roles=frozenset(), is_reporter=False)
        ),
        "standup-long": render_standup(big_standup),
        "standup-empty": render_standup(empty_standup),
        "standup-sign-off": render_standup(signoff_standup, notice=f"#12 confirmed fixed and closed by {lena.name}."),
        "standup-sign-off-reopen-errors": render_standup(
            signoff_standup, signoff_panel=SignOffPanel(issue_id=5, value=user(" "), error="Say what is still wrong (at most 500 characters).")
        ),
        "signoff-question": render_fixed_question(awaiting),
        "signoff-question-errors": render_fixed_question(awaiting, typed=user(""), error="Say what is still wrong (at most 500 characters)."),
        "signoff-question-stale": render_fixed_question(resolved, notice=f"{lena.name} confirmed the fix of this 3 minutes ago. This is where it stands now."),
        "signoff-question-closed-automatically": render_fixed_question(auto_closed),
        "issue-awaiting-confirmation": render_issue_card(awaiting),
        "issue-still-broken-panel": render_issue_card(
            awaiting, panel=Panel(verb=Verb.STILL_BROKEN, values={"broken_text": user("")}, errors={"broken_text": "Say what is still wrong."})
        ),
        "issue-closed-automatically": render_issue_card(auto_closed),
        "oncall": render_oncall(oncall, now=NOW),
        "oncall-guest": render_oncall(OnCallView(on_call=guest, oncall=OnCall(), settings=WarRoomSettings()), now=NOW),
        # The category could not be told from the message: "please choose".
        "form-prefilled": render_issue_form(
            IssueFormValues(title=user("AP cannot post vendor invoices"), severity="1", area="accounts_payable", company="USMF",
                            affected_users="12", description=user("sev1 - nobody in AP can post vendor invoices in prod, APINV-004512"),
                            environment="production", documents=user("APINV-004512"), please_choose=("category",)),
            form_id="f" * 32,
        ),
        "form-errors": render_issue_form(
            IssueFormValues.from_submitted(submitted_form),
            form_id="f" * 32,
            errors=validate_issue_submission(submitted_form),  # type: ignore[arg-type]
        ),
        "form-war-room-choice": render_issue_form(
            IssueFormValues(title=user("Bank statement import fails"), severity="2"), form_id="f" * 32,
            war_rooms=[(user("Contoso finance"), "2"), (room_name, "1")], war_room="1",
        ),
        "welcome": render_welcome(bot_name="Hypercare", war_room_name=room_name, admins=(lena, guest)),
        "welcome-personal": render_personal_welcome(bot_name="Hypercare", war_rooms=[room_name], no_war_room=NO_WAR_ROOM),
        "welcome-personal-several": render_personal_welcome(
            bot_name="Hypercare", war_rooms=[user("Contoso finance"), room_name], no_war_room=NO_WAR_ROOM
        ),
        "welcome-personal-none": render_personal_welcome(bot_name="Hypercare", war_rooms=[], no_war_room=NO_WAR_ROOM),
        "issue-personal-copy": render_issue_card(in_progress, notice=f"Raised in {room_name}: its card is in the team's channel, where the triage team sees it. This is your copy."),
    }
