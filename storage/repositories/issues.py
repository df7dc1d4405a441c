"""Issues: the rows, their followers and reminder state, mapped to `Issue`."""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.brief import IssueBrief
from bot.domain.model import (
    Area,
    Category,
    Confirmation,
    Environment,
    Escalation,
    HandledBy,
    Issue,
    IssueQuery,
    NewIssue,
    Person,
    Priority,
    PriorityDecision,
    ProgressNote,
    Resolution,
    ResolutionType,
    Severity,
    Status,
)
from bot.domain.events import Event
from bot.domain.ports import DueIssues, StaleIssue
from bot.domain.reminders import RemindedIssue, ReminderState
from storage.models import IssueFollowerRow, IssueRow, UtcDateTime
from storage.repositories.briefs import issue_briefs, standup_listed
from storage.repositories.common import optional_person, skip_locked
from storage.repositories.new_issue import add_issue


_ISSUES = IssueRow.__table__


@functools.cache
def _save_statement(columns: tuple[str, ...]) -> Any:
    """The UPDATE of `IssueRepository.save`, built once: the issue chosen by id and expected version, values as parameters."""
    return (
        update(_ISSUES)
        .where(_ISSUES.c.id == bindparam("b_id"), _ISSUES.c.version == bindparam("b_version"))
        .values({name: bindparam(name) for name in columns})
    )


# One issue and its followers, read on every click: built once, the values as parameters (plain rows, no ORM).
_BY_ID = select(_ISSUES).where(_ISSUES.c.id == bindparam("issue_id"))
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
_LATEST_IN_CONVERSATION = (
    select(_ISSUES).where(_ISSUES.c.conversation_id == bindparam("conversation_id")).order_by(_ISSUES.c.id.desc()).limit(1)
)
_FOLLOWERS = IssueFollowerRow.__table__
_FOLLOWERS_OF = (
    select(_FOLLOWERS.c.aad_object_id, _FOLLOWERS.c.name).where(_FOLLOWERS.c.issue_id == bindparam("issue_id")).order_by(_FOLLOWERS.c.id)
)


# What planning reads of a due issue: `RemindedIssue` and the reminder state.
_DUE_COLUMNS = tuple(
    _ISSUES.c[name]
    for name in (
        "id", "war_room_id", "number", "title", "severity", "status", "created_at", "resolve_by", "acknowledged_at",
        "assignee_id", "assignee_name", "version", "conversation_id", "reminder_kind", "reminder_seq", "reminder_generation",
        "snoozed_until", "ack_escalated", "resolve_escalated_for", "reminders_paused",
    )
)


class IssueRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, new: NewIssue, *, created: Event) -> Issue:
        """Numbered in its war room and stored with `created`, its first event (storage/repositories/new_issue.py)."""
        return await add_issue(self._session, new, created)

    async def get(self, issue_id: int, *, for_update: bool = False) -> Issue | None:
        """`for_update` locks the row on PostgreSQL so concurrent clicks apply one after the other."""
        return await self._one(_BY_ID_FOR_UPDATE if for_update else _BY_ID, {"issue_id": issue_id})

    async def get_by_number(self, war_room_id: int, number: int, *, for_update: bool = False) -> Issue | None:
        statement = select(_ISSUES).where(_ISSUES.c.war_room_id == war_room_id, _ISSUES.c.number == number)
        if for_update:
            statement = statement.with_for_update()
        return await self._one(statement)

    async def get_by_source_form(self, war_room_id: int, form_id: str) -> Issue | None:
        """The issue a form made in this war room (a form id is the client's word, unique per war room only)."""
        return await self._one(select(_ISSUES).where(_ISSUES.c.war_room_id == war_room_id, _ISSUES.c.source_form_id == form_id))

    async def get_latest_in_conversation(self, conversation_id: str) -> Issue | None:
        """The issue raised in a channel thread, found from a reply in that thread."""
        return await self._one(_LATEST_IN_CONVERSATION, {"conversation_id": conversation_id})

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
        escalation = issue.escalation
        escalator_id, escalator_name = _person_columns(escalation.escalated_by if escalation else None)
        escalated_to_id, escalated_to_name = _person_columns(escalation.to if escalation else None)
        decision = issue.decision
        decider_id, decider_name = _person_columns(decision.by if decision else None)
        confirmation = resolution.confirmation if resolution else None
        confirmer_id, confirmer_name = _person_columns(confirmation.by if confirmation else None)
        values = dict(
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
            close_by=resolution.close_by if resolution else None,
            confirmed_at=confirmation.at if confirmation else None,
            confirmed_by_id=confirmer_id,
            confirmed_by_name=confirmer_name,
            duplicate_of=issue.duplicate_of,
            escalated_at=escalation.escalated_at if escalation else None,
            escalated_by_id=escalator_id,
            escalated_by_name=escalator_name,
            escalation_reason=escalation.reason if escalation else None,
            escalated_to_id=escalated_to_id,
            escalated_to_name=escalated_to_name,
            decision=decision.priority.value if decision else None,
            decided_by_id=decider_id,
            decided_by_name=decider_name,
            decided_at=decision.at if decision else None,
            decided_standup_on=decision.standup_on if decision else None,
            # Any change may move reminders (acknowledged, severity changed, resolved): re-plan on the next pass.
            next_due_at=issue.updated_at if issue.status.is_open else None,
        )
        # One statement built once, values as parameters: building a 30-column UPDATE per click was a tenth of (f).
        result = await self._session.execute(_save_statement(tuple(values)), {"b_id": issue.id, "b_version": expected_version, **values})
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
        """Issues whose next reminder or escalation is due, locked against other replicas: only the columns reminders
        read, as plain values (no ORM rows, no whole `Issue`s)."""
        rows = (
            await self._session.execute(
                skip_locked(select(*_DUE_COLUMNS).where(_ISSUES.c.next_due_at <= now).order_by(_ISSUES.c.next_due_at).limit(limit))
            )
        ).all()
        due = DueIssues(issues=[], unreadable=[])
        for row in rows:
            try:
                due.issues.append((_to_reminded(row), _reminder_state(row)))
            except ValueError as error:  # a value no code writes (an unknown severity, a broken state)
                due.unreadable.append((row.id, f"{type(error).__name__}: {error}"))
        return due

    async def closing_due(self, now: datetime, *, limit: int) -> list[Issue]:
        """Resolved issues nobody confirmed whose time to close by itself has come, locked against other replicas."""
        statement = select(IssueRow).where(
            IssueRow.close_by <= now, IssueRow.status == Status.RESOLVED.value, IssueRow.confirmed_at.is_(None)
        ).order_by(IssueRow.close_by).limit(limit)
        return [_to_issue(row, ()) for row in (await self._session.execute(skip_locked(statement))).scalars()]

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
                reminders_paused=state.paused,
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
                reminders_paused=bindparam("paused"),
                next_due_at=bindparam("next_due", type_=UtcDateTime()),
            )
        )
        await self._session.execute(
            statement,
            [
                {
                    "issue_id": issue_id, "kind": state.kind, "seq": state.seq, "generation": state.generation,
                    "snoozed_until": state.snoozed_until, "ack_escalated": state.ack_escalated,
                    "resolve_escalated_for": state.resolve_escalated_for, "paused": state.paused, "next_due": next_due_at,
                }
                for issue_id, state, next_due_at in states
            ],
        )

    async def resume_reminders(self, war_room_id: int, *, now: datetime) -> int:
        """Make the reminders held while the war room was signed off due now (the next pass plans them)."""
        result = await self._session.execute(
            update(IssueRow).where(IssueRow.war_room_id == war_room_id, IssueRow.reminders_paused.is_(True)).values(next_due_at=now)
        )
        return result.rowcount

    async def reminder_state(self, issue_id: int) -> ReminderState:
        row = await self._session.get(IssueRow, issue_id)
        assert row is not None
        return _reminder_state(row)

    async def recent(self, war_room_id: int, since: datetime | None) -> list[Issue]:
        """Issues raised or resolved since `since` (all when None), for the stand-up: plain rows, not through the ORM."""
        condition = _ISSUES.c.war_room_id == war_room_id
        if since is not None:
            condition = condition & ((_ISSUES.c.created_at >= since) | (_ISSUES.c.resolved_at >= since))
        rows = await self._session.execute(select(_ISSUES).where(condition).order_by(_ISSUES.c.id))
        return [_to_issue(row, ()) for row in rows]  # type: ignore[arg-type]

    async def briefs(self, war_room_id: int) -> list[IssueBrief]:
        """Every issue of the war room, as the stand-up's counts see it (a few columns)."""
        return await issue_briefs(self._session, war_room_id)

    async def for_standup(self, war_room_id: int, *, standup_on: date) -> list[Issue]:
        """The issues a stand-up may list: open, resolved and not confirmed, or decided at the stand-up of `standup_on`."""
        return [_to_issue(row, ()) for row in await self._session.execute(standup_listed(war_room_id, standup_on))]  # type: ignore[arg-type]

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
            update(_ISSUES).where(_ISSUES.c.id == issue_id).values(card_activity_id=activity_id, conversation_id=conversation_id)
        )

    async def _one(self, statement: Any, parameters: dict[str, Any] | None = None) -> Issue | None:
        # Plain rows: no ORM identity map on the hot path (and nothing for an UPDATE to synchronise).
        row = (await self._session.execute(statement, parameters)).one_or_none()
        if row is None:
            return None
        return _to_issue(row, await self._followers_of(row.id))  # type: ignore[arg-type]

    async def _followers_of(self, issue_id: int) -> tuple[Person, ...]:
        rows = await self._session.execute(_FOLLOWERS_OF, {"issue_id": issue_id})
        return tuple(Person(aad_object_id=row.aad_object_id, name=row.name) for row in rows)

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


