"""Controllers: watches enqueue, workers reconcile, outcomes mean what they say."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from runtime_helpers import FlakyClient, settle, until

from sandbox.api.errors import AlreadyExists, NotFound
from sandbox.api.objects import annotations, find_condition, owner_reference
from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.runtime.controller import Controller
from sandbox.runtime.handlers import EnqueueRequestsFromMapFunc
from sandbox.runtime.log import get_logger
from sandbox.runtime.manager import Manager
from sandbox.runtime.reconcile import Request, Result, TerminalError

log = get_logger("test.toy")

CONFIGMAP = ("v1", "ConfigMap")


def parent(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default", "labels": {"toy": "parent"}},
        "data": {"greeting": "hello"},
    }


def deployment(name: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "main", "image": "nginx"}]},
            },
        },
    }


class Toy:
    """For every ConfigMap labelled toy=parent, keep a child ``<name>-child``
    owned by it, and note the child's name in an annotation on the parent."""

    def __init__(self, manager: Manager) -> None:
        self.client = manager.client
        self.cache = manager.informer(*CONFIGMAP)
        self.calls: list[Request] = []

    async def reconcile(self, request: Request) -> Result | None:
        self.calls.append(request)
        obj = self.cache.get(request.namespace, request.name)
        if obj is None or obj["metadata"].get("labels", {}).get("toy") != "parent":
            return None
        child_name = f"{request.name}-child"
        if self.cache.get(request.namespace, child_name) is None:
            child = {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": child_name,
                    "namespace": request.namespace,
                    "ownerReferences": [owner_reference(obj)],
                },
                "data": dict(obj.get("data") or {}),
            }
            try:
                await self.client.create(child)
                log.info("created child %s", child_name)
            except AlreadyExists:
                pass  # our cache had not seen our own write yet
        if annotations(obj).get("toy/child") != child_name:
            await self.client.patch(
                "v1",
                "ConfigMap",
                request.name,
                {"metadata": {"annotations": {"toy/child": child_name}}},
                namespace=request.namespace,
            )
        return None


class Scripted:
    """A reconciler whose outcome per call a test scripts."""

    def __init__(
        self, clock: FakeClock, outcome: Callable[[int], Awaitable[Result | None]]
    ) -> None:
        self.clock = clock
        self.outcome = outcome
        self.times: list[float] = []

    async def reconcile(self, request: Request) -> Result | None:
        self.times.append(self.clock.monotonic())
        return await self.outcome(len(self.times))


@pytest.fixture
async def manager(client: MemoryClient, clock: FakeClock) -> AsyncIterator[Manager]:
    manager = Manager(client, clock=clock)
    yield manager
    await manager.stop(timeout=0)


async def test_toy_controller_creates_an_owned_child_and_annotates_its_parent(
    client: MemoryClient, manager: Manager
) -> None:
    toy = Toy(manager)
    manager.add(Controller("toy", for_=CONFIGMAP, owns=[CONFIGMAP], reconciler=toy))
    await client.create(parent("before-start"))
    await manager.start()
    await client.create(parent("x"))

    async def has_child(name: str) -> bool:
        try:
            child = await client.get("v1", "ConfigMap", f"{name}-child", namespace="default")
            owner = await client.get("v1", "ConfigMap", name, namespace="default")
        except NotFound:
            return False
        return (
            child["metadata"]["ownerReferences"][0]["uid"] == owner["metadata"]["uid"]
            and annotations(owner).get("toy/child") == f"{name}-child"
        )

    await until(lambda: has_child("x"), what="x-child")
    await until(lambda: has_child("before-start"), what="before-start-child")

    # Deleting the child wakes the owner through the owns watch, which recreates it.
    await client.delete("v1", "ConfigMap", "x-child", namespace="default")
    await until(lambda: has_child("x"), what="x-child again")
    controller = manager.controllers["toy"]
    assert controller.counts["error"] == 0
    await settle()
    assert len(controller.queue) == 0


