"""The knowledge base (runbooks) and "similar past issues", ranked by full-text search in the database.

The search structures come from migration 6e4c5a8cf4ae and are kept current by the database:

* SQLite: one FTS5 table `search_fts(title, body, fix)` for issues *and* runbooks (rowid 2*id for an
  issue, 2*id+1 for a runbook), Porter stemming over unicode61, filled by triggers on `issues` and
  `runbooks`. Ranked with `bm25()`, title weighted above the description and the fix. One table, so
  issues and runbooks are scored against the same term statistics and can be ranked together.
* PostgreSQL: a generated `search_vector` column on `issues` and `runbooks`
  (`to_tsvector('english')`, title weight A, description/symptoms B, notes/steps C) with a GIN index,
  found with `@@` and ranked with `ts_rank` normalised by document length (option 1), so a long
  description that repeats a word does not beat a short, exact one.
  `ts_rank`, not `ts_rank_cd`: cover density rewards query terms that occur *close together*; with an
  OR query every single occurrence of any term is already a "cover", so it degenerates into counting
  occurrences, and a document repeating "tax" beats the one sharing "VAT", "rate" and "November".
  `ts_rank` rewards sharing more of the query's distinct words. On the test set (tests/integration/
  test_search.py, 43 new reports) ts_rank puts the right fix first 43 times; ts_rank_cd 41 with the
  same weights, 42 at best over the weights and normalisations tried (36 at worst).
  'english' rather than 'simple' + our own stemming: Snowball stemming and its stop list are what we
  would otherwise write by hand, it agrees with SQLite's Porter stemmer on what counts as the same word
  ("posting"/"posted", "invoices"/"invoice"), and 'simple' put the right fix first only 41 times.

The query is never the user's text. `search_terms` extracts words (letters and digits only), drops stop
words and hypercare filler ("issue", "error", "users"…), adds a few domain synonyms ("supplier" →
"vendor", "bill" → "invoice", "log in" → "login"…), and the database gets an OR of those terms:
`"vendor" OR "invoice"` for FTS5 (each term quoted, so no FTS5 operator can be formed) and
`vendor or invoice` for `websearch_to_tsquery` (which accepts any input without a syntax error).
OR, not AND: a new report shares only part of its words with the past issue that solves it; the
ranking puts the documents that share the most, and the rarest (bm25), first.
"""

from __future__ import annotations

import re
from datetime import datetime
from types import EllipsisType
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.model import DESCRIPTION_MAX, TITLE_MAX, Area, Category, NewRunbook, Person, Runbook, Status, Suggestion
from storage.models import IssueRow, RunbookIssueRow, RunbookRow
from storage.repositories import DuplicateSourceForm

SUMMARY_MAX = 200
MAX_TERMS = 32
MAX_TERM_LENGTH = 40
# Only so much of a pasted log is worth reading for words.
MAX_TEXT_SCANNED = 20_000

# bm25() column weights for search_fts(title, body, fix).
_BM25 = "bm25(search_fts, 3.0, 1.0, 1.0)"
# ts_rank weights for D, C, B, A (unused, notes/steps, description/symptoms, title); normalisation
# 1 divides by 1 + log(document length).
_PG_WEIGHTS = "'{0.1, 0.4, 0.4, 1.0}'::float4[]"


def _pg_rank(vector: str) -> str:
    return f"ts_rank({_PG_WEIGHTS}, {vector}, q.query, 1)"


_PG_QUERY = "SELECT websearch_to_tsquery('english', :terms) AS query"

# English function words, and words nearly every hypercare report contains and that say nothing about
# *which* problem it is. bm25 discounts common words on its own; ts_rank does not, hence the list.
# (It contains PostgreSQL's English stop list, so the database never gets a query of stop words only.)
STOP_WORDS = frozenset(
    """
    a about above after again against all already also am an and any anyone anything are aren arent as at
    be because been before being below between both but by can cannot cant could couldn d did didn didnt
    do does doesn doesnt doing don dont down during each either else even ever every everyone everything
    few for from further had hadn has hasn hasnt have haven havent having he her here hers herself him
    himself his how however i if in into is isn isnt it its itself just let ll m me might more most much
    must mustn my myself need needs neither no nobody nor not now o of off on once one only or other our
    ours ourselves out over own re s same shall shan she should shouldn since so some someone something
    still such t than that the their theirs them themselves then there these they this those though
    through to too under until up upon us ve very via was wasn wasnt we were weren what when where which
    while who whom why will with won wont would wouldn y yet you your yours yourself yourselves
    able unable anymore please pls thanks thank hi hello hey help team today yesterday morning afternoon
    tonight week urgent urgently asap issue issues problem problems error errors message
    get gets getting got seems seem seemed keep keeps kept try tried trying see saw says said say
    user users people everybody work works working worked happen happens happening happened
    d365 dynamics microsoft sev sev1 sev2 sev3 sev4 p1 p2 p3 p4 severity priority go live golive
    """.split()
)

