"""Runbooks, the past fixes that look like a new report, and the war room's issues that label one
(storage/repositories/runbooks.py, similar.py).

The databases rank by full-text relevance; here a document scores the number of search terms it contains (the real
`search_terms`, so stop words and synonyms count the same), most first, newest first among equals.
"""

from __future__ import annotations

import re
from datetime import datetime

from bot.domain.model import DESCRIPTION_MAX, TITLE_MAX, Area, Category, NewRunbook, Runbook, Status, Suggestion
from bot.domain.ports import DuplicateSourceForm
from bot.domain.prefill import LabelledExample
from storage.repositories.fulltext import search_terms
from storage.repositories.similar import summarize
from tests.support.fakes.base import FakeRepository


def score(terms: list[str], *texts: str | None) -> int:
    words = set(re.findall(r"\w+", " ".join(text or "" for text in texts).casefold()))
    return sum(1 for term in terms if term in words)


class FakeRunbooks(FakeRepository):
    async def add(self, new: NewRunbook) -> Runbook:
        store = self._store
        missing = {issue_id for issue_id in new.issue_ids
                   if issue_id not in store.issues or store.issues[issue_id].war_room_id != new.war_room_id}
        if missing:
            raise ValueError(f"issues {sorted(missing)} are not issues of war room {new.war_room_id}")
        if new.source_form_id is not None and await self.get_by_source_form(new.war_room_id, new.source_form_id) is not None:
            raise DuplicateSourceForm(new.source_form_id)
        runbook = Runbook(
            id=max(store.runbooks, default=0) + 1, war_room_id=new.war_room_id, title=new.title, symptoms=new.symptoms,
            steps=new.steps, area=new.area, category=new.category, owner=new.owner, issue_ids=tuple(sorted(set(new.issue_ids))),
            created_at=new.created_at, updated_at=new.created_at,
        )
        return store.add_runbook(runbook, form_id=new.source_form_id)

    async def get(self, runbook_id: int) -> Runbook | None:
        return self._store.runbooks.get(runbook_id)

    async def get_by_source_form(self, war_room_id: int, form_id: str) -> Runbook | None:
        return next(
            (runbook for runbook_id, runbook in sorted(self._store.runbooks.items())
             if runbook.war_room_id == war_room_id and self._store.runbook_forms.get(runbook_id) == form_id),
            None,
        )

    async def update(
        self, runbook_id: int, *, title: str | None = None, symptoms: str | None = None, steps: str | None = None,
        area: Area | None = ..., category: Category | None = ..., now: datetime,  # type: ignore[assignment]
    ) -> Runbook | None:
        changes: dict[str, object] = {"updated_at": now}
        if title is not None:
            if not title.strip() or len(title) > TITLE_MAX:
                raise ValueError(f"a runbook title has 1 to {TITLE_MAX} characters")
            changes["title"] = title
        if symptoms is not None:
            if len(symptoms) > DESCRIPTION_MAX:
                raise ValueError(f"runbook symptoms have at most {DESCRIPTION_MAX} characters")
            changes["symptoms"] = symptoms
        if steps is not None:
            if not steps.strip() or len(steps) > DESCRIPTION_MAX:
                raise ValueError(f"runbook steps have 1 to {DESCRIPTION_MAX} characters")
            changes["steps"] = steps
        if area is not ...:
            changes["area"] = area
        if category is not ...:
            changes["category"] = category
        runbook = self._store.runbooks.get(runbook_id)
        if runbook is None:
            return None
        self._store.runbooks[runbook_id] = runbook.model_copy(update=changes)
        return self._store.runbooks[runbook_id]

    async def search(self, war_room_id: int, text_: str, *, limit: int = 5) -> list[Runbook]:
        terms = search_terms(text_)
        if not terms or limit < 1:
            return []
        scored = [(score(terms, runbook.title, runbook.symptoms, runbook.steps), runbook.id, runbook)
                  for runbook in self._store.runbooks.values() if runbook.war_room_id == war_room_id]
        return [runbook for points, _, runbook in sorted(scored, key=lambda row: (-row[0], -row[1])) if points][:limit]

    async def linked_issue_ids(self, war_room_id: int) -> set[int]:
        return {issue_id for runbook in self._store.runbooks.values() if runbook.war_room_id == war_room_id for issue_id in runbook.issue_ids}

    async def all(self, war_room_id: int) -> list[Runbook]:
        return [runbook for _, runbook in sorted(self._store.runbooks.items()) if runbook.war_room_id == war_room_id]

    async def count(self, war_room_id: int) -> int:
        return len(await self.all(war_room_id))


class FakeSimilar(FakeRepository):
    async def similar(self, war_room_id: int, text_: str, *, limit: int = 3) -> list[Suggestion]:
        terms = search_terms(text_)
        if not terms or limit < 1:
            return []
        found = [
            Suggestion(kind="issue", id=issue.id, title=issue.title, number=issue.number,
                       summary=summarize(issue.resolution.notes if issue.resolution else None),
                       score=score(terms, issue.title, issue.description, issue.resolution.notes if issue.resolution else None))
            for issue in self._store.issues.values()
            if issue.war_room_id == war_room_id and issue.status is Status.RESOLVED
        ] + [
            Suggestion(kind="runbook", id=runbook.id, title=runbook.title, summary=summarize(runbook.steps),
                       score=score(terms, runbook.title, runbook.symptoms, runbook.steps))
            for runbook in self._store.runbooks.values()
            if runbook.war_room_id == war_room_id
        ]
        ranked = sorted((s for s in found if s.score), key=lambda s: (-s.score, s.kind != "runbook", -s.id))
        return ranked[:limit]

    async def confirmed(self, war_room_id: int, text_: str, *, limit: int = 20) -> list[LabelledExample]:
        terms = search_terms(text_)
        if not terms or limit < 1:
            return []
        scored = [(score(terms, issue.title, issue.description), issue.id, issue)
                  for issue in self._store.issues.values() if issue.war_room_id == war_room_id]
        ranked = [issue for points, _, issue in sorted(scored, key=lambda row: (-row[0], -row[1])) if points][:limit]
        return [LabelledExample(text=issue.description.strip() or issue.title, severity=issue.severity, category=issue.category,
                                area=issue.area) for issue in ranked]
