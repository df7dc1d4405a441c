"""Measured evidence for the fixes `docs/performance-scheduler.md` proposes, on the benchmark's own data.

Nothing here changes the product: each experiment runs a prototype beside the real code on the same
database and reports both, so the gain of a proposed change is a measurement, not a guess.

- `preping`: the same idle ticks on an engine without `pool_pre_ping` (which costs three round trips per
  connection checkout with asyncpg: BEGIN; `;`; ROLLBACK) — every unit of work checks out a connection.
- `batched_planning`: the reminder planning of `Scheduler.plan_reminders` against a prototype that plans all
  500 due issues in one unit of work with a constant number of statements (prefetch war rooms, conversations
  and triage leads with IN lists; one INSERT … ON CONFLICT DO NOTHING for the outbox, folded into multi-row
  INSERTs; one executemany UPDATE of the reminder state). The per-issue scheduler of 2026-11-26 20:30 sent
  ~4.7 statements per due issue; the shipped one now plans in chunks of `plan_chunk`. The product's own
  functions do the work (`plan_reminders`, `render_reminder`), and the rows both write are compared.
- `claim_forms`: the shipped outbox claim beside its two SQL forms (anti-join NOT EXISTS, the claim until
  2026-11-26; queue head by row_number), custom and generic plans, 0 and 1,000 pending, same rows claimed?
- `partial_indexes`: the outbox claim's plans without and with the partial indexes on pending rows (shipped
  since migration 61ce674bf8a6: dropped for the first measurement and created again; PostgreSQL here,
  SQLite in `sqlite_claim`).
- `standup_load`: for the largest war room, loading every issue as ORM rows and domain objects (what
  `standup_summary` does) against a narrow Core select of the columns a stand-up reads.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import bindparam, event, insert, select, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from bench import scheduler_explain as explain
from bench.scheduler_seed import T0, T_STANDUP, Seeded, set_due
from bot.domain.model import Person, Role, Status
from bot.domain.reminders import plan_reminders
from bot.scheduler import TickReport
from cards.reminders import render_reminder
from storage import migrate
from storage.db import create_engine, create_session_factory
from storage.models import ConversationRow, IssueRow, OutboxRow, WarRoomRoleRow, WarRoomRow
from storage.repositories import IssueRepository, _to_war_room
from storage.uow import UnitOfWorkFactory

PARTIAL_INDEXES = (
    "CREATE INDEX IF NOT EXISTS ix_outbox_pending_next_attempt_at ON outbox (next_attempt_at, id) WHERE status = 'pending'",
    "CREATE INDEX IF NOT EXISTS ix_outbox_pending_conversation_id ON outbox (conversation_id, id) WHERE status = 'pending'",
)
DROP_PARTIAL_INDEXES = (
    "DROP INDEX IF EXISTS ix_outbox_pending_next_attempt_at",
    "DROP INDEX IF EXISTS ix_outbox_pending_conversation_id",
)


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 2)


# ---------------------------------------------------------------------------------------- pre-ping


IDLE_PROBE = text(
    "SELECT EXISTS (SELECT 1 FROM issues WHERE next_due_at <= :now),"
    " EXISTS (SELECT 1 FROM war_rooms WHERE next_standup_at <= :now),"
    " EXISTS (SELECT 1 FROM outbox WHERE status = 'pending' AND next_attempt_at <= :now)"
)


async def preping(seeded: Seeded, make_scheduler: Any, http: Any, ticks: int) -> dict[str, Any]:
    """A tick that finds nothing: as shipped, without `pool_pre_ping`, and the floor a one-statement
    "anything due?" probe would cost (three EXISTS on the three due indexes, one unit of work).
    Alternating, so every variant sees the same machine load."""
    with_ping = create_engine(seeded.url)
    without_ping = create_async_engine(seeded.url, pool_size=10, max_overflow=10, pool_pre_ping=False)
    probe_sessions = create_session_factory(without_ping)

    async def probe_tick(now: datetime) -> None:
        async with probe_sessions() as session:
            (await session.execute(IDLE_PROBE, {"now": now})).one()
            await session.commit()

    labels = ("tick as shipped (pool_pre_ping=True)", "tick, pool_pre_ping=False", "one-statement EXISTS probe, pool_pre_ping=False")
    results: dict[str, list[float]] = {label: [] for label in labels}
    try:
        ticks_of = {
            labels[0]: make_scheduler(UnitOfWorkFactory(create_session_factory(with_ping)), http).tick,
            labels[1]: make_scheduler(UnitOfWorkFactory(create_session_factory(without_ping)), http).tick,
            labels[2]: probe_tick,
        }
        for tick in ticks_of.values():
            for _ in range(3):
                await tick(T0)
        for _ in range(ticks):
            for label, tick in ticks_of.items():
                started = time.perf_counter()
                await tick(T0)
                results[label].append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.01)
    finally:
        await with_ping.dispose()
        await without_ping.dispose()
    return {label: {"median_ms": _median(values), "min_ms": round(min(values), 2)} for label, values in results.items()}


# ------------------------------------------------------------------------------ batched planning


def _who_to_tell(room: Any, leads: tuple[Person, ...], issue: Any, due: Any, now: datetime) -> tuple[Person, ...]:
    """The scheduler's rule (bot/scheduler.py `_who_to_tell`), restated so the prototype needs no private API."""
    on_call = room.oncall.on_call(now, room.settings.calendar)
    if due.kind != "reminder":
        people = (*leads, *([on_call] if on_call else []))
    elif due.reminder_kind == "open" and issue.assignee:
        people = (issue.assignee,)
    else:
        people = (on_call,) if on_call else leads
    unique: dict[str, Person] = {}
    for person in people:
        unique.setdefault(person.key, person)
    return tuple(unique.values())


