"""The knowledge base: runbooks, the issues they cover, and search among them (see fulltext.py)."""

from __future__ import annotations

from datetime import datetime
from types import EllipsisType
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.model import DESCRIPTION_MAX, TITLE_MAX, Area, Category, NewRunbook, Person, Runbook
from bot.domain.ports import DuplicateSourceForm
from storage.models import IssueRow, RunbookIssueRow, RunbookRow
from storage.repositories.common import dialect
from storage.repositories.fulltext import BM25, PG_QUERY, fts5_query, pg_rank, search_terms, tsquery_text

_UNCHANGED: Any = ...


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
        if dialect(self._session) == "postgresql":
            statement = text(
                f"WITH q AS ({PG_QUERY}) "
                f"SELECT r.id FROM runbooks AS r CROSS JOIN q "
                f"WHERE r.war_room_id = :war_room_id AND r.search_vector @@ q.query "
                f"ORDER BY {pg_rank('r.search_vector')} DESC, r.id DESC LIMIT :limit"
            ).bindparams(terms=tsquery_text(terms), war_room_id=war_room_id, limit=limit)
        else:
            statement = text(
                "SELECT r.id FROM search_fts JOIN runbooks AS r ON r.id = search_fts.rowid / 2 "
                "WHERE search_fts MATCH :query AND search_fts.rowid % 2 = 1 AND r.war_room_id = :war_room_id "
                f"ORDER BY {BM25}, r.id DESC LIMIT :limit"
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

    async def all(self, war_room_id: int) -> list[Runbook]:
        """The war room's runbook library, oldest first."""
        rows = (await self._session.execute(select(RunbookRow).where(RunbookRow.war_room_id == war_room_id).order_by(RunbookRow.id))).scalars()
        return await self._runbooks(list(rows))

    async def count(self, war_room_id: int) -> int:
        return (await self._session.execute(select(func.count()).where(RunbookRow.war_room_id == war_room_id))).scalar_one()

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
