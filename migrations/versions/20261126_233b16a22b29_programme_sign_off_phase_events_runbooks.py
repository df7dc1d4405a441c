"""programme: sign-off, phase events, runbooks

Revision ID: 233b16a22b29
Revises: 41b430fbf748
Create Date: 2026-11-26 20:11:30.270819
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '233b16a22b29'
down_revision: str | None = '41b430fbf748'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('runbooks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('war_room_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('symptoms', sa.Text(), nullable=False),
    sa.Column('steps', sa.Text(), nullable=False),
    sa.Column('area', sa.String(length=30), nullable=True),
    sa.Column('category', sa.String(length=30), nullable=True),
    sa.Column('owner_id', sa.String(length=64), nullable=True),
    sa.Column('owner_name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['war_room_id'], ['war_rooms.id'], name=op.f('fk_runbooks_war_room_id_war_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_runbooks'))
    )
    with op.batch_alter_table('runbooks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_runbooks_war_room_id'), ['war_room_id'], unique=False)

    op.create_table('war_room_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('war_room_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('verb', sa.String(length=30), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.Column('from_value', sa.String(length=200), nullable=True),
    sa.Column('to_value', sa.String(length=200), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['war_room_id'], ['war_rooms.id'], name=op.f('fk_war_room_events_war_room_id_war_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_war_room_events'))
    )
    with op.batch_alter_table('war_room_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_war_room_events_war_room_id'), ['war_room_id'], unique=False)

    op.create_table('runbook_issues',
    sa.Column('runbook_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('issue_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_runbook_issues_issue_id_issues'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['runbook_id'], ['runbooks.id'], name=op.f('fk_runbook_issues_runbook_id_runbooks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('runbook_id', 'issue_id', name=op.f('pk_runbook_issues'))
    )
    with op.batch_alter_table('runbook_issues', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_runbook_issues_issue_id'), ['issue_id'], unique=False)

    with op.batch_alter_table('war_rooms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signed_off_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('signed_off_by_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('signed_off_by_name', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('war_rooms', schema=None) as batch_op:
        batch_op.drop_column('signed_off_by_name')
        batch_op.drop_column('signed_off_by_id')
        batch_op.drop_column('signed_off_at')

    with op.batch_alter_table('runbook_issues', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_runbook_issues_issue_id'))

    op.drop_table('runbook_issues')
    with op.batch_alter_table('war_room_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_war_room_events_war_room_id'))

    op.drop_table('war_room_events')
    with op.batch_alter_table('runbooks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_runbooks_war_room_id'))

    op.drop_table('runbooks')
