"""The manager: shared informers, start after sync, graceful stop, registry."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from runtime_helpers import settle, until

from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.runtime.controller import Controller
from sandbox.runtime.manager import Manager
from sandbox.runtime.reconcile import Request, Result
from sandbox.runtime.registry import ControllerRegistry

CONFIGMAP = ("v1", "ConfigMap")
SECRET = ("v1", "Secret")


def cm(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
    }


class Recording:
    """Remembers requests; optionally blocks each reconcile until released."""

    def __init__(self, *, block: bool = False) -> None:
        self.requests: list[Request] = []
        self.finished: list[Request] = []
        self.cancelled: list[Request] = []
        self.release = asyncio.Event()
        if not block:
            self.release.set()

    async def reconcile(self, request: Request) -> Result | None:
        self.requests.append(request)
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled.append(request)
            raise
        self.finished.append(request)
        return None


@pytest.fixture
async def manager(client: MemoryClient, clock: FakeClock) -> AsyncIterator[Manager]:
    manager = Manager(client, clock=clock)
    yield manager
    await manager.stop(timeout=0)


async def test_workers_start_only_after_every_cache_has_synced(
    client: MemoryClient, manager: Manager
) -> None:
    for i in range(5):
        await client.create(cm(f"c{i}"))
    synced_when_called: list[bool] = []

    class Check:
        async def reconcile(self, request: Request) -> Result | None:
            synced_when_called.append(all(i.has_synced() for i in manager.informers))
            return None

    manager.add(Controller("check", for_=CONFIGMAP, owns=[SECRET], reconciler=Check()))
    await manager.start()
    await until(lambda: len(synced_when_called) == 5)
    assert all(synced_when_called)


async def test_controllers_share_one_informer_per_kind(
    client: MemoryClient, manager: Manager
) -> None:
    manager.add(Controller("a", for_=CONFIGMAP, owns=[SECRET], reconciler=Recording()))
    manager.add(Controller("b", for_=SECRET, owns=[CONFIGMAP], reconciler=Recording()))
    await manager.start()
    assert len(manager.informers) == 2
    assert manager.informer(*CONFIGMAP) is manager.informer(*CONFIGMAP)
    assert client.store.watcher_count() == 2


async def test_adding_a_controller_twice_by_name_is_refused(manager: Manager) -> None:
    manager.add(Controller("a", for_=CONFIGMAP, reconciler=Recording()))
    with pytest.raises(ValueError):
        manager.add(Controller("a", for_=SECRET, reconciler=Recording()))


async def test_stop_lets_in_flight_reconciles_finish_and_takes_no_new_keys(
    client: MemoryClient, manager: Manager
) -> None:
    reconciler = Recording(block=True)
    manager.add(Controller("slow", for_=CONFIGMAP, reconciler=reconciler))
    await manager.start()
    await client.create(cm("first"))
    await until(lambda: len(reconciler.requests) == 1)

    stopping = asyncio.ensure_future(manager.stop(timeout=60))
    await settle()
    await client.create(cm("second"))
    await settle()
    assert not stopping.done()  # waiting for "first"
    reconciler.release.set()
    await until(lambda: stopping.done())
    assert [r.name for r in reconciler.finished] == ["first"]
    assert reconciler.cancelled == []
    assert [r.name for r in reconciler.requests] == ["first"]
    assert not manager.running
    assert client.store.watcher_count() == 0


async def test_stop_cancels_reconciles_still_running_after_the_timeout(
    client: MemoryClient, manager: Manager, clock: FakeClock
) -> None:
    reconciler = Recording(block=True)
    manager.add(Controller("stuck", for_=CONFIGMAP, reconciler=reconciler))
    await manager.start()
    await client.create(cm("stuck"))
    await until(lambda: len(reconciler.requests) == 1)

    stopping = asyncio.ensure_future(manager.stop(timeout=5))
    await clock.advance(4.9)
    assert not stopping.done()
    await clock.advance(0.1)
    await until(lambda: stopping.done())
    assert [r.name for r in reconciler.cancelled] == ["stuck"]


async def test_async_with_starts_and_stops_the_manager(
    client: MemoryClient, clock: FakeClock
) -> None:
    reconciler = Recording()
    async with Manager(client, clock=clock) as manager:
        manager.add(Controller("late", for_=CONFIGMAP, reconciler=reconciler))
        assert manager.running
        await client.create(cm("x"))
        await until(lambda: len(reconciler.finished) == 1)
    assert not manager.running
    assert client.store.watcher_count() == 0


async def test_a_controller_added_while_running_starts_once_its_cache_syncs(
    client: MemoryClient, manager: Manager
) -> None:
    await client.create(cm("existing"))
    await manager.start()
    reconciler = Recording()
    manager.add(Controller("late", for_=CONFIGMAP, reconciler=reconciler))
    await until(lambda: [r.name for r in reconciler.finished] == ["existing"])


async def test_registry_controllers_are_built_at_start_and_can_be_filtered(
    client: MemoryClient, clock: FakeClock
) -> None:
    registry = ControllerRegistry()
    built: list[str] = []

    def factory(name: str) -> Any:
        def build(manager: Manager) -> Controller:
            built.append(name)
            return Controller(name, for_=CONFIGMAP, reconciler=Recording())

        return build

    registry.register("configmap-a", factory("configmap-a"))
    registry.register("configmap-b", factory("configmap-b"))
    manager = Manager(client, clock=clock, registry=registry, enabled=["configmap-b"])
    await manager.start()
    try:
        assert built == ["configmap-b"]
        assert list(manager.controllers) == ["configmap-b"]
        assert manager.controllers["configmap-b"].running
    finally:
        await manager.stop()


async def test_start_fails_clearly_when_a_cache_never_syncs(
    client: MemoryClient, clock: FakeClock
) -> None:
    manager = Manager(client, clock=clock)
    manager.add(Controller("widgets", for_=("example.com/v1", "Widget"), reconciler=Recording()))
    starting = asyncio.ensure_future(manager.start(sync_timeout=10))
    await clock.advance(10)
    await until(lambda: starting.done())
    with pytest.raises(TimeoutError, match=re.escape("example.com/v1 Widget")):
        starting.result()
    assert not manager.running


async def test_reconcilers_read_the_shared_cache_through_the_manager(
    client: MemoryClient, manager: Manager
) -> None:
    await client.create(cm("x"))
    manager.add(Controller("a", for_=CONFIGMAP, reconciler=Recording()))
    await manager.start()
    cache = manager.informer(*CONFIGMAP)
    assert cache.has_synced()
    assert cache.get("default", "x") is not None
    secrets = manager.informer(*SECRET)  # created on demand, started at once
    await secrets.wait_for_sync()
    assert secrets.running