async def plan_reminders_batched(
    session_factory: async_sessionmaker[Any], now: datetime, *, limit: int = 500, yield_every: int = 0
) -> dict[str, int]:
    """What `Scheduler.plan_reminders` does, in a constant number of statements (a prototype of the fix)."""
    async with session_factory() as session:
        due = await IssueRepository(session).due(now, limit=limit)
        if not due:
            await session.commit()
            return {"planned": 0, "enqueued": 0}
        room_ids = sorted({issue.war_room_id for issue, _ in due})
        rooms = {row.id: _to_war_room(row) for row in (await session.execute(select(WarRoomRow).where(WarRoomRow.id.in_(room_ids)))).scalars()}
        conversation_ids = sorted({issue.conversation_id for issue, _ in due})
        conversations = {
            row.conversation_id: row
            for row in (await session.execute(select(ConversationRow).where(ConversationRow.conversation_id.in_(conversation_ids)))).scalars()
        }
        leads: dict[int, list[Person]] = defaultdict(list)
        role_rows = await session.execute(
            select(WarRoomRoleRow)
            .where(WarRoomRoleRow.war_room_id.in_(room_ids), WarRoomRoleRow.role == Role.TRIAGE_LEAD.value)
            .order_by(WarRoomRoleRow.name)
        )
        for row in role_rows.scalars():
            leads[row.war_room_id].append(Person(aad_object_id=row.aad_object_id, name=row.name))
        outbox_rows: list[dict[str, Any]] = []
        state_rows: list[dict[str, Any]] = []
        for position, (issue, state) in enumerate(due):
            if yield_every and position % yield_every == 0:
                await asyncio.sleep(0)  # let the web requests sharing this loop run between issues
            room = rooms[issue.war_room_id]
            plan = plan_reminders(issue, state, rule=room.settings.policy.rule(issue.severity), calendar=room.settings.calendar, now=now)
            conversation = conversations.get(issue.conversation_id)
            for item in plan.due:
                if conversation is None:
                    continue
                notify = _who_to_tell(room, tuple(leads[room.id]), issue, item, now)
                outbox_rows.append({
                    "dedupe_key": item.dedupe_key, "war_room_id": room.id, "tenant_id": room.tenant_id,
                    "service_url": conversation.service_url, "kind": "message", "conversation_id": issue.conversation_id,
                    "bot_id": conversation.bot_id, "payload": {"card": render_reminder(item, issue, notify=notify, now=now)},
                    "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
                })
            new = plan.state
            state_rows.append({
                "b_id": issue.id, "b_kind": new.kind, "b_seq": new.seq, "b_generation": new.generation,
                "b_snoozed": new.snoozed_until, "b_ack": new.ack_escalated, "b_resolve": new.resolve_escalated_for,
                "b_next": plan.next_due_at,
            })
        enqueued = 0
        connection = await session.connection()
        if outbox_rows:
            # executemany: SQLAlchemy folds it into multi-row INSERTs ("insertmanyvalues") with a cached compilation;
            # RETURNING tells which rows were new (ON CONFLICT DO NOTHING skips the others).
            result = await connection.execute(
                postgresql.insert(OutboxRow.__table__).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(OutboxRow.__table__.c.id),
                outbox_rows,
            )
            enqueued = len(result.all())
        table = IssueRow.__table__
        await connection.execute(
            update(table).where(table.c.id == bindparam("b_id")).values(
                reminder_kind=bindparam("b_kind"), reminder_seq=bindparam("b_seq"), reminder_generation=bindparam("b_generation"),
                snoozed_until=bindparam("b_snoozed"), ack_escalated=bindparam("b_ack"),
                resolve_escalated_for=bindparam("b_resolve"), next_due_at=bindparam("b_next"),
            ),
            state_rows,
        )
        await session.commit()
    return {"planned": len(due), "enqueued": enqueued}


