"""resolutions wait for confirmation: when an unconfirmed one closes by itself, who confirmed it and when

Revision ID: c3f1a7d2e8b4
Revises: c3f1a9d27e54
Create Date: 2026-12-03 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c3f1a7d2e8b4'
down_revision: str | None = 'c3f1a9d27e54'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('close_by', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('confirmed_by_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('confirmed_by_name', sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f('ix_issues_close_by'), ['close_by'], unique=False)
    # Before this revision a resolution was final the moment it was made: those stay closed, as of their resolution
    # (recorded as closed without a confirmation, which is what they were).
    issues = sa.table('issues', sa.column('status', sa.String), sa.column('resolved_at', sa.DateTime(timezone=True)),
                      sa.column('confirmed_at', sa.DateTime(timezone=True)))
    op.execute(
        issues.update().where(issues.c.status == 'resolved', issues.c.resolved_at.is_not(None)).values(confirmed_at=issues.c.resolved_at)
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_issues_close_by'), table_name='issues')
    # Native DROP COLUMN (SQLite 3.35+): no rebuild of `issues`, which would drop its full-text search triggers.
    for column in ('confirmed_by_name', 'confirmed_by_id', 'confirmed_at', 'close_by'):
        op.execute(f"ALTER TABLE issues DROP COLUMN {column}")
