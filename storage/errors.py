"""Whether an error means the database is unavailable (the request may succeed later) rather than a bug."""

from __future__ import annotations

import asyncio

import asyncpg
import sqlalchemy.exc

# The database is down or out of connections: the request may succeed later (503), it is not a bug (500).
DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    # asyncpg's "connection was closed in the middle of operation" when the server goes away mid-request.
    sqlalchemy.exc.InternalError,
    sqlalchemy.exc.TimeoutError,
    # Raised by asyncpg itself while connecting ("the database system is shutting down").
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    ConnectionError,
    asyncio.TimeoutError,
)


def database_unavailable(error: BaseException) -> bool:
    """The database is down or went away mid-statement: worth a 503 (Teams retries), not a 500."""
    if isinstance(error, DATABASE_UNAVAILABLE):
        return True
    return isinstance(error, sqlalchemy.exc.DBAPIError) and bool(error.connection_invalidated)
