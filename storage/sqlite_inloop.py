"""SQLite for the async engine without a thread hop per statement.

aiosqlite runs every cursor call in a worker thread: a turn of the bot made some 25 round trips
through a queue, and that wait, not SQLite, was most of a request's time. A local SQLite statement
takes microseconds, so this dialect runs pysqlite directly on the event loop (SQLAlchemy's async
layer calls a driver that never awaits synchronously). SQLite here serves one process; PostgreSQL is
the database for several replicas.
"""

from __future__ import annotations

import sqlite3
from types import SimpleNamespace
from typing import Any

from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL
from sqlalchemy.pool import AsyncAdaptedQueuePool, Pool
from sqlalchemy.util import await_only


async def _ready() -> None:
    return None


class _Cursor:
    """A pysqlite cursor that also answers what SQLAlchemy's async results ask of one."""

    __slots__ = ("_cursor",)
    server_side = False

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        object.__setattr__(self, "_cursor", cursor)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._cursor, name, value)

    def __iter__(self) -> Any:
        return iter(self._cursor)

    def execute(self, *args: Any) -> Any:
        # SQLAlchemy's AsyncConnection.execute insists the driver awaited at least once (to catch sync
        # drivers used by mistake): one switch to the event loop, which returns at once, satisfies it.
        await_only(_ready())
        return self._cursor.execute(*args)

    def executemany(self, *args: Any) -> Any:
        await_only(_ready())
        return self._cursor.executemany(*args)

    async def _async_soft_close(self) -> None:
        return None


class _Connection:
    __slots__ = ("_connection",)

    def __init__(self, connection: sqlite3.Connection) -> None:
        object.__setattr__(self, "_connection", connection)

    def cursor(self, *args: Any, **kwargs: Any) -> _Cursor:
        kwargs.pop("server_side", None)
        return _Cursor(self._connection.cursor(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._connection, name, value)


def _dbapi() -> SimpleNamespace:
    module = SimpleNamespace(**{name: getattr(sqlite3, name) for name in dir(sqlite3) if not name.startswith("_")})
    module.connect = lambda *args, **kwargs: _Connection(sqlite3.connect(*args, **kwargs))
    return module


class SQLiteDialect_inloop(SQLiteDialect_pysqlite):
    driver = "inloop"
    is_async = True
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> Any:
        return _dbapi()

    @classmethod
    def get_pool_class(cls, url: URL) -> type[Pool]:
        return AsyncAdaptedQueuePool

    def get_driver_connection(self, connection: Any) -> Any:
        return connection