async def _snapshot(dsn: str, seeded: Seeded) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    assert seeded.due is not None
    connection = await asyncpg.connect(dsn)
    try:
        outbox = await connection.fetch(
            "SELECT dedupe_key, war_room_id, tenant_id, service_url, kind, conversation_id, bot_id, payload::text, status "
            "FROM outbox WHERE dedupe_key = ANY($1::text[]) ORDER BY dedupe_key", seeded.due.dedupe_keys)
        issues = await connection.fetch(
            "SELECT id, reminder_kind, reminder_seq, reminder_generation, snoozed_until, ack_escalated, resolve_escalated_for, "
            "next_due_at FROM issues WHERE id = ANY($1::bigint[]) ORDER BY id", seeded.due.ids)
    finally:
        await connection.close()
    return [tuple(row) for row in outbox], [tuple(row) for row in issues]


async def batched_planning(seeded: Seeded, engine: AsyncEngine, make_scheduler: Any, http: Any, probe: Any, repeats: int) -> dict[str, Any]:
    """The real planning phase against the prototype, alternating, on the same 500 due issues."""
    assert seeded.due is not None
    session_factory = create_session_factory(engine)
    uow_factory = UnitOfWorkFactory(session_factory)
    timings: dict[str, list[float]] = {
        "Scheduler.plan_reminders (as shipped)": [], "prototype: batched": [], "prototype: batched, yielding every 10 issues": [],
    }
    blocks: dict[str, list[float]] = {label: [] for label in timings}
    statements: dict[str, int] = {}
    snapshots: dict[str, Any] = {}
    for _ in range(repeats):
        for label in timings:
            await set_due(seeded.dsn, seeded.due, due_now=True)
            scheduler = make_scheduler(uow_factory, http)
            counted = 0

            def count(*_: Any) -> None:
                nonlocal counted
                counted += 1

            event.listen(engine.sync_engine, "before_cursor_execute", count)
            probe.reset()
            probe.phase = label
            started = time.perf_counter()
            try:
                if label.startswith("Scheduler"):
                    report = TickReport()
                    await scheduler.plan_reminders(T0, report)
                    outcome = {"planned": report.planned, "enqueued": report.enqueued}
                else:
                    outcome = await plan_reminders_batched(session_factory, T0, yield_every=10 if "yielding" in label else 0)
            finally:
                elapsed = (time.perf_counter() - started) * 1000
                probe.phase = "idle"
                event.remove(engine.sync_engine, "before_cursor_execute", count)
            timings[label].append(elapsed)
            blocks[label].append(probe.max_ms)
            statements[label] = counted
            snapshots[label] = (outcome, await _snapshot(seeded.dsn, seeded))
    await set_due(seeded.dsn, seeded.due, due_now=False)
    shipped, prototype, _ = (snapshots[label] for label in timings)
    return {
        label: {"median_ms": _median(values), "min_ms": round(min(values), 1), "statements": statements[label],
                "loop_block_median_ms": _median(blocks[label]), "outcome": snapshots[label][0]}
        for label, values in timings.items()
    } | {"same_outbox_rows_and_reminder_state": shipped[1] == prototype[1], "outbox_rows_compared": len(shipped[1][0])}