# Groups of words a reporter uses for the same thing; any one of them in the text searches for all.
_SYNONYM_GROUPS = [
    ("vendor", "supplier"),
    ("invoice", "bill"),
    ("customer", "client"),
    ("login", "logon", "signin"),
    ("mfa", "2fa", "multifactor", "authenticator"),
    ("tax", "vat", "gst"),
    ("reconciliation", "reconcile", "reconciling", "rec"),
    ("payment", "pay", "paying"),
    ("ledger", "gl"),
    ("payable", "ap"),
    ("receivable", "ar"),
    ("purchase", "po", "purchasing"),
    ("mrp", "planning"),
    ("bom", "formula"),
    ("printer", "print", "printing", "printed"),
    ("email", "mail", "smtp"),
    ("sync", "synchronize", "synchronise", "syncing"),
    ("shipment", "ship", "shipping", "dispatch"),
    ("item", "product", "sku"),
    ("permission", "permissions", "rights", "privilege"),
    ("slow", "sluggish", "performance"),
    ("stuck", "hangs", "hanging", "frozen"),
    ("fx", "exchange"),
    ("qty", "quantity"),
]
SYNONYMS: dict[str, tuple[str, ...]] = {
    word: tuple(other for other in group if other != word) for group in _SYNONYM_GROUPS for word in group
}
# Phrases that also stand for one word: "log in", "signing on", "sign-in" add "login" (the words themselves
# stay, documents may say "log in" too); "bill of materials" becomes "bom" (so "bill" does not add "invoice").
_PHRASES = [
    (re.compile(r"\b(?:log|logg|sign)(?:s|ed|ing)?[\s-]*(?:in|on)\b"), r"\g<0> login "),
    (re.compile(r"\bbills?\s+of\s+materials?\b"), " bom materials "),
    (re.compile(r"\bmulti[\s-]*factor\b"), r"\g<0> multifactor "),
    (re.compile(r"\be-mail\b"), r"\g<0> email "),
]
# Letters and digits: nothing that FTS5 or tsquery could read as an operator, quote or prefix.
_WORD = re.compile(r"[^\W_]+")
_UNCHANGED: Any = ...


def search_terms(text_: str) -> list[str]:
    """The words of `text_` worth searching for, with their synonyms, at most MAX_TERMS, in order."""
    lowered = text_[:MAX_TEXT_SCANNED].casefold()
    for pattern, replacement in _PHRASES:
        lowered = pattern.sub(replacement, lowered)
    terms: list[str] = []
    seen: set[str] = set()
    for word in _WORD.findall(lowered):
        if word in STOP_WORDS or len(word) > MAX_TERM_LENGTH or len(word) < 2:
            continue
        if word.isdigit() and len(word) < 3:  # "12 users", "sev 1"
            continue
        synonyms = SYNONYMS.get(word) or (SYNONYMS.get(word[:-1], ()) if word.endswith("s") else ())
        for term in (word, *synonyms):
            if term not in seen:
                seen.add(term)
                terms.append(term)
        if len(terms) >= MAX_TERMS:
            break
    return terms[:MAX_TERMS]


def fts5_query(terms: list[str]) -> str:
    """`"vendor" OR "invoice"`: every term a quoted string (quotes doubled), so no operator can form."""
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)


def tsquery_text(terms: list[str]) -> str:
    """`vendor or invoice` for websearch_to_tsquery; "or" itself is a stop word, never a term."""
    return " or ".join(terms)


