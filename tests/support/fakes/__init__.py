"""An in-memory unit of work for unit tests of bot/services and bot/chat: every Protocol of bot/domain/ports.py on
plain dicts (tests/unit/test_fakes.py checks them against the Protocols, method by method).

Like the real one, a unit of work rolls back what it wrote unless committed, its repositories work only inside
`async with uow`, and storage raises DuplicateSourceForm and StaleIssue where the databases would refuse the write.
"""

from tests.support.fakes.people import FakeDirectory
from tests.support.fakes.store import FakeStore, IssueEvent
from tests.support.fakes.uow import FakeUnitOfWork, FakeUnitOfWorkFactory

__all__ = ["FakeDirectory", "FakeStore", "FakeUnitOfWork", "FakeUnitOfWorkFactory", "IssueEvent"]