async def test_reconcile_errors_are_retried_with_doubling_delays_until_success(
    client: MemoryClient, manager: Manager, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    async def fail_four_times(call: int) -> Result | None:
        if call <= 4:
            raise RuntimeError(f"boom {call}")
        return None

    reconciler = Scripted(clock, fail_four_times)
    controller = manager.add(Controller("flaky", for_=CONFIGMAP, reconciler=reconciler))
    caplog.set_level(logging.ERROR, logger="sandbox.runtime.controller")
    await manager.start()
    await client.create(parent("x"))
    await until(lambda: len(reconciler.times) == 1)
    for n, delay in enumerate([0.005, 0.010, 0.020, 0.040], start=2):
        await clock.advance(delay * 0.9)
        assert len(reconciler.times) == n - 1, f"retry {n} came before {delay}s"
        await clock.advance(delay * 0.1 + 1e-9)
        assert len(reconciler.times) == n, f"retry {n} did not come after {delay}s"
    gaps = [b - a for a, b in zip(reconciler.times, reconciler.times[1:], strict=False)]
    assert gaps == pytest.approx([0.005, 0.010, 0.020, 0.040])

    request = Request("v1", "ConfigMap", "default", "x")
    assert controller.queue.num_requeues(request) == 0  # success forgot the backoff
    assert controller.counts == {"error": 4, "success": 1}
    await clock.advance(100)
    assert len(reconciler.times) == 5

    errors = [r for r in caplog.records if r.name == "sandbox.runtime.controller"]
    assert len(errors) == 4
    assert errors[0].exc_info is not None and "boom 1" in str(errors[0].exc_info[1])
    assert "controller=flaky key=default/x reconcileID=" in errors[0].getMessage()
    assert len({r.reconcileID for r in errors}) == 4  # type: ignore[attr-defined]


async def test_requeue_after_reconciles_again_after_that_much_clock_time(
    client: MemoryClient, manager: Manager, clock: FakeClock
) -> None:
    async def poll(call: int) -> Result | None:
        return Result(requeue_after=30) if call < 3 else None

    reconciler = Scripted(clock, poll)
    controller = manager.add(Controller("poller", for_=CONFIGMAP, reconciler=reconciler))
    await manager.start()
    await client.create(parent("x"))
    await until(lambda: len(reconciler.times) == 1)
    await clock.advance(29)
    assert len(reconciler.times) == 1
    await clock.advance(1)
    assert len(reconciler.times) == 2
    await clock.advance(30)
    assert len(reconciler.times) == 3
    await clock.advance(300)
    assert reconciler.times == pytest.approx([0, 30, 60])
    assert controller.counts == {"requeue_after": 2, "success": 1}


async def test_requeue_true_retries_with_backoff(
    client: MemoryClient, manager: Manager, clock: FakeClock
) -> None:
    async def again(call: int) -> Result | None:
        return Result(requeue=True) if call < 3 else None

    reconciler = Scripted(clock, again)
    manager.add(Controller("again", for_=CONFIGMAP, reconciler=reconciler))
    await manager.start()
    await client.create(parent("x"))
    await until(lambda: len(reconciler.times) == 1)
    await clock.advance(0.005)
    await clock.advance(0.010)
    await clock.advance(1)
    assert reconciler.times == pytest.approx([0, 0.005, 0.015])


async def test_terminal_error_sets_the_failed_condition_records_a_warning_and_stops_retrying(
    client: MemoryClient, manager: Manager, clock: FakeClock
) -> None:
    async def invalid(call: int) -> Result | None:
        raise TerminalError("spec.template needs a GPU node pool", reason="InvalidSpec")

    reconciler = Scripted(clock, invalid)
    controller = manager.add(
        Controller("deployer", for_=("apps/v1", "Deployment"), reconciler=reconciler)
    )
    await manager.start()
    created = await client.create(deployment("web"))

    async def failed() -> bool:
        obj = await client.get("apps/v1", "Deployment", "web", namespace="default")
        return find_condition(obj, "Failed") is not None

    await until(failed, what="Failed condition")
    obj = await client.get("apps/v1", "Deployment", "web", namespace="default")
    condition = find_condition(obj, "Failed")
    assert condition is not None
    assert (condition["status"], condition["reason"], condition["message"]) == (
        "True",
        "InvalidSpec",
        "spec.template needs a GPU node pool",
    )
    await until(lambda: controller.counts["terminal_error"] >= 1)
    await settle()
    calls = len(reconciler.times)
    await clock.advance(3600)
    assert len(reconciler.times) == calls  # no retries, however long we wait
    assert controller.queue.num_requeues(Request("apps/v1", "Deployment", "default", "web")) == 0

    events = (await client.list("v1", "Event", namespace="default"))["items"]
    assert len(events) == 1  # repeats are folded into one Event
    event = events[0]
    assert event["type"] == "Warning"
    assert event["reason"] == "InvalidSpec"
    assert event["message"] == "spec.template needs a GPU node pool"
    assert event["source"] == {"component": "deployer"}
    assert event["involvedObject"]["uid"] == created["metadata"]["uid"]
    assert event["involvedObject"]["kind"] == "Deployment"
    assert event["metadata"]["name"].startswith("web.")
    assert event["count"] == calls


async def test_terminal_error_on_a_kind_without_status_subresource_patches_the_object(
    client: MemoryClient, clock: FakeClock
) -> None:
    class NoStatusSubresource(FlakyClient):
        """Answers like kube-apiserver: ``configmaps/x/status`` does not exist."""

        status_patches = 0

        async def patch_status(
            self, api_version: str, kind: str, name: str, patch: Any, **kwargs: Any
        ) -> Any:
            self.status_patches += 1
            raise NotFound(
                f"the server could not find the requested resource (patch configmaps {name}/status)"
            )

    strict = NoStatusSubresource(client)

    async def invalid(call: int) -> Result | None:
        raise TerminalError("no such image", reason="BadImage", condition_type="Stalled")

    manager = Manager(strict, clock=clock)  # type: ignore[arg-type]
    manager.add(Controller("cm", for_=CONFIGMAP, reconciler=Scripted(clock, invalid)))
    await manager.start()
    try:
        await client.create(parent("x"))

        async def stalled() -> bool:
            obj = await client.get("v1", "ConfigMap", "x", namespace="default")
            return find_condition(obj, "Stalled") is not None

        await until(stalled, what="Stalled condition on the ConfigMap")
        assert strict.status_patches == 1
        events = (await client.list("v1", "Event", namespace="default"))["items"]
        assert [e["reason"] for e in events] == ["BadImage"]
    finally:
        await manager.stop(timeout=0)


async def test_a_key_is_never_reconciled_twice_at_once_but_different_keys_run_in_parallel(
    client: MemoryClient, manager: Manager, clock: FakeClock
) -> None:
    active: set[str] = set()
    overlaps: list[str] = []
    peak = 0
    calls = 0

    class Slow:
        async def reconcile(self, request: Request) -> Result | None:
            nonlocal peak, calls
            calls += 1
            if request.name in active:
                overlaps.append(request.name)
            active.add(request.name)
            peak = max(peak, len(active))
            await settle(10)
            active.discard(request.name)
            return None

    manager.add(Controller("slow", for_=CONFIGMAP, reconciler=Slow(), max_concurrent_reconciles=4))
    await manager.start()
    for i in range(4):
        await client.create(parent(f"p{i}"))
    for round_ in range(5):
        for i in range(4):
            await client.patch(
                "v1", "ConfigMap", f"p{i}", {"data": {"r": str(round_)}}, namespace="default"
            )
        await settle(3)
    await until(lambda: not active and len(manager.controllers["slow"].queue) == 0, rounds=5000)
    assert overlaps == []
    assert peak == 4
    assert calls < 4 * 6  # bursts of changes collapsed into fewer reconciles


class Recording:
    """A reconciler that only notes the requests it gets."""

    def __init__(self) -> None:
        self.seen: list[Request] = []

    async def reconcile(self, request: Request) -> Result | None:
        self.seen.append(request)
        return None


async def test_extra_watches_enqueue_through_their_handler(
    client: MemoryClient, manager: Manager, clock: FakeClock
) -> None:
    record = Recording()

    def secret_to_deployment(obj: Any) -> list[Request]:
        return [Request("apps/v1", "Deployment", obj["metadata"]["namespace"], "web")]

    manager.add(
        Controller(
            "watcher",
            for_=("apps/v1", "Deployment"),
            watches=[("v1", "Secret", EnqueueRequestsFromMapFunc(secret_to_deployment))],
            reconciler=record,
        )
    )
    await manager.start()
    await client.create(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "default"}}
    )
    await until(lambda: Request("apps/v1", "Deployment", "default", "web") in record.seen)


