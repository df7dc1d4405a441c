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
