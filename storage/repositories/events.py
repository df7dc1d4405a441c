"""The history of each issue: one event per version."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.model import Issue, Person
from bot.domain.events import Event
from storage.models import IssueEventRow


_INSERT_EVENT = insert(IssueEventRow.__table__)


class EventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, issue: Issue, event: Event) -> None:
        """Record `event` as what produced `issue.version`."""
        # The statement built once, the values as parameters: one per click.
        await self._session.execute(
            _INSERT_EVENT,
            dict(
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
            ),
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
