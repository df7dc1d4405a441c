"""war room members, welcomed_at

Revision ID: b7e2c4d91a05
Revises: 5b2e9c41d7a3
Create Date: 2026-12-03 15:10:00.000000

- `war_room_members`: who belongs to a war room (its team's roster, or seen acting there), and when they last
  chose it in their personal chat. A personal chat acts in its person's war rooms.
- `war_rooms.welcomed_at`: the welcome card is posted once, however often Teams says the bot was installed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op



revision: str = 'b7e2c4d91a05'
down_revision: str | None = '5b2e9c41d7a3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'war_room_members',
        sa.Column('war_room_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('aad_object_id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('via', sa.String(length=10), nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('chosen_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['war_room_id'], ['war_rooms.id'], name=op.f('fk_war_room_members_war_room_id_war_rooms'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('war_room_id', 'aad_object_id', name=op.f('pk_war_room_members')),
    )
    op.create_index(op.f('ix_war_room_members_aad_object_id'), 'war_room_members', ['aad_object_id'], unique=False)
    op.add_column('war_rooms', sa.Column('welcomed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Native DROP COLUMN (SQLite 3.35+): no rebuild of `war_rooms`.
    op.execute("ALTER TABLE war_rooms DROP COLUMN welcomed_at")
    op.drop_index(op.f('ix_war_room_members_aad_object_id'), table_name='war_room_members')
    op.drop_table('war_room_members')
