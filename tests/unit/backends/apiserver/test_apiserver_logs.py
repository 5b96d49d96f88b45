"""``pods/log`` over the kubelet's real log source, with log files the test writes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from apiserver_helpers import api_client, pod, settle

from sandbox.backends.inprocess.apiserver import create_app
from sandbox.clock import FakeClock, format_time
from sandbox.cluster.kubelet import KubeletLogSource, LiveRuns
from sandbox.cluster.logfmt import LogWriter
from sandbox.cluster.paths import SandboxPaths
from sandbox.store import Store

LOG = "/api/v1/namespaces/default/pods/p/log"


@pytest.fixture
def paths(tmp_path: Path) -> SandboxPaths:
    return SandboxPaths(tmp_path)


@pytest.fixture
def live() -> LiveRuns:
    return LiveRuns()


@pytest.fixture
def app(store: Store, paths: SandboxPaths, live: LiveRuns, clock: FakeClock):
    source = KubeletLogSource(paths, live=live, clock=clock, poll=0.005)
    return create_app(store=store, log_source=source)


def _running_pod(store: Store, clock: FakeClock, *containers: str) -> dict:
    created = store.create("v1", "Pod", pod("p", containers=containers or ("main",)))
    created["status"] = {"phase": "Running", "containerStatuses": [
        {"name": c, "ready": True, "restartCount": 0, "image": "python:3.11", "imageID": "",
         "state": {"running": {"startedAt": format_time(clock.now())}}}
        for c in containers or ("main",)]}
    return store.replace("v1", "Pod", created, subresource="status")


def _writer(paths: SandboxPaths, obj: dict, clock: FakeClock, container: str = "main") -> LogWriter:
    uid = obj["metadata"]["uid"]
    return LogWriter(paths.container_log("default", "p", uid, container, 0), now=clock.now)


async def test_logs_are_plain_text_lines(app, store: Store, paths, clock) -> None:
    writer = _writer(paths, _running_pod(store, clock), clock)
    for i in range(3):
        writer.write("stdout", f"line {i}")
    async with api_client(app) as c:
        r = await c.get(LOG)
        tail = await c.get(f"{LOG}?tailLines=1&timestamps=true")
        cut = await c.get(f"{LOG}?limitBytes=8")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert r.text == "line 0\nline 1\nline 2\n"
    assert tail.text.endswith("Z line 2\n") and tail.text.count("\n") == 1
    assert cut.text == "line 0\nl"


async def test_since_seconds_keeps_recent_lines(app, store: Store, paths, clock) -> None:
    writer = _writer(paths, _running_pod(store, clock), clock)
    writer.write("stdout", "old")
    await clock.advance(120)
    writer.write("stdout", "new")
    async with api_client(app) as c:
        r = await c.get(f"{LOG}?sinceSeconds=60")
        since_time = format_time(clock.now() - timedelta(seconds=60))
        by_time = await c.get(LOG, params={"sinceTime": since_time})
        both = await c.get(LOG, params={"sinceTime": since_time, "sinceSeconds": "5"})
    assert r.text == "new\n" and by_time.text == "new\n"
    assert both.status_code == 400


async def test_log_errors_are_status_400_naming_the_container(app, store: Store, clock) -> None:
    _running_pod(store, clock, "a", "b")
    async with api_client(app) as c:
        choose = await c.get(LOG)
        missing = await c.get(f"{LOG}?container=zzz")
        no_pod = await c.get("/api/v1/namespaces/default/pods/nope/log")
    assert choose.status_code == 400
    assert choose.json()["message"] == ("a container name must be specified for pod p, "
                                        "choose one of: [a b]")
    assert missing.status_code == 400
    assert no_pod.status_code == 404 and no_pod.json()["message"] == 'pods "nope" not found'


async def test_follow_streams_lines_until_the_run_ends(app, store: Store, paths, clock, live) -> None:
    writer = _writer(paths, _running_pod(store, clock), clock)
    live.started(writer.path)
    writer.write("stdout", "first")
    async with api_client(app, streaming=True) as c, c.stream("GET", f"{LOG}?follow=true") as r:
        assert r.status_code == 200
        lines = r.aiter_lines()
        assert await anext(lines) == "first"
        writer.write("stdout", "second")
        assert await anext(lines) == "second"
        live.ended(writer.path)
        rest = [line async for line in lines]
    assert rest == []


async def test_follow_of_a_container_not_started_is_400_not_a_stream(app, store: Store) -> None:
    store.create("v1", "Pod", pod("p"))
    async with api_client(app, streaming=True) as c, c.stream("GET", f"{LOG}?follow=true") as r:
        await r.aread()
    assert r.status_code == 400
    assert "is waiting to start" in r.json()["message"]


async def test_a_followed_log_ends_when_the_client_hangs_up(app, store: Store, paths, clock,
                                                            live) -> None:
    writer = _writer(paths, _running_pod(store, clock), clock)
    live.started(writer.path)
    writer.write("stdout", "first")
    transport = None
    async with api_client(app, streaming=True) as c:
        transport = c._transport
        async with c.stream("GET", f"{LOG}?follow=1") as r:
            assert await anext(r.aiter_lines()) == "first"
        await settle()
    task = transport.tasks[-1]
    assert task.done()
