"""bot/services/knowledge.py on the in-memory unit of work: runbooks written once per form, edited by owner or lead."""

from __future__ import annotations

from typing import Any

import pytest

from bot.domain.model import Area, Category, Role, Runbook
from bot.domain.results import Applied, NotFound, Refused
from bot.domain.war_room import WarRoom
from bot.services.knowledge import edit_runbook, find_runbooks, write_runbook
from tests.support.factories import OMAR, PRIYA, make_conversation
from tests.support.fakes import FakeStore, FakeUnitOfWork
from tests.support.scene import ANOTHER_TEAM, CHANNEL, LENA, NO_ADMINS, NOW, open_war_room

RUNBOOK: dict[str, Any] = {
    "title": "Missing vendor posting profile", "symptoms": "Vendor invoices cannot be posted in USMF.",
    "steps": "Add the vendor posting profile for the group.", "area": Area.ACCOUNTS_PAYABLE, "category": Category.CONFIGURATION,
}


@pytest.fixture(autouse=True)
def lena_leads_triage(store: FakeStore, room: WarRoom) -> None:
    store.grant(room.id, LENA, Role.TRIAGE_LEAD)


async def written(uow: FakeUnitOfWork, **overrides: Any) -> Runbook:
    values = {"uow": uow, "now": NOW, "conversation": CHANNEL, "author": OMAR, "form_id": "form-rb-1"} | RUNBOOK | overrides
    return await write_runbook(**values)


async def edit(uow: FakeUnitOfWork, editor: Any, runbook_id: int = 1, conversation: Any = CHANNEL) -> Any:
    return await edit_runbook(
        uow=uow, now=NOW, conversation=conversation, editor=editor, runbook_id=runbook_id, title="Vendor posting profile",
        symptoms="", steps="Open Vendor posting profiles; add the group.", admins=NO_ADMINS,
    )


async def test_a_runbook_written_in_a_form_is_stored_with_its_owner(uow: FakeUnitOfWork, store: FakeStore) -> None:
    runbook = await written(uow)

    assert (runbook.id, runbook.war_room_id, runbook.owner, runbook.title, runbook.area) == (1, 1, OMAR, RUNBOOK["title"], Area.ACCOUNTS_PAYABLE)
    assert store.runbooks == {1: runbook} and store.runbook_forms == {1: "form-rb-1"} and uow.commits == 1


async def test_the_same_form_saved_again_returns_the_runbook_it_wrote(uow: FakeUnitOfWork, store: FakeStore) -> None:
    first = await written(uow)

    again = await written(uow, title="Saved twice")

    assert again == first and list(store.runbooks) == [1] and uow.commits == 1


async def test_the_owner_edits_their_runbook(uow: FakeUnitOfWork, store: FakeStore) -> None:
    await written(uow)

    result = await edit(uow, OMAR)

    assert isinstance(result, Applied) and result.message == "Runbook saved."
    assert (store.runbooks[1].title, store.runbooks[1].steps, store.runbooks[1].area) == (
        "Vendor posting profile", "Open Vendor posting profiles; add the group.", Area.ACCOUNTS_PAYABLE
    )
    assert result.subject == store.runbooks[1] and uow.commits == 2


async def test_a_triage_lead_edits_anyones_runbook(uow: FakeUnitOfWork, store: FakeStore) -> None:
    await written(uow)

    assert isinstance(await edit(uow, LENA), Applied) and store.runbooks[1].title == "Vendor posting profile"


async def test_someone_else_is_refused_and_the_runbook_stays(uow: FakeUnitOfWork, store: FakeStore) -> None:
    runbook = await written(uow)

    result = await edit(uow, PRIYA)

    assert result == Refused(subject=runbook, reason="Only its owner or a triage lead can edit this runbook.")
    assert store.runbooks[1] == runbook and uow.commits == 1


async def test_a_runbook_of_another_war_room_or_none_at_all_is_not_found(uow: FakeUnitOfWork, store: FakeStore) -> None:
    await open_war_room(store, ANOTHER_TEAM)
    await written(uow, conversation=ANOTHER_TEAM)

    assert await edit(uow, OMAR) == NotFound(reason="There is no runbook like that in this war room.")
    assert await edit(uow, OMAR, runbook_id=99) == NotFound(reason="There is no runbook like that in this war room.")
    assert store.runbooks[1].title == RUNBOOK["title"]


async def test_runbooks_are_found_by_their_words_in_this_war_room_only(uow: FakeUnitOfWork, store: FakeStore) -> None:
    await written(uow)
    await written(uow, form_id="form-rb-2", title="Reset MFA", symptoms="Cannot sign in.", steps="Reset MFA in Entra.")
    await open_war_room(store, ANOTHER_TEAM)
    await written(uow, conversation=ANOTHER_TEAM, form_id="form-rb-3")

    found = await find_runbooks(uow=uow, conversation=CHANNEL, words="vendor posting")

    assert [runbook.id for runbook in found] == [1]
    assert await find_runbooks(uow=uow, conversation=make_conversation(team_id="19:unknown"), words="vendor") == []
