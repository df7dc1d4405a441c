"""Alembic environment: async engines, batch mode for SQLite, and a caller's connection when given.

Tests and `hypercare migrate` pass `config.attributes["connection"]` (a sync Connection from
`AsyncConnection.run_sync`) so the migration runs on their connection; the `alembic` command line
builds its own engine from HYPERCARE_DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import logging.config
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import context
from sqlalchemy.engine import Connection

from bot.config import Settings
from storage.db import create_engine
from storage.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata

# Full-text search structures made by hand in migration 6e4c5a8cf4ae (see storage/repositories/fulltext.py), not in the
# models: the SQLite FTS5 table with its shadow tables, PostgreSQL's generated tsvector columns and their
# GIN indexes. `alembic check` and autogenerate leave them alone.
_UNMODELLED_TABLE_PREFIX = "search_fts"
_UNMODELLED = {("column", "search_vector"), ("index", "ix_issues_search_vector"), ("index", "ix_runbooks_search_vector")}


def _include_name(name: str | None, type_: str, parent_names: object) -> bool:
    if type_ == "table" and name is not None and name.startswith(_UNMODELLED_TABLE_PREFIX):
        return False
    return (type_, name) not in _UNMODELLED


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=_include_name,
    )


@contextmanager
def _sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """SQLite's procedure for rebuilding a table, which batch mode does: foreign keys off, or dropping the old
    table deletes every row that refers to it (ON DELETE CASCADE); checked, committed and on again after."""
    if connection.dialect.name != "sqlite":
        yield
        return
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    if connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() != 0:
        # Inside a transaction the PRAGMA does nothing: migrating now could delete rows.
        raise RuntimeError("SQLite migrations must start on a connection that has written nothing yet")
    yield
    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if dangling:
        raise RuntimeError(f"the migration left rows that refer to nothing: {dangling[:5]}")
    connection.connection.dbapi_connection.commit()  # type: ignore[union-attr]  # the PRAGMA needs it
    connection.exec_driver_sql("PRAGMA foreign_keys=ON")


def _run_on(connection: Connection) -> None:
    _configure(connection)
    with _sqlite_foreign_keys_off(connection), context.begin_transaction():
        context.run_migrations()


def _database_url() -> str:
    return config.get_main_option("sqlalchemy.url") or Settings().database_url


async def _run_with_own_engine() -> None:
    engine = create_engine(_database_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_on)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=_database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=_database_url().startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
    else:
        asyncio.run(_run_with_own_engine())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
