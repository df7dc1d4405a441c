"""Seed data for `bench.scheduler_scale`: a fresh PostgreSQL database migrated by the project's Alembic,
filled with a realistic hypercare deployment by COPY (asyncpg), never the ORM row by row.

The deployment: `war_rooms` war rooms spread over `tenants` tenants (a few large customers, many small:
Zipf-like), each with a home channel, three people with roles and an on-call rota; `issues` issues raised
over the 4 weeks before `T_STANDUP` (5% Sev 1, 25% Sev 2, 50% Sev 3, 20% Sev 4), 10% of them open (younger
and less severe issues more likely), the rest resolved, deferred (Sev 4) or duplicates; one thread
conversation per issue (its card starts a thread, reminders go there); and the history a 4-week-old
deployment carries: one sent outbox row per issue plus one sent stand-up per war room per working day,
48 h of processed activity ids, followers and runbooks.

Open issues carry the reminder state the scheduler itself would have stored if it had kept up until `T0`:
`bot.domain.reminders.plan_reminders` is run for each of them at `T0`, so at `T0` nothing is due, and the
next due moments are the real ones.

Timeline (UTC, December: London UTC+0, Paris/Berlin/Amsterdam/Madrid UTC+1, Helsinki/Johannesburg UTC+2):
`T_STANDUP` Wednesday 09:00 is every war room's stand-up minute (stand-up time 09:00, 10:00 or 11:00
local); `T0` = 10:30 the same day is when the reminder ticks run (inside everyone's working hours).
"""

from __future__ import annotations

import json
import math
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, time as clock_time, timedelta
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from bot.domain.calendar import WorkingCalendar
from bot.domain.model import (
    Area,
    Category,
    Confirmation,
    HandledBy,
    Issue,
    Person,
    ProgressNote,
    Resolution,
    ResolutionType,
    Severity,
    Status,
)
from bot.domain.reminders import ReminderState, plan_reminders
from bot.domain.war_room import OnCall, OnCallRota, WarRoomSettings
from storage import migrate
from storage.db import create_engine

T_STANDUP = datetime(2026, 12, 16, 9, 0, tzinfo=UTC)  # a Wednesday
T0 = T_STANDUP + timedelta(minutes=90)
CONFIRMED_AFTER = timedelta(days=1)
AUTO_CLOSED_AFTER = timedelta(days=5)
PHASE_DAYS = 28
BOT_ID = "28:hypercare-bot"

# (zone, local stand-up time) such that the stand-up falls on T_STANDUP for everyone.
ZONES: tuple[tuple[str, clock_time], ...] = (
    ("Europe/London", clock_time(9, 0)),
    ("Europe/Paris", clock_time(10, 0)),
    ("Europe/Berlin", clock_time(10, 0)),
    ("Europe/Amsterdam", clock_time(10, 0)),
    ("Europe/Madrid", clock_time(10, 0)),
    ("Europe/Helsinki", clock_time(11, 0)),
    ("Africa/Johannesburg", clock_time(11, 0)),
)
SEVERITY_WEIGHTS = {Severity.SEV1: 5, Severity.SEV2: 25, Severity.SEV3: 50, Severity.SEV4: 20}
OPEN_SHARE = 0.10

