"""the hypercare window: war room kind, what leadership was told once, reminders paused after sign-off

Revision ID: 5b2e9c41d7a3
Revises: 9087712d61af
Create Date: 2026-12-10 09:00:00.000000

- `war_rooms.kind` (team, group_chat, personal_chat): which war rooms hold a stand-up. Existing rows are filled
  in from their home conversation's type: personal chats never get one, group chats only once set up (the
  scheduler drops a stand-up that is no longer due the next time it comes up).
- `war_rooms.overrun_told_for`, `war_rooms.ready_told_at`: leadership is @mentioned once about an overrun of a
  planned end, and told once that the exit criteria pass.
- `issues.reminders_paused`: reminders held while the war room is signed off, resumed by a withdrawal.

Plain ADD COLUMN on both databases: no table rebuild (SQLite would drop the issues' full-text search triggers).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '5b2e9c41d7a3'
down_revision: str | None = '9087712d61af'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('war_rooms', sa.Column('kind', sa.String(length=20), server_default='team', nullable=False))
    op.add_column('war_rooms', sa.Column('overrun_told_for', sa.Date(), nullable=True))
    op.add_column('war_rooms', sa.Column('ready_told_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('issues', sa.Column('reminders_paused', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(
        "UPDATE war_rooms SET kind = CASE WHEN EXISTS (SELECT 1 FROM conversations c WHERE "
        "c.conversation_id = war_rooms.home_conversation_id AND c.conversation_type = 'personal') "
        "THEN 'personal_chat' ELSE 'group_chat' END WHERE team_id IS NULL"
    )


def downgrade() -> None:
    # Native DROP COLUMN (SQLite 3.35+): no rebuild of `issues` and its search triggers.
    for table, column in (('issues', 'reminders_paused'), ('war_rooms', 'ready_told_at'), ('war_rooms', 'overrun_told_for'),
                          ('war_rooms', 'kind')):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
