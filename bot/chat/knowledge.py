"""Runbooks: a new form, a search, and a form saved (a new runbook, or one edited)."""

from __future__ import annotations

import uuid

from bot.chat.context import Chat, Clicked, Said
from bot.domain.commands import NewRunbook, SearchRunbooks
from bot.domain.messages import CardActionResult, Outbound, ReplyCard
from bot.domain.model import Runbook
from bot.domain.results import Applied, NotFound, Refused
from bot.services.knowledge import edit_runbook, find_runbooks, write_runbook
from cards.common import is_form_id
from cards.notice import render_notice_card
from cards.runbooks import (
    parse_runbook_form,
    render_runbook,
    render_runbook_form,
    render_runbook_results,
    runbook_values,
)


async def new_form(chat: Chat, command: NewRunbook, said: Said) -> list[Outbound]:
    return [ReplyCard(card=render_runbook_form(form_id=uuid.uuid4().hex))]


async def search(chat: Chat, command: SearchRunbooks, said: Said) -> list[Outbound]:
    found = await find_runbooks(uow=chat.uow(), conversation=said.message.conversation, words=command.words)
    return [ReplyCard(card=render_runbook(found[0]) if len(found) == 1 else render_runbook_results(command.words, found))]


async def save_new(chat: Chat, clicked: Clicked) -> CardActionResult:
    data = clicked.action.data
    form = parse_runbook_form(data)
    form_id = data.get("form_id")
    errors = form if isinstance(form, dict) else {}
    if not is_form_id(form_id):
        errors["form_id"] = "This form was damaged; here is a fresh one: check it and save again."
    if errors or isinstance(form, dict):
        # A valid form id is kept, so that correcting the form and saving still writes one runbook.
        kept = form_id if is_form_id(form_id) else uuid.uuid4().hex
        return CardActionResult(card=render_runbook_form(form_id=kept, values=runbook_values(data), errors=errors))
    runbook = await write_runbook(
        uow=chat.uow(), now=chat.now(), conversation=clicked.action.conversation, author=clicked.sender, form_id=form_id,
        title=form.title, symptoms=form.symptoms, steps=form.steps, area=form.area, category=form.category,
    )
    return CardActionResult(card=render_runbook(runbook, notice="Runbook saved."), refresh_for_everyone=True)


async def save_edit(chat: Chat, clicked: Clicked) -> CardActionResult:
    form = parse_runbook_form(clicked.action.data)
    runbook_id = clicked.action.data.get("runbook_id")
    if isinstance(form, dict) or not isinstance(runbook_id, int):
        return CardActionResult(card=render_notice_card("Nothing was saved: a runbook needs a title and steps."))
    result = await edit_runbook(
        uow=chat.uow(), now=chat.now(), conversation=clicked.action.conversation, editor=clicked.sender, runbook_id=runbook_id,
        title=form.title, symptoms=form.symptoms, steps=form.steps, admins=chat.admins,
    )
    match result:
        case Applied(subject=runbook, message=message):
            return CardActionResult(card=render_runbook(runbook, notice=message), refresh_for_everyone=True)
        case Refused(subject=Runbook() as runbook, reason=reason):
            return CardActionResult(card=render_runbook(runbook, notice=reason))
        case Refused(reason=reason) | NotFound(reason=reason):
            return CardActionResult(card=render_notice_card(reason))
    raise AssertionError(f"unhandled result {result!r}")
