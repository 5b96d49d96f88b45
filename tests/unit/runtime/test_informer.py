"""The shared informer: list+watch into a cache that converges with the store."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest
from runtime_helpers import FlakyClient, settle, until

from sandbox.api.errors import Gone, ServiceUnavailable
from sandbox.client.memory import MemoryClient
from sandbox.client.protocol import WatchEvent
from sandbox.clock import FakeClock
from sandbox.runtime.informer import INDEX_LABEL, INDEX_NAMESPACE, INDEX_OWNER_UID, SharedInformer
from sandbox.store import Store


class Recorder:
    """A handler that remembers what it was told."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def on_add(self, obj: Mapping[str, Any]) -> None:
        self.events.append(("add", obj["metadata"]["name"]))

    def on_update(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        self.events.append(("update", new["metadata"]["name"]))

    def on_delete(self, obj: Mapping[str, Any]) -> None:
        self.events.append(("delete", obj["metadata"]["name"]))

    def of(self, kind: str) -> list[str]:
        return sorted(name for what, name in self.events if what == kind)


def cm(
    name: str, *, namespace: str = "default", labels: dict[str, str] | None = None, **data: str
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": dict(data),
    }
    if labels:
        obj["metadata"]["labels"] = labels
    return obj


async def store_view(client: Any, namespace: str | None = None) -> dict[tuple[str, str], str]:
    listed = await client.list("v1", "ConfigMap", namespace=namespace)
    return {
        (o["metadata"]["namespace"], o["metadata"]["name"]): o["metadata"]["resourceVersion"]
        for o in listed["items"]
    }


def cache_view(informer: SharedInformer) -> dict[tuple[str, str], str]:
    return {
        (o["metadata"]["namespace"], o["metadata"]["name"]): o["metadata"]["resourceVersion"]
        for o in informer
    }


async def converged(informer: SharedInformer, client: Any) -> bool:
    return cache_view(informer) == await store_view(client, informer.namespace)


@pytest.fixture
async def informer(client: MemoryClient, clock: FakeClock) -> AsyncIterator[SharedInformer]:
    informer = SharedInformer(client, "v1", "ConfigMap", clock=clock)
    yield informer
    await informer.stop()


async def test_informer_lists_then_watches_and_its_cache_converges_with_the_store(
    client: MemoryClient, informer: SharedInformer
) -> None:
    for i in range(3):
        await client.create(cm(f"before-{i}"))
    recorder = Recorder()
    informer.add_event_handler(recorder)
    assert not informer.has_synced()
    informer.start()
    await informer.wait_for_sync()
    assert informer.has_synced()
    assert recorder.of("add") == ["before-0", "before-1", "before-2"]

    await client.create(cm("after"))
    await client.patch("v1", "ConfigMap", "before-0", {"data": {"x": "1"}}, namespace="default")
    await client.delete("v1", "ConfigMap", "before-1", namespace="default")
    await until(lambda: converged(informer, client), what="cache == store")
    assert recorder.of("add") == ["after", "before-0", "before-1", "before-2"]
    assert recorder.of("update") == ["before-0"]
    assert recorder.of("delete") == ["before-1"]
    assert informer.get("default", "before-0")["data"] == {"x": "1"}  # type: ignore[index]
    assert informer.get("default", "before-1") is None
    assert informer.list_count == 1


async def test_cached_objects_carry_api_version_and_kind(
    client: MemoryClient, informer: SharedInformer
) -> None:
    await client.create(cm("a"))
    informer.start()
    await informer.wait_for_sync()
    obj = informer.get("default", "a")
    assert obj is not None
    assert (obj["apiVersion"], obj["kind"]) == ("v1", "ConfigMap")


async def test_a_watch_older_than_the_history_gets_410_and_the_informer_relists_and_converges(
    clock: FakeClock,
) -> None:
    store = Store(clock=clock, history=10)
    client = FlakyClient(MemoryClient(store))
    originals = [f"orig-{i}" for i in range(5)]
    for name in originals:
        await client.create(cm(name))
    informer = SharedInformer(client, "v1", "ConfigMap", clock=clock)  # type: ignore[arg-type]
    recorder = Recorder()
    informer.add_event_handler(recorder)
    informer.start()
    try:
        await informer.wait_for_sync()
        await client.create(cm("seen-live"))
        await until(lambda: informer.get("default", "seen-live") is not None)
        stale_rv = informer.last_sync_resource_version

        client.disconnect()  # the informer misses everything from here on
        for i in range(40):
            await client.create(cm(f"missed-{i}"))
        for name in originals[:3]:
            await client.delete("v1", "ConfigMap", name, namespace="default")
        await client.patch(
            "v1", "ConfigMap", originals[3], {"data": {"v": "2"}}, namespace="default"
        )
        store.compact()
        assert informer.get("default", "missed-0") is None

        client.reconnect()
        await until(lambda: informer.list_count == 2, what="a relist after 410")
        await until(lambda: converged(informer, client), what="cache == store after relist")
        assert client.watch_calls[1] == stale_rv  # it did try to resume first
        assert recorder.of("delete") == originals[:3]
        assert "missed-39" in recorder.of("add")
        assert recorder.of("update") == [originals[3]]
        assert informer.get("default", originals[3])["data"] == {"v": "2"}  # type: ignore[index]
    finally:
        await informer.stop()


async def test_a_dropped_watch_resumes_from_the_last_version_without_relisting(
    client: MemoryClient, clock: FakeClock
) -> None:
    flaky = FlakyClient(client)
    informer = SharedInformer(flaky, "v1", "ConfigMap", clock=clock)  # type: ignore[arg-type]
    informer.start()
    try:
        await informer.wait_for_sync()
        await flaky.create(cm("a"))
        await until(lambda: len(informer) == 1)
        flaky.disconnect()
        await flaky.create(cm("b"))
        await settle()
        assert informer.get("default", "b") is None
        flaky.reconnect()
        await until(lambda: informer.get("default", "b") is not None)
        assert informer.list_count == 1
        assert len(flaky.watch_calls) == 2
    finally:
        await informer.stop()


async def test_a_410_error_event_in_the_stream_makes_the_informer_relist(
    client: MemoryClient, clock: FakeClock
) -> None:
    class ExpiresOnce(FlakyClient):
        async def watch(
            self, api_version: str, kind: str, **kwargs: Any
        ) -> AsyncIterator[WatchEvent]:
            self.watch_calls.append(kwargs.get("resource_version"))
            if len(self.watch_calls) == 1:
                rv = kwargs.get("resource_version") or "1"
                yield WatchEvent("BOOKMARK", {"metadata": {"resourceVersion": rv}})
                yield WatchEvent("ERROR", Gone.too_old(rv, int(rv) + 1).status)
                return
            async for event in self.inner.watch(api_version, kind, **kwargs):
                yield event

    flaky = ExpiresOnce(client)
    await client.create(cm("a"))
    informer = SharedInformer(flaky, "v1", "ConfigMap", clock=clock)  # type: ignore[arg-type]
    informer.start()
    try:
        await until(lambda: informer.list_count == 2, what="a relist after the ERROR event")
        await client.create(cm("b"))
        await until(lambda: converged(informer, client))
    finally:
        await informer.stop()


async def test_a_failed_list_is_retried_after_a_backoff_on_the_clock(
    client: MemoryClient, clock: FakeClock
) -> None:
    flaky = FlakyClient(client)
    flaky.list_failures = [ServiceUnavailable("down"), ServiceUnavailable("still down")]
    await client.create(cm("a"))
    informer = SharedInformer(flaky, "v1", "ConfigMap", clock=clock)  # type: ignore[arg-type]
    informer.start()
    try:
        await settle()
        assert flaky.list_calls == 1
        assert clock.next_deadline() == pytest.approx(0.8)
        await clock.advance(0.8)
        assert flaky.list_calls == 2
        assert clock.next_deadline() == pytest.approx(1.6)  # doubled
        await clock.advance(1.6)
        await informer.wait_for_sync()
        assert informer.get("default", "a") is not None
    finally:
        await informer.stop()


async def test_a_watch_the_server_ends_at_once_backs_off_instead_of_spinning(
    clock: FakeClock,
) -> None:
    class EmptyWatches(FlakyClient):
        async def watch(self, api_version: str, kind: str, **kwargs: Any) -> AsyncIterator[Any]:
            self.watch_calls.append(kwargs.get("resource_version"))
            return
            yield

    client = EmptyWatches(MemoryClient(Store(clock=clock)))
    informer = SharedInformer(client, "v1", "ConfigMap", clock=clock)  # type: ignore[arg-type]
    informer.start()
    try:
        await informer.wait_for_sync()
        await settle()
        assert len(client.watch_calls) == 1
        assert clock.next_deadline() == pytest.approx(0.8)
        await clock.advance(0.8)
        assert client.list_calls == 2
        assert len(client.watch_calls) == 2
    finally:
        await informer.stop()


async def test_resync_redelivers_every_cached_object_as_an_update(
    client: MemoryClient, clock: FakeClock
) -> None:
    await client.create(cm("a"))
    await client.create(cm("b"))
    informer = SharedInformer(client, "v1", "ConfigMap", clock=clock, resync_period=30)
    recorder = Recorder()
    informer.add_event_handler(recorder)
    informer.start()
    try:
        await informer.wait_for_sync()
        await clock.advance(29)
        assert recorder.of("update") == []
        await clock.advance(1)
        assert recorder.of("update") == ["a", "b"]
        await clock.advance(30)
        assert recorder.of("update") == ["a", "a", "b", "b"]
    finally:
        await informer.stop()


async def test_a_handler_added_after_sync_gets_an_add_for_every_cached_object(
    client: MemoryClient, informer: SharedInformer
) -> None:
    await client.create(cm("a"))
    informer.start()
    await informer.wait_for_sync()
    late = Recorder()
    informer.add_event_handler(late)
    assert late.events == [("add", "a")]
    informer.remove_event_handler(late)
    await client.create(cm("b"))
    await until(lambda: len(informer) == 2)
    assert late.events == [("add", "a")]


async def test_the_cache_is_updated_before_handlers_run(
    client: MemoryClient, informer: SharedInformer
) -> None:
    seen: list[Any] = []

    class Reader(Recorder):
        def on_update(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
            seen.append(informer.get("default", "a", copy=False) is new)

    informer.add_event_handler(Reader())
    informer.start()
    await informer.wait_for_sync()
    await client.create(cm("a"))
    await client.patch("v1", "ConfigMap", "a", {"data": {"k": "v"}}, namespace="default")
    await until(lambda: bool(seen))
    assert seen == [True]


async def test_indexes_find_objects_by_namespace_owner_uid_and_label(
    client: MemoryClient, informer: SharedInformer
) -> None:
    await client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    owner = await client.create(cm("owner"))
    owner_ref = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "owner",
        "uid": owner["metadata"]["uid"],
        "controller": True,
    }
    child = cm("child", labels={"app": "web"})
    child["metadata"]["ownerReferences"] = [owner_ref]
    await client.create(child)
    await client.create(cm("other", namespace="team", labels={"app": "db"}))
    informer.start()
    await informer.wait_for_sync()

    def names(objs: list[dict[str, Any]]) -> list[str]:
        return [o["metadata"]["name"] for o in objs]

    assert names(informer.by_index(INDEX_OWNER_UID, owner["metadata"]["uid"])) == ["child"]
    assert names(informer.by_index(INDEX_LABEL, "app=web")) == ["child"]
    assert names(informer.by_index(INDEX_NAMESPACE, "team")) == ["other"]
    assert names(informer.list("default")) == ["child", "owner"]

    # Indexes follow changes: relabel, then delete.
    await client.patch(
        "v1", "ConfigMap", "child", {"metadata": {"labels": {"app": "db"}}}, namespace="default"
    )
    await until(lambda: names(informer.by_index(INDEX_LABEL, "app=web")) == [])
    assert names(informer.by_index(INDEX_LABEL, "app=db")) == ["child", "other"]
    await client.delete("v1", "ConfigMap", "child", namespace="default")
    await until(lambda: informer.by_index(INDEX_OWNER_UID, owner["metadata"]["uid"]) == [])
    with pytest.raises(KeyError):
        informer.by_index("nope", "x")


async def test_a_custom_indexer_indexes_objects_already_cached_and_new_ones(
    client: MemoryClient, informer: SharedInformer
) -> None:
    await client.create(cm("a", colour="red"))
    informer.start()
    await informer.wait_for_sync()
    informer.add_indexer("colour", lambda o: [o.get("data", {}).get("colour", "none")])
    await client.create(cm("b", colour="red"))
    await client.create(cm("c"))
    await until(lambda: len(informer) == 3)
    assert [o["metadata"]["name"] for o in informer.by_index("colour", "red")] == ["a", "b"]
    assert [o["metadata"]["name"] for o in informer.by_index("colour", "none")] == ["c"]
    with pytest.raises(ValueError):
        informer.add_indexer("colour", lambda o: [])


async def test_list_filters_by_namespace_and_label_selector(
    client: MemoryClient, informer: SharedInformer
) -> None:
    await client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    await client.create(cm("web", labels={"app": "web", "tier": "front"}))
    await client.create(cm("db", labels={"app": "db"}))
    await client.create(cm("web2", namespace="team", labels={"app": "web"}))
    informer.start()
    await informer.wait_for_sync()

    def names(objs: list[dict[str, Any]]) -> list[str]:
        return [o["metadata"]["name"] for o in objs]

    assert names(informer.list(label_selector="app=web")) == ["web", "web2"]
    assert names(informer.list("default", label_selector="app in (web,db),!tier")) == ["db"]
    assert names(informer.list(label_selector={"matchLabels": {"app": "web"}})) == ["web", "web2"]
    assert names(informer.list("team")) == ["web2"]


async def test_lookups_return_copies_unless_the_shared_object_is_asked_for(
    client: MemoryClient, informer: SharedInformer
) -> None:
    await client.create(cm("a", k="v"))
    informer.start()
    await informer.wait_for_sync()
    copy = informer.get("default", "a")
    assert copy is not None
    copy["data"]["k"] = "changed"
    informer.list()[0]["data"]["k"] = "changed"
    assert informer.get("default", "a")["data"] == {"k": "v"}  # type: ignore[index]
    assert informer.get("default", "a", copy=False) is informer.list(copy=False)[0]


async def test_stop_closes_the_watch(
    store: Store, client: MemoryClient, informer: SharedInformer
) -> None:
    informer.start()
    await informer.wait_for_sync()
    await settle()
    assert store.watcher_count() == 1
    await informer.stop()
    assert not informer.running
    assert store.watcher_count() == 0


async def test_a_namespaced_informer_caches_only_its_namespace(
    client: MemoryClient, clock: FakeClock
) -> None:
    await client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    await client.create(cm("mine", namespace="team"))
    await client.create(cm("theirs"))
    informer = SharedInformer(client, "v1", "ConfigMap", namespace="team", clock=clock)
    informer.start()
    try:
        await informer.wait_for_sync()
        await client.create(cm("theirs-too"))
        await client.create(cm("mine-too", namespace="team"))
        await until(lambda: len(informer) == 2)
        assert informer.keys() == [("team", "mine"), ("team", "mine-too")]
    finally:
        await informer.stop()


@pytest.mark.parametrize("seed", range(3))
async def test_random_writes_converge_through_drops_and_compactions(
    seed: int, clock: FakeClock
) -> None:
    rng = random.Random(seed)
    store = Store(clock=clock, history=8)
    client = FlakyClient(MemoryClient(store))
    await client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b"}})
    informer = SharedInformer(client, "v1", "ConfigMap", clock=clock)  # type: ignore[arg-type]
    informer.start()
    try:
        await informer.wait_for_sync()
        for step in range(150):
            name, ns = f"cm-{rng.randrange(12)}", rng.choice(["default", "b"])
            current = await store_view(client)
            if (ns, name) in current:
                if rng.random() < 0.4:
                    await client.delete("v1", "ConfigMap", name, namespace=ns)
                else:
                    await client.patch(
                        "v1", "ConfigMap", name, {"data": {"s": str(step)}}, namespace=ns
                    )
            else:
                await client.create(cm(name, namespace=ns))
            if step % 30 == 10:
                client.disconnect()
            elif step % 30 == 20:
                if rng.random() < 0.7:
                    store.compact()
                client.reconnect()
            if rng.random() < 0.3:
                await settle(rng.randrange(1, 6))
        client.reconnect()
        # A drop right after a list backs off on the clock: let time pass.
        for _ in range(60):
            if await converged(informer, client):
                break
            await clock.advance(1)
        assert await converged(informer, client)
        assert informer.list_count > 1  # the drops and compactions really forced relists
    finally:
        await informer.stop()


async def test_a_field_selector_limits_what_the_informer_caches(
    client: MemoryClient, clock: FakeClock
) -> None:
    def pod(name: str, node: str) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
                "spec": {"nodeName": node, "containers": [{"name": "c", "image": "python:3.11"}]}}

    await client.create(pod("here-1", "node-a"))
    await client.create(pod("there", "node-b"))
    informer = SharedInformer(client, "v1", "Pod", field_selector="spec.nodeName=node-a", clock=clock)
    informer.start()
    await informer.wait_for_sync()
    await client.create(pod("here-2", "node-a"))
    await client.create(pod("there-2", "node-b"))
    await until(lambda: len(informer.list()) == 2, what="both node-a pods cached")
    await settle()
    assert sorted(p["metadata"]["name"] for p in informer.list()) == ["here-1", "here-2"]
    await informer.stop()
