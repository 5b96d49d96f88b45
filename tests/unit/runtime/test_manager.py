"""The manager: shared informers, start after sync, graceful stop, registry."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from runtime_helpers import settle, until

from sandbox.api.errors import NotFound
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


# Pausing ---------------------------------------------------------------------------


class Scaler:
    """Deployment-like: keeps ``<name>-rs`` holding the ``replicas`` of ConfigMap ``<name>``."""

    def __init__(self, client: MemoryClient) -> None:
        self.client = client
        self.reconciles = 0

    async def reconcile(self, request: Request) -> Result | None:
        if request.name.endswith("-rs"):
            return None
        self.reconciles += 1
        parent = await self.client.get("v1", "ConfigMap", request.name, namespace="default")
        replicas = (parent.get("data") or {}).get("replicas", "1")
        child = {**cm(f"{request.name}-rs"), "data": {"replicas": replicas}}
        try:
            current = await self.client.get("v1", "ConfigMap", child["metadata"]["name"],
                                            namespace="default")
        except NotFound:
            await self.client.create(child)
            return None
        if current.get("data") != child["data"]:
            await self.client.patch("v1", "ConfigMap", child["metadata"]["name"],
                                    {"data": child["data"]}, namespace="default")
        return None


async def replicas_of_child(client: MemoryClient, name: str = "web") -> str | None:
    try:
        child = await client.get("v1", "ConfigMap", f"{name}-rs", namespace="default")
    except NotFound:
        return None
    return child["data"]["replicas"]


async def scale(client: MemoryClient, replicas: int, name: str = "web") -> None:
    await client.patch("v1", "ConfigMap", name, {"data": {"replicas": str(replicas)}},
                       namespace="default")


@pytest.fixture
async def scaler(client: MemoryClient, manager: Manager) -> Scaler:
    scaler = Scaler(client)
    manager.add(Controller("deployment", for_=CONFIGMAP, reconciler=scaler))
    manager.add(Controller("other", for_=SECRET, reconciler=Recording()))
    await manager.start()
    await client.create({**cm("web"), "data": {"replicas": "1"}})
    await until(lambda: _child_is(client, "1"))
    await settle()
    return scaler


async def test_a_paused_controller_does_nothing_for_that_long_then_catches_up(
    client: MemoryClient, manager: Manager, clock: FakeClock, scaler: Scaler
) -> None:
    until_ = manager.pause("deployment", 20)
    assert until_ == clock.now() + timedelta(seconds=20)
    assert manager.controllers["deployment"].paused
    assert manager.paused_until("deployment") == until_
    before = scaler.reconciles
    for replicas in (3, 4, 5):
        await scale(client, replicas)
        await clock.advance(5)
    await clock.advance(4.9)
    await settle()
    assert scaler.reconciles == before
    assert await replicas_of_child(client) == "1"

    await clock.advance(0.1)  # 20 s after the pause
    await until(lambda: _child_is(client, "5"))
    assert not manager.controllers["deployment"].paused
    assert manager.paused_until("deployment") is None
    assert scaler.reconciles == before + 1  # three scalings, one catch-up reconcile


async def _child_is(client: MemoryClient, replicas: str) -> bool:
    return await replicas_of_child(client) == replicas


async def test_a_second_pause_replaces_the_deadline(
    client: MemoryClient, manager: Manager, clock: FakeClock, scaler: Scaler
) -> None:
    manager.pause("deployment", 20)
    await clock.advance(10)
    manager.pause("deployment", 30)  # now resumes 40 s after the first pause
    await scale(client, 2)
    await clock.advance(25)
    await settle()
    assert await replicas_of_child(client) == "1"
    await clock.advance(5)
    await until(lambda: _child_is(client, "2"))

    manager.pause("deployment", 30)
    await clock.advance(1)
    manager.pause("deployment", 2)  # shortening works too
    await scale(client, 3)
    await clock.advance(2)
    await until(lambda: _child_is(client, "3"))


async def test_resume_ends_a_pause_early_and_its_timer(
    client: MemoryClient, manager: Manager, clock: FakeClock, scaler: Scaler
) -> None:
    manager.pause("deployment", 60)
    await scale(client, 7)
    await settle()
    sleepers = clock.sleepers
    manager.resume("deployment")
    await until(lambda: _child_is(client, "7"))
    await settle()
    assert clock.sleepers == sleepers - 1  # the resume timer is gone
    manager.resume("deployment")  # resuming a running controller is harmless
    assert not manager.controllers["deployment"].paused


async def test_pausing_an_unknown_controller_names_the_known_ones(manager: Manager) -> None:
    manager.add(Controller("deployment", for_=CONFIGMAP, reconciler=Recording()))
    manager.add(Controller("job", for_=SECRET, reconciler=Recording()))
    with pytest.raises(KeyError, match="known controllers: deployment, job"):
        manager.pause("deploy", 10)
    with pytest.raises(KeyError, match="deploy"):
        manager.resume("deploy")
    with pytest.raises(ValueError):
        manager.pause("job", 0)


async def test_stopping_the_manager_cancels_pause_timers(
    client: MemoryClient, clock: FakeClock
) -> None:
    manager = Manager(client, clock=clock)
    manager.add(Controller("deployment", for_=CONFIGMAP, reconciler=Recording()))
    await manager.start()
    await settle()
    sleepers = clock.sleepers
    manager.pause("deployment", 30)
    await settle()
    assert clock.sleepers == sleepers + 1
    timer = asyncio.all_tasks()
    await asyncio.wait_for(manager.stop(timeout=0), 1)
    await settle()
    assert not [t for t in timer if t.get_name() == "resume-deployment" and not t.done()]
    assert manager.paused_until("deployment") is None


async def test_a_registered_controller_is_paused_by_its_registry_name_or_its_own(
    client: MemoryClient, clock: FakeClock
) -> None:
    registry = ControllerRegistry()
    registry.register("deployment", lambda manager: Controller(
        "deployment-controller", for_=CONFIGMAP, reconciler=Recording()))
    manager = Manager(client, clock=clock, registry=registry)
    await manager.start()
    try:
        manager.pause("deployment", 5)
        assert manager.controllers["deployment-controller"].paused
        assert manager.paused_until("deployment-controller") == manager.paused_until("deployment")
        manager.resume("deployment-controller")
        assert not manager.controllers["deployment-controller"].paused
        with pytest.raises(KeyError, match=r"known controllers: deployment\)"):
            manager.pause("deploy", 5)
    finally:
        await manager.stop()
