"""Unit of work: one transaction, the repositories on it, rolled back unless committed."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.repositories.activities import ProcessedActivityRepository
from storage.repositories.charts import ChartSnapshotRepository
from storage.repositories.conversations import ConversationRepository
from storage.repositories.events import EventRepository
from storage.repositories.floor_walkers import FloorWalkerRepository
from storage.repositories.issues import IssueRepository
from storage.repositories.members import MemberRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.roles import RoleRepository
from storage.repositories.runbooks import RunbookRepository
from storage.repositories.similar import SimilarityRepository
from storage.repositories.war_rooms import WarRoomRepository


class SqlUnitOfWork:
    war_rooms: WarRoomRepository
    conversations: ConversationRepository
    activities: ProcessedActivityRepository
    issues: IssueRepository
    events: EventRepository
    roles: RoleRepository
    outbox: OutboxRepository
    runbooks: RunbookRepository
    similar: SimilarityRepository
    charts: ChartSnapshotRepository
    floor_walkers: FloorWalkerRepository

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> SqlUnitOfWork:
        session = self._session_factory()
        self._session = session
        self.war_rooms = WarRoomRepository(session)
        self.conversations = ConversationRepository(session)
        self.members = MemberRepository(session)
        self.activities = ProcessedActivityRepository(session)
        self.issues = IssueRepository(session)
        self.events = EventRepository(session)
        self.roles = RoleRepository(session)
        self.outbox = OutboxRepository(session)
        self.runbooks = RunbookRepository(session)
        self.similar = SimilarityRepository(session)
        self.charts = ChartSnapshotRepository(session)
        self.floor_walkers = FloorWalkerRepository(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._session is not None
        try:
            await self._session.rollback()
        finally:
            await self._session.close()
            self._session = None

    async def commit(self) -> None:
        assert self._session is not None
        await self._session.commit()


class UnitOfWorkFactory:
    """What services are given: each call opens a fresh unit of work."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._session_factory)