# ---------------------------------------------------------------------------------- partial indexes


async def partial_indexes(seeded: Seeded, engine: AsyncEngine, large_tables: frozenset[str]) -> dict[str, Any]:
    """Claim plans, nothing pending and 1,000 pending, without and with the partial indexes."""
    uow_factory = UnitOfWorkFactory(create_session_factory(engine))

    async def claim() -> None:
        async with uow_factory() as uow:
            await uow.outbox.claim(T_STANDUP, limit=500, lease=timedelta(seconds=60))

    statement = explain.pick(await explain.statements_of(engine, claim), "UPDATE outbox")
    connection = await asyncpg.connect(seeded.dsn)
    out: dict[str, Any] = {}
    try:
        for ddl in DROP_PARTIAL_INDEXES:
            await connection.execute(ddl)
        await connection.execute("ANALYZE outbox")  # steady-state statistics: nothing pending
        for indexes in ("without partial indexes", "with partial indexes (as shipped)"):
            if indexes != "without partial indexes":
                for ddl in PARTIAL_INDEXES:
                    await connection.execute(ddl)
                await connection.execute("ANALYZE outbox")
            for pending in (0, 1000):
                if pending:
                    await connection.execute(
                        """INSERT INTO outbox (dedupe_key, war_room_id, tenant_id, service_url, kind, conversation_id, bot_id,
                                               payload, status, attempts, next_attempt_at, created_at)
                           SELECT 'bench-pending:' || id, id, tenant_id, home_service_url, 'channel_post', home_channel_id, bot_id,
                                  '{"card": {}}', 'pending', 0, $1, $1 FROM war_rooms ORDER BY id LIMIT $2""",
                        T_STANDUP, pending)
                try:
                    for generic in (False, True):
                        plan = await explain.explain(seeded.dsn, "claim", statement, generic=generic, large_tables=large_tables)
                        out[f"{indexes}, {pending} pending [{plan.mode}]"] = {
                            "execution_ms": plan.execution_ms,
                            "scans": sorted({f"{s['node']} {s['index'] or s['target']}" for s in plan.scans}),
                            "seq_scans_on_large_tables": plan.seq_scans_on_large_tables,
                            "plan": explain.trimmed(plan),
                        }
                finally:
                    await connection.execute("DELETE FROM outbox WHERE dedupe_key LIKE 'bench-pending:%'")
    finally:
        for ddl in PARTIAL_INDEXES:
            await connection.execute(ddl)
        await connection.execute("ANALYZE outbox")
        await connection.close()
    return out


