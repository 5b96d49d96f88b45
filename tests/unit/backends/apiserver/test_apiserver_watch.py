"""Watch streams: events as lines, 410, bookmarks, timeouts, Tables, and cleanup."""

from __future__ import annotations

import asyncio
import json

import pytest
from apiserver_helpers import TABLE, api_client, config_map, read_events, settle

from sandbox.backends.inprocess.apiserver import create_app
from sandbox.clock import FakeClock
from sandbox.store import Store

CMS = "/api/v1/namespaces/default/configmaps"


@pytest.fixture
def app(store: Store):
    return create_app(store=store)


def _create(store: Store, name: str, **labels: str) -> dict:
    return store.create("v1", "ConfigMap", config_map(name, labels=labels))


async def test_watch_sends_existing_objects_then_changes_as_json_lines(app, store: Store) -> None:
    _create(store, "a")
    async with api_client(app, streaming=True) as c, c.stream("GET", f"{CMS}?watch=true") as r:
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        first = await read_events(r, 1)
        _create(store, "b")
        store.delete("v1", "ConfigMap", "a", namespace="default")
        rest = await read_events(r, 2)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in first + rest] == [
        ("ADDED", "a"), ("ADDED", "b"), ("DELETED", "a")]
    assert rest[0]["object"]["apiVersion"] == "v1"


@pytest.mark.parametrize("value", ["1", "True", "t", ""])
async def test_any_true_watch_value_watches(app, store: Store, value: str) -> None:
    _create(store, "a")
    async with api_client(app, streaming=True) as c, c.stream("GET", f"{CMS}?watch={value}") as r:
        events = await read_events(r, 1)
    assert events[0]["type"] == "ADDED"


async def test_watch_from_a_resource_version_replays_only_later_changes(app, store: Store) -> None:
    first = _create(store, "a")
    _create(store, "b")
    rv = first["metadata"]["resourceVersion"]
    async with api_client(app, streaming=True) as c, \
            c.stream("GET", f"{CMS}?watch=true&resourceVersion={rv}") as r:
        events = await read_events(r, 1)
    assert events[0]["object"]["metadata"]["name"] == "b"


async def test_too_old_resource_version_is_one_error_event_then_the_end(app, store: Store) -> None:
    _create(store, "a")
    _create(store, "b")
    store.compact()
    async with api_client(app, streaming=True) as c, \
            c.stream("GET", f"{CMS}?watch=true&resourceVersion=1") as r:
        lines = [line async for line in r.aiter_lines() if line]
    assert r.status_code == 200
    assert len(lines) == 1
    error = json.loads(lines[0])
    assert error["type"] == "ERROR"
    assert error["object"]["code"] == 410 and error["object"]["reason"] == "Expired"


async def test_selectors_filter_watch_events(app, store: Store) -> None:
    async with api_client(app, streaming=True) as c, \
            c.stream("GET", f"{CMS}?watch=1&labelSelector=app%3Dx") as r:
        _create(store, "no", app="y")
        _create(store, "yes", app="x")
        events = await read_events(r, 1)
    assert events[0]["object"]["metadata"]["name"] == "yes"


async def test_bookmarks_come_after_a_minute_without_events(app, store: Store, clock: FakeClock) -> None:
    async with api_client(app, streaming=True) as c, \
            c.stream("GET", f"{CMS}?watch=true&allowWatchBookmarks=true") as r:
        await settle()
        await clock.advance(61)
        events = await read_events(r, 1)
    assert events[0]["type"] == "BOOKMARK"
    assert events[0]["object"] == {"kind": "ConfigMap", "apiVersion": "v1",
                                   "metadata": {"resourceVersion": str(store.resource_version)}}


async def test_initial_events_end_with_an_annotated_bookmark(app, store: Store) -> None:
    _create(store, "a")
    query = "watch=true&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
    async with api_client(app, streaming=True) as c, c.stream("GET", f"{CMS}?{query}") as r:
        events = await read_events(r, 2)
    assert [e["type"] for e in events] == ["ADDED", "BOOKMARK"]
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


async def test_timeout_seconds_ends_the_stream(app, store: Store, clock: FakeClock) -> None:
    async with api_client(app, streaming=True) as c, \
            c.stream("GET", f"{CMS}?watch=true&timeoutSeconds=30") as r:
        await settle()
        await clock.advance(31)
        lines = [line async for line in r.aiter_lines()]
    assert lines == []
    assert store.watcher_count() == 0


async def test_a_watch_without_timeout_is_never_ended_by_the_server(app, store: Store,
                                                                    clock: FakeClock) -> None:
    async with api_client(app, streaming=True) as c, c.stream("GET", f"{CMS}?watch=true") as r:
        await settle()
        await clock.advance(24 * 3600)
        _create(store, "late")
        events = await read_events(r, 1)
    assert events[0]["object"]["metadata"]["name"] == "late"


async def test_table_watch_events_are_one_row_tables_with_columns_first(app, store: Store) -> None:
    _create(store, "a")
    async with api_client(app, streaming=True) as c, \
            c.stream("GET", f"{CMS}?watch=true", headers={"accept": TABLE}) as r:
        first = await read_events(r, 1)
        _create(store, "b")
        second = await read_events(r, 1)
    assert first[0]["object"]["kind"] == "Table"
    assert first[0]["object"]["columnDefinitions"][0]["name"] == "Name"
    assert second[0]["object"]["columnDefinitions"] is None
    assert second[0]["object"]["rows"][0]["cells"][0] == "b"


async def test_a_client_that_hangs_up_releases_its_store_watcher(app, store: Store) -> None:
    async with api_client(app, streaming=True) as c:
        async with c.stream("GET", f"{CMS}?watch=true") as r:
            await settle()
            assert r.status_code == 200
            assert store.watcher_count() == 1
        await settle()
    assert store.watcher_count() == 0


async def test_server_shutdown_ends_open_watches(app, store: Store) -> None:
    async with api_client(app, streaming=True) as c, c.stream("GET", f"{CMS}?watch=true") as r:
        await settle()
        app.state.api.state.shutdown.set()
        async with asyncio.timeout(2):
            lines = [line async for line in r.aiter_lines()]
    assert lines == []
    assert store.watcher_count() == 0


async def test_the_legacy_watch_path_watches_one_object(app, store: Store) -> None:
    _create(store, "a")
    _create(store, "b")
    async with api_client(app, streaming=True) as c, \
            c.stream("GET", "/api/v1/watch/namespaces/default/configmaps/b") as r:
        events = await read_events(r, 1)
    assert events[0]["object"]["metadata"]["name"] == "b"
