"""floor walkers; issues escalated to the partner

Revision ID: 4aa1e5dc48fa
Revises: b7e2c4d91a05
Create Date: 2026-12-10 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '4aa1e5dc48fa'
down_revision: str | None = 'b7e2c4d91a05'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'floor_walkers',
        sa.Column('war_room_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('aad_object_id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('areas', sa.String(length=500), nullable=False),
        sa.Column('days', sa.String(length=20), nullable=True),
        sa.Column('site', sa.String(length=100), nullable=True),
        sa.Column('added_by_name', sa.String(length=200), nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['war_room_id'], ['war_rooms.id'], name=op.f('fk_floor_walkers_war_room_id_war_rooms'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('war_room_id', 'aad_object_id', name=op.f('pk_floor_walkers')),
    )
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('escalated_by_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('escalated_by_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('escalation_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('escalated_to_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('escalated_to_name', sa.String(length=200), nullable=True))


def downgrade() -> None:
    # Native DROP COLUMN (SQLite 3.35+): no rebuild of `issues`, which would drop its full-text search triggers.
    for column in ('escalated_to_name', 'escalated_to_id', 'escalation_reason', 'escalated_by_name', 'escalated_by_id', 'escalated_at'):
        op.execute(f"ALTER TABLE issues DROP COLUMN {column}")
    op.drop_table('floor_walkers')
