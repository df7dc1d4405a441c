"""The benchmark's databases: a fresh SQLite file and a fresh PostgreSQL database per run, migrated with
`hypercare migrate`; the issues the Acknowledge and sign-off scenarios click; the counts that check every request did its
work."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import make_url

from storage.db import create_engine
from storage.models import ChartSnapshotRow, IssueRow, WarRoomRow

POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", os.environ.get("HYPERCARE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
)


def hypercare_binary() -> str:
    return str(Path(sys.executable).parent / "hypercare")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a child process: no HYPERCARE_* or Microsoft* from the caller's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYPERCARE_", "Microsoft"))}
    env.update(extra)
    return env


def migrate(url: str, cwd: Path) -> None:
    completed = subprocess.run(
        [hypercare_binary(), "migrate"], cwd=cwd, env=clean_env(HYPERCARE_DATABASE_URL=url), capture_output=True, text=True,
        timeout=300,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"hypercare migrate failed:\n{completed.stdout}\n{completed.stderr}")


@dataclass
class Database:
    kind: str  # "sqlite" | "postgres"
    url: str
    name: str = ""  # the PostgreSQL database to drop afterwards

    @property
    def label(self) -> str:
        return {"sqlite": "SQLite", "postgres": "PostgreSQL"}[self.kind]


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def sqlite_database(workdir: Path) -> Database:
    url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    migrate(url, workdir)
    return Database("sqlite", url)


async def _on_server(statement: str) -> None:
    """One statement on the PostgreSQL server (CREATE or DROP DATABASE), outside any transaction."""
    import asyncpg

    connection = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL), timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def postgres_database(workdir: Path) -> Database | str:
    """A fresh `bench_*` database, migrated; or why there is none."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_on_server(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # not running, refused, no permission: the PostgreSQL rows are skipped
        return f"PostgreSQL at {make_url(POSTGRES_URL).render_as_string()} is not usable: {error!r}"
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    database = Database("postgres", url, name)
    try:
        migrate(url, workdir)
    except Exception:
        drop(database)
        raise
    return database


def drop(database: Database) -> None:
    if database.kind == "postgres" and database.name:
        asyncio.run(_on_server(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)'))


@dataclass
class IssueCounts:
    issues: int
    acknowledged: int
    max_id: int
    confirmed: int  # resolutions signed off by someone (not closed by themselves)
    awaiting_confirmation: int


async def _counts(url: str) -> IssueCounts:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    select(
                        func.count(),
                        func.count(IssueRow.acknowledged_at),
                        func.coalesce(func.max(IssueRow.id), 0),
                        func.count(IssueRow.confirmed_by_id),
                        func.count(IssueRow.resolved_at).filter(IssueRow.confirmed_at.is_(None)),
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    return IssueCounts(issues=row[0], acknowledged=row[1], max_id=row[2], confirmed=row[3], awaiting_confirmation=row[4])


def counts(database: Database) -> IssueCounts:
    return asyncio.run(_counts(database.url))


async def _clone_issues(url: str, how_many: int, model: int | None) -> int:
    """Copy an issue the bot itself stored, `how_many` times (new number, new form id, version 1): `model`, or the first
    unacknowledged one.

    Bulk rows through the product's own table definition: creating thousands of issues through the bot
    would take as long as the benchmark itself. Returns the highest issue id afterwards.
    """
    table = IssueRow.__table__
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            which = IssueRow.id == model if model is not None else IssueRow.acknowledged_at.is_(None)
            original = (await connection.execute(select(table).where(which).order_by(IssueRow.id).limit(1))).mappings().first()
            if original is None:
                raise RuntimeError("no unacknowledged issue to copy: the Action.Execute submit scenario stored none")
            room = original["war_room_id"]
            last = (await connection.execute(select(func.max(IssueRow.number)).where(IssueRow.war_room_id == room))).scalar_one()
            tag = uuid.uuid4().hex[:10]
            base = {key: value for key, value in original.items() if key not in ("id",)}
            rows = [
                base | {"number": last + k, "source_form_id": f"bench-seed-{tag}-{k}", "version": 1}
                for k in range(1, how_many + 1)
            ]
            for start in range(0, len(rows), 2000):
                await connection.execute(insert(table), rows[start : start + 2000])
            await connection.execute(update(WarRoomRow).where(WarRoomRow.id == room).values(last_issue_number=last + how_many))
            return (await connection.execute(select(func.max(IssueRow.id)))).scalar_one()
    finally:
        await engine.dispose()


async def _latest_chart(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(select(func.max(ChartSnapshotRow.id)))).scalar_one()
    finally:
        await engine.dispose()


def latest_chart(database: Database) -> int:
    """The chart the last card with one was drawn with (a stand-up just posted)."""
    return asyncio.run(_latest_chart(database.url))


def clone_issues(database: Database, how_many: int, *, model: int | None = None) -> int:
    return asyncio.run(_clone_issues(database.url, how_many, model))
