"""Tables. Every timestamp is `DateTime(timezone=True)` and holds aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC in and out on every database (SQLite itself keeps no zone and returns naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given; this application stores aware UTC only")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime()}


class WarRoomRow(Base):
    """A Teams team (all its channels), or a group/personal chat outside a team."""

    __tablename__ = "war_rooms"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # "team:<team id>" or "chat:<conversation id>": what makes two conversations the same war room.
    key: Mapped[str] = mapped_column(String(300), unique=True)
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    team_id: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200))
    last_issue_number: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]


class ConversationRow(Base):
    """Where the bot can speak later without being spoken to (proactive messages)."""

    __tablename__ = "conversations"

    conversation_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    war_room_id: Mapped[int] = mapped_column(ForeignKey("war_rooms.id", ondelete="CASCADE"), index=True)
    conversation_type: Mapped[str | None] = mapped_column(String(30))
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    team_id: Mapped[str | None] = mapped_column(String(200))
    channel_id: Mapped[str | None] = mapped_column(String(200))
    service_url: Mapped[str] = mapped_column(String(500))
    channel: Mapped[str] = mapped_column(String(50))
    bot_id: Mapped[str] = mapped_column(String(200))
    bot_name: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime]


class ProcessedActivityRow(Base):
    """Activity ids already handled, so a re-delivery by Teams is processed once."""

    __tablename__ = "processed_activities"

    conversation_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)


class IssueRow(Base):
    __tablename__ = "issues"
    __table_args__ = (
        UniqueConstraint("war_room_id", "number"),
        Index("ix_issues_war_room_status", "war_room_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    war_room_id: Mapped[int] = mapped_column(ForeignKey("war_rooms.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    severity: Mapped[int] = mapped_column(SmallInteger)
    category: Mapped[str | None] = mapped_column(String(30))
    area: Mapped[str | None] = mapped_column(String(30))
    company: Mapped[str | None] = mapped_column(String(20))
    affected_users: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    reporter_aad_id: Mapped[str | None] = mapped_column(String(64))
    reporter_name: Mapped[str] = mapped_column(String(200))
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    team_id: Mapped[str | None] = mapped_column(String(200))
    channel_id: Mapped[str | None] = mapped_column(String(200))
    conversation_id: Mapped[str] = mapped_column(String(300))
    # The message that shows this issue's card, so it can be updated in place later.
    card_activity_id: Mapped[str | None] = mapped_column(String(200))
    # The form the issue came from: a second submit of the same form finds the issue instead of a twin.
    source_form_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolve_by: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)