async def test_a_for_handler_replaces_the_primary_kinds_own_handler(
    client: MemoryClient, manager: Manager, clock: FakeClock
) -> None:
    record = Recording()

    def only_parents(obj: Any) -> list[Request]:
        if obj["metadata"].get("labels", {}).get("toy") != "parent":
            return []
        return [Request("v1", "ConfigMap", obj["metadata"]["namespace"], obj["metadata"]["name"])]

    manager.add(Controller("parents", for_=CONFIGMAP, for_handler=EnqueueRequestsFromMapFunc(only_parents),
                           reconciler=record))
    await manager.start()
    await client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other", "namespace": "default"}})
    await client.create(parent("p"))
    await until(lambda: bool(record.seen))
    await settle()
    assert [r.name for r in record.seen] == ["p"]


async def test_a_reconcile_waits_for_the_cache_to_show_what_woke_it(
    client: MemoryClient, manager: Manager, clock: FakeClock
) -> None:
    found: list[bool] = []
    cache = manager.informer(*CONFIGMAP)

    class Reader:
        async def reconcile(self, request: Request) -> Result | None:
            found.append(cache.get(request.namespace, request.name) is not None)
            return None

    manager.add(Controller("reader", for_=CONFIGMAP, reconciler=Reader()))
    await manager.start()
    await client.create(parent("x"))
    await until(lambda: bool(found))
    assert all(found)


