"""The in-memory unit of work (tests/support/fakes) against bot/domain/ports.py: the same methods with the same
signatures, and the behaviour of the real storage that use cases rely on (rollback, refused writes, claims)."""

from __future__ import annotations

import inspect
import re
import typing
from datetime import timedelta

import pytest

from bot.domain.events import CREATED, Event
from bot.domain.messages import OutboundMessage, Settled
from bot.domain.model import NewIssue, NewRunbook, Status
from bot.domain.ports import Clock, DuplicateSourceForm, PeopleDirectory, StaleIssue, UnitOfWork
from bot.domain.war_room import WarRoomSettings
from tests.support.clock import FrozenClock
from tests.support.factories import OMAR, PRIYA, make_conversation, make_issue
from tests.support.fakes import FakeDirectory, FakeStore, FakeUnitOfWork

NOW = FrozenClock().now()
CHANNEL = make_conversation()
REPOSITORIES: dict[str, type] = typing.get_type_hints(UnitOfWork)


def _methods(cls: type) -> dict[str, typing.Any]:
    return {
        name: member for name, member in vars(cls).items()
        if inspect.isfunction(member) and (not name.startswith("_") or name in ("__aenter__", "__aexit__"))
    }


def _annotation(annotation: object) -> str:
    # Protocols spell `builtins.list` where their own method `list` hides the builtin; the fakes may too.
    return re.sub(r"\s+", "", str(annotation)).replace("builtins.", "")


def _signature(function: typing.Any, *, own_name: str = "") -> tuple[object, ...]:
    """Async or not, the parameters after `self` and the return type; `own_name` is read as the Protocol's own name."""
    signature = inspect.signature(function)
    parameters = tuple(
        (p.name, p.kind, p.default, _annotation(p.annotation)) for p in list(signature.parameters.values())[1:]
    )
    returns = _annotation(signature.return_annotation)
    return inspect.iscoroutinefunction(function), parameters, returns if returns != own_name else "<own class>"


FAKES: list[tuple[type, type]] = [
    (type(getattr(FakeUnitOfWork(FakeStore()), name)), protocol) for name, protocol in REPOSITORIES.items()
] + [(FakeUnitOfWork, UnitOfWork), (FakeDirectory, PeopleDirectory), (FrozenClock, Clock)]
# What a test double has besides its Protocol, for the test to move it.
CONTROLS = {FrozenClock: {"advance"}}


def test_the_fake_unit_of_work_has_every_repository_of_the_protocol() -> None:
    uow = FakeUnitOfWork(FakeStore())
    assert {"war_rooms", "issues", "events", "outbox"} <= set(REPOSITORIES)
    assert [name for name in REPOSITORIES if not hasattr(uow, name)] == []


@pytest.mark.parametrize(("fake", "protocol"), FAKES, ids=[protocol.__name__ for _, protocol in FAKES])
def test_a_fake_has_exactly_the_methods_of_its_protocol_with_the_same_signatures(fake: type, protocol: type) -> None:
    wanted = _methods(protocol)
    found = {name: member for name, member in _methods(fake).items() if name not in CONTROLS.get(fake, set())}
    assert sorted(found) == sorted(wanted)
    assert {name: _signature(found[name], own_name=fake.__name__) for name in wanted} == {
        name: _signature(wanted[name], own_name=protocol.__name__) for name in wanted
    }


def test_the_signature_check_sees_a_changed_parameter() -> None:
    class Drifted:
        async def get(self, issue_id: int, *, for_update: bool = True) -> object: ...

    assert _signature(Drifted.get) != _signature(REPOSITORIES["issues"].get)


async def test_what_is_not_committed_is_rolled_back() -> None:
    store = FakeStore()
    uow = FakeUnitOfWork(store)
    async with uow:
        await uow.war_rooms.ensure(CHANNEL, now=NOW)
    assert store.war_rooms == {} and uow.commits == 0
    async with uow:
        war_room_id = await uow.war_rooms.ensure(CHANNEL, now=NOW)
        await uow.commit()
        await uow.war_rooms.name_if_unnamed(war_room_id, "written after the commit")
    assert list(store.war_rooms) == [war_room_id] and store.war_rooms[war_room_id].name is None
    assert uow.commits == 1


async def test_an_exception_rolls_back_too() -> None:
    store = FakeStore()
    with pytest.raises(RuntimeError):
        async with FakeUnitOfWork(store) as uow:
            await uow.war_rooms.ensure(CHANNEL, now=NOW)
            raise RuntimeError("the handler failed")
    assert store.war_rooms == {}


async def test_a_repository_works_only_inside_its_unit_of_work() -> None:
    with pytest.raises(AssertionError, match="outside"):
        await FakeUnitOfWork(FakeStore()).war_rooms.find(CHANNEL)


async def test_a_new_war_room_is_homed_in_the_channel_not_the_thread_with_its_first_standup_planned() -> None:
    async with FakeUnitOfWork(FakeStore()) as uow:
        room = await uow.war_rooms.ensure_room(CHANNEL.model_copy(update={"team_name": "Contoso"}), now=NOW)
    assert room.home_conversation_id == "19:general@thread.tacv2" and room.name == "Contoso"
    assert room.next_standup_at == WarRoomSettings().next_standup_at(NOW)


