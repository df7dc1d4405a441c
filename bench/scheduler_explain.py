"""The SQL the scheduler's repositories really emit, and PostgreSQL's plans for it.

`capture` records every statement (text and parameters, as SQLAlchemy hands them to asyncpg) while an
action runs; `explain` runs `EXPLAIN (ANALYZE, BUFFERS)` for one of them inside a transaction that is
rolled back (the claim is an UPDATE), as a custom plan (the parameter values known) and as a generic plan
(what a prepared statement may switch to after five executions: asyncpg prepares and caches every statement).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

_NODE = re.compile(
    r"(?P<node>Seq Scan|Parallel Seq Scan|Index Scan(?: Backward)?|Index Only Scan(?: Backward)?|Bitmap Index Scan|Bitmap Heap Scan)"
    r"(?: using (?P<index>\S+))? on (?P<target>\S+)"
)


@dataclass
class Captured:
    sql: str
    params: tuple[Any, ...]


@dataclass
class Plan:
    name: str
    sql: str
    mode: str  # "custom" or "generic"
    lines: list[str]
    scans: list[dict[str, str | None]] = field(default_factory=list)
    seq_scans_on_large_tables: list[str] = field(default_factory=list)
    execution_ms: float | None = None

    def uses_index(self, index: str) -> bool:
        return any(scan["index"] == index or scan["target"] == index for scan in self.scans)


@contextmanager
def capture(engine: AsyncEngine) -> Iterator[list[Captured]]:
    """Every statement the engine sends while the block runs."""
    seen: list[Captured] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, executemany: bool) -> None:
        # An executemany gives one parameter set per row; a batch SQLAlchemy folds into one multi-row INSERT ("insertmanyvalues")
        # comes flat, every row's values in one sequence, and is explained whole.
        rows = executemany and parameters and isinstance(parameters[0], list | tuple | dict)
        params = parameters[0] if rows else parameters
        seen.append(Captured(statement, tuple(params or ())))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def statements_of(engine: AsyncEngine, action: Callable[[], Awaitable[Any]]) -> list[Captured]:
    with capture(engine) as seen:
        await action()
    return list(seen)


def pick(statements: list[Captured], *needles: str) -> Captured:
    for statement in statements:
        if all(needle in statement.sql for needle in needles):
            return statement
    raise LookupError(f"no captured statement contains {needles!r}: {[s.sql[:80] for s in statements]}")


def literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'"
    text = str(value).replace("'", "''")
    return f"'{text}'"


async def explain(dsn: str, name: str, statement: Captured, *, generic: bool = False, analyze: bool = True,
                  large_tables: frozenset[str] = frozenset()) -> Plan:
    """The plan of one captured statement; nothing it writes is kept."""
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        transaction = connection.transaction()
        await transaction.start()
        try:
            await connection.execute(f"SET LOCAL plan_cache_mode = {'force_generic_plan' if generic else 'force_custom_plan'}")
            await connection.execute(f"PREPARE bench_explained AS {statement.sql}")
            arguments = ", ".join(literal(value) for value in statement.params)
            options = "ANALYZE, BUFFERS" if analyze else "COSTS"
            execute = f"EXECUTE bench_explained({arguments})" if statement.params else "EXECUTE bench_explained"
            rows = await connection.fetch(f"EXPLAIN ({options}) {execute}")
        finally:
            await transaction.rollback()
            await connection.execute("DEALLOCATE bench_explained")
    finally:
        await connection.close()
    lines = [row[0] for row in rows]
    plan = Plan(name=name, sql=statement.sql, mode="generic" if generic else "custom", lines=lines)
    for line in lines:
        for match in _NODE.finditer(line):
            scan = {"node": match["node"], "index": match["index"], "target": match["target"]}
            plan.scans.append(scan)
            if "Seq Scan" in scan["node"] and scan["target"] in large_tables:
                plan.seq_scans_on_large_tables.append(scan["target"] or "")
        if line.startswith("Execution Time:"):
            plan.execution_ms = float(line.split()[2])
    return plan


def trimmed(plan: Plan, *, width: int = 150) -> list[str]:
    """The plan without the planner's own lines ("Planning:", its buffers, its time), long lines cut."""
    keep, in_planning = [], False
    for line in plan.lines:
        if line.startswith("Planning"):
            in_planning = True
            continue
        if in_planning and line.startswith(" "):
            continue
        in_planning = False
        keep.append(line if len(line) <= width else line[: width - 1] + "…")
    return keep


def short_sql(sql: str, width: int = 160) -> str:
    flat = " ".join(sql.split())
    flat = re.sub(r"SELECT (\w+)\.id, \1\.\w+, .*? FROM", r"SELECT \1.* FROM", flat)
    return flat if len(flat) <= width else flat[: width - 1] + "…"
