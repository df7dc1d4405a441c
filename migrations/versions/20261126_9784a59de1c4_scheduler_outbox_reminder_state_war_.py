"""scheduler: outbox, reminder state, war room settings and on-call

Revision ID: 9784a59de1c4
Revises: 0ced87383edc
Create Date: 2026-11-26 19:47:53.382253
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '9784a59de1c4'
down_revision: str | None = '0ced87383edc'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('war_room_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=True),
    sa.Column('service_url', sa.String(length=500), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('conversation_id', sa.String(length=300), nullable=False),
    sa.Column('bot_id', sa.String(length=200), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_activity_id', sa.String(length=300), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['war_room_id'], ['war_rooms.id'], name=op.f('fk_outbox_war_room_id_war_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_dedupe_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_conversation_status_id', ['conversation_id', 'status', 'id'], unique=False)
        batch_op.create_index('ix_outbox_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)

    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reminder_kind', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('reminder_seq', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('snoozed_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('ack_escalated', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('resolve_escalated_for', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_issues_next_due_at'), ['next_due_at'], unique=False)

    with op.batch_alter_table('war_rooms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('settings', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('oncall', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('home_conversation_id', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('home_channel_id', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('home_service_url', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('bot_id', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('next_standup_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_standup_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_war_rooms_next_standup_at'), ['next_standup_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('war_rooms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_war_rooms_next_standup_at'))
        batch_op.drop_column('last_standup_at')
        batch_op.drop_column('next_standup_at')
        batch_op.drop_column('bot_id')
        batch_op.drop_column('home_service_url')
        batch_op.drop_column('home_channel_id')
        batch_op.drop_column('home_conversation_id')
        batch_op.drop_column('oncall')
        batch_op.drop_column('settings')

    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issues_next_due_at'))
        batch_op.drop_column('resolve_escalated_for')
        batch_op.drop_column('ack_escalated')
        batch_op.drop_column('snoozed_until')
        batch_op.drop_column('reminder_seq')
        batch_op.drop_column('reminder_kind')
        batch_op.drop_column('next_due_at')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_status_next_attempt_at')
        batch_op.drop_index('ix_outbox_conversation_status_id')

    op.drop_table('outbox')
