"""Repositories: rows in, domain objects out. Written once for SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.model import (
    Area,
    Category,
    HandledBy,
    Issue,
    IssueQuery,
    NewIssue,
    Person,
    ProgressNote,
    Resolution,
    ResolutionType,
    Role,
    Severity,
    Status,
)
from bot.domain.triage import Event
from bot.messages import ConversationRef
from storage.models import (
    ConversationRow,
    IssueEventRow,
    IssueFollowerRow,
    IssueRow,
    ProcessedActivityRow,
    WarRoomRoleRow,
    WarRoomRow,
)


def _insert(session: AsyncSession, table: Any) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT on both databases we support."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


class StaleIssue(Exception):
    """The issue changed since it was read (another click or replica wrote first)."""


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

    async def find(self, ref: ConversationRef) -> int | None:
        return (
            await self._session.execute(select(WarRoomRow.id).where(WarRoomRow.key == ref.war_room_key))
        ).scalar_one_or_none()

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
            save_as_runbook=False,
        )
        self._session.add(row)
        try:
            await self._session.flush()
        except IntegrityError as error:
            if "source_form_id" in str(error.orig):
                raise DuplicateSourceForm(new.source_form_id) from error
            raise
        return _to_issue(row, ())

    async def get(self, issue_id: int, *, for_update: bool = False) -> Issue | None:
        """`for_update` locks the row on PostgreSQL so concurrent clicks apply one after the other."""
        statement = select(IssueRow).where(IssueRow.id == issue_id)
        if for_update:
            statement = statement.with_for_update()
        return await self._one(statement)

    async def get_by_number(self, war_room_id: int, number: int, *, for_update: bool = False) -> Issue | None:
        statement = select(IssueRow).where(IssueRow.war_room_id == war_room_id, IssueRow.number == number)
        if for_update:
            statement = statement.with_for_update()
        return await self._one(statement)

    async def get_by_source_form(self, form_id: str) -> Issue | None:
        return await self._one(select(IssueRow).where(IssueRow.source_form_id == form_id))

    async def get_latest_in_conversation(self, conversation_id: str) -> Issue | None:
        """The issue raised in a channel thread, found from a reply in that thread."""
        statement = (
            select(IssueRow).where(IssueRow.conversation_id == conversation_id).order_by(IssueRow.id.desc()).limit(1)
        )
        return await self._one(statement)

    async def list(self, war_room_id: int, query: IssueQuery, *, now: datetime) -> tuple[list[Issue], int]:
        """Matching issues, most severe and oldest first, at most `query.limit`; and how many matched in all."""
        conditions = [IssueRow.war_room_id == war_room_id, IssueRow.status.in_([s.value for s in query.statuses])]
        if query.severity is not None:
            conditions.append(IssueRow.severity == int(query.severity))
        if query.assignee_id is not None:
            conditions.append(IssueRow.assignee_id == query.assignee_id)
        if query.unassigned:
            conditions.append(IssueRow.assignee_id.is_(None))
        if query.breached:
            conditions.append(IssueRow.resolve_by < now)
        total = (await self._session.execute(select(func.count()).select_from(IssueRow).where(*conditions))).scalar_one()
        rows = (
            await self._session.execute(
                select(IssueRow).where(*conditions).order_by(IssueRow.severity, IssueRow.created_at).limit(query.limit)
            )
        ).scalars().all()
        followers = await self._followers([row.id for row in rows])
        return [_to_issue(row, followers.get(row.id, ())) for row in rows], total

    async def save(self, issue: Issue, *, expected_version: int) -> Issue:
        """Write a changed issue as the next version; `StaleIssue` if someone else wrote first."""
        ack_id, ack_name = _person_columns(issue.acknowledged_by)
        assignee_id, assignee_name = _person_columns(issue.assignee)
        update_by_id, update_by_name = _person_columns(issue.latest_update.author if issue.latest_update else None)
        resolution = issue.resolution
        resolver_id, resolver_name = _person_columns(resolution.resolved_by if resolution else None)
        result = await self._session.execute(
            update(IssueRow)
            .where(IssueRow.id == issue.id, IssueRow.version == expected_version)
            .values(
                severity=int(issue.severity),
                status=issue.status.value,
                updated_at=issue.updated_at,
                resolve_by=issue.resolve_by,
                card_activity_id=issue.card_activity_id,
                version=expected_version + 1,
                acknowledged_at=issue.acknowledged_at,
                acknowledged_by_id=ack_id,
                acknowledged_by_name=ack_name,
                assignee_id=assignee_id,
                assignee_name=assignee_name,
                latest_update_text=issue.latest_update.text if issue.latest_update else None,
                latest_update_by_id=update_by_id,
                latest_update_by_name=update_by_name,
                latest_update_at=issue.latest_update.at if issue.latest_update else None,
                resolution_type=resolution.type.value if resolution else None,
                resolution_notes=resolution.notes if resolution else None,
                handled_by=resolution.handled_by.value if resolution else None,
                resolved_by_id=resolver_id,
                resolved_by_name=resolver_name,
                resolved_at=resolution.resolved_at if resolution else None,
                save_as_runbook=resolution.save_as_runbook if resolution else False,
                runbook_title=resolution.runbook_title if resolution else None,
                duplicate_of=issue.duplicate_of,
            )
        )
        if result.rowcount != 1:
            raise StaleIssue(issue.id)
        known = {person.aad_object_id or person.name for person in await self._followers_of(issue.id)}
        for person in issue.followers:
            key = person.aad_object_id or person.name
            if key not in known:
                self._session.add(
                    IssueFollowerRow(
                        issue_id=issue.id, person_key=key, aad_object_id=person.aad_object_id, name=person.name,
                        added_at=issue.updated_at,
                    )
                )
        await self._session.flush()
        return issue.model_copy(update={"version": expected_version + 1})

    async def set_card_activity(self, issue_id: int, activity_id: str) -> None:
        await self._session.execute(
            update(IssueRow).where(IssueRow.id == issue_id).values(card_activity_id=activity_id)
        )

    async def _one(self, statement: Any) -> Issue | None:
        row = (await self._session.execute(statement)).scalar_one_or_none()
        if row is None:
            return None
        return _to_issue(row, await self._followers_of(row.id))

    async def _followers_of(self, issue_id: int) -> tuple[Person, ...]:
        return (await self._followers([issue_id])).get(issue_id, ())

    async def _followers(self, issue_ids: list[int]) -> dict[int, tuple[Person, ...]]:
        if not issue_ids:
            return {}
        rows = (
            await self._session.execute(
                select(IssueFollowerRow).where(IssueFollowerRow.issue_id.in_(issue_ids)).order_by(IssueFollowerRow.id)
            )
        ).scalars()
        grouped: dict[int, list[Person]] = {}
        for row in rows:
            grouped.setdefault(row.issue_id, []).append(Person(aad_object_id=row.aad_object_id, name=row.name))
        return {issue_id: tuple(people) for issue_id, people in grouped.items()}


class EventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, issue: Issue, event: Event) -> None:
        """Record `event` as what produced `issue.version`."""
        self._session.add(
            IssueEventRow(
                issue_id=issue.id,
                war_room_id=issue.war_room_id,
                version=issue.version,
                verb=event.verb,
                actor_id=event.actor.aad_object_id,
                actor_name=event.actor.name,
                from_value=event.from_value,
                to_value=event.to_value,
                reason=event.reason,
                at=event.at,
            )
        )
        await self._session.flush()

    async def list_for(self, issue_id: int, *, after_version: int = 0) -> list[Event]:
        rows = (
            await self._session.execute(
                select(IssueEventRow)
                .where(IssueEventRow.issue_id == issue_id, IssueEventRow.version > after_version)
                .order_by(IssueEventRow.version, IssueEventRow.id)
            )
        ).scalars()
        return [
            Event(
                verb=row.verb,
                actor=Person(aad_object_id=row.actor_id, name=row.actor_name),
                at=row.at,
                from_value=row.from_value,
                to_value=row.to_value,
                reason=row.reason,
            )
            for row in rows
        ]


class RoleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def of(self, war_room_id: int, aad_object_id: str | None) -> frozenset[Role]:
        if not aad_object_id:
            return frozenset()
        rows = await self._session.execute(
            select(WarRoomRoleRow.role).where(
                WarRoomRoleRow.war_room_id == war_room_id, WarRoomRoleRow.aad_object_id == aad_object_id
            )
        )
        return frozenset(Role(role) for role in rows.scalars())

    async def grant(self, war_room_id: int, person: Person, role: Role, *, by: Person, now: datetime) -> bool:
        """False when the person already had the role."""
        assert person.aad_object_id
        statement = (
            _insert(self._session, WarRoomRoleRow)
            .values(
                war_room_id=war_room_id, aad_object_id=person.aad_object_id, role=role.value, name=person.name,
                granted_by_name=by.name, granted_at=now,
            )
            .on_conflict_do_nothing(index_elements=["war_room_id", "aad_object_id", "role"])
        )
        return (await self._session.execute(statement)).rowcount == 1

    async def revoke(self, war_room_id: int, aad_object_id: str, role: Role) -> bool:
        result = await self._session.execute(
            delete(WarRoomRoleRow).where(
                WarRoomRoleRow.war_room_id == war_room_id,
                WarRoomRoleRow.aad_object_id == aad_object_id,
                WarRoomRoleRow.role == role.value,
            )
        )
        return result.rowcount == 1

    async def members(self, war_room_id: int) -> list[tuple[Person, Role]]:
        rows = await self._session.execute(
            select(WarRoomRoleRow).where(WarRoomRoleRow.war_room_id == war_room_id).order_by(WarRoomRoleRow.role, WarRoomRoleRow.name)
        )
        return [(Person(aad_object_id=row.aad_object_id, name=row.name), Role(row.role)) for row in rows.scalars()]


def _person_columns(person: Person | None) -> tuple[str | None, str | None]:
    return (person.aad_object_id, person.name) if person else (None, None)


def _person(aad_object_id: str | None, name: str | None) -> Person | None:
    return Person(aad_object_id=aad_object_id, name=name) if name else None


def _to_issue(row: IssueRow, followers: tuple[Person, ...]) -> Issue:
    resolution = None
    if row.resolution_type and row.resolved_at and row.handled_by:
        resolution = Resolution(
            type=ResolutionType(row.resolution_type),
            notes=row.resolution_notes or "",
            handled_by=HandledBy(row.handled_by),
            resolved_by=Person(aad_object_id=row.resolved_by_id, name=row.resolved_by_name or "Unknown"),
            resolved_at=row.resolved_at,
            save_as_runbook=row.save_as_runbook,
            runbook_title=row.runbook_title,
        )
    latest_update = None
    if row.latest_update_text is not None and row.latest_update_at is not None:
        latest_update = ProgressNote(
            text=row.latest_update_text,
            author=Person(aad_object_id=row.latest_update_by_id, name=row.latest_update_by_name or "Unknown"),
            at=row.latest_update_at,
        )
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
        updated_at=row.updated_at,
        resolve_by=row.resolve_by,
        version=row.version,
        conversation_id=row.conversation_id,
        card_activity_id=row.card_activity_id,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=_person(row.acknowledged_by_id, row.acknowledged_by_name),
        assignee=_person(row.assignee_id, row.assignee_name),
        latest_update=latest_update,
        resolution=resolution,
        duplicate_of=row.duplicate_of,
        followers=followers,
    )
