"""issues: the Dynamics 365 environment and document numbers

Revision ID: c3d8e5a17f20
Revises: c3f1a7d2e8b4
Create Date: 2026-12-03 16:00:00.000000

- `issues.environment`: production, test or sandbox, read from the message and confirmed on the form.
- `issues.documents`: the document and voucher numbers named ("PO-000482, INV-2024-00891").
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c3d8e5a17f20'
down_revision: str | None = 'c3f1a7d2e8b4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (nullable, no default): SQLite keeps `issues` and its search triggers as they are.
    op.add_column('issues', sa.Column('environment', sa.String(length=20), nullable=True))
    op.add_column('issues', sa.Column('documents', sa.String(length=200), nullable=True))


def downgrade() -> None:
    # Native DROP COLUMN (SQLite 3.35+): no rebuild of `issues` and its search triggers.
    op.execute("ALTER TABLE issues DROP COLUMN documents")
    op.execute("ALTER TABLE issues DROP COLUMN environment")