def _person_columns(person: Person | None) -> tuple[str | None, str | None]:
    return (person.aad_object_id, person.name) if person else (None, None)


def _to_reminded(row: Any) -> RemindedIssue:
    return RemindedIssue(
        id=row.id, war_room_id=row.war_room_id, number=row.number, title=row.title, severity=Severity(row.severity),
        status=Status(row.status), created_at=row.created_at, resolve_by=row.resolve_by, acknowledged_at=row.acknowledged_at,
        assignee=optional_person(row.assignee_id, row.assignee_name), version=row.version, conversation_id=row.conversation_id,
    )


def _reminder_state(row: Any) -> ReminderState:
    return ReminderState(
        kind=row.reminder_kind,  # type: ignore[arg-type]
        seq=row.reminder_seq,
        generation=row.reminder_generation,
        snoozed_until=row.snoozed_until,
        ack_escalated=row.ack_escalated,
        resolve_escalated_for=row.resolve_escalated_for,
        paused=row.reminders_paused,
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
            close_by=row.close_by,
            confirmation=Confirmation(at=row.confirmed_at, by=optional_person(row.confirmed_by_id, row.confirmed_by_name))
            if row.confirmed_at is not None else None,
        )
    escalation = None
    if row.escalated_at is not None:
        escalation = Escalation(
            escalated_by=Person(aad_object_id=row.escalated_by_id, name=row.escalated_by_name or "Unknown"),
            escalated_at=row.escalated_at,
            reason=row.escalation_reason or "",
            to=optional_person(row.escalated_to_id, row.escalated_to_name),
        )
    decision = None
    if row.decision and row.decided_at is not None and row.decided_standup_on is not None:
        decision = PriorityDecision(
            priority=Priority(row.decision),
            by=Person(aad_object_id=row.decided_by_id, name=row.decided_by_name or "Unknown"),
            at=row.decided_at,
            standup_on=row.decided_standup_on,
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
        acknowledged_by=optional_person(row.acknowledged_by_id, row.acknowledged_by_name),
        assignee=optional_person(row.assignee_id, row.assignee_name),
        latest_update=latest_update,
        resolution=resolution,
        duplicate_of=row.duplicate_of,
        followers=followers,
        source_url=row.source_url,
        environment=Environment(row.environment) if row.environment else None,
        documents=row.documents,
        escalation=escalation,
        decision=decision,
    )
