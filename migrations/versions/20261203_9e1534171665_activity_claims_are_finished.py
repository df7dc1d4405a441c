"""activity claims are finished once answered

Revision ID: 9e1534171665
Revises: 6e4c5a8cf4ae
Create Date: 2026-12-03 12:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '9e1534171665'
down_revision: str | None = '6e4c5a8cf4ae'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('processed_activities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('done_at', sa.DateTime(timezone=True), nullable=True))
    # Every activity recorded so far was treated as answered.
    op.execute("UPDATE processed_activities SET done_at = received_at")


def downgrade() -> None:
    # An unfinished claim would read as answered once the column is gone: forget it instead.
    op.execute("DELETE FROM processed_activities WHERE done_at IS NULL")
    with op.batch_alter_table('processed_activities', schema=None) as batch_op:
        batch_op.drop_column('done_at')
