"""Engines: SQLite tuned for a server process, PostgreSQL for real deployments and several replicas."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.dialects import registry
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine, AsyncSession


registry.register("sqlite.inloop", "storage.sqlite_inloop", "SQLiteDialect_inloop")


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    if is_sqlite(url):
        return _create_sqlite_engine(url)
    # No pre-ping: it cost three round trips (BEGIN, a statement, ROLLBACK) at every checkout, about a third of a
    # turn's. A connection that died with the server fails its first statement instead: the turn answers 503 (Teams
    # retries it) and SQLAlchemy, seeing a disconnect, discards every pooled connection opened before it.
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size)


def _create_sqlite_engine(url: str) -> AsyncEngine:
    # Statements run on the event loop, not in aiosqlite's thread (storage/sqlite_inloop.py).
    parsed = make_url(url)
    if parsed.drivername == "sqlite+aiosqlite":
        parsed = parsed.set(drivername="sqlite+inloop")
    # One connection for the whole process: SQLite allows one writer at a time, and queuing
    # for the pool instead of for the file lock means no request ever sees "database is locked".
    engine = create_async_engine(parsed, pool_size=1, max_overflow=0, pool_timeout=60)

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets `hypercare migrate` or a reader in another process work beside the bot;
        # the busy timeout covers those other processes.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
