"""What several repositories share: the dialect's INSERT, passing over locked rows, a person from two columns."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.model import Person


def dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def dialect_insert(session: AsyncSession, table: Any) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT on both databases we support."""
    return (postgresql.insert if dialect(session) == "postgresql" else sqlite.insert)(table)


def skip_locked(statement: Any) -> Any:
    """Rows another replica is working on are passed over (PostgreSQL); SQLite has one writer anyway."""
    return statement.with_for_update(skip_locked=True)


def optional_person(aad_object_id: str | None, name: str | None) -> Person | None:
    return Person(aad_object_id=aad_object_id, name=name) if name else None
