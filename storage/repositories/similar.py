"""Resolved issues and runbooks that look like a new report, and the war room's issues that label one (see
fulltext.py)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.model import Area, Category, Severity, Status, Suggestion
from bot.domain.prefill import LabelledExample
from storage.repositories.common import dialect
from storage.repositories.fulltext import BM25, PG_QUERY, fts5_query, pg_rank, search_terms, tsquery_text

SUMMARY_MAX = 200


class SimilarityRepository:
    """Resolved issues and runbooks of one war room that look like a new report."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def similar(self, war_room_id: int, text_: str, *, limit: int = 3) -> list[Suggestion]:
        """At most `limit` suggestions, most relevant first; [] when nothing shares a word with `text_`."""
        terms = search_terms(text_)
        if not terms or limit < 1:
            return []
        resolved = Status.RESOLVED.value
        if dialect(self._session) == "postgresql":
            statement = text(
                f"WITH q AS ({PG_QUERY}) "
                "SELECT 'issue' AS kind, i.id, i.title, i.number, i.resolution_notes AS summary, "
                f"{pg_rank('i.search_vector')} AS score "
                "FROM issues AS i CROSS JOIN q "
                "WHERE i.war_room_id = :war_room_id AND i.status = :resolved AND i.search_vector @@ q.query "
                "UNION ALL "
                "SELECT 'runbook' AS kind, r.id, r.title, NULL AS number, r.steps AS summary, "
                f"{pg_rank('r.search_vector')} AS score "
                "FROM runbooks AS r CROSS JOIN q "
                "WHERE r.war_room_id = :war_room_id AND r.search_vector @@ q.query "
                "ORDER BY score DESC, kind DESC, id DESC LIMIT :limit"
            ).bindparams(terms=tsquery_text(terms), war_room_id=war_room_id, resolved=resolved, limit=limit)
        else:
            statement = text(
                "SELECT CASE search_fts.rowid % 2 WHEN 0 THEN 'issue' ELSE 'runbook' END AS kind, "
                "search_fts.rowid / 2 AS id, coalesce(i.title, r.title) AS title, i.number AS number, "
                "CASE search_fts.rowid % 2 WHEN 0 THEN i.resolution_notes ELSE r.steps END AS summary, "
                f"-{BM25} AS score "
                "FROM search_fts "
                "LEFT JOIN issues AS i ON search_fts.rowid % 2 = 0 AND i.id = search_fts.rowid / 2 "
                "LEFT JOIN runbooks AS r ON search_fts.rowid % 2 = 1 AND r.id = search_fts.rowid / 2 "
                "WHERE search_fts MATCH :query "
                "AND ((i.war_room_id = :war_room_id AND i.status = :resolved) OR r.war_room_id = :war_room_id) "
                "ORDER BY score DESC, kind DESC, id DESC LIMIT :limit"
            ).bindparams(query=fts5_query(terms), war_room_id=war_room_id, resolved=resolved, limit=limit)
        rows = (await self._session.execute(statement)).mappings().all()
        return [
            Suggestion(
                kind=row["kind"],
                id=row["id"],
                title=row["title"],
                number=row["number"],
                summary=summarize(row["summary"]),
                score=float(row["score"]),
            )
            for row in rows
        ]


    async def confirmed(self, war_room_id: int, text_: str, *, limit: int = 20) -> list[LabelledExample]:
        """The war room's issues nearest `text_` by full-text relevance, with their current labels."""
        terms = search_terms(text_)
        if not terms or limit < 1:
            return []
        columns = "i.title, i.description, i.severity, i.category, i.area"
        if dialect(self._session) == "postgresql":
            statement = text(
                f"WITH q AS ({PG_QUERY}) SELECT {columns} FROM issues AS i CROSS JOIN q "
                "WHERE i.war_room_id = :war_room_id AND i.search_vector @@ q.query "
                f"ORDER BY {pg_rank('i.search_vector')} DESC, i.id DESC LIMIT :limit"
            ).bindparams(terms=tsquery_text(terms), war_room_id=war_room_id, limit=limit)
        else:
            # Even rowids are issues (rowid 2*id), odd ones runbooks.
            statement = text(
                f"SELECT {columns} FROM search_fts JOIN issues AS i ON i.id = search_fts.rowid / 2 "
                "WHERE search_fts MATCH :query AND search_fts.rowid % 2 = 0 AND i.war_room_id = :war_room_id "
                f"ORDER BY {BM25}, i.id DESC LIMIT :limit"
            ).bindparams(query=fts5_query(terms), war_room_id=war_room_id, limit=limit)
        rows = (await self._session.execute(statement)).mappings().all()
        return [
            LabelledExample(
                text=row["description"] if row["description"].strip() else row["title"],
                severity=Severity(row["severity"]),
                category=Category(row["category"]) if row["category"] else None,
                area=Area(row["area"]) if row["area"] else None,
            )
            for row in rows
        ]


def summarize(notes: str | None, limit: int = SUMMARY_MAX) -> str:
    """The notes on one line, cut at a word boundary to at most `limit` characters."""
    flat = " ".join((notes or "").split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-") + "…"
