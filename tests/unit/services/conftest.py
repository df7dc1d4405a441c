from __future__ import annotations

import pytest

from tests.support.fakes import FakeStore, FakeUnitOfWork


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def uow(store: FakeStore) -> FakeUnitOfWork:
    return FakeUnitOfWork(store)
