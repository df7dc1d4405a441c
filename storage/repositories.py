"""Repositories: rows in, domain objects out. Written once for SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import bindparam, delete, func, insert, literal, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

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
from bot.domain.reminders import ReminderState
from bot.domain.triage import Event
from bot.domain.war_room import OnCall, WarRoom, WarRoomSettings
from bot.messages import ConversationRef, OutboundMessage, OutboxItem
from storage.models import (
    ConversationRow,
    IssueEventRow,
    IssueFollowerRow,
    IssueRow,
    OutboxRow,
    ProcessedActivityRow,
    UtcDateTime,
    WarRoomEventRow,
    WarRoomRoleRow,
    WarRoomRow,
)


def _insert(session: AsyncSession, table: Any) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT on both databases we support."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


class StaleIssue(Exception):
    """The issue changed since it was read (another click or replica wrote first)."""


# Two statements run for every incoming activity. SQLAlchemy cannot cache the compiled form of an
# ON CONFLICT insert built with its constructs (it recompiles it every time, about half a millisecond),
# so they are written once as SQL, which SQLite and PostgreSQL both understand.
_CONVERSATION_COLUMNS = (
    "conversation_id", "war_room_id", "conversation_type", "tenant_id", "team_id", "channel_id", "service_url", "channel",
    "bot_id", "bot_name", "updated_at",
)
_UPSERT_CONVERSATION = text(
    f"INSERT INTO conversations ({', '.join(_CONVERSATION_COLUMNS)}) "
    f"VALUES ({', '.join(':' + column for column in _CONVERSATION_COLUMNS)}) "
    "ON CONFLICT (conversation_id) DO UPDATE SET "
    + ", ".join(f"{column} = excluded.{column}" for column in _CONVERSATION_COLUMNS[1:])
).bindparams(bindparam("updated_at", type_=UtcDateTime()))
_CLAIM_ACTIVITY = text(
    "INSERT INTO processed_activities (conversation_id, activity_id, received_at) "
    "VALUES (:conversation_id, :activity_id, :received_at) ON CONFLICT (conversation_id, activity_id) DO NOTHING"
).bindparams(bindparam("received_at", type_=UtcDateTime()))


class DueIssues(BaseModel):
    """Issues whose reminders are due, and the due rows that cannot be read as issues (id, why): a row written by
    hand or by another version must not stop everyone else's reminders."""

    issues: list[tuple[Issue, ReminderState]]
    unreadable: list[tuple[int, str]]

    def __len__(self) -> int:
        return len(self.issues) + len(self.unreadable)


class DuplicateSourceForm(Exception):
    """An issue or runbook from this form was stored in this war room by another request first."""


class WarRoomRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def ensure(self, ref: ConversationRef, *, now: datetime) -> int:
        """The id of the conversation's war room, created on first contact."""
        return (await self.ensure_room(ref, now=now)).id

    async def ensure_room(self, ref: ConversationRef, *, now: datetime) -> WarRoom:
        """The conversation's war room, created on first contact.

        The first conversation becomes the war room's home, where its stand-ups are posted.
        """
        table = WarRoomRow.__table__
        query = select(table).where(table.c.key == ref.war_room_key)  # plain rows: no ORM identity map on the hot path
        row = (await self._session.execute(query)).one_or_none()
        if row is not None:
            return _to_war_room(row)  # type: ignore[arg-type]  # the usual case: one indexed read
        statement = (
            _insert(self._session, WarRoomRow)
            .values(
                key=ref.war_room_key,
                tenant_id=ref.tenant_id,
                team_id=ref.team_id,
                name=ref.team_name[:200] if ref.team_name else None,
                last_issue_number=0,
                created_at=now,
                home_conversation_id=ref.base_conversation_id,
                home_channel_id=ref.channel_id,
                home_service_url=ref.service_url,
                bot_id=ref.bot_id,
                next_standup_at=WarRoomSettings().next_standup_at(now),
            )
            .on_conflict_do_nothing(index_elements=["key"])
        )
        await self._session.execute(statement)
        return _to_war_room((await self._session.execute(query)).one())  # type: ignore[arg-type]

    async def get(self, war_room_id: int) -> WarRoom:
        row = await self._session.get(WarRoomRow, war_room_id)
        assert row is not None, f"war room {war_room_id} does not exist"
        return _to_war_room(row)

    async def all(self) -> list[WarRoom]:
        return [_to_war_room(row) for row in (await self._session.execute(select(WarRoomRow).order_by(WarRoomRow.id))).scalars()]

    async def by_reference(self, reference: str) -> WarRoom | None:
        """A war room by its id or its key."""
        condition = WarRoomRow.id == int(reference) if reference.isdigit() else WarRoomRow.key == reference
        row = (await self._session.execute(select(WarRoomRow).where(condition))).scalar_one_or_none()
        return _to_war_room(row) if row is not None else None

    async def get_many(self, war_room_ids: set[int]) -> list[WarRoom]:
        rows = (await self._session.execute(select(WarRoomRow).where(WarRoomRow.id.in_(war_room_ids)))).scalars()
        return [_to_war_room(row) for row in rows]

    async def save_settings(self, war_room_id: int, settings: WarRoomSettings, *, now: datetime) -> None:
        await self._session.execute(
            update(WarRoomRow)
            .where(WarRoomRow.id == war_room_id)
            .values(settings=settings.model_dump(mode="json"), next_standup_at=settings.next_standup_at(now))
        )

    async def save_oncall(self, war_room_id: int, oncall: OnCall) -> None:
        await self._session.execute(
            update(WarRoomRow).where(WarRoomRow.id == war_room_id).values(oncall=oncall.model_dump(mode="json"))
        )

    async def name_if_unnamed(self, war_room_id: int, name: str) -> None:
        await self._session.execute(
            update(WarRoomRow).where(WarRoomRow.id == war_room_id, WarRoomRow.name.is_(None)).values(name=name[:200])
        )

    async def set_sign_off(self, war_room_id: int, *, by: Person | None, at: datetime | None) -> None:
        """Record leadership's sign-off, or clear it (`by` None)."""
        await self._session.execute(
            update(WarRoomRow)
            .where(WarRoomRow.id == war_room_id)
            .values(
                signed_off_at=at if by else None,
                signed_off_by_id=by.aad_object_id if by else None,
                signed_off_by_name=by.name if by else None,
            )
        )

    async def add_event(self, war_room_id: int, event: Event) -> None:
        self._session.add(
            WarRoomEventRow(
                war_room_id=war_room_id, verb=event.verb, actor_id=event.actor.aad_object_id, actor_name=event.actor.name,
                from_value=event.from_value, to_value=event.to_value, reason=event.reason, at=event.at,
            )
        )
        await self._session.flush()

    async def due_standups(self, now: datetime, *, limit: int) -> list[WarRoom]:
        rows = (
            await self._session.execute(
                _skip_locked(
                    select(WarRoomRow)
                    .where(WarRoomRow.next_standup_at <= now)
                    .order_by(WarRoomRow.next_standup_at)
                    .limit(limit)
                )
            )
        ).scalars()
        return [_to_war_room(row) for row in rows]

    async def standup_done(self, war_room_id: int, *, posted_at: datetime | None, next_at: datetime) -> None:
        values: dict[str, Any] = {"next_standup_at": next_at}
        if posted_at is not None:
            values["last_standup_at"] = posted_at
        await self._session.execute(update(WarRoomRow).where(WarRoomRow.id == war_room_id).values(**values))

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
        await self._session.execute(_UPSERT_CONVERSATION, values)

    async def get_many(self, conversation_ids: set[str]) -> dict[str, ConversationRef]:
        rows = (
            await self._session.execute(select(ConversationRow).where(ConversationRow.conversation_id.in_(conversation_ids)))
        ).scalars()
        return {row.conversation_id: _to_ref(row) for row in rows}

    async def get(self, conversation_id: str) -> ConversationRef | None:
        row = await self._session.get(ConversationRow, conversation_id)
        return _to_ref(row) if row is not None else None


def _to_ref(row: ConversationRow) -> ConversationRef:
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


# "claimed": this delivery answers the activity; "busy": another delivery is answering it now; "done": it was answered.
ActivityClaim = Literal["claimed", "busy", "done"]


class ProcessedActivityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, conversation_id: str, activity_id: str, *, now: datetime, lease: timedelta) -> ActivityClaim:
        """Claim an activity for answering: the first delivery does, and so does the first re-delivery after a claim
        was left unfinished for `lease` (its process died). Each step is one statement, so of two replicas racing
        for the same activity exactly one claims it."""
        values = {"conversation_id": conversation_id, "activity_id": activity_id, "received_at": now}
        if (await self._session.execute(_CLAIM_ACTIVITY, values)).rowcount == 1:
            return "claimed"
        key = _activity_key(conversation_id, activity_id)
        retaken = await self._session.execute(
            update(ProcessedActivityRow)
            .where(*key, ProcessedActivityRow.done_at.is_(None), ProcessedActivityRow.received_at <= now - lease)
            .values(received_at=now)
        )
        if retaken.rowcount == 1:
            return "claimed"
        done_at = (await self._session.execute(select(ProcessedActivityRow.done_at).where(*key))).scalar_one_or_none()
        # No row at all: its claim was released just now, and the next delivery claims it.
        return "busy" if done_at is None else "done"

    async def finish(self, conversation_id: str, activity_id: str, *, claimed_at: datetime, now: datetime) -> bool:
        """The claim taken at `claimed_at` was answered; False when it is no longer ours (retaken after the lease)."""
        result = await self._session.execute(
            update(ProcessedActivityRow).where(*_claim_taken_at(conversation_id, activity_id, claimed_at)).values(done_at=now)
        )
        return result.rowcount == 1

    async def release(self, conversation_id: str, activity_id: str, *, claimed_at: datetime) -> None:
        """Give up the claim taken at `claimed_at` (answering failed): the next delivery claims the activity."""
        await self._session.execute(delete(ProcessedActivityRow).where(*_claim_taken_at(conversation_id, activity_id, claimed_at)))

    async def purge_received_before(self, cutoff: datetime) -> int:
        result = await self._session.execute(
            delete(ProcessedActivityRow).where(ProcessedActivityRow.received_at < cutoff)
        )
        return result.rowcount


def _activity_key(conversation_id: str, activity_id: str) -> tuple[ColumnElement[bool], ...]:
    return ProcessedActivityRow.conversation_id == conversation_id, ProcessedActivityRow.activity_id == activity_id


def _claim_taken_at(conversation_id: str, activity_id: str, claimed_at: datetime) -> tuple[ColumnElement[bool], ...]:
    """An unfinished claim taken at `claimed_at`: the claim time tells one claim from the one that retook it."""
    return (
        *_activity_key(conversation_id, activity_id),
        ProcessedActivityRow.received_at == claimed_at,
        ProcessedActivityRow.done_at.is_(None),
    )


class IssueRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, new: NewIssue) -> Issue:
        values = dict(
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
            source_url=new.source_url,
            created_at=new.created_at,
            updated_at=new.created_at,
            resolve_by=new.resolve_by,
            version=1,
            save_as_runbook=False,
            # The scheduler plans its reminders on its next pass.
            next_due_at=new.created_at if new.status.is_open else None,
            reminder_seq=0,
            reminder_generation=0,
            ack_escalated=False,
        )
        table = IssueRow.__table__
        try:
            issue_id = (await self._session.execute(insert(table).values(values).returning(table.c.id))).scalar_one()
        except IntegrityError as error:
            if "source_form_id" in str(error.orig):
                raise DuplicateSourceForm(new.source_form_id) from error
            raise
        return Issue.model_validate(new.model_dump() | {"id": issue_id, "updated_at": new.created_at, "version": 1})

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

    async def get_by_source_form(self, war_room_id: int, form_id: str) -> Issue | None:
        """The issue a form made in this war room (a form id is the client's word, unique per war room only)."""
        return await self._one(select(IssueRow).where(IssueRow.war_room_id == war_room_id, IssueRow.source_form_id == form_id))

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

    async def save(self, issue: Issue, *, expected_version: int, known_followers: tuple[Person, ...] | None = None) -> Issue:
        """Write a changed issue as the next version; `StaleIssue` if someone else wrote first.

        `known_followers`: those already stored (the issue as read), which saves reading them again.
        """
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
                # Any change may move reminders (acknowledged, severity changed, resolved): re-plan on the next pass.
                next_due_at=issue.updated_at if issue.status.is_open else None,
            )
        )
        if result.rowcount != 1:
            raise StaleIssue(issue.id)
        stored = known_followers if known_followers is not None else await self._followers_of(issue.id)
        known = {person.aad_object_id or person.name for person in stored}
        added = [person for person in issue.followers if (person.aad_object_id or person.name) not in known]
        if added:
            await self._session.execute(
                insert(IssueFollowerRow.__table__),
                [
                    {"issue_id": issue.id, "person_key": person.aad_object_id or person.name,
                     "aad_object_id": person.aad_object_id, "name": person.name, "added_at": issue.updated_at}
                    for person in added
                ],
            )
        return issue.model_copy(update={"version": expected_version + 1})

    async def due(self, now: datetime, *, limit: int) -> DueIssues:
        """Issues whose next reminder or escalation is due, locked against other replicas."""
        rows = list(
            (
                await self._session.execute(
                    _skip_locked(
                        select(IssueRow).where(IssueRow.next_due_at <= now).order_by(IssueRow.next_due_at).limit(limit)
                    )
                )
            ).scalars()
        )
        due = DueIssues(issues=[], unreadable=[])
        for row in rows:
            try:
                # Reminders do not need the followers: they are not read here.
                due.issues.append((_to_issue(row, ()), _reminder_state(row)))
            except ValueError as error:  # a value no code writes (an unknown severity, a broken state)
                due.unreadable.append((row.id, f"{type(error).__name__}: {error}"))
        return due

    async def hold_back(self, issue_ids: list[int], *, until: datetime) -> None:
        """Due again only from `until` (its reminder state untouched)."""
        if issue_ids:
            await self._session.execute(update(IssueRow).where(IssueRow.id.in_(issue_ids)).values(next_due_at=until))

    async def save_reminders(self, issue_id: int, state: ReminderState, *, next_due_at: datetime | None) -> None:
        await self._session.execute(
            update(IssueRow)
            .where(IssueRow.id == issue_id)
            .values(
                reminder_kind=state.kind,
                reminder_seq=state.seq,
                reminder_generation=state.generation,
                snoozed_until=state.snoozed_until,
                ack_escalated=state.ack_escalated,
                resolve_escalated_for=state.resolve_escalated_for,
                next_due_at=next_due_at,
            )
        )

    async def save_reminders_many(self, states: list[tuple[int, ReminderState, datetime | None]]) -> None:
        """`save_reminders` for many issues in one round trip."""
        if not states:
            return
        table = IssueRow.__table__
        statement = (
            update(table)
            .where(table.c.id == bindparam("issue_id"))
            .values(
                reminder_kind=bindparam("kind"),
                reminder_seq=bindparam("seq"),
                reminder_generation=bindparam("generation"),
                snoozed_until=bindparam("snoozed_until", type_=UtcDateTime()),
                ack_escalated=bindparam("ack_escalated"),
                resolve_escalated_for=bindparam("resolve_escalated_for", type_=UtcDateTime()),
                next_due_at=bindparam("next_due", type_=UtcDateTime()),
            )
        )
        await self._session.execute(
            statement,
            [
                {
                    "issue_id": issue_id, "kind": state.kind, "seq": state.seq, "generation": state.generation,
                    "snoozed_until": state.snoozed_until, "ack_escalated": state.ack_escalated,
                    "resolve_escalated_for": state.resolve_escalated_for, "next_due": next_due_at,
                }
                for issue_id, state, next_due_at in states
            ],
        )

    async def reminder_state(self, issue_id: int) -> ReminderState:
        row = await self._session.get(IssueRow, issue_id)
        assert row is not None
        return _reminder_state(row)

    async def recent(self, war_room_id: int, since: datetime | None) -> list[Issue]:
        """Issues raised or resolved since `since` (all when None), for the stand-up."""
        condition = IssueRow.war_room_id == war_room_id
        if since is not None:
            condition = condition & ((IssueRow.created_at >= since) | (IssueRow.resolved_at >= since))
        rows = list((await self._session.execute(select(IssueRow).where(condition).order_by(IssueRow.id))).scalars())
        return [_to_issue(row, ()) for row in rows]

    async def all_with_status(self, war_room_id: int, statuses: frozenset[Status], *, limit: int = 2000) -> list[Issue]:
        """Many issues at once (stand-up, exit criteria, metrics): read as plain rows, not through the ORM."""
        table = IssueRow.__table__
        rows = await self._session.execute(
            select(table)
            .where(table.c.war_room_id == war_room_id, table.c.status.in_([s.value for s in statuses]))
            .order_by(table.c.severity, table.c.created_at)
            .limit(limit)
        )
        return [_to_issue(row, ()) for row in rows]  # type: ignore[arg-type]

    async def count(self, war_room_id: int, statuses: frozenset[Status]) -> int:
        statement = select(func.count()).select_from(IssueRow).where(
            IssueRow.war_room_id == war_room_id, IssueRow.status.in_([s.value for s in statuses])
        )
        return (await self._session.execute(statement)).scalar_one()

    async def set_card_activity(self, issue_id: int, activity_id: str, conversation_id: str) -> None:
        await self._session.execute(
            update(IssueRow)
            .where(IssueRow.id == issue_id)
            .values(card_activity_id=activity_id, conversation_id=conversation_id)
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
        await self._session.execute(
            insert(IssueEventRow.__table__).values(
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

    async def by_issue(self, war_room_id: int) -> dict[int, list[Event]]:
        """Every event of a war room's issues, grouped by issue id (for the export)."""
        rows = (
            await self._session.execute(
                select(IssueEventRow).where(IssueEventRow.war_room_id == war_room_id).order_by(IssueEventRow.id)
            )
        ).scalars()
        grouped: dict[int, list[Event]] = {}
        for row in rows:
            grouped.setdefault(row.issue_id, []).append(_to_event(row))
        return grouped

    async def list_for(self, issue_id: int, *, after_version: int = 0) -> list[Event]:
        rows = (
            await self._session.execute(
                select(IssueEventRow)
                .where(IssueEventRow.issue_id == issue_id, IssueEventRow.version > after_version)
                .order_by(IssueEventRow.version, IssueEventRow.id)
            )
        ).scalars()
        return [_to_event(row) for row in rows]


def _to_event(row: IssueEventRow) -> Event:
    return Event(
        verb=row.verb,
        actor=Person(aad_object_id=row.actor_id, name=row.actor_name),
        at=row.at,
        from_value=row.from_value,
        to_value=row.to_value,
        reason=row.reason,
    )


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def enqueue(self, message: OutboundMessage, *, now: datetime) -> bool:
        """False when a message with this dedupe key was enqueued before (by this or another replica)."""
        statement = (
            _insert(self._session, OutboxRow)
            .values(
                dedupe_key=message.dedupe_key,
                war_room_id=message.war_room_id,
                tenant_id=message.tenant_id,
                service_url=message.service_url,
                kind=message.kind,
                conversation_id=message.conversation_id,
                bot_id=message.bot_id,
                payload={"card": message.card},
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
        return (await self._session.execute(statement)).rowcount == 1

    async def enqueue_many(self, messages: list[OutboundMessage], *, now: datetime) -> int:
        """`enqueue` for many messages in one statement; how many were new."""
        if not messages:
            return 0
        statement = (
            _insert(self._session, OutboxRow)
            .values(
                [
                    {
                        "dedupe_key": m.dedupe_key, "war_room_id": m.war_room_id, "tenant_id": m.tenant_id,
                        "service_url": m.service_url, "kind": m.kind, "conversation_id": m.conversation_id, "bot_id": m.bot_id,
                        "payload": {"card": m.card}, "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
                    }
                    for m in messages
                ]
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
        return max((await self._session.execute(statement)).rowcount, 0)

    async def claim(self, now: datetime, *, limit: int, lease: timedelta) -> list[OutboxItem]:
        """Pending messages that are due, at most one per conversation (the oldest: order is kept), held for `lease`.

        One UPDATE … RETURNING, so two workers can never both take a row, whatever the database.
        """
        # The head of each conversation's queue (row_number, not an anti-join: linear in what is pending).
        queue = (
            select(
                OutboxRow.id,
                OutboxRow.next_attempt_at,
                OutboxRow.claimed_until,
                func.row_number().over(partition_by=OutboxRow.conversation_id, order_by=OutboxRow.id).label("position"),
            )
            # A literal, not a parameter: a generic plan (PostgreSQL) then knows it reads the few pending rows, by index.
            .where(OutboxRow.status == literal("pending", literal_execute=True))
            .subquery("queue")
        )
        heads = select(queue.c.id).where(
            queue.c.position == 1,
            queue.c.next_attempt_at <= now,
            or_(queue.c.claimed_until.is_(None), queue.c.claimed_until <= now),
        )
        claimable = _skip_locked(select(OutboxRow.id).where(OutboxRow.id.in_(heads)).order_by(OutboxRow.id).limit(limit))
        rows = (
            await self._session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(claimable.scalar_subquery()))
                .values(claimed_until=now + lease)
                .returning(OutboxRow),
                execution_options={"synchronize_session": False},
            )
        ).scalars()
        return sorted((_to_outbox_item(row) for row in rows), key=lambda item: item.id)

    async def sent(self, item_id: int, *, activity_id: str | None, now: datetime) -> None:
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == item_id)
            .values(status="sent", sent_at=now, sent_activity_id=activity_id, claimed_until=None, attempts=OutboxRow.attempts + 1)
        )

    async def retry(self, item_id: int, *, at: datetime, error: str, attempted: bool = True) -> None:
        """Try again at `at`; `attempted=False` when it was only held back (rate limit), not tried."""
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == item_id)
            .values(
                next_attempt_at=at,
                claimed_until=None,
                last_error=error,
                attempts=OutboxRow.attempts + (1 if attempted else 0),
            )
        )

    async def failed(self, item_id: int, *, error: str, now: datetime) -> None:
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == item_id)
            .values(status="failed", last_error=error, claimed_until=None, attempts=OutboxRow.attempts + 1, sent_at=None)
        )

    async def list(self, *, status: str, limit: int = 100) -> list[OutboxEntry]:
        rows = (
            await self._session.execute(select(OutboxRow).where(OutboxRow.status == status).order_by(OutboxRow.id).limit(limit))
        ).scalars()
        return [
            OutboxEntry(
                id=row.id, dedupe_key=row.dedupe_key, conversation_id=row.conversation_id, attempts=row.attempts,
                created_at=row.created_at, sent_at=row.sent_at, last_error=row.last_error, status=row.status,
            )
            for row in rows
        ]


