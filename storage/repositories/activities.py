"""Incoming activities claimed for answering, so a re-delivered one is answered once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.domain.ports import ActivityClaim
from storage.models import ProcessedActivityRow, UtcDateTime

# Run for every incoming activity, so written once as SQL: SQLAlchemy recompiles an ON CONFLICT insert built with its
# constructs every time (about half a millisecond). SQLite and PostgreSQL both understand it.
_CLAIM_ACTIVITY = text(
    "INSERT INTO processed_activities (conversation_id, activity_id, received_at) "
    "VALUES (:conversation_id, :activity_id, :received_at) ON CONFLICT (conversation_id, activity_id) DO NOTHING"
).bindparams(bindparam("received_at", type_=UtcDateTime()))


_ACTIVITIES = ProcessedActivityRow.__table__
# The other statement of every incoming activity, built once with the values as parameters (named unlike any column:
# such a name would be a SET of the UPDATE).
_FINISH = (
    update(_ACTIVITIES)
    .where(
        _ACTIVITIES.c.conversation_id == bindparam("b_conversation_id"),
        _ACTIVITIES.c.activity_id == bindparam("b_activity_id"),
        _ACTIVITIES.c.received_at == bindparam("claimed_at", type_=UtcDateTime()),
        _ACTIVITIES.c.done_at.is_(None),
    )
    .values(done_at=bindparam("now", type_=UtcDateTime()))
)


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
        parameters = {"b_conversation_id": conversation_id, "b_activity_id": activity_id, "claimed_at": claimed_at, "now": now}
        return (await self._session.execute(_FINISH, parameters)).rowcount == 1

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
