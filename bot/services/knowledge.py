"""Knowledge transfer: runbooks written as fixes happen, and past fixes suggested before an issue is raised."""

from __future__ import annotations

from datetime import datetime

from bot.domain.model import Area, Category, NewRunbook, Person, Runbook
from bot.domain.permissions import Action, may
from bot.domain.ports import DuplicateSourceForm, UnitOfWork
from bot.domain.results import Applied, NotFound, Refused
from bot.domain.messages import ConversationRef
from bot.services.roles import actor_roles


async def write_runbook(
    *, uow: UnitOfWork, now: datetime, conversation: ConversationRef, author: Person, form_id: str, title: str, symptoms: str,
    steps: str, area: Area | None, category: Category | None, issue_ids: tuple[int, ...] = (),
) -> Runbook:
    """Store a runbook written in a form. Submitting the same form again returns the runbook it already made."""
    try:
        async with uow:
            war_room_id = await uow.war_rooms.ensure(conversation, now=now)
            runbook = await uow.runbooks.add(
                NewRunbook(
                    war_room_id=war_room_id, title=title, symptoms=symptoms, steps=steps, area=area, category=category,
                    owner=author, issue_ids=issue_ids, created_at=now, source_form_id=form_id,
                )
            )
            await uow.commit()
    except DuplicateSourceForm:
        # A double click or a re-sent invoke raced us: the other request's runbook is the answer.
        async with uow:
            war_room_id = await uow.war_rooms.find(conversation)
            assert war_room_id is not None  # the duplicate is in it
            existing = await uow.runbooks.get_by_source_form(war_room_id, form_id)
        assert existing is not None
        return existing
    return runbook


async def edit_runbook(
    *, uow: UnitOfWork, now: datetime, conversation: ConversationRef, editor: Person, runbook_id: int, title: str,
    symptoms: str, steps: str, admins: frozenset[str],
) -> Applied[Runbook] | Refused[Runbook] | NotFound:
    """Its owner or a triage lead may edit a runbook of this war room."""
    async with uow:
        war_room_id = await uow.war_rooms.find(conversation)
        runbook = await uow.runbooks.get(runbook_id)
        if runbook is None or runbook.war_room_id != war_room_id:
            return NotFound(reason="There is no runbook like that in this war room.")
        is_owner = editor.aad_object_id is not None and editor.aad_object_id == runbook.owner.aad_object_id
        if not may(await actor_roles(uow, runbook.war_room_id, editor, admins), Action.EDIT_RUNBOOK, own=is_owner):
            return Refused(subject=runbook, reason="Only its owner or a triage lead can edit this runbook.")
        updated = await uow.runbooks.update(runbook_id, title=title, symptoms=symptoms, steps=steps, now=now)
        await uow.commit()
    return Applied(subject=updated, message="Runbook saved.")


async def find_runbooks(*, uow: UnitOfWork, conversation: ConversationRef, words: str) -> list[Runbook]:
    async with uow:
        war_room_id = await uow.war_rooms.find(conversation)
        return await uow.runbooks.search(war_room_id, words, limit=5) if war_room_id is not None else []