class OutboxEntry(BaseModel):
    """An outbox row as `hypercare outbox` lists it."""

    id: int
    dedupe_key: str
    conversation_id: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None


def _to_outbox_item(row: OutboxRow) -> OutboxItem:
    return OutboxItem(
        id=row.id,
        attempts=row.attempts,
        dedupe_key=row.dedupe_key,
        war_room_id=row.war_room_id,
        tenant_id=row.tenant_id,
        service_url=row.service_url,
        kind=row.kind,  # type: ignore[arg-type]
        conversation_id=row.conversation_id,
        bot_id=row.bot_id,
        card=row.payload["card"],
    )


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

    async def holders(self, war_room_ids: set[int], role: Role) -> dict[int, tuple[Person, ...]]:
        """Who holds `role` in each of these war rooms."""
        rows = await self._session.execute(
            select(WarRoomRoleRow)
            .where(WarRoomRoleRow.war_room_id.in_(war_room_ids), WarRoomRoleRow.role == role.value)
            .order_by(WarRoomRoleRow.name)
        )
        found: dict[int, list[Person]] = {}
        for row in rows.scalars():
            found.setdefault(row.war_room_id, []).append(Person(aad_object_id=row.aad_object_id, name=row.name))
        return {war_room_id: tuple(people) for war_room_id, people in found.items()}

    async def members(self, war_room_id: int) -> list[tuple[Person, Role]]:
        rows = await self._session.execute(
            select(WarRoomRoleRow).where(WarRoomRoleRow.war_room_id == war_room_id).order_by(WarRoomRoleRow.role, WarRoomRoleRow.name)
        )
        return [(Person(aad_object_id=row.aad_object_id, name=row.name), Role(row.role)) for row in rows.scalars()]


