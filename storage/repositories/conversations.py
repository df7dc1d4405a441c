"""Conversations the bot was reached in: what it needs to post there again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.messages import ConversationRef
from storage.models import ConversationRow, UtcDateTime

# Run for every incoming activity. SQLAlchemy cannot cache the compiled form of an ON CONFLICT insert
# built with its constructs (it recompiles it every time, about half a millisecond), so it is written
# once as SQL, which SQLite and PostgreSQL both understand.
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
        # Plain rows, not ORM objects: a tick's reminders read hundreds of threads.
        table = ConversationRow.__table__
        rows = await self._session.execute(select(*_REF_COLUMNS).where(table.c.conversation_id.in_(conversation_ids)))
        return {row.conversation_id: _to_ref(row) for row in rows}

    async def get(self, conversation_id: str) -> ConversationRef | None:
        row = await self._session.get(ConversationRow, conversation_id)
        return _to_ref(row) if row is not None else None


_REF_COLUMNS = tuple(
    ConversationRow.__table__.c[name]
    for name in ("conversation_id", "conversation_type", "service_url", "channel", "bot_id", "bot_name", "tenant_id", "team_id", "channel_id")
)


def _to_ref(row: Any) -> ConversationRef:
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
