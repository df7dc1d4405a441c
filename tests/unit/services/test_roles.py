"""bot/services/roles.py on the in-memory unit of work: an admin grants and revokes, anyone else is refused."""

from __future__ import annotations

from bot.domain.model import Person, Role
from bot.domain.results import Applied, Refused
from bot.services.roles import change_role, list_roles
from tests.support.clock import FrozenClock
from tests.support.factories import OMAR, PRIYA, make_conversation
from tests.support.fakes import FakeStore, FakeUnitOfWork

NOW = FrozenClock().now()
CHANNEL = make_conversation()
ADMINS = frozenset({PRIYA.aad_object_id or ""})


async def test_an_operator_named_admin_grants_a_role_and_it_is_stored(uow: FakeUnitOfWork) -> None:
    result = await change_role(
        uow=uow, now=NOW, conversation=CHANNEL, actor=PRIYA, person=OMAR, role=Role.TRIAGE_LEAD, grant=True, admins=ADMINS
    )

    assert isinstance(result, Applied) and result.changed and result.message == "Omar Haddad is now triage lead (triage_lead)."
    assert await list_roles(uow=uow, conversation=CHANNEL) == [(OMAR, Role.TRIAGE_LEAD)]
    assert uow.commits == 1


async def test_granting_a_role_held_already_changes_nothing(uow: FakeUnitOfWork) -> None:
    await change_role(uow=uow, now=NOW, conversation=CHANNEL, actor=PRIYA, person=OMAR, role=Role.ONCALL, grant=True, admins=ADMINS)

    again = await change_role(uow=uow, now=NOW, conversation=CHANNEL, actor=PRIYA, person=OMAR, role=Role.ONCALL, grant=True, admins=ADMINS)

    assert isinstance(again, Applied) and not again.changed and again.message == "Omar Haddad already was oncall."


async def test_someone_not_an_admin_is_refused_and_nothing_is_written(uow: FakeUnitOfWork, store: FakeStore) -> None:
    result = await change_role(
        uow=uow, now=NOW, conversation=CHANNEL, actor=OMAR, person=OMAR, role=Role.ADMIN, grant=True, admins=ADMINS
    )

    assert result == Refused(reason="Only an admin can change roles.")
    assert store.roles == {}
    assert uow.commits == 0


async def test_a_person_without_an_object_id_is_named_back_not_stored(uow: FakeUnitOfWork, store: FakeStore) -> None:
    result = await change_role(
        uow=uow, now=NOW, conversation=CHANNEL, actor=PRIYA, person=Person(aad_object_id=None, name="omar"),
        role=Role.SUPPORT, grant=True, admins=ADMINS,
    )

    assert result == Refused(reason="I could not tell who omar is; mention them with @.")
    assert store.roles == {}


async def test_an_admin_revokes_a_role_held(uow: FakeUnitOfWork, store: FakeStore) -> None:
    store.grant(1, OMAR, Role.ONCALL, Role.SUPPORT)

    result = await change_role(uow=uow, now=NOW, conversation=CHANNEL, actor=PRIYA, person=OMAR, role=Role.ONCALL, grant=False, admins=ADMINS)

    assert isinstance(result, Applied) and result.changed and result.message == "Omar Haddad is no longer oncall."
    assert store.roles[(1, "aad-omar")][1] == {Role.SUPPORT} and uow.commits == 1


async def test_revoking_a_role_not_held_changes_nothing(uow: FakeUnitOfWork, store: FakeStore) -> None:
    result = await change_role(uow=uow, now=NOW, conversation=CHANNEL, actor=PRIYA, person=OMAR, role=Role.ONCALL, grant=False, admins=ADMINS)

    assert isinstance(result, Applied) and not result.changed and result.message == "Omar Haddad did not have the role oncall."
    assert store.roles == {}


async def test_an_admin_by_stored_role_may_change_roles_too(uow: FakeUnitOfWork, store: FakeStore) -> None:
    await change_role(uow=uow, now=NOW, conversation=CHANNEL, actor=PRIYA, person=OMAR, role=Role.ADMIN, grant=True, admins=ADMINS)

    result = await change_role(
        uow=uow, now=NOW, conversation=CHANNEL, actor=OMAR, person=PRIYA, role=Role.LEADERSHIP, grant=True, admins=frozenset()
    )

    assert isinstance(result, Applied) and result.changed and store.roles[(1, "aad-priya")][1] == {Role.LEADERSHIP}


async def test_the_roles_of_a_war_room_are_listed_by_role_then_name(uow: FakeUnitOfWork, store: FakeStore) -> None:
    await change_role(uow=uow, now=NOW, conversation=CHANNEL, actor=PRIYA, person=PRIYA, role=Role.SUPPORT, grant=True, admins=ADMINS)
    await change_role(uow=uow, now=NOW, conversation=CHANNEL, actor=PRIYA, person=OMAR, role=Role.SUPPORT, grant=True, admins=ADMINS)
    await change_role(uow=uow, now=NOW, conversation=CHANNEL, actor=PRIYA, person=OMAR, role=Role.ONCALL, grant=True, admins=ADMINS)

    assert await list_roles(uow=uow, conversation=CHANNEL) == [(OMAR, Role.ONCALL), (OMAR, Role.SUPPORT), (PRIYA, Role.SUPPORT)]
    assert await list_roles(uow=uow, conversation=make_conversation(team_id="19:unknown")) == []