# Two forms of the claim, as literal SQL so that they can be compared whatever `OutboxRepository.claim` ships:
# the anti-join form (the claim until 2026-11-26: NOT EXISTS an older pending row of the conversation), and
# the queue-head form (row_number over each conversation's pending rows), linear in what is pending.
CLAIM_NOT_EXISTS = """
UPDATE outbox SET claimed_until = $1::TIMESTAMP WITH TIME ZONE
WHERE outbox.id IN (
    SELECT outbox.id FROM outbox
    WHERE outbox.status = 'pending' AND outbox.next_attempt_at <= $2::TIMESTAMP WITH TIME ZONE
      AND (outbox.claimed_until IS NULL OR outbox.claimed_until <= $2::TIMESTAMP WITH TIME ZONE)
      AND NOT (EXISTS (SELECT * FROM outbox AS older WHERE older.conversation_id = outbox.conversation_id
                       AND older.status = 'pending' AND older.id < outbox.id))
    ORDER BY outbox.id LIMIT $3::INTEGER FOR UPDATE SKIP LOCKED
)
RETURNING outbox.id
"""
CLAIM_BY_QUEUE_HEAD = """
UPDATE outbox SET claimed_until = $1::TIMESTAMP WITH TIME ZONE
WHERE outbox.id IN (
    SELECT id FROM outbox WHERE id IN (
        SELECT id FROM (
            SELECT id, next_attempt_at, claimed_until,
                   row_number() OVER (PARTITION BY conversation_id ORDER BY id) AS position
            FROM outbox WHERE status = 'pending'
        ) AS queue
        WHERE position = 1 AND next_attempt_at <= $2::TIMESTAMP WITH TIME ZONE
          AND (claimed_until IS NULL OR claimed_until <= $2::TIMESTAMP WITH TIME ZONE)
    )
    ORDER BY id LIMIT $3::INTEGER FOR UPDATE SKIP LOCKED
)
RETURNING outbox.id
"""
CLAIM_FORMS = ("shipped (OutboxRepository.claim)", "anti-join (NOT EXISTS)", "queue head (row_number)")


async def claim_forms(seeded: Seeded, engine: AsyncEngine, large_tables: frozenset[str]) -> dict[str, Any]:
    """The shipped claim and both SQL forms: plans and times with 0 and 1,000 pending; do they claim the same rows?"""
    uow_factory = UnitOfWorkFactory(create_session_factory(engine))
    now = T_STANDUP

    async def claim() -> None:
        async with uow_factory() as uow:
            await uow.outbox.claim(now, limit=500, lease=timedelta(seconds=60))

    shipped = explain.pick(await explain.statements_of(engine, claim), "UPDATE outbox")
    arguments = (now + timedelta(seconds=60), now, 500)
    statements = dict(zip(CLAIM_FORMS, (shipped, explain.Captured(CLAIM_NOT_EXISTS, arguments), explain.Captured(CLAIM_BY_QUEUE_HEAD, arguments))))
    connection = await asyncpg.connect(seeded.dsn)
    out: dict[str, Any] = {"shipped_sql": explain.short_sql(shipped.sql, 600)}
    try:
        await connection.execute("ANALYZE outbox")  # steady-state statistics: nothing pending (as autovacuum sees it)
        for pending in (0, 1000):
            if pending:
                # One pending message per war room, and a second, younger one in half of them (must wait its turn).
                await connection.execute(
                    """INSERT INTO outbox (dedupe_key, war_room_id, tenant_id, service_url, kind, conversation_id, bot_id,
                                           payload, status, attempts, next_attempt_at, created_at)
                       SELECT 'bench-pending:' || id || ':' || n, id, tenant_id, home_service_url, 'channel_post', home_channel_id,
                              bot_id, '{"card": {}}', 'pending', 0, $1, $1
                       FROM war_rooms, generate_series(1, 2) AS n WHERE n = 1 OR id % 2 = 0 ORDER BY id, n LIMIT $2""",
                    now, pending)
            try:
                claimed: dict[str, list[int]] = {}
                for label, statement in statements.items():
                    for generic in (False, True):
                        plan = await explain.explain(seeded.dsn, label, statement, generic=generic, large_tables=large_tables)
                        out[f"{label}, {pending} pending [{plan.mode}]"] = {
                            "execution_ms": plan.execution_ms,
                            "scans": sorted({f"{s['node']} {s['index'] or s['target']}" for s in plan.scans}),
                            "seq_scans_on_large_tables": plan.seq_scans_on_large_tables,
                            "plan": explain.trimmed(plan),
                        }
                    transaction = connection.transaction()
                    await transaction.start()
                    try:
                        await connection.execute(f"PREPARE compare AS {statement.sql}")
                        rows = await connection.fetch(
                            "EXECUTE compare(" + ", ".join(explain.literal(v) for v in statement.params) + ")")
                        claimed[label] = sorted(row["id"] for row in rows)
                    finally:
                        await transaction.rollback()
                        await connection.execute("DEALLOCATE compare")
                out[f"same rows claimed, {pending} pending"] = len({tuple(ids) for ids in claimed.values()}) == 1
                out[f"rows claimed, {pending} pending"] = len(next(iter(claimed.values())))
            finally:
                await connection.execute("DELETE FROM outbox WHERE dedupe_key LIKE 'bench-pending:%'")
    finally:
        await connection.close()
    return out


