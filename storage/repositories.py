"""Repositories: rows in, domain objects out. Written once for SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.model import Area, Category, Issue, NewIssue, Person, Severity, Status
from bot.messages import ConversationRef
from storage.models import ConversationRow, IssueRow, ProcessedActivityRow, WarRoomRow


def _insert(session: AsyncSession, table: Any) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT on both databases we support."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


class DuplicateSourceForm(Exception):
    """An issue from this form was stored by another request first."""


class WarRoomRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def ensure(self, ref: ConversationRef, *, now: datetime) -> int:
        """The id of the conversation's war room, created on first contact."""
        statement = (
            _insert(self._session, WarRoomRow)
            .values(
                key=ref.war_room_key,
                tenant_id=ref.tenant_id,
                team_id=ref.team_id,
                last_issue_number=0,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["key"])
        )
        await self._session.execute(statement)
        return (
            await self._session.execute(select(WarRoomRow.id).where(WarRoomRow.key == ref.war_room_key))
        ).scalar_one()

    async def next_issue_number(self, war_room_id: int) -> int:
        """Atomic on both databases: the row lock (PostgreSQL) or the single writer (SQLite) orders callers."""
        result = await self._session.execute(
            update(WarRoomRow)
            .where(WarRoomRow.id == war_room_id)
            .values(last_issue_number=WarRoomRow.last_issue_number + 1)
            .returning(WarRoomRow.last_issue_number)
        )
        return result.scalar_one()


class ConversationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def upsert(self, ref: ConversationRef, *, war_room_id: int, now: datetime) -> None:
        values = {
            "conversation_id": ref.conversation_id,
            "war_room_id": war_room_id,
            "conversation_type": ref.conversation_type,
            "tenant_id": ref.tenant_id,
            "team_id": ref.team_id,
            "channel_id": ref.channel_id,
            "service_url": ref.service_url,
            "channel": ref.channel,
            "bot_id": ref.bot_id,
            "bot_name": ref.bot_name,
            "updated_at": now,
        }
        statement = _insert(self._session, ConversationRow).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=["conversation_id"],
            set_={key: value for key, value in values.items() if key != "conversation_id"},
        )
        await self._session.execute(statement)

    async def get(self, conversation_id: str) -> ConversationRef | None:
        row = await self._session.get(ConversationRow, conversation_id)
        if row is None:
            return None
        return ConversationRef(
            conversation_id=row.conversation_id,
            conversation_type=row.conversation_type,
            service_url=row.service_url,
            channel=row.channel,
            bot_id=row.bot_id,
            bot_name=row.bot_name,
            tenant_id=row.tenant_id,
            team_id=row.team_id,
            channel_id=row.channel_id,
        )


class ProcessedActivityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, conversation_id: str, activity_id: str, *, now: datetime) -> bool:
        """True the first time an activity is seen; False for a re-delivery."""
        statement = (
            _insert(self._session, ProcessedActivityRow)
            .values(conversation_id=conversation_id, activity_id=activity_id, received_at=now)
            .on_conflict_do_nothing(index_elements=["conversation_id", "activity_id"])
        )
        result = await self._session.execute(statement)
        return result.rowcount == 1

    async def purge_received_before(self, cutoff: datetime) -> int:
        result = await self._session.execute(
            delete(ProcessedActivityRow).where(ProcessedActivityRow.received_at < cutoff)
        )
        return result.rowcount


class IssueRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, new: NewIssue) -> Issue:
        row = IssueRow(
            war_room_id=new.war_room_id,
            number=new.number,
            title=new.title,
            description=new.description,
            severity=int(new.severity),
            category=new.category.value if new.category else None,
            area=new.area.value if new.area else None,
            company=new.company,
            affected_users=new.affected_users,
            status=new.status.value,
            reporter_aad_id=new.reporter.aad_object_id,
            reporter_name=new.reporter.name,
            tenant_id=new.tenant_id,
            team_id=new.team_id,
            channel_id=new.channel_id,
            conversation_id=new.conversation_id,
            card_activity_id=new.card_activity_id,
            source_form_id=new.source_form_id,
            created_at=new.created_at,
            updated_at=new.created_at,
            resolve_by=new.resolve_by,
            version=1,
        )
        self._session.add(row)
        try:
            await self._session.flush()
        except IntegrityError as error:
            if "source_form_id" in str(error.orig):
                raise DuplicateSourceForm(new.source_form_id) from error
            raise
        return _to_issue(row)

    async def get(self, issue_id: int) -> Issue | None:
        row = await self._session.get(IssueRow, issue_id)
        return _to_issue(row) if row is not None else None

    async def get_by_number(self, war_room_id: int, number: int) -> Issue | None:
        row = (
            await self._session.execute(
                select(IssueRow).where(IssueRow.war_room_id == war_room_id, IssueRow.number == number)
            )
        ).scalar_one_or_none()
        return _to_issue(row) if row is not None else None

    async def get_by_source_form(self, form_id: str) -> Issue | None:
        row = (
            await self._session.execute(select(IssueRow).where(IssueRow.source_form_id == form_id))
        ).scalar_one_or_none()
        return _to_issue(row) if row is not None else None

    async def set_card_activity(self, issue_id: int, activity_id: str) -> None:
        await self._session.execute(
            update(IssueRow).where(IssueRow.id == issue_id).values(card_activity_id=activity_id)
        )


def _to_issue(row: IssueRow) -> Issue:
    return Issue(
        id=row.id,
        war_room_id=row.war_room_id,
        number=row.number,
        title=row.title,
        description=row.description,
        severity=Severity(row.severity),
        category=Category(row.category) if row.category else None,
        area=Area(row.area) if row.area else None,
        company=row.company,
        affected_users=row.affected_users,
        status=Status(row.status),
        reporter=Person(aad_object_id=row.reporter_aad_id, name=row.reporter_name),
        created_at=row.created_at,
        resolve_by=row.resolve_by,
        version=row.version,
    )
