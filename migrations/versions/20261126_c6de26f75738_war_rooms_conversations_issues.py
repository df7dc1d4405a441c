"""war rooms conversations issues

Revision ID: c6de26f75738
Revises:
Create Date: 2026-11-26 19:25:22.504020
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c6de26f75738'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('processed_activities',
    sa.Column('conversation_id', sa.String(length=300), nullable=False),
    sa.Column('activity_id', sa.String(length=200), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('conversation_id', 'activity_id', name=op.f('pk_processed_activities'))
    )
    with op.batch_alter_table('processed_activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processed_activities_received_at'), ['received_at'], unique=False)

    op.create_table('war_rooms',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=True),
    sa.Column('team_id', sa.String(length=200), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('last_issue_number', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_war_rooms')),
    sa.UniqueConstraint('key', name=op.f('uq_war_rooms_key'))
    )
    op.create_table('conversations',
    sa.Column('conversation_id', sa.String(length=300), nullable=False),
    sa.Column('war_room_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('conversation_type', sa.String(length=30), nullable=True),
    sa.Column('tenant_id', sa.String(length=64), nullable=True),
    sa.Column('team_id', sa.String(length=200), nullable=True),
    sa.Column('channel_id', sa.String(length=200), nullable=True),
    sa.Column('service_url', sa.String(length=500), nullable=False),
    sa.Column('channel', sa.String(length=50), nullable=False),
    sa.Column('bot_id', sa.String(length=200), nullable=False),
    sa.Column('bot_name', sa.String(length=200), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['war_room_id'], ['war_rooms.id'], name=op.f('fk_conversations_war_room_id_war_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', name=op.f('pk_conversations'))
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversations_war_room_id'), ['war_room_id'], unique=False)

    op.create_table('issues',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('war_room_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('severity', sa.SmallInteger(), nullable=False),
    sa.Column('category', sa.String(length=30), nullable=True),
    sa.Column('area', sa.String(length=30), nullable=True),
    sa.Column('company', sa.String(length=20), nullable=True),
    sa.Column('affected_users', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reporter_aad_id', sa.String(length=64), nullable=True),
    sa.Column('reporter_name', sa.String(length=200), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=True),
    sa.Column('team_id', sa.String(length=200), nullable=True),
    sa.Column('channel_id', sa.String(length=200), nullable=True),
    sa.Column('conversation_id', sa.String(length=300), nullable=False),
    sa.Column('card_activity_id', sa.String(length=200), nullable=True),
    sa.Column('source_form_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolve_by', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['war_room_id'], ['war_rooms.id'], name=op.f('fk_issues_war_room_id_war_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issues')),
    sa.UniqueConstraint('source_form_id', name=op.f('uq_issues_source_form_id')),
    sa.UniqueConstraint('war_room_id', 'number', name=op.f('uq_issues_war_room_id_number'))
    )
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.create_index('ix_issues_war_room_status', ['war_room_id', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_index('ix_issues_war_room_status')

    op.drop_table('issues')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversations_war_room_id'))

    op.drop_table('conversations')
    op.drop_table('war_rooms')
    with op.batch_alter_table('processed_activities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_processed_activities_received_at'))

    op.drop_table('processed_activities')