async def sqlite_claim(rows: int = 50_000, pending: int = 10, repeats: int = 5) -> dict[str, Any]:
    """SQLite's plan for the claim and its time, with `rows` outbox rows (`pending` of them pending): without
    statistics (as the bot ships) and after ANALYZE, without and with the partial indexes on pending rows."""
    now = datetime(2026, 12, 16, 10, 30, tzinfo=UTC)
    out: dict[str, Any] = {"outbox_rows": rows}
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'claim.db'}"
        engine = create_engine(url)
        try:
            await migrate.upgrade(engine)
            async with engine.begin() as connection:
                for ddl in DROP_PARTIAL_INDEXES:
                    await connection.execute(text(ddl))
                await connection.execute(insert(WarRoomRow), [{"id": 1, "key": "t/team:1", "last_issue_number": 0, "created_at": now}])
                await connection.execute(insert(OutboxRow), [
                    {"dedupe_key": f"k{i}", "war_room_id": 1, "service_url": "https://smba.example/", "kind": "message",
                     "conversation_id": f"19:c{i % 500}@thread.tacv2;messageid={i}", "payload": {"card": {}},
                     "status": "pending" if i >= rows - pending else "sent", "attempts": 0,
                     "next_attempt_at": now - timedelta(seconds=rows - i), "created_at": now - timedelta(seconds=rows - i)}
                    for i in range(rows)
                ])

            async def claim(uow_factory: Any) -> None:
                async with uow_factory() as uow:  # rolled back: nothing stays claimed
                    await uow.outbox.claim(now, limit=500, lease=timedelta(seconds=60))

            statement = explain.pick(await explain.statements_of(engine, lambda: claim(UnitOfWorkFactory(create_session_factory(engine)))),
                                     "UPDATE outbox")

            async def measure(label: str) -> None:
                async with engine.connect() as connection:
                    result = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement.sql}", statement.params)
                    plan = [row[-1] for row in result.all()]
                uow_factory = UnitOfWorkFactory(create_session_factory(engine))
                times = []
                for _ in range(repeats):
                    started = time.perf_counter()
                    await claim(uow_factory)
                    times.append((time.perf_counter() - started) * 1000)
                out[label] = {"plan": plan, "claim_median_ms": _median(times)}

            await measure("no statistics, without partial indexes")
            async with engine.begin() as connection:
                await connection.execute(text("ANALYZE"))
            await engine.dispose()
            await measure("after ANALYZE, without partial indexes")
            async with engine.begin() as connection:
                for ddl in PARTIAL_INDEXES:
                    await connection.execute(text(ddl))
                await connection.execute(text("ANALYZE"))
            await engine.dispose()
            await measure("after ANALYZE, with partial indexes (as shipped)")
        finally:
            await engine.dispose()
    return out


# ----------------------------------------------------------------------------- where the loop blocks


