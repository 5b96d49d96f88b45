"""The service proxy with real loopback sockets: round-robin, no-endpoint rejects, follow changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.cluster.proxy import ServiceProxy

CLUSTER_IP = "127.96.7.10"
PORT = 18080
PODS = {"pod-a": "127.16.7.2", "pod-b": "127.16.7.3"}


async def wait_until(predicate: Callable[[], bool], what: str) -> None:
    for _ in range(300):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{what} did not happen within 3 s")


@pytest.fixture
async def pods() -> AsyncIterator[dict[str, asyncio.Server]]:
    """Two tiny servers on their own pod IPs; each answers a line with its name."""

    def answer(name: str) -> Any:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            line = await reader.readline()
            writer.write(f"{name}:{line.decode().strip()}\n".encode())
            await writer.drain()
            writer.close()
        return handle

    servers = {
        name: await asyncio.start_server(answer(name), host=ip, port=9000)
        for name, ip in PODS.items()
    }
    yield servers
    for server in servers.values():
        server.close()
        await server.wait_closed()


def service() -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"clusterIP": CLUSTER_IP, "selector": {"app": "web"},
                 "ports": [{"name": "http", "port": PORT, "targetPort": 9000}]},
    }


def endpoints(*names: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": "web", "namespace": "default"},
        "subsets": [{
            "addresses": [{"ip": PODS[n], "targetRef": {"kind": "Pod", "name": n}} for n in names],
            "ports": [{"name": "http", "port": 9000}],
        }] if names else [],
    }


async def ask(text: str) -> bytes:
    reader, writer = await asyncio.open_connection(CLUSTER_IP, PORT)
    writer.write(text.encode() + b"\n")
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), timeout=3)
    except ConnectionResetError:
        return b""  # closed with unread data: the client sees a reset, like REJECT
    finally:
        writer.close()


async def test_connections_to_the_cluster_ip_alternate_between_ready_endpoints(
    client: MemoryClient, clock: FakeClock, pods: dict[str, asyncio.Server]
) -> None:
    await client.create(service())
    await client.create(endpoints("pod-a", "pod-b"))
    proxy = ServiceProxy(client, clock=clock)
    await proxy.start()
    try:
        assert proxy.listening == {(CLUSTER_IP, PORT): "default/web:http"}
        answers = [await ask(f"q{i}") for i in range(4)]
        assert answers == [b"pod-a:q0\n", b"pod-b:q1\n", b"pod-a:q2\n", b"pod-b:q3\n"]
    finally:
        await proxy.stop()


async def test_without_ready_endpoints_a_connection_is_closed_and_an_event_says_why(
    client: MemoryClient, clock: FakeClock, pods: dict[str, asyncio.Server]
) -> None:
    await client.create(service())
    await client.create(endpoints())
    proxy = ServiceProxy(client, clock=clock)
    await proxy.start()
    try:
        assert await ask("hello") == b""
        assert await ask("again") == b""
        events = (await client.list("v1", "Event", namespace="default"))["items"]
        [event] = [e for e in events if e["reason"] == "NoEndpoints"]
        assert event["count"] == 1
        assert "default/web has no ready endpoints" in event["message"]

        await client.replace({**endpoints("pod-b"), "metadata": {
            **endpoints()["metadata"],
            "resourceVersion": (await client.get("v1", "Endpoints", "web", namespace="default"))
            ["metadata"]["resourceVersion"]}})
        await asyncio.sleep(0.05)
        assert await ask("now") == b"pod-b:now\n"
    finally:
        await proxy.stop()


async def test_listeners_follow_services_being_created_and_deleted(
    client: MemoryClient, clock: FakeClock, pods: dict[str, asyncio.Server]
) -> None:
    proxy = ServiceProxy(client, clock=clock)
    await proxy.start()
    try:
        assert proxy.listening == {}
        await client.create(service())
        await client.create(endpoints("pod-a"))
        await wait_until(lambda: bool(proxy.listening), "listener started")
        assert await ask("x") == b"pod-a:x\n"
        await client.delete("v1", "Service", "web", namespace="default")
        await wait_until(lambda: not proxy.listening, "listener closed")
        with pytest.raises(OSError):
            await asyncio.open_connection(CLUSTER_IP, PORT)
    finally:
        await proxy.stop()


async def test_headless_services_get_no_listener(client: MemoryClient, clock: FakeClock) -> None:
    headless = service()
    headless["spec"]["clusterIP"] = "None"
    await client.create(headless)
    proxy = ServiceProxy(client, clock=clock)
    await proxy.start()
    try:
        assert proxy.listening == {}
    finally:
        await proxy.stop()


async def test_a_port_that_cannot_be_bound_is_reported_on_the_service(
    client: MemoryClient, clock: FakeClock
) -> None:
    squatter = await asyncio.start_server(lambda r, w: w.close(), host=CLUSTER_IP, port=PORT)
    await client.create(service())
    proxy = ServiceProxy(client, clock=clock)
    await proxy.start()
    try:
        assert proxy.listening == {}
        events = (await client.list("v1", "Event", namespace="default"))["items"]
        [event] = [e for e in events if e["reason"] == "FailedToBindPort"]
        assert f"cannot listen on {CLUSTER_IP}:{PORT}" in event["message"]
    finally:
        await proxy.stop()
        squatter.close()
        await squatter.wait_closed()
