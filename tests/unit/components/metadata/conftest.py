"""A fresh in-memory metadata store on the shared fake clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.clock import FakeClock
from sandbox.components.metadata import MetadataStore


@pytest.fixture
def mlmd(clock: FakeClock) -> Iterator[MetadataStore]:
    with MetadataStore(":memory:", clock=clock) as store:
        yield store
