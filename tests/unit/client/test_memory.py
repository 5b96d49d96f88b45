"""The in-memory client: the protocol over the store, concurrency, watches."""

from __future__ import annotations

import asyncio

import pytest

from sandbox.api.errors import BadRequest, Conflict, Gone, NotFound
from sandbox.client import Client
from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.store import Store


def counter() -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "counter", "namespace": "default"}, "data": {"n": "0"}}


def test_memory_client_implements_the_protocol(client: MemoryClient) -> None:
    assert isinstance(client, Client)


async def test_fifty_concurrent_writers_lose_no_update(client: MemoryClient) -> None:
    await client.create(counter())
    successes = 0
    conflicts = 0

    async def writer(times: int) -> None:
        nonlocal successes, conflicts
        done = 0
        while done < times:
            current = await client.get("v1", "ConfigMap", "counter", namespace="default")
            await asyncio.sleep(0)  # let the others read the same version
            current["data"]["n"] = str(int(current["data"]["n"]) + 1)
            try:
                await client.replace(current)
            except Conflict:
                conflicts += 1
                continue
            successes += 1
            done += 1

    await asyncio.gather(*(writer(4) for _ in range(50)))
    final = await client.get("v1", "ConfigMap", "counter", namespace="default")
    assert int(final["data"]["n"]) == successes == 200
    assert conflicts > 0  # the race really happened


async def test_returned_objects_are_copies(client: MemoryClient) -> None:
    created = await client.create(counter())
    created["data"]["n"] = "changed"
    again = await client.get("v1", "ConfigMap", "counter", namespace="default")
    assert again["data"]["n"] == "0"


async def test_create_needs_kind_and_api_version(client: MemoryClient) -> None:
    with pytest.raises(BadRequest):
        await client.create({"metadata": {"name": "x"}})


async def test_watch_streams_events_and_copies_objects(client: MemoryClient) -> None:
    listed = await client.list("v1", "ConfigMap", namespace="default")
    seen: list[tuple[str, str]] = []

    async def consume() -> None:
        async for event in client.watch("v1", "ConfigMap", namespace="default",
                                        resource_version=listed["metadata"]["resourceVersion"]):
            seen.append((event.type, event.object["data"]["n"]))
            event.object["data"]["n"] = "mutated"
            if len(seen) == 3:
                return

    task = asyncio.create_task(consume())
    await client.create(counter())
    await client.patch("v1", "ConfigMap", "counter", {"data": {"n": "1"}}, namespace="default")
    await client.delete("v1", "ConfigMap", "counter", namespace="default")
    await asyncio.wait_for(task, 1)
    assert seen == [("ADDED", "0"), ("MODIFIED", "1"), ("DELETED", "1")]


async def test_watch_sends_bookmarks_when_idle_and_stops_at_its_timeout(clock: FakeClock) -> None:
    store = Store(clock=clock)
    client = MemoryClient(store, bookmark_interval=10)
    events: list[str] = []

    async def consume() -> None:
        async for event in client.watch("v1", "ConfigMap", resource_version=str(store.resource_version),
                                        allow_bookmarks=True, timeout_seconds=25):
            events.append(event.type)

    task = asyncio.create_task(consume())
    await clock.advance(10)
    await clock.advance(10)
    await clock.advance(10)
    await asyncio.wait_for(task, 1)
    assert events == ["BOOKMARK", "BOOKMARK"]


async def test_watch_from_a_compacted_version_raises_gone(client: MemoryClient) -> None:
    start = str(client.store.resource_version)
    await client.create(counter())
    client.store.compact()
    with pytest.raises(Gone):
        async for _ in client.watch("v1", "ConfigMap", resource_version=start):
            pass


async def test_logs_without_a_kubelet_say_so(client: MemoryClient) -> None:
    await client.create({"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": "p", "namespace": "default"},
                         "spec": {"containers": [{"name": "c", "image": "python:3.11"}]}})
    with pytest.raises(BadRequest) as err:
        await client.logs("p", namespace="default")
    assert "no kubelet" in err.value.message


async def test_status_writes_to_a_kind_without_status_subresource_are_not_found(
    client: MemoryClient,
) -> None:
    await client.create(counter())
    with pytest.raises(NotFound):
        await client.patch_status("v1", "ConfigMap", "counter", {"status": {"x": 1}},
                                  namespace="default")


async def test_namespaced_objects_default_to_the_default_namespace(client: MemoryClient) -> None:
    created = await client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})
    assert created["metadata"]["namespace"] == "default"
    assert (await client.get("v1", "ConfigMap", "x"))["metadata"]["name"] == "x"
    namespace = await client.get("v1", "Namespace", "default")
    assert "namespace" not in namespace["metadata"]


async def test_a_namespace_is_finalized_through_the_finalize_subresource(client: MemoryClient) -> None:
    await client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    terminating = await client.delete("v1", "Namespace", "team")
    terminating["spec"]["finalizers"] = []
    await client.replace(terminating)  # the main resource cannot change spec.finalizers
    assert (await client.get("v1", "Namespace", "team"))["spec"]["finalizers"] == ["kubernetes"]
    await client.replace(terminating, subresource="finalize")
    with pytest.raises(NotFound):
        await client.get("v1", "Namespace", "team")
