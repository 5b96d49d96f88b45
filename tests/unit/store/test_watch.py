"""Watches: ordered delivery from any retained version, selectors, 410 Gone."""

from __future__ import annotations

import pytest

from sandbox.api.errors import Gone
from sandbox.clock import FakeClock
from sandbox.store import Store


def cm(name: str, **labels: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "default", "labels": labels}}


def drain(watcher) -> list[tuple[str, str, str]]:
    out = []
    while (item := watcher.poll()) is not None:
        type_, obj = item
        out.append((type_, obj["metadata"]["name"], obj["metadata"]["resourceVersion"]))
    return out


async def test_watch_from_an_old_version_receives_every_later_event_in_order(store: Store) -> None:
    start = str(store.resource_version)
    for i in range(20):
        store.create("v1", "ConfigMap", cm(f"c{i}"))
    store.patch("v1", "ConfigMap", "c3", {"data": {"x": "1"}}, namespace="default")
    store.delete("v1", "ConfigMap", "c4", namespace="default")
    events = drain(store.watch("v1", "ConfigMap", resource_version=start))
    assert [t for t, _, _ in events] == ["ADDED"] * 20 + ["MODIFIED", "DELETED"]
    rvs = [int(rv) for _, _, rv in events]
    assert rvs == sorted(rvs) and len(set(rvs)) == len(rvs)


async def test_watch_without_version_starts_with_synthetic_added_events(store: Store) -> None:
    store.create("v1", "ConfigMap", cm("a"))
    watcher = store.watch("v1", "ConfigMap", namespace="default")
    store.create("v1", "ConfigMap", cm("b"))
    assert [(t, n) for t, n, _ in drain(watcher)] == [("ADDED", "a"), ("ADDED", "b")]


async def test_watch_older_than_history_is_gone(clock: FakeClock) -> None:
    store = Store(clock=clock, history=5)
    start = str(store.resource_version)
    for i in range(10):
        store.create("v1", "ConfigMap", cm(f"c{i}"))
    with pytest.raises(Gone) as err:
        store.watch("v1", "ConfigMap", resource_version=start)
    assert err.value.code == 410
    assert err.value.message.startswith(f"too old resource version: {start} (")
    recent = str(store.resource_version - 2)
    assert len(drain(store.watch("v1", "ConfigMap", resource_version=recent))) == 2


async def test_label_selector_turns_moves_into_added_and_deleted(store: Store) -> None:
    store.create("v1", "ConfigMap", cm("a", tier="back"))
    watcher = store.watch("v1", "ConfigMap", resource_version=str(store.resource_version),
                          label_selector="tier=front")
    store.patch("v1", "ConfigMap", "a", {"metadata": {"labels": {"tier": "front"}}}, namespace="default")
    store.patch("v1", "ConfigMap", "a", {"data": {"k": "v"}}, namespace="default")
    store.patch("v1", "ConfigMap", "a", {"metadata": {"labels": {"tier": "back"}}}, namespace="default")
    store.create("v1", "ConfigMap", cm("b", tier="back"))
    assert [t for t, _, _ in drain(watcher)] == ["ADDED", "MODIFIED", "DELETED"]


async def test_field_selector_and_namespace_filter_watches(store: Store) -> None:
    store.create("v1", "Namespace", {"metadata": {"name": "other"}})
    watcher = store.watch("v1", "ConfigMap", namespace="default", field_selector="metadata.name=a",
                          resource_version=str(store.resource_version))
    store.create("v1", "ConfigMap", cm("a"))
    store.create("v1", "ConfigMap", cm("b"))
    other = cm("a")
    other["metadata"]["namespace"] = "other"
    store.create("v1", "ConfigMap", other)
    assert [(t, n) for t, n, _ in drain(watcher)] == [("ADDED", "a")]


async def test_closing_a_watcher_unregisters_it(store: Store) -> None:
    watcher = store.watch("v1", "ConfigMap")
    assert store.watcher_count() == 1
    watcher.close()
    assert store.watcher_count() == 0
