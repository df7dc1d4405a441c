"""A new issue: numbered in its war room, stored with its first event (`IssueRepository.add`)."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import bindparam, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.events import Event
from bot.domain.model import Issue, NewIssue
from bot.domain.ports import DuplicateSourceForm
from storage.models import IssueEventRow, IssueRow, WarRoomRow
from storage.repositories.common import dialect

_ISSUES = IssueRow.__table__
_EVENTS = IssueEventRow.__table__
_WAR_ROOMS = WarRoomRow.__table__
# The next number of a war room; its row stays locked until the commit (PostgreSQL).
_NEXT_NUMBER = (
    update(_WAR_ROOMS)
    .where(_WAR_ROOMS.c.id == bindparam("room_id"))
    .values(last_issue_number=_WAR_ROOMS.c.last_issue_number + 1)
    .returning(_WAR_ROOMS.c.last_issue_number)
)
_INSERT_ISSUE = insert(_ISSUES).returning(_ISSUES.c.id)
_INSERT_EVENT = insert(_EVENTS)
# What a new issue's event row takes from the event (the issue, its war room and version 1 come from the issue).
_EVENT_COLUMNS = ("verb", "actor_id", "actor_name", "from_value", "to_value", "reason", "at")


def _typed(table: Any, name: str, prefix: str) -> Any:
    # Typed, so that PostgreSQL knows each parameter's type in an INSERT ... SELECT. Prefixed: a parameter named like a
    # column of `war_rooms` would become a SET of the CTE's UPDATE.
    return bindparam(prefix + name, type_=table.c[name].type)


def _prefixed(values: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {prefix + name: value for name, value in values.items()}


@functools.cache
def _add_in_one_statement(columns: tuple[str, ...]) -> Any:
    """PostgreSQL: the next number, the issue (`columns` as parameters) and its event in one statement (data-modifying
    CTEs), built once."""
    number = _NEXT_NUMBER.cte("n")
    issue = (
        insert(_ISSUES)
        .from_select([*columns, "number"], select(*(_typed(_ISSUES, name, "i_") for name in columns), number.c.last_issue_number))
        .returning(_ISSUES.c.id, _ISSUES.c.number, _ISSUES.c.war_room_id)
        .cte("i")
    )
    event = insert(_EVENTS).from_select(
        ["issue_id", "war_room_id", "version", *_EVENT_COLUMNS],
        select(issue.c.id, issue.c.war_room_id, literal(1), *(_typed(_EVENTS, name, "e_") for name in _EVENT_COLUMNS)),
    ).cte("e")
    return select(issue.c.id, issue.c.number).add_cte(event)


async def add_issue(session: AsyncSession, new: NewIssue, created: Event) -> Issue:
    """Number the issue (its war room's next number), store it and `created`.

    The war room's row stays locked (PostgreSQL) or the database written (SQLite) until the commit: that is what
    numbers concurrent reports without gaps. On PostgreSQL the three writes are one statement, so the lock waits
    for one round trip instead of three.
    """
    values = _new_issue_values(new)
    event = _event_values(created)
    try:
        if dialect(session) == "postgresql":
            statement = _add_in_one_statement(tuple(values))
            parameters = {"room_id": new.war_room_id, **_prefixed(values, "i_"), **_prefixed(event, "e_")}
            row = (await session.execute(statement, parameters)).one()
            issue_id, number = row.id, row.number
        else:
            # SQLite writes one transaction at a time: three statements hold nobody up longer than one.
            number = (await session.execute(_NEXT_NUMBER, {"room_id": new.war_room_id})).scalar_one()
            issue_id = (await session.execute(_INSERT_ISSUE, {**values, "number": number})).scalar_one()
            first = {"issue_id": issue_id, "war_room_id": new.war_room_id, "version": 1}
            await session.execute(_INSERT_EVENT, {**first, **event})
    except IntegrityError as error:
        if "source_form_id" in str(error.orig):
            raise DuplicateSourceForm(new.source_form_id) from error
        raise
    return Issue.model_validate(new.model_dump() | {"id": issue_id, "number": number, "updated_at": new.created_at, "version": 1})


def _new_issue_values(new: NewIssue) -> dict[str, Any]:
    """The columns of a new issue row, but its number."""
    return dict(
        war_room_id=new.war_room_id,
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
        environment=new.environment.value if new.environment else None,
        documents=new.documents,
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


def _event_values(event: Event) -> dict[str, Any]:
    """`_EVENT_COLUMNS` of an issue's first event, as `EventRepository.add` writes them."""
    return dict(
        verb=event.verb, actor_id=event.actor.aad_object_id, actor_name=event.actor.name,
        from_value=event.from_value, to_value=event.to_value, reason=event.reason, at=event.at,
    )