async def blocking_reads(seeded: Seeded, engine: AsyncEngine, probe: Any, repeats: int = 3) -> dict[str, Any]:
    """How long the two 500-row reads of a busy tick hold the loop: `IssueRepository.due` (ORM rows + Issue
    objects) and `OutboxRepository.claim` (500 cards as OutboxItems), with 500 issues due / 500 pending."""
    assert seeded.due is not None
    uow_factory = UnitOfWorkFactory(create_session_factory(engine))
    out: dict[str, Any] = {}
    await set_due(seeded.dsn, seeded.due, due_now=True)
    try:
        for label, batch in (("due(limit=500)", 500), ("due(limit=50)", 50)):
            times, blocks = [], []
            for _ in range(repeats):
                probe.reset()
                probe.phase = label
                started = time.perf_counter()
                async with uow_factory() as uow:
                    await uow.issues.due(T0, limit=batch)
                times.append((time.perf_counter() - started) * 1000)
                probe.phase = "idle"
                blocks.append(probe.max_ms)
            out[label] = {"median_ms": _median(times), "loop_block_median_ms": _median(blocks)}
        connection = await asyncpg.connect(seeded.dsn)
        try:
            await connection.execute(
                """INSERT INTO outbox (dedupe_key, war_room_id, tenant_id, service_url, kind, conversation_id, bot_id, payload,
                                       status, attempts, next_attempt_at, created_at)
                   SELECT 'bench-pending:' || o.id, o.war_room_id, o.tenant_id, o.service_url, o.kind,
                          o.conversation_id || ';bench', o.bot_id, o.payload, 'pending', 0, $1, $1
                   FROM outbox o WHERE o.kind = 'channel_post' ORDER BY o.id LIMIT 500""", T_STANDUP)
            times, blocks = [], []
            for _ in range(repeats):
                probe.reset()
                probe.phase = "claim(limit=500)"
                started = time.perf_counter()
                async with uow_factory() as uow:  # rolled back: nothing stays claimed
                    await uow.outbox.claim(T_STANDUP, limit=500, lease=timedelta(seconds=60))
                times.append((time.perf_counter() - started) * 1000)
                probe.phase = "idle"
                blocks.append(probe.max_ms)
            out["claim(limit=500)"] = {"median_ms": _median(times), "loop_block_median_ms": _median(blocks)}
        finally:
            await connection.execute("DELETE FROM outbox WHERE dedupe_key LIKE 'bench-pending:%'")
            await connection.close()
    finally:
        await set_due(seeded.dsn, seeded.due, due_now=False)
    return out


# ------------------------------------------------------------------------------- delivery slots


async def deliver_wait_outside_slot(seeded: Seeded, engine: AsyncEngine, make_scheduler: Any, http: Any,
                                    connector: Any, repeats: int) -> dict[str, Any]:
    """Delivery of the 500 due reminders as shipped (a send waits for its rate-limit slot while holding one
    of the `concurrency` send slots) against a naive prototype that waits first and then takes a send slot.
    Both record the planned send moment in the limiter, not the actual one: a send that starts late (queued
    for a slot) bunches up with the next ones, which the fake connector answers with 429s.
    The prototype replaces the private `Scheduler._send` on one instance; skipped if its signature changed."""
    import inspect

    from bot.scheduler import Scheduler

    expected = ["self", "item", "wait", "at", "in_flight", "report"]
    if list(inspect.signature(Scheduler._send).parameters) != expected if hasattr(Scheduler, "_send") else True:
        return {"skipped": "Scheduler._send is not (item, wait, at, in_flight, report) any more"}
    assert seeded.due is not None
    uow_factory = UnitOfWorkFactory(create_session_factory(engine))
    labels = ("shipped: wait inside the send slot", "naive prototype: wait, then take a send slot")
    results: dict[str, list[dict[str, Any]]] = {label: [] for label in labels}
    for _ in range(repeats):
        for label in labels:
            await set_due(seeded.dsn, seeded.due, due_now=True)
            await asyncio.sleep(1.2)
            await connector.reset(http)
            scheduler = make_scheduler(uow_factory, http)
            if label.startswith("naive prototype"):
                async def send_after_wait(item: Any, wait: timedelta, at: datetime, in_flight: asyncio.Semaphore, report: Any,
                                          _scheduler: Any = scheduler) -> None:
                    if wait > timedelta():
                        await _scheduler._sleep(wait.total_seconds())
                    async with in_flight:
                        outcome = await _scheduler._sender.deliver(item)
                        await _scheduler._record(item, outcome, at, report)

                scheduler._send = send_after_wait
            report = TickReport()
            await scheduler.plan_reminders(T0, report)
            started = time.perf_counter()
            await scheduler.deliver(T0, report)
            elapsed = (time.perf_counter() - started) * 1000
            stats = await connector.stats(http)
            results[label].append({"deliver_ms": elapsed, "sent": report.sent, "rescheduled": report.retried,
                                   "throttled_429": len(stats["throttled"])})
    await set_due(seeded.dsn, seeded.due, due_now=False)
    return {
        label: {
            "deliver_median_ms": _median([run["deliver_ms"] for run in runs]),
            "sent": runs[-1]["sent"], "rescheduled": runs[-1]["rescheduled"],
            "throttled_429": sum(run["throttled_429"] for run in runs),
        }
        for label, runs in results.items()
    }


