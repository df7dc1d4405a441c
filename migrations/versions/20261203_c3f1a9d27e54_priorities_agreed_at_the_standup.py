"""priorities agreed at the stand-up: the decision on each issue

Revision ID: c3f1a9d27e54
Revises: 4aa1e5dc48fa
Create Date: 2026-12-11 10:00:00.000000

An issue on the stand-up's "Needs a decision" is kept in hypercare, deferred or given another severity there: who
agreed it, when, and at the stand-up of which local date. A reopening clears it (the question is asked again).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c3f1a9d27e54'
down_revision: str | None = '4aa1e5dc48fa'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('decided_by_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('decided_by_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('decided_standup_on', sa.Date(), nullable=True))


def downgrade() -> None:
    # Native DROP COLUMN (SQLite 3.35+): no rebuild of `issues`, which would drop its full-text search triggers.
    for column in ('decided_standup_on', 'decided_at', 'decided_by_name', 'decided_by_id', 'decision'):
        op.execute(f"ALTER TABLE issues DROP COLUMN {column}")
