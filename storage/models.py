"""Tables. Every timestamp is `DateTime(timezone=True)` and holds aware UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    JSON,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
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
    # WarRoomSettings as JSON; NULL means the defaults.
    settings: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # OnCall as JSON.
    oncall: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Where stand-ups go: the channel (new posts) or chat the war room was first used in.
    home_conversation_id: Mapped[str | None] = mapped_column(String(300))
    home_channel_id: Mapped[str | None] = mapped_column(String(200))
    home_service_url: Mapped[str | None] = mapped_column(String(500))
    bot_id: Mapped[str | None] = mapped_column(String(200))
    next_standup_at: Mapped[datetime | None] = mapped_column(index=True)
    last_standup_at: Mapped[datetime | None]
    # Leadership's sign-off that the exit criteria are met: the war room takes no new hypercare issues.
    signed_off_at: Mapped[datetime | None]
    signed_off_by_id: Mapped[str | None] = mapped_column(String(64))
    signed_off_by_name: Mapped[str | None] = mapped_column(String(200))
    # bot.domain.window.WarRoomKind: team, group_chat or personal_chat (which of them hold stand-ups).
    kind: Mapped[str] = mapped_column(String(20), server_default="team")
    # Told once (bot.domain.standup.standup_notices): the planned end whose overrun leadership was @mentioned about,
    # and when leadership was told the exit criteria pass.
    overrun_told_for: Mapped[date | None] = mapped_column(Date)
    ready_told_at: Mapped[datetime | None]
    # When the welcome card was posted: set in the transaction that decides to post it, so it is posted once.
    welcomed_at: Mapped[datetime | None]


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
    """Incoming activities claimed for an answer, so that a re-delivery by Teams is answered once.

    A claim is finished (`done_at`) once the answer was delivered or queued, and deleted when answering failed;
    one left unfinished for longer than a lease belonged to a process that died, and may be taken again.
    """

    __tablename__ = "processed_activities"

    conversation_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    # When the claim was taken (by the first delivery, or by the re-delivery that took over a dead claim).
    received_at: Mapped[datetime] = mapped_column(index=True)
    done_at: Mapped[datetime | None]


class IssueRow(Base):
    __tablename__ = "issues"
    __table_args__ = (
        UniqueConstraint("war_room_id", "number"),
        # Per war room: the id comes from the client, so another war room's form id must find nothing here.
        UniqueConstraint("war_room_id", "source_form_id"),
        Index("ix_issues_war_room_status", "war_room_id", "status"),
        Index("ix_issues_conversation_id", "conversation_id"),
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
    source_form_id: Mapped[str] = mapped_column(String(64))
    source_url: Mapped[str | None] = mapped_column(String(1000))
    # Dynamics 365 details confirmed on the form: the environment and the document or voucher numbers.
    environment: Mapped[str | None] = mapped_column(String(20))
    documents: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolve_by: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[str | None] = mapped_column(String(64))
    acknowledged_by_name: Mapped[str | None] = mapped_column(String(200))
    assignee_id: Mapped[str | None] = mapped_column(String(64))
    assignee_name: Mapped[str | None] = mapped_column(String(200))
    latest_update_text: Mapped[str | None] = mapped_column(Text)
    latest_update_by_id: Mapped[str | None] = mapped_column(String(64))
    latest_update_by_name: Mapped[str | None] = mapped_column(String(200))
    latest_update_at: Mapped[datetime | None]
    resolution_type: Mapped[str | None] = mapped_column(String(30))
    resolution_notes: Mapped[str | None] = mapped_column(Text)
    handled_by: Mapped[str | None] = mapped_column(String(20))
    resolved_by_id: Mapped[str | None] = mapped_column(String(64))
    resolved_by_name: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None]
    save_as_runbook: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    runbook_title: Mapped[str | None] = mapped_column(String(200))
    # Signing off the resolution: when an unconfirmed one closes by itself (NULL once closed), and who confirmed it when
    # (confirmed_at without a name: it closed by itself).
    close_by: Mapped[datetime | None] = mapped_column(index=True)
    confirmed_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[str | None] = mapped_column(String(64))
    confirmed_by_name: Mapped[str | None] = mapped_column(String(200))
    duplicate_of: Mapped[int | None] = mapped_column(Integer)
    # When the scheduler must look at this issue next (a reminder or an escalation); NULL: never.
    next_due_at: Mapped[datetime | None] = mapped_column(index=True)
    reminder_kind: Mapped[str | None] = mapped_column(String(20))
    reminder_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reminder_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    snoozed_until: Mapped[datetime | None]
    ack_escalated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    resolve_escalated_for: Mapped[datetime | None]
    # Held while the war room is signed off (next_due_at NULL); a withdrawal of the sign-off makes them due again.
    reminders_paused: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # Escalated to the partner by the support team (the escalation rate); to NULL: the partner team, nobody on call.
    escalated_at: Mapped[datetime | None]
    escalated_by_id: Mapped[str | None] = mapped_column(String(64))
    escalated_by_name: Mapped[str | None] = mapped_column(String(200))
    escalation_reason: Mapped[str | None] = mapped_column(Text)
    escalated_to_id: Mapped[str | None] = mapped_column(String(64))
    escalated_to_name: Mapped[str | None] = mapped_column(String(200))
    # Its priority as agreed at a stand-up ("Needs a decision"): keep, defer or severity; cleared by a reopening.
    decision: Mapped[str | None] = mapped_column(String(20))
    decided_by_id: Mapped[str | None] = mapped_column(String(64))
    decided_by_name: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    decided_standup_on: Mapped[date | None] = mapped_column(Date)


class IssueFollowerRow(Base):
    """People told when an issue is resolved besides its reporter: "me too", and reporters of its duplicates."""

    __tablename__ = "issue_followers"
    __table_args__ = (UniqueConstraint("issue_id", "person_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    # The AAD object id, or the name for someone Teams gave no id for.
    person_key: Mapped[str] = mapped_column(String(200))
    aad_object_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime]


class IssueEventRow(Base):
    """The timeline of an issue: every change, who, when, from what to what, and why."""

    __tablename__ = "issue_events"
    __table_args__ = (Index("ix_issue_events_issue_version", "issue_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    war_room_id: Mapped[int] = mapped_column(ForeignKey("war_rooms.id", ondelete="CASCADE"), index=True)
    # The issue version this change produced; a card rendered from an older one is stale.
    version: Mapped[int] = mapped_column(Integer)
    verb: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(200))
    from_value: Mapped[str | None] = mapped_column(String(200))
    to_value: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]


# The rows the outbox claim reads. Sent and failed rows are nearly all of the outbox and never read again
# by it, so the claim's indexes hold only pending rows: whatever the planner's statistics say about the
# status column, the claim cannot end up reading the whole outbox.
_PENDING = text("status = 'pending'")


class OutboxRow(Base):
    """A message the bot speaks first (reminder, escalation, stand-up), kept until it is delivered."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbox_conversation_status_id", "conversation_id", "status", "id"),
        Index("ix_outbox_pending_next_attempt_at", "next_attempt_at", "id", sqlite_where=_PENDING, postgresql_where=_PENDING),
        Index("ix_outbox_pending_conversation_id", "conversation_id", "id", sqlite_where=_PENDING, postgresql_where=_PENDING),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Unique: the same reminder or stand-up is enqueued once however many ticks or replicas see it due.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    war_room_id: Mapped[int] = mapped_column(ForeignKey("war_rooms.id", ondelete="CASCADE"))
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    service_url: Mapped[str] = mapped_column(String(500))
    # "message": into this conversation or thread; "channel_post": a new thread in the channel `conversation_id`.
    kind: Mapped[str] = mapped_column(String(20))
    conversation_id: Mapped[str] = mapped_column(String(300))
    bot_id: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10))  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    # A worker holds a row while sending it; after this, another may take it (the at-least-once window).
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    sent_activity_id: Mapped[str | None] = mapped_column(String(300))
    last_error: Mapped[str | None] = mapped_column(Text)


