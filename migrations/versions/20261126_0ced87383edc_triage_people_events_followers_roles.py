"""triage: people, events, followers, roles

Revision ID: 0ced87383edc
Revises: c6de26f75738
Create Date: 2026-11-26 19:39:15.009933
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0ced87383edc'
down_revision: str | None = 'c6de26f75738'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('war_room_roles',
    sa.Column('war_room_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('aad_object_id', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('granted_by_name', sa.String(length=200), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['war_room_id'], ['war_rooms.id'], name=op.f('fk_war_room_roles_war_room_id_war_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('war_room_id', 'aad_object_id', 'role', name=op.f('pk_war_room_roles'))
    )
    op.create_table('issue_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('issue_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('war_room_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('verb', sa.String(length=30), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.Column('from_value', sa.String(length=200), nullable=True),
    sa.Column('to_value', sa.String(length=200), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_issue_events_issue_id_issues'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['war_room_id'], ['war_rooms.id'], name=op.f('fk_issue_events_war_room_id_war_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issue_events'))
    )
    with op.batch_alter_table('issue_events', schema=None) as batch_op:
        batch_op.create_index('ix_issue_events_issue_version', ['issue_id', 'version'], unique=False)
        batch_op.create_index(batch_op.f('ix_issue_events_war_room_id'), ['war_room_id'], unique=False)

    op.create_table('issue_followers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('issue_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_key', sa.String(length=200), nullable=False),
    sa.Column('aad_object_id', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_issue_followers_issue_id_issues'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issue_followers')),
    sa.UniqueConstraint('issue_id', 'person_key', name=op.f('uq_issue_followers_issue_id_person_key'))
    )
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('acknowledged_by_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('acknowledged_by_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('assignee_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('assignee_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('latest_update_text', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('latest_update_by_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('latest_update_by_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('latest_update_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('resolution_type', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('resolution_notes', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('handled_by', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('resolved_by_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('resolved_by_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('save_as_runbook', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('runbook_title', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('duplicate_of', sa.Integer(), nullable=True))
        batch_op.create_index('ix_issues_conversation_id', ['conversation_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_index('ix_issues_conversation_id')
        batch_op.drop_column('duplicate_of')
        batch_op.drop_column('runbook_title')
        batch_op.drop_column('save_as_runbook')
        batch_op.drop_column('resolved_at')
        batch_op.drop_column('resolved_by_name')
        batch_op.drop_column('resolved_by_id')
        batch_op.drop_column('handled_by')
        batch_op.drop_column('resolution_notes')
        batch_op.drop_column('resolution_type')
        batch_op.drop_column('latest_update_at')
        batch_op.drop_column('latest_update_by_name')
        batch_op.drop_column('latest_update_by_id')
        batch_op.drop_column('latest_update_text')
        batch_op.drop_column('assignee_name')
        batch_op.drop_column('assignee_id')
        batch_op.drop_column('acknowledged_by_name')
        batch_op.drop_column('acknowledged_by_id')
        batch_op.drop_column('acknowledged_at')

    op.drop_table('issue_followers')
    with op.batch_alter_table('issue_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issue_events_war_room_id'))
        batch_op.drop_index('ix_issue_events_issue_version')

    op.drop_table('issue_events')
    op.drop_table('war_room_roles')