# ------------------------------------------------------------------------------ reminder-state writes


async def reminder_state_writes(seeded: Seeded, repeats: int = 5) -> dict[str, Any]:
    """Writing the reminder state of the 500 due issues: into `issues` (as shipped: every update moves
    `next_due_at`, an indexed column, so it is never HOT and touches every index of the wide row, the GIN
    full-text index and the stored tsvector included) against a narrow side table with only the scheduler's
    columns, a primary key and the `next_due_at` index. Rolled back each time; alternating."""
    assert seeded.due is not None
    connection = await asyncpg.connect(seeded.dsn)
    timings: dict[str, list[float]] = {"issues (as shipped)": [], "narrow table issue_reminders (prototype)": []}
    try:
        await connection.execute(
            "CREATE TABLE bench_issue_reminders AS SELECT id, next_due_at, reminder_kind, reminder_seq, reminder_generation,"
            " snoozed_until, ack_escalated, resolve_escalated_for FROM issues")
        await connection.execute("ALTER TABLE bench_issue_reminders ADD PRIMARY KEY (id)")
        await connection.execute("CREATE INDEX ON bench_issue_reminders (next_due_at)")
        await connection.execute("VACUUM ANALYZE bench_issue_reminders")
        indexes = await connection.fetchval("SELECT count(*) FROM pg_indexes WHERE tablename = 'issues'")
        values = [(issue_id, T0 + timedelta(hours=1)) for issue_id in seeded.due.ids]
        for _ in range(repeats):
            for label, table in zip(timings, ("issues", "bench_issue_reminders")):
                transaction = connection.transaction()
                await transaction.start()
                try:
                    started = time.perf_counter()
                    await connection.executemany(
                        f"UPDATE {table} SET reminder_seq = reminder_seq + 1, next_due_at = $2 WHERE id = $1", values)
                    timings[label].append((time.perf_counter() - started) * 1000)
                finally:
                    await transaction.rollback()
    finally:
        await connection.execute("DROP TABLE IF EXISTS bench_issue_reminders")
        await connection.close()
    return {"indexes_on_issues": indexes, "rows": len(seeded.due.ids)} | {
        label: {"median_ms": _median(values), "min_ms": round(min(values), 2)} for label, values in timings.items()
    }


# ------------------------------------------------------------------------------------- stand-up load


async def standup_load(seeded: Seeded, engine: AsyncEngine, repeats: int = 5) -> dict[str, Any]:
    """The largest war room: every issue as domain objects (as `standup_summary` loads them) vs a narrow select."""
    room = seeded.largest_room
    session_factory = create_session_factory(engine)
    narrow_columns = [IssueRow.id, IssueRow.number, IssueRow.title, IssueRow.severity, IssueRow.status, IssueRow.area,
                      IssueRow.category, IssueRow.created_at, IssueRow.resolve_by, IssueRow.resolved_at, IssueRow.handled_by]
    full, narrow = [], []
    for _ in range(repeats + 1):
        async with session_factory() as session:
            started = time.perf_counter()
            await IssueRepository(session).all_with_status(room, frozenset(Status), limit=100_000)
            full.append((time.perf_counter() - started) * 1000)
        async with session_factory() as session:
            started = time.perf_counter()
            (await session.execute(select(*narrow_columns).where(IssueRow.war_room_id == room))).all()
            narrow.append((time.perf_counter() - started) * 1000)
    return {
        "war_room": room, "issues": seeded.room_sizes[room],
        "all_with_status (ORM rows + Issue objects) median ms": _median(full[1:]),
        "narrow Core select of 11 columns median ms": _median(narrow[1:]),
    }