# Problem families: (area, category, title variants). Families recur within a war room, so the stand-up's
# "write a runbook" clustering has real work to do.
_FAMILIES: tuple[tuple[Area, Category, tuple[str, ...]], ...] = (
    (Area.ACCOUNTS_PAYABLE, Category.DEFECT, ("Vendor invoice posting fails: ledger period closed", "Cannot post vendor invoice, period closed error", "Vendor invoice journal posting error on closed period")),
    (Area.ACCOUNTS_PAYABLE, Category.CONFIGURATION, ("Payment proposal picks up blocked vendors", "Vendor payment proposal includes vendors on hold", "Blocked vendors appear in payment proposal")),
    (Area.ACCOUNTS_RECEIVABLE, Category.DEFECT, ("Customer statement shows wrong balance", "Wrong balance on customer account statement", "Customer statement balance does not match ledger")),
    (Area.ACCOUNTS_RECEIVABLE, Category.HOW_TO, ("How do I settle a customer prepayment", "Settle prepayment against customer invoice", "Customer prepayment settlement steps")),
    (Area.GENERAL_LEDGER, Category.DATA, ("Opening balances missing for main account", "Main account opening balance not migrated", "Missing opening balances after migration")),
    (Area.GENERAL_LEDGER, Category.CONFIGURATION, ("Financial dimension not defaulting on journal lines", "Journal lines lose default financial dimension", "Default financial dimension missing on general journal")),
    (Area.CASH_BANK, Category.INTEGRATION, ("Bank statement import fails for MT940 file", "MT940 bank statement import error", "Cannot import bank statement MT940 format")),
    (Area.TAX, Category.CONFIGURATION, ("Sales tax calculated twice on invoice lines", "Duplicate sales tax on sales invoice lines", "Invoice lines show sales tax twice")),
    (Area.PROCUREMENT, Category.DEFECT, ("Purchase order stuck in approval workflow", "Purchase order approval workflow does not progress", "PO workflow stuck waiting for approval")),
    (Area.PROCUREMENT, Category.ACCESS, ("Buyer cannot confirm purchase orders", "Purchase order confirm button disabled for buyer role", "Buyer role missing purchase order confirmation")),
    (Area.SALES, Category.DEFECT, ("Sales order price not taken from trade agreement", "Trade agreement price ignored on sales order", "Sales order uses base price not trade agreement")),
    (Area.SALES, Category.PERFORMANCE, ("Sales order form slow to open", "Opening sales orders takes over a minute", "Sales order form performance very slow")),
    (Area.INVENTORY, Category.DATA, ("On-hand inventory wrong after migration", "Inventory on-hand quantities incorrect after cutover", "Migrated on-hand stock does not match")),
    (Area.WAREHOUSE, Category.DEFECT, ("Warehouse app cannot complete pick work", "Pick work not completing on warehouse mobile app", "Mobile warehouse app pick work error")),
    (Area.WAREHOUSE, Category.CONFIGURATION, ("Wave processing does not release to warehouse", "Release to warehouse creates no wave", "Wave template not picking up shipments")),
    (Area.PRODUCTION, Category.DEFECT, ("Production order cannot be reported as finished", "Report as finished fails on production order", "Production order finish error on BOM line")),
    (Area.FIXED_ASSETS, Category.CONFIGURATION, ("Depreciation proposal posts to wrong account", "Fixed asset depreciation wrong main account", "Depreciation journal uses wrong posting profile")),
    (Area.PROJECT, Category.HOW_TO, ("How to post hours to a closed project", "Posting timesheet hours to closed project", "Timesheet hours rejected for closed project")),
    (Area.HR_PAYROLL, Category.ACCESS, ("HR manager cannot see worker records", "Worker records hidden from HR manager role", "Missing access to worker details for HR")),
    (Area.REPORTING, Category.PERFORMANCE, ("Trial balance report times out", "Trial balance takes too long and times out", "Timeout running trial balance report")),
    (Area.REPORTING, Category.DEFECT, ("Electronic reporting invoice format wrong logo", "Invoice layout shows wrong company logo", "ER invoice format logo incorrect")),
    (Area.PLATFORM, Category.INTEGRATION, ("Dual-write sync error for customers", "Customers not syncing through dual-write", "Dual-write customer map fails")),
    (Area.PLATFORM, Category.ACCESS, ("User cannot log in after go-live", "Login fails for new user account", "New user gets access denied on login")),
    (Area.PLATFORM, Category.PERFORMANCE, ("Batch jobs queue for hours", "Batch job queue backlog growing", "Batch processing delayed several hours")),
    (Area.INVENTORY, Category.TRAINING, ("Users unsure how to run inventory close", "Inventory close training needed", "How to run inventory recalculation and close")),
    (Area.SALES, Category.ENHANCEMENT, ("Add customer reference to sales confirmation", "Sales confirmation should show customer reference", "Request: customer PO number on confirmation")),
)
_FAMILY_WEIGHTS = tuple(1 / (rank + 1) ** 0.7 for rank in range(len(_FAMILIES)))
_ENTITIES = ("USMF", "DEMF", "GBSI", "FRRT", "NLPP", None, None)
_SENTENCES = (
    "Users in the finance team reported it this morning after the overnight batch.",
    "It happens for every record we tried, not only the one in the screenshot.",
    "The error message mentions a missing setup but the setup looks complete to us.",
    "We need this working before the month-end close on Friday.",
    "Three key users are blocked and are working around it in Excel.",
    "It worked in the UAT environment with the same data.",
    "Steps: open the form, select the record, press Post; the infolog shows the error.",
    "The integration log shows retries and then a failure with a timeout.",
    "Partner consultant looked at it briefly; might be a configuration gap.",
)
_FIRST = ("Ana", "Ben", "Chloé", "Dev", "Elif", "Finn", "Grace", "Hugo", "Ines", "Jonas", "Kofi", "Lena", "Mila", "Noah", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq")
_LAST = ("Berg", "Costa", "Dubois", "Ekström", "Fischer", "García", "Haddad", "Ivanova", "Jansen", "Kowalski", "Larsen", "Müller", "Nowak", "O'Brien", "Patel", "Rossi")


@dataclass
class SeedSpec:
    issues: int = 100_000
    war_rooms: int = 1_000
    tenants: int = 25
    seed: int = 20261216
    # 500 issues of the seed are prepared to be made due at T0 (see `DueSet`).
    due_issues: int = 500
    big_room_share: float = 0.05  # war room 1 is a large go-live with this share of all issues


@dataclass
class DueSet:
    """Issues that become due at T0 when their `due` values are written, each producing exactly one reminder."""

    ids: list[int]
    # (id, reminder_kind, reminder_seq, ack_escalated, resolve_escalated_for, next_due_at): due at T0, and as seeded.
    due_values: list[tuple[Any, ...]]
    steady_values: list[tuple[Any, ...]]
    dedupe_keys: list[str]


@dataclass
class Seeded:
    url: str  # SQLAlchemy URL (asyncpg)
    dsn: str  # asyncpg DSN
    database: str
    spec: SeedSpec
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    tenants: dict[str, int] = field(default_factory=dict)  # tenant id -> war rooms
    room_sizes: dict[int, int] = field(default_factory=dict)  # war room id -> issues
    due: DueSet | None = None
    service_urls: dict[int, str] = field(default_factory=dict)
    rows_due_kinds: dict[str, int] = field(default_factory=dict)

    @property
    def typical_room(self) -> int:
        """The war room with the median number of issues."""
        ordered = sorted(self.room_sizes.items(), key=lambda item: (item[1], item[0]))
        return ordered[len(ordered) // 2][0]

    @property
    def largest_room(self) -> int:
        return max(self.room_sizes.items(), key=lambda item: (item[1], -item[0]))[0]


def asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def sqlalchemy_url(url: str, database: str) -> str:
    return make_url(url).set(drivername="postgresql+asyncpg", database=database).render_as_string(hide_password=False)


async def create_database(admin_url: str, label: str) -> tuple[str, str, str]:
    """A new `bench_sched_*` database migrated to head: (name, SQLAlchemy URL, asyncpg DSN)."""
    name = f"bench_sched_{label}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(asyncpg_dsn(admin_url), timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = sqlalchemy_url(admin_url, name)
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    return name, url, asyncpg_dsn(admin_url, name)


async def drop_database(admin_url: str, name: str) -> None:
    assert name.startswith("bench_sched_"), name
    admin = await asyncpg.connect(asyncpg_dsn(admin_url), timeout=10)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def _zipf_split(total: int, parts: int, exponent: float) -> list[int]:
    weights = [1 / (rank + 1) ** exponent for rank in range(parts)]
    scale = total / sum(weights)
    counts = [max(1, int(weight * scale)) for weight in weights]
    counts[0] += total - sum(counts)
    return counts


def _person(rng: random.Random, index: int | None = None) -> Person:
    index = rng.randrange(len(_FIRST) * len(_LAST)) if index is None else index
    first, last = _FIRST[index % len(_FIRST)], _LAST[(index // len(_FIRST)) % len(_LAST)]
    return Person.model_construct(aad_object_id=f"aad-{index:04d}", name=f"{first} {last}")


def _weekday_instant(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A moment between start and end, 90% on weekdays between 07:00 and 19:00 UTC."""
    span_days = (end - start).days
    for _ in range(20):
        day = (start + timedelta(days=rng.randrange(span_days + 1))).date()
        if day.weekday() >= 5 and rng.random() < 0.9:
            continue
        moment = datetime.combine(day, clock_time(7), tzinfo=UTC) + timedelta(seconds=rng.randrange(12 * 3600))
        if start <= moment <= end:
            return moment
    return start + (end - start) * rng.random()


async def seed(dsn: str, spec: SeedSpec, *, connector_url: str) -> Seeded:
    """Fill an empty, migrated database. `connector_url`: where the fake Bot Connector listens."""
    rng = random.Random(spec.seed)
    started = time.perf_counter()
    result = Seeded(url="", dsn=dsn, database="", spec=spec)
    generated = time.perf_counter()

    # -- war rooms, tenants, conversations, roles --------------------------------------------------
    tenant_ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(spec.tenants)]
    rooms_per_tenant = _zipf_split(spec.war_rooms, spec.tenants, 0.8)
    room_tenant = [tenant for tenant, count in zip(tenant_ids, rooms_per_tenant) for _ in range(count)]
    rng.shuffle(room_tenant)
    result.tenants = {tenant: count for tenant, count in zip(tenant_ids, rooms_per_tenant)}

    # Issues per war room: room 1 is a big go-live, the others log-normal around the mean.
    big = int(spec.issues * spec.big_room_share) if spec.war_rooms > 1 else spec.issues
    weights = [rng.lognormvariate(0, 0.6) for _ in range(spec.war_rooms - 1)]
    rest = spec.issues - big
    sizes = [big] + [int(rest * weight / sum(weights)) for weight in weights]
    for index in rng.sample(range(1, spec.war_rooms), rest - sum(sizes[1:])) if spec.war_rooms > 1 else []:
        sizes[index] += 1
    result.room_sizes = {room_id: size for room_id, size in enumerate(sizes, start=1)}

    room_rows: list[tuple[Any, ...]] = []
    conversation_rows: list[tuple[Any, ...]] = []
    role_rows: list[tuple[Any, ...]] = []
    calendars: dict[int, WorkingCalendar] = {}
    settings_of: dict[int, WarRoomSettings] = {}
    settings_by_zone: dict[str, WarRoomSettings] = {}
    leads_of: dict[int, list[Person]] = {}
    channel_of: dict[int, str] = {}
    phase_start = (T_STANDUP - timedelta(days=PHASE_DAYS)).date()
    for room_id in range(1, spec.war_rooms + 1):
        tenant = room_tenant[room_id - 1]
        zone, standup_time = ZONES[rng.randrange(len(ZONES))]
        if zone not in settings_by_zone:  # shared: building one per war room deep-copies the default policy each time
            settings_by_zone[zone] = WarRoomSettings(
                calendar=WorkingCalendar(time_zone=zone),
                standup_time=standup_time,
                starts_on=phase_start,
                ends_on=phase_start + timedelta(weeks=6),
            )
        settings = settings_by_zone[zone]
        calendar = settings.calendar
        calendars[room_id], settings_of[room_id] = calendar, settings
        team = f"19:team-{room_id:04d}@thread.tacv2"
        channel = f"19:war-room-{room_id:04d}@thread.tacv2"
        channel_of[room_id] = channel
        service_url = f"{connector_url.rstrip('/')}/emea/{tenant}/"
        result.service_urls[room_id] = service_url
        people = [_person(rng, index) for index in rng.sample(range(len(_FIRST) * len(_LAST)), 4)]
        leads_of[room_id] = people[:2]
        rota_start = phase_start - timedelta(days=phase_start.weekday())
        oncall = OnCall(rota=OnCallRota(people=tuple(people[1:]), starts=rota_start, handover_weekday=0))
        room_rows.append((
            room_id, f"{tenant}/team:{team}", tenant, team, f"Go-live {room_id:04d}", sizes[room_id - 1],
            datetime.combine(phase_start, clock_time(8), tzinfo=UTC),
            json.dumps(settings.model_dump(mode="json")), json.dumps(oncall.model_dump(mode="json")),
            channel, channel, service_url, BOT_ID,
            T_STANDUP + timedelta(days=1), T_STANDUP - timedelta(days=1),
        ))
        conversation_rows.append((channel, room_id, "channel", tenant, team, channel, service_url, "msteams", BOT_ID, "Hypercare", T0 - timedelta(days=PHASE_DAYS)))
        for person, role in ((people[0], "triage_lead"), (people[1], "triage_lead"), (people[0], "admin")):
            role_rows.append((room_id, person.aad_object_id, role, person.name, "Bench Admin", T0 - timedelta(days=PHASE_DAYS)))

    # -- issues ------------------------------------------------------------------------------------
    severities = list(SEVERITY_WEIGHTS)
    severity_weights = list(SEVERITY_WEIGHTS.values())
    first_day = T_STANDUP - timedelta(days=PHASE_DAYS)
    last_moment = T_STANDUP - timedelta(minutes=1)
    drafts: list[dict[str, Any]] = []
    issue_id = 0
    for room_id, size in result.room_sizes.items():
        created = sorted(_weekday_instant(rng, first_day, last_moment) for _ in range(size))
        for number, created_at in enumerate(created, start=1):
            issue_id += 1
            area, category, titles = rng.choices(_FAMILIES, weights=_FAMILY_WEIGHTS)[0]
            severity = rng.choices(severities, weights=severity_weights)[0]
            entity = rng.choice(_ENTITIES)
            title = rng.choice(titles) + (f" ({entity})" if entity and rng.random() < 0.4 else "")
            drafts.append({
                "id": issue_id, "room": room_id, "number": number, "created_at": created_at, "severity": severity,
                "area": area, "category": category, "title": title, "entity": entity,
                "description": " ".join(rng.sample(_SENTENCES, 3)),
                "reporter": _person(rng),
            })

    # Open issues: 10% of all, Sev 1-3 only (a Sev 4 is deferred on creation), younger ones more likely.
    open_count = int(round(len(drafts) * OPEN_SHARE))
    sev_factor = {Severity.SEV1: 0.2, Severity.SEV2: 0.7, Severity.SEV3: 1.0, Severity.SEV4: 0.0}
    keyed = []
    for draft in drafts:
        weight = sev_factor[draft["severity"]] * math.exp(-((T_STANDUP - draft["created_at"]).total_seconds() / 86400) / 7)
        if weight > 0:
            keyed.append((rng.random() ** (1 / weight), draft["id"]))
    keyed.sort(reverse=True)
    open_ids = {issue for _, issue in keyed[:open_count]}

    issue_rows: list[tuple[Any, ...]] = []
    thread_rows: list[tuple[Any, ...]] = []
    follower_rows: list[tuple[Any, ...]] = []
    open_issues: list[tuple[Issue, WarRoomSettings]] = []
    reminder_cols: dict[int, tuple[Any, ...]] = {}
    for draft in drafts:
        room_id, severity, created_at = draft["room"], draft["severity"], draft["created_at"]
        settings, calendar = settings_of[room_id], calendars[room_id]
        policy = settings.policy
        resolve_by = policy.resolve_by(severity, raised_at=created_at, calendar=calendar)
        people = leads_of[room_id]
        status: Status
        acknowledged_at = acknowledged_by = assignee = resolution = None
        duplicate_of = None
        latest_update = None
        if draft["id"] in open_ids:
            status = rng.choices([Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.REOPENED], weights=[25, 25, 45, 5])[0]
            if severity is Severity.SEV1 and status is Status.NEW and rng.random() < 0.8:
                status = Status.IN_PROGRESS
        elif severity is Severity.SEV4:
            status = Status.DEFERRED if rng.random() < 0.85 else Status.RESOLVED
        else:
            status = Status.DUPLICATE if rng.random() < 0.05 and draft["number"] > 1 else Status.RESOLVED
        if status is not Status.NEW and not (status is Status.DEFERRED):
            ack_by = policy.acknowledge_by(severity, raised_at=created_at, calendar=calendar) or created_at + timedelta(hours=4)
            acknowledged_at = min(created_at + (ack_by - created_at) * rng.uniform(0.1, 1.3), last_moment)
            acknowledged_by = people[rng.randrange(len(people))]
        if status in (Status.IN_PROGRESS, Status.REOPENED, Status.RESOLVED):
            assignee = _person(rng)
        if status is Status.IN_PROGRESS and rng.random() < 0.6 and acknowledged_at:
            latest_update = ProgressNote(text="Investigating with the partner; workaround shared.", author=assignee or people[0],
                                         at=min(acknowledged_at + timedelta(hours=2), last_moment))
        if status is Status.RESOLVED:
            target = resolve_by or created_at + timedelta(days=5)
            resolved_at = created_at + (target - created_at) * rng.uniform(0.05, 1.2)
            resolved_at = min(resolved_at, last_moment)
            resolution = Resolution.model_construct(
                type=rng.choice([ResolutionType.FIXED, ResolutionType.CONFIGURATION_CHANGED, ResolutionType.USER_TRAINED,
                                 ResolutionType.WORKAROUND_GIVEN, ResolutionType.NOT_A_DEFECT]),
                notes="Corrected the setup and re-ran the job; user confirmed.",
                handled_by=HandledBy.SUPPORT if rng.random() < 0.75 else HandledBy.PARTNER,
                resolved_by=people[rng.randrange(len(people))], resolved_at=resolved_at, save_as_runbook=False, runbook_title=None,
                # Signed off as the war room does: confirmed within a day, or closed by itself after three working days
                # (five calendar days here); only the most recent resolutions still wait for a confirmation.
                confirmation=Confirmation.model_construct(
                    at=resolved_at + timedelta(hours=rng.uniform(1, 20)), by=draft["reporter"]) if resolved_at < T_STANDUP - CONFIRMED_AFTER and rng.random() < 0.6
                else Confirmation.model_construct(at=resolved_at + AUTO_CLOSED_AFTER, by=None) if resolved_at < T_STANDUP - AUTO_CLOSED_AFTER
                else None,
            )
        if status is Status.DUPLICATE:
            duplicate_of = rng.randrange(1, draft["number"])
        thread = f"{channel_of[room_id]};messageid={1765000000000 + draft['id']}"
        updated_at = max(
            [created_at] + [moment for moment in (acknowledged_at, resolution.resolved_at if resolution else None,
                                                    latest_update.at if latest_update else None) if moment]
        )
        version = 1 + sum(1 for moment in (acknowledged_at, resolution, latest_update, assignee) if moment)
        # Validated where the scheduler's own code will read it (open issues); constructed as-is otherwise (fast).
        build = Issue if status.is_open else Issue.model_construct
        issue = build(
            id=draft["id"], war_room_id=room_id, number=draft["number"], title=draft["title"],
            description=draft["description"], severity=severity, category=draft["category"], area=draft["area"],
            company=draft["entity"], affected_users=rng.choice([1, 2, 5, 12, 40, None]), status=status,
            reporter=draft["reporter"], created_at=created_at, updated_at=updated_at, resolve_by=resolve_by,
            version=version, conversation_id=thread, card_activity_id=f"card-{draft['id']}",
            acknowledged_at=acknowledged_at, acknowledged_by=acknowledged_by, assignee=assignee,
            latest_update=latest_update, resolution=resolution, duplicate_of=duplicate_of, followers=(), source_url=None,
        )
        if status.is_open:
            open_issues.append((issue, settings))
        reminder_cols[issue.id] = (None, 0, 0, None, False, None, None)  # kind, seq, generation, snoozed, ack_esc, resolve_esc, next_due_at
        issue_rows.append(_issue_row(issue, tenant=room_tenant[room_id - 1], team=f"19:team-{room_id:04d}@thread.tacv2",
                                     channel=channel_of[room_id]))
        thread_rows.append((thread, room_id, "channel", room_tenant[room_id - 1], f"19:team-{room_id:04d}@thread.tacv2",
                            channel_of[room_id], result.service_urls[room_id], "msteams", BOT_ID, "Hypercare", created_at))
        if rng.random() < 0.1:
            followers = [_person(rng) for _ in range(rng.randint(1, 2))]
            for follower in {person.aad_object_id: person for person in followers}.values():
                follower_rows.append((issue.id, follower.aad_object_id, follower.aad_object_id, follower.name, created_at))

    # Reminder state as the scheduler would have stored it having kept up until T0.
    steady: dict[int, tuple[Issue, ReminderState, datetime | None]] = {}
    for issue, settings in open_issues:
        plan = plan_reminders(issue, ReminderState(), rule=settings.policy.rule(issue.severity), calendar=settings.calendar, now=T0)
        assert plan.next_due_at is None or plan.next_due_at > T0
        state = plan.state
        steady[issue.id] = (issue, state, plan.next_due_at)
        reminder_cols[issue.id] = (state.kind, state.seq, state.generation, state.snoozed_until, state.ack_escalated,
                                   state.resolve_escalated_for, plan.next_due_at)

    # The due set: open issues with one message "not sent yet" at T0, exactly one each: the latest reminder
    # (sequence one back) or, for issues without a reminder cadence, the resolution-target escalation.
    due_values: list[tuple[int, str | None, int, bool, datetime | None, datetime]] = []
    steady_values: list[tuple[int, str | None, int, bool, datetime | None, datetime | None]] = []
    keys: list[str] = []
    order = list(steady)
    rng.shuffle(order)
    for issue_id in order:
        if len(due_values) == spec.due_issues:
            break
        issue, state, next_due_at = steady[issue_id]
        settings = settings_of[issue.war_room_id]
        if state.kind is not None and state.seq >= 1:
            behind = state.model_copy(update={"seq": state.seq - 1})
        elif state.resolve_escalated_for is not None:
            behind = state.model_copy(update={"resolve_escalated_for": None})
        else:
            continue
        plan = plan_reminders(issue, behind, rule=settings.policy.rule(issue.severity), calendar=settings.calendar, now=T0)
        if len(plan.due) != 1:
            continue
        due_values.append((issue_id, behind.kind, behind.seq, behind.ack_escalated, behind.resolve_escalated_for, T0 - timedelta(seconds=30)))
        steady_values.append((issue_id, state.kind, state.seq, state.ack_escalated, state.resolve_escalated_for, next_due_at))
        keys.append(plan.due[0].dedupe_key)
    result.due = DueSet(ids=[value[0] for value in due_values], due_values=due_values, steady_values=steady_values, dedupe_keys=keys)
    result.rows_due_kinds = dict(Counter(key.split(":")[0] for key in keys))

    issue_rows = [row + reminder_cols[row[0]] for row in issue_rows]

    # -- history: outbox, processed activities, runbooks --------------------------------------------
    payload = json.dumps({"card": _history_card()})
    outbox_rows: list[tuple[Any, ...]] = []
    outbox_id = 0
    for row in issue_rows:
        outbox_id += 1
        created_at = row[20] + timedelta(hours=1)
        outbox_rows.append((outbox_id, f"reminder:{row[0]}:0:unacknowledged:0", row[1], row[13], result.service_urls[row[1]],
                            "message", row[16], BOT_ID, payload, "sent", 1, created_at, None, created_at,
                            created_at + timedelta(milliseconds=300), f"sent-{outbox_id}", None))
    for room_id in range(1, spec.war_rooms + 1):
        calendar = calendars[room_id]
        day = phase_start
        while day < T_STANDUP.date():
            if calendar.is_working_day(day):
                outbox_id += 1
                at = calendar.at_local(day, settings_of[room_id].standup_time)
                status = "failed" if rng.random() < 0.002 else "sent"
                outbox_rows.append((outbox_id, f"standup:{room_id}:{day.isoformat()}", room_id, room_tenant[room_id - 1],
                                    result.service_urls[room_id], "channel_post", channel_of[room_id], BOT_ID, payload,
                                    status, 1 if status == "sent" else 8, at, None, at,
                                    at + timedelta(seconds=1) if status == "sent" else None,
                                    f"post-{outbox_id}" if status == "sent" else None,
                                    None if status == "sent" else "Bot Connector call failed (403): scripted"))
            day += timedelta(days=1)

    activity_rows = []
    for index in range(min(20_000, spec.issues // 5)):
        room_id = rng.randrange(1, spec.war_rooms + 1)
        activity_rows.append((channel_of[room_id], f"act-{index}", T0 - timedelta(hours=47) * rng.random()))

    runbook_rows, runbook_issue_rows = [], []
    resolved_by_room: dict[int, list[int]] = {}
    for row in issue_rows:
        if row[10] == "resolved":
            resolved_by_room.setdefault(row[1], []).append(row[0])
    runbook_id = 0
    for room_id, resolved in resolved_by_room.items():
        for _ in range(min(2, len(resolved) // 10)):
            runbook_id += 1
            area, category, titles = rng.choice(_FAMILIES)
            runbook_rows.append((runbook_id, room_id, f"Runbook: {titles[0]}", "Symptoms as reported.", "1. Check setup. 2. Re-run.",
                                 area.value, category.value, "aad-0001", "Lena Berg", T0 - timedelta(days=3), T0 - timedelta(days=3)))
            for linked in rng.sample(resolved, min(3, len(resolved))):
                runbook_issue_rows.append((runbook_id, linked))

    result.seconds["generate"] = time.perf_counter() - generated

    # -- COPY --------------------------------------------------------------------------------------
    copied = time.perf_counter()
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        async with connection.transaction():
            # A bench database: no need to wait for the WAL flush, and let the GIN (full-text) index batch its inserts.
            await connection.execute("SET LOCAL synchronous_commit = off")
            await connection.execute("SET LOCAL gin_pending_list_limit = '64MB'")
            await _copy(connection, "war_rooms", room_rows, [
                "id", "key", "tenant_id", "team_id", "name", "last_issue_number", "created_at", "settings", "oncall",
                "home_conversation_id", "home_channel_id", "home_service_url", "bot_id", "next_standup_at", "last_standup_at"])
            await _copy(connection, "conversations", conversation_rows + thread_rows, [
                "conversation_id", "war_room_id", "conversation_type", "tenant_id", "team_id", "channel_id", "service_url",
                "channel", "bot_id", "bot_name", "updated_at"])
            await _copy(connection, "war_room_roles", role_rows, [
                "war_room_id", "aad_object_id", "role", "name", "granted_by_name", "granted_at"])
            await _copy(connection, "issues", issue_rows, ISSUE_COLUMNS)
            await _copy(connection, "issue_followers", [(index, *row) for index, row in enumerate(follower_rows, start=1)], [
                "id", "issue_id", "person_key", "aad_object_id", "name", "added_at"])
            await _copy(connection, "outbox", outbox_rows, [
                "id", "dedupe_key", "war_room_id", "tenant_id", "service_url", "kind", "conversation_id", "bot_id", "payload",
                "status", "attempts", "next_attempt_at", "claimed_until", "created_at", "sent_at", "sent_activity_id", "last_error"])
            await _copy(connection, "processed_activities", activity_rows, ["conversation_id", "activity_id", "received_at"])
            await _copy(connection, "runbooks", runbook_rows, [
                "id", "war_room_id", "title", "symptoms", "steps", "area", "category", "owner_id", "owner_name", "created_at", "updated_at"])
            await _copy(connection, "runbook_issues", runbook_issue_rows, ["runbook_id", "issue_id"])
            for table in ("war_rooms", "issues", "issue_followers", "outbox", "runbooks"):
                await connection.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        result.seconds["copy"] = time.perf_counter() - copied
        analysed = time.perf_counter()
        # What autovacuum would have done long ago on a 4-week-old database: visibility map and statistics.
        await connection.execute("VACUUM (ANALYZE)")
        result.seconds["vacuum_analyze"] = time.perf_counter() - analysed
    finally:
        await connection.close()
    result.rows = {
        "war_rooms": len(room_rows), "conversations": len(conversation_rows) + len(thread_rows), "war_room_roles": len(role_rows),
        "issues": len(issue_rows), "open_issues": len(open_issues), "issue_followers": len(follower_rows),
        "outbox": len(outbox_rows), "processed_activities": len(activity_rows), "runbooks": len(runbook_rows),
        "runbook_issues": len(runbook_issue_rows), "due_issues": len(result.due.ids),
    }
    result.seconds["total"] = time.perf_counter() - started
    return result


ISSUE_COLUMNS = [
    "id", "war_room_id", "number", "title", "description", "severity", "category", "area", "company", "affected_users",
    "status", "reporter_aad_id", "reporter_name", "tenant_id", "team_id", "channel_id", "conversation_id",
    "card_activity_id", "source_form_id", "source_url", "created_at", "updated_at", "resolve_by", "version",
    "acknowledged_at", "acknowledged_by_id", "acknowledged_by_name", "assignee_id", "assignee_name",
    "latest_update_text", "latest_update_by_id", "latest_update_by_name", "latest_update_at",
    "resolution_type", "resolution_notes", "handled_by", "resolved_by_id", "resolved_by_name", "resolved_at",
    "save_as_runbook", "runbook_title", "duplicate_of", "confirmed_at", "confirmed_by_id", "confirmed_by_name",
    "reminder_kind", "reminder_seq", "reminder_generation", "snoozed_until", "ack_escalated", "resolve_escalated_for",
    "next_due_at",
]


def _issue_row(issue: Issue, *, tenant: str, team: str, channel: str) -> tuple[Any, ...]:
    resolution, update = issue.resolution, issue.latest_update
    confirmed = resolution.confirmation if resolution else None
    return (
        issue.id, issue.war_room_id, issue.number, issue.title, issue.description, int(issue.severity),
        issue.category.value if issue.category else None, issue.area.value if issue.area else None, issue.company,
        issue.affected_users, issue.status.value, issue.reporter.aad_object_id, issue.reporter.name, tenant, team, channel,
        issue.conversation_id, issue.card_activity_id, f"form-{issue.id:07d}", None, issue.created_at, issue.updated_at,
        issue.resolve_by, issue.version, issue.acknowledged_at,
        issue.acknowledged_by.aad_object_id if issue.acknowledged_by else None,
        issue.acknowledged_by.name if issue.acknowledged_by else None,
        issue.assignee.aad_object_id if issue.assignee else None, issue.assignee.name if issue.assignee else None,
        update.text if update else None, update.author.aad_object_id if update else None, update.author.name if update else None,
        update.at if update else None,
        resolution.type.value if resolution else None, resolution.notes if resolution else None,
        resolution.handled_by.value if resolution else None,
        resolution.resolved_by.aad_object_id if resolution else None, resolution.resolved_by.name if resolution else None,
        resolution.resolved_at if resolution else None, False, None, issue.duplicate_of,
        confirmed.at if confirmed else None, confirmed.by.aad_object_id if confirmed and confirmed.by else None,
        confirmed.by.name if confirmed and confirmed.by else None,
    )


COPY_SECONDS: dict[str, float] = {}


async def _copy(connection: asyncpg.Connection, table: str, rows: list[tuple[Any, ...]], columns: list[str]) -> None:
    started = time.perf_counter()
    if rows:
        await connection.copy_records_to_table(table, records=rows, columns=columns)
    COPY_SECONDS[table] = COPY_SECONDS.get(table, 0.0) + time.perf_counter() - started


def _history_card() -> dict[str, Any]:
    """A sent reminder's card, the size real ones have (about 1 KB)."""
    return {
        "type": "AdaptiveCard", "version": "1.5", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "body": [
            {"type": "TextBlock", "text": "⏰ #42 Sev 2 is not acknowledged yet (raised 2 hours ago).", "weight": "Bolder", "color": "Accent", "wrap": True},
            {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": "Vendor invoice posting fails: ledger period closed"}]},
            {"type": "TextBlock", "text": "<at>Lena Berg</at>, <at>Omar Haddad</at>", "spacing": "Small", "wrap": True},
        ],
        "actions": [
            {"type": "Action.Execute", "title": "Acknowledge", "verb": "issue.acknowledge", "data": {"issue_id": 42, "version": 3}, "style": "positive"},
            {"type": "Action.Execute", "title": "Snooze 1 h", "verb": "issue.snooze", "data": {"issue_id": 42, "version": 3}},
        ],
        "msteams": {"entities": [
            {"type": "mention", "text": "<at>Lena Berg</at>", "mentioned": {"id": "aad-lena", "name": "Lena Berg"}},
            {"type": "mention", "text": "<at>Omar Haddad</at>", "mentioned": {"id": "aad-omar", "name": "Omar Haddad"}},
        ]},
    }


async def set_due(dsn: str, due: DueSet, *, due_now: bool) -> None:
    """Make the due set due at T0 (and forget what earlier runs enqueued for it), or put it back as seeded."""
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        async with connection.transaction():
            values = due.due_values if due_now else due.steady_values
            await connection.executemany(
                "UPDATE issues SET reminder_kind = $2, reminder_seq = $3, ack_escalated = $4, resolve_escalated_for = $5,"
                " next_due_at = $6 WHERE id = $1",
                values,
            )
            await connection.execute("DELETE FROM outbox WHERE dedupe_key = ANY($1::text[])", due.dedupe_keys)
    finally:
        await connection.close()


def seed_summary(seeded: Seeded) -> dict[str, Any]:
    sizes = sorted(seeded.room_sizes.values())
    tenants = sorted(seeded.tenants.values(), reverse=True)
    return {
        "rows": seeded.rows,
        "seconds": {key: round(value, 2) for key, value in seeded.seconds.items()},
        "issues_per_war_room": {"median": sizes[len(sizes) // 2], "max": sizes[-1], "min": sizes[0]},
        "war_rooms_per_tenant": {"tenants": len(tenants), "largest": tenants[0], "smallest": tenants[-1]},
        "due_set": seeded.rows_due_kinds,
        "typical_room": seeded.typical_room,
        "largest_room": seeded.largest_room,
        "t_standup": T_STANDUP.isoformat(),
        "t0": T0.isoformat(),
    }