def summarize(notes: str | None, limit: int = SUMMARY_MAX) -> str:
    """The notes on one line, cut at a word boundary to at most `limit` characters."""
    flat = " ".join((notes or "").split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-") + "…"


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


class RunbookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, new: NewRunbook) -> Runbook:
        """Store a runbook and link it to `new.issue_ids` (issues of the same war room only)."""
        await self._check_issues(new.war_room_id, new.issue_ids)
        row = RunbookRow(
            war_room_id=new.war_room_id,
            title=new.title,
            symptoms=new.symptoms,
            steps=new.steps,
            area=new.area.value if new.area else None,
            category=new.category.value if new.category else None,
            owner_id=new.owner.aad_object_id,
            owner_name=new.owner.name,
            source_form_id=new.source_form_id,
            created_at=new.created_at,
            updated_at=new.created_at,
        )
        self._session.add(row)
        try:
            await self._session.flush()
        except IntegrityError as error:
            if "source_form_id" in str(error.orig):
                raise DuplicateSourceForm(new.source_form_id) from error
            raise
        issue_ids = tuple(sorted(set(new.issue_ids)))
        self._session.add_all(RunbookIssueRow(runbook_id=row.id, issue_id=issue_id) for issue_id in issue_ids)
        await self._session.flush()
        return _to_runbook(row, issue_ids)

    async def get(self, runbook_id: int) -> Runbook | None:
        row = await self._session.get(RunbookRow, runbook_id, populate_existing=True)
        if row is None:
            return None
        return _to_runbook(row, (await self._issue_ids([row.id])).get(row.id, ()))

    async def get_by_source_form(self, war_room_id: int, form_id: str) -> Runbook | None:
        """The runbook a form wrote in this war room."""
        row = (
            await self._session.execute(
                select(RunbookRow).where(RunbookRow.war_room_id == war_room_id, RunbookRow.source_form_id == form_id)
            )
        ).scalar_one_or_none()
        return (await self._runbooks([row]))[0] if row is not None else None

    async def update(
        self,
        runbook_id: int,
        *,
        title: str | None = None,
        symptoms: str | None = None,
        steps: str | None = None,
        area: Area | None | EllipsisType = _UNCHANGED,
        category: Category | None | EllipsisType = _UNCHANGED,
        now: datetime,
    ) -> Runbook | None:
        """Change the given fields (`area=None` clears the area; leaving it out keeps it); None if there is no such runbook.

        The same limits as `NewRunbook`: a title of 1 to TITLE_MAX characters, steps not empty.
        """
        values: dict[str, Any] = {"updated_at": now}
        if title is not None:
            if not title.strip() or len(title) > TITLE_MAX:
                raise ValueError(f"a runbook title has 1 to {TITLE_MAX} characters")
            values["title"] = title
        if symptoms is not None:
            if len(symptoms) > DESCRIPTION_MAX:
                raise ValueError(f"runbook symptoms have at most {DESCRIPTION_MAX} characters")
            values["symptoms"] = symptoms
        if steps is not None:
            if not steps.strip() or len(steps) > DESCRIPTION_MAX:
                raise ValueError(f"runbook steps have 1 to {DESCRIPTION_MAX} characters")
            values["steps"] = steps
        if area is not _UNCHANGED:
            values["area"] = area.value if isinstance(area, Area) else None
        if category is not _UNCHANGED:
            values["category"] = category.value if isinstance(category, Category) else None
        result = await self._session.execute(
            update(RunbookRow).where(RunbookRow.id == runbook_id).values(**values),
            execution_options={"synchronize_session": False},
        )
        if result.rowcount != 1:
            return None
        return await self.get(runbook_id)

    async def search(self, war_room_id: int, text_: str, *, limit: int = 5) -> list[Runbook]:
        """The war room's runbooks that match `text_`, most relevant first."""
        terms = search_terms(text_)
        if not terms or limit < 1:
            return []
        if _dialect(self._session) == "postgresql":
            statement = text(
                f"WITH q AS ({_PG_QUERY}) "
                f"SELECT r.id FROM runbooks AS r CROSS JOIN q "
                f"WHERE r.war_room_id = :war_room_id AND r.search_vector @@ q.query "
                f"ORDER BY {_pg_rank('r.search_vector')} DESC, r.id DESC LIMIT :limit"
            ).bindparams(terms=tsquery_text(terms), war_room_id=war_room_id, limit=limit)
        else:
            statement = text(
                "SELECT r.id FROM search_fts JOIN runbooks AS r ON r.id = search_fts.rowid / 2 "
                "WHERE search_fts MATCH :query AND search_fts.rowid % 2 = 1 AND r.war_room_id = :war_room_id "
                f"ORDER BY {_BM25}, r.id DESC LIMIT :limit"
            ).bindparams(query=fts5_query(terms), war_room_id=war_room_id, limit=limit)
        ids = list((await self._session.execute(statement)).scalars())
        if not ids:
            return []
        rows = {row.id: row for row in (await self._session.execute(select(RunbookRow).where(RunbookRow.id.in_(ids)))).scalars()}
        return await self._runbooks([rows[runbook_id] for runbook_id in ids if runbook_id in rows])

    async def linked_issue_ids(self, war_room_id: int) -> set[int]:
        """Issues of the war room that some runbook covers."""
        rows = await self._session.execute(
            select(RunbookIssueRow.issue_id)
            .join(RunbookRow, RunbookRow.id == RunbookIssueRow.runbook_id)
            .where(RunbookRow.war_room_id == war_room_id)
        )
        return set(rows.scalars())

    async def _check_issues(self, war_room_id: int, issue_ids: tuple[int, ...]) -> None:
        wanted = set(issue_ids)
        if not wanted:
            return
        found = set(
            (
                await self._session.execute(
                    select(IssueRow.id).where(IssueRow.id.in_(wanted), IssueRow.war_room_id == war_room_id)
                )
            ).scalars()
        )
        if missing := wanted - found:
            raise ValueError(f"issues {sorted(missing)} are not issues of war room {war_room_id}")

    async def _runbooks(self, rows: list[RunbookRow]) -> list[Runbook]:
        links = await self._issue_ids([row.id for row in rows])
        return [_to_runbook(row, links.get(row.id, ())) for row in rows]

    async def _issue_ids(self, runbook_ids: list[int]) -> dict[int, tuple[int, ...]]:
        if not runbook_ids:
            return {}
        rows = await self._session.execute(
            select(RunbookIssueRow.runbook_id, RunbookIssueRow.issue_id)
            .where(RunbookIssueRow.runbook_id.in_(runbook_ids))
            .order_by(RunbookIssueRow.runbook_id, RunbookIssueRow.issue_id)
        )
        grouped: dict[int, list[int]] = {}
        for runbook_id, issue_id in rows:
            grouped.setdefault(runbook_id, []).append(issue_id)
        return {runbook_id: tuple(ids) for runbook_id, ids in grouped.items()}


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
        if _dialect(self._session) == "postgresql":
            statement = text(
                f"WITH q AS ({_PG_QUERY}) "
                "SELECT 'issue' AS kind, i.id, i.title, i.number, i.resolution_notes AS summary, "
                f"{_pg_rank('i.search_vector')} AS score "
                "FROM issues AS i CROSS JOIN q "
                "WHERE i.war_room_id = :war_room_id AND i.status = :resolved AND i.search_vector @@ q.query "
                "UNION ALL "
                "SELECT 'runbook' AS kind, r.id, r.title, NULL AS number, r.steps AS summary, "
                f"{_pg_rank('r.search_vector')} AS score "
                "FROM runbooks AS r CROSS JOIN q "
                "WHERE r.war_room_id = :war_room_id AND r.search_vector @@ q.query "
                "ORDER BY score DESC, kind DESC, id DESC LIMIT :limit"
            ).bindparams(terms=tsquery_text(terms), war_room_id=war_room_id, resolved=resolved, limit=limit)
        else:
            statement = text(
                "SELECT CASE search_fts.rowid % 2 WHEN 0 THEN 'issue' ELSE 'runbook' END AS kind, "
                "search_fts.rowid / 2 AS id, coalesce(i.title, r.title) AS title, i.number AS number, "
                "CASE search_fts.rowid % 2 WHEN 0 THEN i.resolution_notes ELSE r.steps END AS summary, "
                f"-{_BM25} AS score "
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


def _to_runbook(row: RunbookRow, issue_ids: tuple[int, ...]) -> Runbook:
    return Runbook(
        id=row.id,
        war_room_id=row.war_room_id,
        title=row.title,
        symptoms=row.symptoms,
        steps=row.steps,
        area=Area(row.area) if row.area else None,
        category=Category(row.category) if row.category else None,
        owner=Person(aad_object_id=row.owner_id, name=row.owner_name),
        issue_ids=issue_ids,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
