"""Fixtures of the SDK's unit tests: a MemoryClient that knows the pipelines kinds, with fake logs."""

from __future__ import annotations

import pytest
from pipeline_fakes import Logs

from sandbox.backends.inprocess.cluster import install_crds
from sandbox.client.memory import MemoryClient
from sandbox.components.pipelines.component import COMPONENT
from sandbox.store import Store


@pytest.fixture
def logs() -> Logs:
    return Logs()


@pytest.fixture
def pipelines_client(store: Store, logs: Logs) -> MemoryClient:
    install_crds(store, COMPONENT.crds())
    return MemoryClient(store, logs=logs)
