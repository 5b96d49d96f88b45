"""Shared fixtures: a fake clock, an in-memory store and a client over it."""

from __future__ import annotations

import pytest

from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.store import Store


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> Store:
    return Store(clock=clock)


@pytest.fixture
def client(store: Store) -> MemoryClient:
    return MemoryClient(store)
