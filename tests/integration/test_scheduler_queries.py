"""The scheduler's due-queries are answered from their indexes, on both databases.

A few thousand rows are seeded the way a running deployment holds them (most issues closed, open ones
due later, most war rooms' stand-ups tomorrow, the outbox mostly sent, a handful of each due now),
the statistics are gathered, and the statements the repositories really emit (captured from the engine)
are explained. The assertions are about plan nodes, never timings; the planner is left alone (no
`enable_seqscan = off`): an index that is not used by itself on this data is a failing test.

PostgreSQL: the custom plan (parameter values known, what the plan cache keeps while it is the cheaper
one) must scan the intended index (Index Scan, Index Only Scan or Bitmap Index Scan) and must not Seq Scan
the table. SQLite: `EXPLAIN QUERY PLAN` must search the table `USING INDEX`/`USING COVERING INDEX`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine, create_session_factory
from storage.models import IssueRow, OutboxRow, WarRoomRow
from storage.uow import SqlUnitOfWork, UnitOfWorkFactory
from tests.support.databases import fresh_database

NOW = datetime(2026, 12, 16, 10, 30, tzinfo=UTC)
WAR_ROOMS = 2_000
ISSUES = 5_000
OUTBOX = 5_000
DUE = 10  # of each kind

# (what, the repository call, the table, the index that must answer it)
QUERIES: list[tuple[str, Callable[[SqlUnitOfWork], Awaitable[Any]], str, str]] = [
    ("issues due", lambda uow: uow.issues.due(NOW, limit=500), "issues", "ix_issues_next_due_at"),
    ("stand-ups due", lambda uow: uow.war_rooms.due_standups(NOW, limit=500), "war_rooms", "ix_war_rooms_next_standup_at"),
    ("outbox claim", lambda uow: uow.outbox.claim(NOW, limit=500, lease=timedelta(seconds=60)), "outbox", "ix_outbox_status_next_attempt_at"),
]
INDEX_SCANS = ("Index Scan", "Index Only Scan", "Bitmap Index Scan")
_PG_NODE = re.compile(
    r"(?P<node>Parallel Seq Scan|Seq Scan|Index Only Scan|Index Scan|Bitmap Index Scan)(?: Backward)?(?: using (?P<index>\S+))? on (?P<target>\S+)"
)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AsyncEngine]:
    async with fresh_database(request.param, tmp_path_factory.mktemp("plans")) as url:
        engine = create_engine(url)
        try:
            await _seed(engine)
            yield engine
        finally:
            await engine.dispose()


async def _seed(engine: AsyncEngine, *, analyze: bool | None = None) -> None:
    """Bulk rows (multi-row INSERTs), then the statistics the database would have in a deployment.

    PostgreSQL: ANALYZE, what autovacuum does on its own. SQLite: none by default, as the bot ships (it never
    runs ANALYZE or `PRAGMA optimize`, so SQLite plans from its built-in guesses); `analyze=True` forces them.
    """
    created = NOW - timedelta(days=28)
    war_rooms = [
        {
            "id": room, "key": f"tenant/team:{room}", "tenant_id": "tenant", "last_issue_number": 0, "created_at": created,
            "home_conversation_id": f"19:room-{room}@thread.tacv2", "home_channel_id": f"19:room-{room}@thread.tacv2",
            "home_service_url": "https://smba.example/emea/", "bot_id": "28:bot",
            # A handful due now; the others tomorrow morning, spread over the hours.
            "next_standup_at": NOW - timedelta(minutes=1) if room <= DUE else NOW + timedelta(hours=20, minutes=room % 240),
        }
        for room in range(1, WAR_ROOMS + 1)
    ]
    issues = []
    for number in range(1, ISSUES + 1):
        is_open = number % 10 == 0
        if number <= DUE * 10 and is_open:
            due_at: datetime | None = NOW - timedelta(minutes=number)
        elif is_open:
            due_at = NOW + timedelta(minutes=5 + number % 2880)
        else:
            due_at = None  # resolved, deferred, duplicate: never looked at again
        issues.append({
            "id": number, "war_room_id": 1 + number % WAR_ROOMS, "number": number, "title": f"Posting fails {number}",
            "description": "Vendor invoice posting fails with a closed period.", "severity": 1 + number % 4,
            "status": "in_progress" if is_open else "resolved", "reporter_name": "Priya Shah",
            "conversation_id": f"19:room-{1 + number % WAR_ROOMS}@thread.tacv2;messageid={number}",
            "source_form_id": f"form-{number}", "created_at": created, "updated_at": created, "version": 1,
            "next_due_at": due_at,
        })
    outbox = []
    for row in range(1, OUTBOX + 1):
        pending = row > OUTBOX - DUE
        at = NOW - timedelta(minutes=OUTBOX - row)
        outbox.append({
            "id": row, "dedupe_key": f"reminder:{row}:0:open:1", "war_room_id": 1 + row % WAR_ROOMS, "tenant_id": "tenant",
            "service_url": "https://smba.example/emea/", "kind": "message",
            "conversation_id": f"19:room-{1 + row % WAR_ROOMS}@thread.tacv2;messageid={row}", "bot_id": "28:bot",
            "payload": {"card": {"type": "AdaptiveCard", "body": [{"type": "TextBlock", "text": "Reminder " * 20}]}},
            "status": "pending" if pending else "sent", "attempts": 0 if pending else 1, "next_attempt_at": at,
            "created_at": at, "sent_at": None if pending else at + timedelta(seconds=1),
        })
    async with engine.begin() as connection:
        await connection.execute(insert(WarRoomRow), war_rooms)
        await connection.execute(insert(IssueRow), issues)
        await connection.execute(insert(OutboxRow), outbox)
    if analyze if analyze is not None else engine.dialect.name == "postgresql":
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE"))


async def _captured(engine: AsyncEngine, call: Callable[[SqlUnitOfWork], Awaitable[Any]], table: str) -> tuple[str, tuple[Any, ...]]:
    """The statement the repository sends for `table`, with its parameters; the unit of work is rolled back."""
    seen: list[tuple[str, tuple[Any, ...]]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        seen.append((statement, tuple(parameters or ())))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with UnitOfWorkFactory(create_session_factory(engine))() as uow:
            await call(uow)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    mine = [(sql, params) for sql, params in seen if re.search(rf"\b(FROM|UPDATE) {table}\b", sql)]
    assert mine, f"no statement on {table} captured: {seen}"
    return mine[0]


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


async def _postgres_plan(
    engine: AsyncEngine, sql: str, params: tuple[Any, ...], *, plan_cache_mode: str = "force_custom_plan"
) -> list[str]:
    """EXPLAIN (ANALYZE) of the custom plan (or the generic one), in a transaction that is rolled back (the claim is an UPDATE)."""
    dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        transaction = connection.transaction()
        await transaction.start()
        try:
            await connection.execute(f"SET LOCAL plan_cache_mode = {plan_cache_mode}")
            await connection.execute(f"PREPARE due_query AS {sql}")
            arguments = ", ".join(_literal(value) for value in params)
            rows = await connection.fetch(f"EXPLAIN (ANALYZE, COSTS OFF) EXECUTE due_query({arguments})")
        finally:
            await transaction.rollback()
    finally:
        await connection.close()
    return [row[0] for row in rows]


async def _sqlite_plan(engine: AsyncEngine, sql: str, params: tuple[Any, ...]) -> list[str]:
    async with engine.connect() as connection:
        rows = (await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)).all()
    return [row[-1] for row in rows]


async def _sqlite_full_scans(engine: AsyncEngine, plan: list[str], table: str) -> list[str]:
    """Plan lines that visit every row of `table`: `SCAN table`, also in an index's order (`SCAN table USING
    INDEX x` reads the whole index), unless that index is partial (it holds only the rows asked for)."""
    full = []
    async with engine.connect() as connection:
        for line in plan:
            match = re.match(rf"SCAN {table}\b(?: AS \w+)?(?: USING (?:COVERING )?INDEX (\w+))?", line)
            if not match:
                continue
            index = match.group(1)
            definition = index and (await connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (index,))).scalar()
            if not (definition and " WHERE " in definition.upper()):
                full.append(line)
    return full


@pytest.mark.parametrize(("what", "call", "table", "index"), QUERIES, ids=[query[0] for query in QUERIES])
async def test_due_query_is_answered_from_its_index(
    seeded: AsyncEngine, what: str, call: Callable[[SqlUnitOfWork], Awaitable[Any]], table: str, index: str
) -> None:
    sql, params = await _captured(seeded, call, table)
    if seeded.dialect.name == "postgresql":
        plan = await _postgres_plan(seeded, sql, params)
        nodes = [match.groupdict() for line in plan for match in _PG_NODE.finditer(line)]
        on_index = [node for node in nodes if node["node"] in INDEX_SCANS and index in (node["index"], node["target"])]
        seq_scans = [node for node in nodes if "Seq Scan" in node["node"] and node["target"] == table]
        shown = "\n".join(plan)
        assert on_index, f"{what}: no index scan on {index}:\n{shown}"
        assert not seq_scans, f"{what}: Seq Scan on {table}:\n{shown}"
    else:
        plan = await _sqlite_plan(seeded, sql, params)
        shown = "\n".join(plan)
        assert any(re.search(rf"\b{table}\b.* USING (COVERING )?INDEX {index}\b", line) for line in plan), (
            f"{what}: {table} not searched with {index}:\n{shown}"
        )
        assert not await _sqlite_full_scans(seeded, plan, table), f"{what}: full scan of {table}:\n{shown}"


async def test_the_claim_reads_only_pending_messages_by_their_index(seeded: AsyncEngine) -> None:
    """The "one per conversation, oldest first" queue heads are found among pending rows only, by index."""
    sql, params = await _captured(seeded, QUERIES[2][1], "outbox")
    if seeded.dialect.name == "postgresql":
        plan = await _postgres_plan(seeded, sql, params)
        assert not any("Seq Scan on outbox" in line for line in plan), "\n".join(plan)
    else:
        plan = await _sqlite_plan(seeded, sql, params)
        assert any("USING INDEX ix_outbox_status_next_attempt_at" in line or
                   "USING COVERING INDEX ix_outbox_status_next_attempt_at" in line for line in plan), "\n".join(plan)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def test_the_claim_keeps_its_index_once_analyzed(backend: str, tmp_path: Path) -> None:
    """With statistics the claim must still reach the pending rows by an index, never read the whole outbox.

    SQLite (after `PRAGMA optimize` or an operator's ANALYZE 'pending' looks like half the outbox) reads the
    partial indexes on pending rows. PostgreSQL in its generic plan too, the one its plan cache may switch to,
    which knows the status only because it is a literal.
    """
    async with fresh_database(backend, tmp_path) as url:
        engine = create_engine(url)
        try:
            await _seed(engine, analyze=True)
            sql, params = await _captured(engine, QUERIES[2][1], "outbox")
            if backend == "postgresql":
                plan = [line for mode in ("force_custom_plan", "force_generic_plan")
                        for line in [f"-- {mode}", *await _postgres_plan(engine, sql, params, plan_cache_mode=mode)]]
                full_scans = [line for line in plan if re.search(r"Seq Scan on outbox\b", line)]
            else:
                plan = await _sqlite_plan(engine, sql, params)
                full_scans = await _sqlite_full_scans(engine, plan, "outbox")
        finally:
            await engine.dispose()
    assert not full_scans, "\n".join(plan)
