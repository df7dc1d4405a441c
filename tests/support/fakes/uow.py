"""The unit of work: the repositories on one FakeStore, rolled back on leaving unless committed (storage/uow.py)."""

from __future__ import annotations

import copy

from tests.support.fakes.charts import FakeChartSnapshots
from tests.support.fakes.delivery import FakeActivities, FakeOutbox
from tests.support.fakes.issues import FakeEvents, FakeIssues
from tests.support.fakes.knowledge import FakeRunbooks, FakeSimilar
from tests.support.fakes.people import FakeFloorWalkers, FakeMembers, FakeRoles
from tests.support.fakes.store import FakeStore
from tests.support.fakes.war_rooms import FakeConversations, FakeWarRooms


class FakeUnitOfWork:
    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.commits = 0
        # The store as last committed, while a transaction is open.
        self._committed: FakeStore | None = None
        self.war_rooms = FakeWarRooms(self._open_store)
        self.conversations = FakeConversations(self._open_store)
        self.activities = FakeActivities(self._open_store)
        self.issues = FakeIssues(self._open_store)
        self.events = FakeEvents(self._open_store)
        self.roles = FakeRoles(self._open_store)
        self.members = FakeMembers(self._open_store)
        self.floor_walkers = FakeFloorWalkers(self._open_store)
        self.outbox = FakeOutbox(self._open_store)
        self.runbooks = FakeRunbooks(self._open_store)
        self.similar = FakeSimilar(self._open_store)
        self.charts = FakeChartSnapshots(self._open_store)

    async def __aenter__(self) -> FakeUnitOfWork:
        assert self._committed is None, "a unit of work is one transaction at a time"
        self._committed = copy.deepcopy(self.store)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._committed is not None
        # Roll back what was not committed: the store's own fields, so that the test's reference to it stays good.
        for name in vars(self.store):
            setattr(self.store, name, getattr(self._committed, name))
        self._committed = None

    async def commit(self) -> None:
        assert self._committed is not None, "commit outside the transaction"
        self._committed = copy.deepcopy(self.store)
        self.commits += 1

    def _open_store(self) -> FakeStore:
        assert self._committed is not None, "a repository used outside `async with uow`"
        return self.store


class FakeUnitOfWorkFactory:
    """What `Chat` is given: a fresh unit of work on the shared store per call, each kept to count commits."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.made: list[FakeUnitOfWork] = []

    def __call__(self) -> FakeUnitOfWork:
        uow = FakeUnitOfWork(self.store)
        self.made.append(uow)
        return uow

    @property
    def commits(self) -> int:
        return sum(uow.commits for uow in self.made)
