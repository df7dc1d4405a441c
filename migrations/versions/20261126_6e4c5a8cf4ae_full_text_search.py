"""full-text search: similar past issues and runbooks

Revision ID: 6e4c5a8cf4ae
Revises: 233b16a22b29
Create Date: 2026-11-26 23:40:00.000000

What `storage/repositories/fulltext.py` ranks with, kept current by the database itself (no application code
has to remember to reindex):

SQLite: one FTS5 table, `search_fts(title, body, fix)`, holding both issues (title, description,
resolution notes) and runbooks (title, symptoms, steps), so that bm25() ranks them against the same
statistics. The rowid says which: 2*id for an issue, 2*id+1 for a runbook. It keeps its own copy of
the text (a regular FTS5 table, not contentless or external-content): SQLite 3.40 (Debian 12) has
no `contentless_delete`, and external content needs the exact old values on every delete or the
index silently goes wrong; a copy cannot drift and is rebuilt with DELETE + INSERT ... SELECT.
Tokenizer: porter stemming over unicode61 without diacritics ("posting" = "posted" = "post").
Triggers after INSERT, UPDATE OF the indexed columns, and DELETE on `issues` and `runbooks` keep it
current; the other frequent updates of an issue (reminders, versions) do not touch it.
Careful: a batch-mode migration that *recreates* `issues` or `runbooks` on SQLite drops these
triggers; such a migration must create them again (copy `_sqlite_triggers` below) and refill.

PostgreSQL: a generated, stored `search_vector tsvector` column on `issues` and `runbooks`
(to_tsvector('english'): Snowball stemming and English stop words; title weighted A, description
or symptoms B, resolution notes or steps C) with a GIN index. PostgreSQL computes it on every
write, so it can never be stale, needs no trigger and was filled for existing rows by ADD COLUMN.

None of this is in the SQLAlchemy models; `migrations/env.py` tells `alembic check` to ignore it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '6e4c5a8cf4ae'
down_revision: str | None = '233b16a22b29'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# --- SQLite ---------------------------------------------------------------------------------

_ISSUE_ROW = "new.id * 2, new.title, new.description, coalesce(new.resolution_notes, '')"
_RUNBOOK_ROW = "new.id * 2 + 1, new.title, new.symptoms, new.steps"


def _sqlite_triggers() -> list[str]:
    return [
        f"""CREATE TRIGGER search_fts_issues_insert AFTER INSERT ON issues BEGIN
            INSERT INTO search_fts (rowid, title, body, fix) VALUES ({_ISSUE_ROW});
        END""",
        f"""CREATE TRIGGER search_fts_issues_update AFTER UPDATE OF id, title, description, resolution_notes ON issues BEGIN
            DELETE FROM search_fts WHERE rowid = old.id * 2;
            INSERT INTO search_fts (rowid, title, body, fix) VALUES ({_ISSUE_ROW});
        END""",
        """CREATE TRIGGER search_fts_issues_delete AFTER DELETE ON issues BEGIN
            DELETE FROM search_fts WHERE rowid = old.id * 2;
        END""",
        f"""CREATE TRIGGER search_fts_runbooks_insert AFTER INSERT ON runbooks BEGIN
            INSERT INTO search_fts (rowid, title, body, fix) VALUES ({_RUNBOOK_ROW});
        END""",
        f"""CREATE TRIGGER search_fts_runbooks_update AFTER UPDATE OF id, title, symptoms, steps ON runbooks BEGIN
            DELETE FROM search_fts WHERE rowid = old.id * 2 + 1;
            INSERT INTO search_fts (rowid, title, body, fix) VALUES ({_RUNBOOK_ROW});
        END""",
        """CREATE TRIGGER search_fts_runbooks_delete AFTER DELETE ON runbooks BEGIN
            DELETE FROM search_fts WHERE rowid = old.id * 2 + 1;
        END""",
    ]


_SQLITE_TRIGGER_NAMES = [
    "search_fts_issues_insert", "search_fts_issues_update", "search_fts_issues_delete",
    "search_fts_runbooks_insert", "search_fts_runbooks_update", "search_fts_runbooks_delete",
]


def _upgrade_sqlite() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE search_fts USING fts5("
        "title, body, fix, tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    for statement in _sqlite_triggers():
        op.execute(statement)
    # Rows that existed before this revision.
    op.execute(
        "INSERT INTO search_fts (rowid, title, body, fix) "
        "SELECT id * 2, title, description, coalesce(resolution_notes, '') FROM issues"
    )
    op.execute(
        "INSERT INTO search_fts (rowid, title, body, fix) SELECT id * 2 + 1, title, symptoms, steps FROM runbooks"
    )


def _downgrade_sqlite() -> None:
    for name in _SQLITE_TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS search_fts")


# --- PostgreSQL -----------------------------------------------------------------------------

def _weighted(column: str, weight: str) -> str:
    return f"setweight(to_tsvector('english'::regconfig, coalesce({column}, '')), '{weight}')"


_PG_VECTORS = {
    "issues": " || ".join([_weighted("title", "A"), _weighted("description", "B"), _weighted("resolution_notes", "C")]),
    "runbooks": " || ".join([_weighted("title", "A"), _weighted("symptoms", "B"), _weighted("steps", "C")]),
}


def _upgrade_postgresql() -> None:
    for table, expression in _PG_VECTORS.items():
        op.add_column(
            table,
            sa.Column("search_vector", postgresql.TSVECTOR(), sa.Computed(expression, persisted=True), nullable=True),
        )
        op.create_index(f"ix_{table}_search_vector", table, ["search_vector"], postgresql_using="gin")


def _downgrade_postgresql() -> None:
    for table in _PG_VECTORS:
        op.drop_index(f"ix_{table}_search_vector", table_name=table)
        op.drop_column(table, "search_vector")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _upgrade_sqlite()
    elif dialect == "postgresql":
        _upgrade_postgresql()
    else:
        raise NotImplementedError(f"full-text search is written for SQLite and PostgreSQL, not {dialect}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _downgrade_sqlite()
    elif dialect == "postgresql":
        _downgrade_postgresql()