async def test_saving_an_issue_from_an_old_version_is_stale_and_a_new_version_is_numbered() -> None:
    store = FakeStore()
    store.add_issue(make_issue(version=3))
    async with FakeUnitOfWork(store) as uow:
        issue = await uow.issues.get(1)
        assert issue is not None
        with pytest.raises(StaleIssue):
            await uow.issues.save(issue, expected_version=2)
        saved = await uow.issues.save(issue.model_copy(update={"status": Status.ACKNOWLEDGED, "title": "not saved"}), expected_version=3)
        await uow.commit()
    assert saved.version == 4
    assert store.issues[1].status is Status.ACKNOWLEDGED and store.issues[1].title == make_issue().title


async def test_a_form_makes_one_issue_and_one_runbook_per_war_room() -> None:
    store = FakeStore()
    async with FakeUnitOfWork(store) as uow:
        war_room_id = await uow.war_rooms.ensure(CHANNEL, now=NOW)
        store.add_issue(make_issue(war_room_id=war_room_id), form_id="form-1")
        new_issue = make_issue().model_dump() | {"tenant_id": None, "team_id": None, "channel_id": None, "source_form_id": "form-1"}
        with pytest.raises(DuplicateSourceForm):
            await uow.issues.add(NewIssue(**new_issue), created=Event(verb=CREATED, actor=OMAR, at=NOW))
        runbook = NewRunbook(war_room_id=war_room_id, title="Reset MFA", steps="Reset it.", owner=OMAR, created_at=NOW, source_form_id="rb-1")
        await uow.runbooks.add(runbook)
        with pytest.raises(DuplicateSourceForm):
            await uow.runbooks.add(runbook)
        with pytest.raises(ValueError, match="not issues of war room"):
            await uow.runbooks.add(runbook.model_copy(update={"source_form_id": None, "issue_ids": (99,)}))


async def test_an_activity_is_claimed_once_finished_or_released_and_retaken_after_its_lease() -> None:
    store = FakeStore()
    lease = timedelta(seconds=60)
    async with FakeUnitOfWork(store) as uow:
        claims = [await uow.activities.claim("c", "a", now=NOW, lease=lease), await uow.activities.claim("c", "a", now=NOW, lease=lease)]
        retaken = await uow.activities.claim("c", "a", now=NOW + lease, lease=lease)
        assert not await uow.activities.finish("c", "a", claimed_at=NOW, now=NOW + lease)  # no longer the first claim's
        assert await uow.activities.finish("c", "a", claimed_at=NOW + lease, now=NOW + lease)
        done = await uow.activities.claim("c", "a", now=NOW + 2 * lease, lease=lease)
        await uow.activities.claim("c", "b", now=NOW, lease=lease)
        await uow.activities.release("c", "b", claimed_at=NOW)
        again = await uow.activities.claim("c", "b", now=NOW, lease=lease)
    assert (claims, retaken, done, again) == (["claimed", "busy"], "claimed", "done", "claimed")


async def test_the_outbox_sends_one_message_per_conversation_at_a_time_and_each_dedupe_key_once() -> None:
    def message(key: str, conversation_id: str) -> OutboundMessage:
        return OutboundMessage(dedupe_key=key, war_room_id=1, tenant_id=None, service_url="https://smba.example/", kind="message",
                               conversation_id=conversation_id, bot_id=None, card={})

    async with FakeUnitOfWork(FakeStore()) as uow:
        assert await uow.outbox.enqueue_many([message("1", "a"), message("2", "a"), message("3", "b"), message("1", "c")], now=NOW) == 3
        first = await uow.outbox.claim(NOW, limit=10, lease=timedelta(minutes=1))
        assert await uow.outbox.claim(NOW, limit=10, lease=timedelta(minutes=1)) == []
        await uow.outbox.settle([Settled(item_id=first[0].id, kind="sent", at=NOW, activity_id="x"),
                                 Settled(item_id=first[1].id, kind="retry", at=NOW + timedelta(minutes=5), error="503")])
        second = await uow.outbox.claim(NOW, limit=10, lease=timedelta(minutes=1))
        pending = await uow.outbox.list(status="pending")
    assert [item.dedupe_key for item in first] == ["1", "3"] and [item.dedupe_key for item in second] == ["2"]
    assert [(entry.dedupe_key, entry.attempts, entry.last_error) for entry in pending] == [("2", 0, None), ("3", 1, "503")]


async def test_the_directory_finds_a_member_by_channel_id_object_id_or_one_matching_name() -> None:
    directory = FakeDirectory({"29:omar": OMAR, "29:priya": PRIYA}, emails={"aad-omar": "omar@contoso.com"})
    assert await directory.person("29:omar") == OMAR and await directory.person("aad-priya") == PRIYA
    assert await directory.search("omar@contoso.com") == OMAR and await directory.search("priya") == PRIYA
    assert await directory.search("a") is None  # both names hold an "a"
