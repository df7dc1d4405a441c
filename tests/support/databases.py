"""Real SQLite and PostgreSQL databases for tests, their schema built by `alembic upgrade head`."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import delete, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import migrate
from storage.db import create_engine
from storage.models import Base

POSTGRES_URL = os.environ.get("HYPERCARE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def postgres_answers() -> bool:
    try:
        connection = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


async def require_postgres() -> None:
    """PostgreSQL tests never skip in CI; elsewhere they skip, saying why, when the server is down."""
    if await postgres_answers():
        return
    message = f"PostgreSQL does not answer at {make_url(POSTGRES_URL).render_as_string()}"
    if IN_CI:
        pytest.fail(message + " (CI requires it)")
    pytest.skip(message)


@asynccontextmanager
async def fresh_database(backend: str, tmp_dir: Path, *, migrated: bool = True) -> AsyncIterator[str]:
    """A new, empty database migrated to head (or not at all: `migrated=False`); dropped afterwards."""
    if backend == "sqlite":
        path = tmp_dir / f"hypercare-{uuid.uuid4().hex[:8]}.db"
        url = f"sqlite+aiosqlite:///{path}"
        if migrated:
            await _upgrade(url)
        else:
            path.touch()
        yield url
        return
    await require_postgres()
    name = f"hypercare_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        if migrated:
            await _upgrade(url)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _upgrade(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


async def empty_all_tables(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                await connection.execute(delete(table))
    finally:
        await engine.dispose()


@contextmanager
def database_blip(engine: AsyncEngine, statement: str) -> Iterator[None]:
    """The next statement of `engine` that starts with `statement` fails, once, as the driver fails when the database
    goes away mid-request (SQLAlchemy wraps it in the OperationalError the bot answers with a 503)."""
    failed = []

    def fail(cursor: Any, sql: str, parameters: Any, context: Any) -> None:
        if not failed and sql.lstrip().upper().startswith(statement.upper()):
            failed.append(sql)
            raise context.dialect.loaded_dbapi.OperationalError("terminating connection due to administrator command")

    event.listen(engine.sync_engine, "do_execute", fail)
    try:
        yield
    finally:
        event.remove(engine.sync_engine, "do_execute", fail)
    assert failed, f"no statement starting with {statement!r} ran"
