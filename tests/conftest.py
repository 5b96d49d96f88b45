"""Shared fixtures: a fake clock, an in-memory store and a client over it."""

from __future__ import annotations

import pytest

from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.store import Store
from sandbox.store import store as store_module

# Every store in the suite checks that no committed object is changed in place:
# watch events and informer caches share the store's objects.
store_module.CHECK_IMMUTABLE = True


@pytest.fixture(autouse=True)
def _stored_objects_stay_unchanged():
    """Fail a test during which a committed object was changed in place, even where the error was caught."""
    before = len(store_module.IMMUTABILITY_VIOLATIONS)
    yield
    found = store_module.IMMUTABILITY_VIOLATIONS[before:]
    assert not found, f"stored objects changed in place: {found}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> Store:
    return Store(clock=clock)


@pytest.fixture
def client(store: Store) -> MemoryClient:
    return MemoryClient(store)