def test_a_controller_needs_at_least_one_worker(manager: Manager) -> None:
    with pytest.raises(ValueError):
        Controller("bad", for_=CONFIGMAP, reconciler=Toy(manager), max_concurrent_reconciles=0)


async def test_reconciler_log_lines_carry_the_reconcile_tags(
    client: MemoryClient, manager: Manager, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="test.toy")
    manager.add(Controller("toy", for_=CONFIGMAP, owns=[CONFIGMAP], reconciler=Toy(manager)))
    await manager.start()
    await client.create(parent("web"))
    await until(lambda: any(r.name == "test.toy" for r in caplog.records))
    record = next(r for r in caplog.records if r.name == "test.toy")
    assert record.getMessage().startswith(
        "created child web-child controller=toy key=default/web reconcileID="
    )
    assert record.controller == "toy"  # type: ignore[attr-defined]
    assert record.key == "default/web"  # type: ignore[attr-defined]


# Pausing ---------------------------------------------------------------------------


class Counting:
    """Records every reconcile; optionally blocks each until released."""

    def __init__(self, *, block: bool = False) -> None:
        self.names: list[str] = []
        self.finished: list[str] = []
        self.release = asyncio.Event()
        if not block:
            self.release.set()

    async def reconcile(self, request: Request) -> Result | None:
        self.names.append(request.name)
        await self.release.wait()
        self.finished.append(request.name)
        return None


async def test_a_paused_controller_takes_no_keys_but_catches_up_once_resumed(
    client: MemoryClient, manager: Manager
) -> None:
    reconciler = Counting()
    controller = manager.add(
        Controller("paused", for_=CONFIGMAP, reconciler=reconciler, max_concurrent_reconciles=3)
    )
    await manager.start()
    await settle()  # the three workers now wait for a key
    controller.pause()
    assert controller.paused
    for i in range(3):
        await client.create(parent(f"p{i}"))
    for round_ in range(4):
        await client.patch("v1", "ConfigMap", "p0", {"data": {"r": str(round_)}},
                           namespace="default")
    await settle(200)
    assert reconciler.names == []
    assert len(controller.queue) == 3  # enqueued and deduplicated while paused

    controller.resume()
    assert not controller.paused
    await until(lambda: len(reconciler.finished) == 3)
    await settle(100)
    assert sorted(reconciler.names) == ["p0", "p1", "p2"]  # one reconcile each


async def test_a_reconcile_in_flight_finishes_when_its_controller_is_paused(
    client: MemoryClient, manager: Manager
) -> None:
    reconciler = Counting(block=True)
    controller = manager.add(Controller("busy", for_=CONFIGMAP, reconciler=reconciler))
    await manager.start()
    await client.create(parent("first"))
    await until(lambda: reconciler.names == ["first"])
    controller.pause()
    await client.create(parent("second"))
    reconciler.release.set()
    await until(lambda: reconciler.finished == ["first"])
    await settle(100)
    assert reconciler.names == ["first"]
    controller.resume()
    await until(lambda: reconciler.finished == ["first", "second"])


async def test_a_paused_controller_stops_promptly(
    client: MemoryClient, manager: Manager
) -> None:
    reconciler = Counting()
    controller = manager.add(Controller("sleepy", for_=CONFIGMAP, reconciler=reconciler))
    controller.pause()  # before start: the workers begin paused
    await manager.start()
    await client.create(parent("x"))
    await settle(100)
    await asyncio.wait_for(manager.stop(timeout=0), 1)
    assert reconciler.names == [] and not controller.running