class WarRoomEventRow(Base):
    """The phase's own timeline: set up, extended, signed off, sign-off withdrawn."""

    __tablename__ = "war_room_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    war_room_id: Mapped[int] = mapped_column(ForeignKey("war_rooms.id", ondelete="CASCADE"), index=True)
    verb: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(200))
    from_value: Mapped[str | None] = mapped_column(String(200))
    to_value: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]


class RunbookRow(Base):
    """A fix written down so the support team can apply it again without the partner."""

    __tablename__ = "runbooks"
    # A unique index, not a constraint: SQLite adds it without rebuilding the table (and its search triggers).
    __table_args__ = (Index("uq_runbooks_war_room_id_source_form_id", "war_room_id", "source_form_id", unique=True),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    war_room_id: Mapped[int] = mapped_column(ForeignKey("war_rooms.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    symptoms: Mapped[str] = mapped_column(Text)
    steps: Mapped[str] = mapped_column(Text)
    area: Mapped[str | None] = mapped_column(String(30))
    category: Mapped[str | None] = mapped_column(String(30))
    owner_id: Mapped[str | None] = mapped_column(String(64))
    owner_name: Mapped[str] = mapped_column(String(200))
    # The `runbook new` form it was written in (a second submit finds it); NULL when saved from a resolved issue.
    source_form_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RunbookIssueRow(Base):
    """Which issues a runbook was written from or applies to."""

    __tablename__ = "runbook_issues"

    runbook_id: Mapped[int] = mapped_column(ForeignKey("runbooks.id", ondelete="CASCADE"), primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True, index=True)


class WarRoomRoleRow(Base):
    __tablename__ = "war_room_roles"

    war_room_id: Mapped[int] = mapped_column(ForeignKey("war_rooms.id", ondelete="CASCADE"), primary_key=True)
    aad_object_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    granted_by_name: Mapped[str] = mapped_column(String(200))
    granted_at: Mapped[datetime]


class ChartSnapshotRow(Base):
    """The figures a card's chart shows, kept when the card is made (bot/domain/charts.py): the link draws them."""

    __tablename__ = "chart_snapshots"
    # The same figures in one war room are kept once (a `status` asked twice in a quiet hour).
    __table_args__ = (UniqueConstraint("war_room_id", "digest"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    war_room_id: Mapped[int] = mapped_column(ForeignKey("war_rooms.id", ondelete="CASCADE"))
    # SHA-256 of the series as stored, in hex.
    digest: Mapped[str] = mapped_column(String(64))
    # ChartSeries as JSON.
    series: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class WarRoomMemberRow(Base):
    """Who belongs to a war room: on its team's roster (read at install, kept up by member events), or seen there.

    A person's personal chat with the bot acts in these war rooms.
    """

    __tablename__ = "war_room_members"

    war_room_id: Mapped[int] = mapped_column(ForeignKey("war_rooms.id", ondelete="CASCADE"), primary_key=True)
    aad_object_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    # "roster" or "seen".
    via: Mapped[str] = mapped_column(String(10))
    added_at: Mapped[datetime]
    # When they last chose this war room in their personal chat (the latest is their default).
    chosen_at: Mapped[datetime | None]


class FloorWalkerRow(Base):
    """Who walks the floor in a war room: the areas they cover, the weekdays, the site (`floor add`)."""

    __tablename__ = "floor_walkers"

    war_room_id: Mapped[int] = mapped_column(ForeignKey("war_rooms.id", ondelete="CASCADE"), primary_key=True)
    aad_object_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Area values, comma-separated.
    areas: Mapped[str] = mapped_column(String(500))
    # Weekdays (Monday 0), comma-separated; NULL: the war room's working days.
    days: Mapped[str | None] = mapped_column(String(20))
    site: Mapped[str | None] = mapped_column(String(100))
    added_by_name: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime]
