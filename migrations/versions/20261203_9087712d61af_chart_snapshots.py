"""chart snapshots: the figures behind each card's chart

Revision ID: 9087712d61af
Revises: 61ce674bf8a6
Create Date: 2026-12-04 10:00:00.000000

A stand-up's, status card's or celebration's chart link draws the figures kept here when the card was made,
so that it shows the same picture for the war room's life plus 90 days (bot/domain/charts.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '9087712d61af'
down_revision: str | None = '61ce674bf8a6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'chart_snapshots',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('war_room_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('series', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['war_room_id'], ['war_rooms.id'], name=op.f('fk_chart_snapshots_war_room_id_war_rooms'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_chart_snapshots')),
        sa.UniqueConstraint('war_room_id', 'digest', name=op.f('uq_chart_snapshots_war_room_id_digest')),
    )


def downgrade() -> None:
    op.drop_table('chart_snapshots')