def _skip_locked(statement: Any) -> Any:
    """Rows another replica is working on are passed over (PostgreSQL); SQLite has one writer anyway."""
    return statement.with_for_update(skip_locked=True)


def _to_war_room(row: WarRoomRow) -> WarRoom:
    settings, problems = WarRoomSettings.from_stored(row.settings)
    oncall, oncall_problems = OnCall.from_stored(row.oncall)
    return WarRoom(
        id=row.id,
        key=row.key,
        tenant_id=row.tenant_id,
        team_id=row.team_id,
        name=row.name,
        settings=settings,
        settings_problems=problems + oncall_problems,
        oncall=oncall,
        home_conversation_id=row.home_conversation_id,
        home_channel_id=row.home_channel_id,
        home_service_url=row.home_service_url,
        bot_id=row.bot_id,
        next_standup_at=row.next_standup_at,
        last_standup_at=row.last_standup_at,
        signed_off_at=row.signed_off_at,
        signed_off_by=_person(row.signed_off_by_id, row.signed_off_by_name),
    )


def _person_columns(person: Person | None) -> tuple[str | None, str | None]:
    return (person.aad_object_id, person.name) if person else (None, None)


def _person(aad_object_id: str | None, name: str | None) -> Person | None:
    return Person(aad_object_id=aad_object_id, name=name) if name else None


def _reminder_state(row: IssueRow) -> ReminderState:
    return ReminderState(
        kind=row.reminder_kind,  # type: ignore[arg-type]
        seq=row.reminder_seq,
        generation=row.reminder_generation,
        snoozed_until=row.snoozed_until,
        ack_escalated=row.ack_escalated,
        resolve_escalated_for=row.resolve_escalated_for,
    )


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
        source_url=row.source_url,
    )
