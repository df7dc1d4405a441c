"""form ids unique per war room, runbook form ids, pending outbox indexes

Revision ID: 61ce674bf8a6
Revises: 9e1534171665
Create Date: 2026-12-03 12:22:19.655535

- `issues.source_form_id` is unique per war room, no longer across the database: the id comes from the
  client, and another war room's form id must find nothing of this one.
- `runbooks.source_form_id`: the `runbook new` form's id, so a second submit finds the runbook it made.
- Partial indexes on the outbox's pending rows, what the claim reads (docs/performance-scheduler.md, fix 9).

SQLite cannot drop a table constraint, so batch mode rebuilds `issues` (with foreign keys off, see
`migrations/env.py`: the rows that refer to issues stay). The rebuild drops the table's full-text search
triggers (migration 6e4c5a8cf4ae), so they are created again; `search_fts` keeps its rows (ids do not change).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '61ce674bf8a6'
down_revision: str | None = '9e1534171665'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")

# The issue triggers of migration 6e4c5a8cf4ae, as they were created there.
_ISSUE_ROW = "new.id * 2, new.title, new.description, coalesce(new.resolution_notes, '')"
_SQLITE_ISSUE_TRIGGERS = [
    f"""CREATE TRIGGER search_fts_issues_insert AFTER INSERT ON issues BEGIN
        INSERT INTO search_fts (rowid, title, body, fix) VALUES ({_ISSUE_ROW});
    END""",
    f"""CREATE TRIGGER search_fts_issues_update AFTER UPDATE OF id, title, description, resolution_notes ON issues BEGIN
        DELETE FROM search_fts WHERE rowid = old.id * 2;
        INSERT INTO search_fts (rowid, title, body, fix) VALUES ({_ISSUE_ROW});
    END""",
    """CREATE TRIGGER search_fts_issues_delete AFTER DELETE ON issues BEGIN
        DELETE FROM search_fts WHERE rowid = old.id * 2;
    END""",
]


def _swap_issue_form_constraint(drop: str, create: str, columns: list[str]) -> None:
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_constraint(drop, type_='unique')
        batch_op.create_unique_constraint(create, columns)
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE_ISSUE_TRIGGERS:
            op.execute(statement)


def upgrade() -> None:
    _swap_issue_form_constraint('uq_issues_source_form_id', 'uq_issues_war_room_id_source_form_id', ['war_room_id', 'source_form_id'])

    op.add_column('runbooks', sa.Column('source_form_id', sa.String(length=64), nullable=True))
    op.create_index('uq_runbooks_war_room_id_source_form_id', 'runbooks', ['war_room_id', 'source_form_id'], unique=True)

    op.create_index(
        'ix_outbox_pending_conversation_id', 'outbox', ['conversation_id', 'id'], sqlite_where=PENDING, postgresql_where=PENDING
    )
    op.create_index(
        'ix_outbox_pending_next_attempt_at', 'outbox', ['next_attempt_at', 'id'], sqlite_where=PENDING, postgresql_where=PENDING
    )


def downgrade() -> None:
    op.drop_index('ix_outbox_pending_next_attempt_at', table_name='outbox')
    op.drop_index('ix_outbox_pending_conversation_id', table_name='outbox')

    op.drop_index('uq_runbooks_war_room_id_source_form_id', table_name='runbooks')
    # Native DROP COLUMN (SQLite 3.35+): no rebuild of `runbooks` and its search triggers.
    op.execute("ALTER TABLE runbooks DROP COLUMN source_form_id")

    # Fails if two war rooms have used the same form id since the upgrade: which issue keeps it is not ours to choose.
    _swap_issue_form_constraint('uq_issues_war_room_id_source_form_id', 'uq_issues_source_form_id', ['source_form_id'])
