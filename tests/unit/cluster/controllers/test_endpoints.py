"""Endpoints follow the pods a Service selects: readiness, named ports, deletion."""

from __future__ import annotations

from typing import Any

import pytest
from batchnet_helpers import pod, running, set_pod_status, settle

from sandbox.api.errors import NotFound
from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.cluster.controllers import endpoints


def service(name: str = "web", selector: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        **spec,
    }
    if selector is not None:
        body["selector"] = selector
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "default", "labels": {"team": "a"}},
            "spec": body}


HTTP = [{"name": "http", "containerPort": 8080}]


async def get_endpoints(client: MemoryClient, name: str = "web") -> dict[str, Any]:
    return await client.get("v1", "Endpoints", name, namespace="default")


async def test_ready_and_not_ready_pods_are_listed_apart_with_named_ports_resolved(
    client: MemoryClient, clock: FakeClock
) -> None:
    async with running(client, clock, endpoints.controller):
        await client.create(service(selector={"app": "web"}))
        for name in ("web-a", "web-b"):
            await client.create(pod(name, labels={"app": "web"}, ports=HTTP))
        await client.create(pod("other", labels={"app": "db"}, ports=HTTP))
        await set_pod_status(client, "web-a", phase="Running", ready=True, ip="127.16.1.2")
        await set_pod_status(client, "web-b", phase="Running", ready=False, ip="127.16.1.3")
        await set_pod_status(client, "other", phase="Running", ready=True, ip="127.16.1.4")
        await settle(clock)
        eps = await get_endpoints(client)
        assert eps["metadata"]["labels"] == {"team": "a"}
        [subset] = eps["subsets"]
        assert [a["ip"] for a in subset["addresses"]] == ["127.16.1.2"]
        assert subset["addresses"][0]["targetRef"]["name"] == "web-a"
        assert [a["ip"] for a in subset["notReadyAddresses"]] == ["127.16.1.3"]
        assert subset["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]

        await set_pod_status(client, "web-b", phase="Running", ready=True, ip="127.16.1.3")
        await settle(clock)
        [subset] = (await get_endpoints(client))["subsets"]
        assert [a["ip"] for a in subset["addresses"]] == ["127.16.1.2", "127.16.1.3"]
        assert "notReadyAddresses" not in subset


async def test_pods_without_ip_terminal_or_lacking_the_named_port_are_left_out(
    client: MemoryClient, clock: FakeClock
) -> None:
    async with running(client, clock, endpoints.controller):
        await client.create(service(selector={"app": "web"}))
        await client.create(pod("pending", labels={"app": "web"}, ports=HTTP))
        await client.create(pod("done", labels={"app": "web"}, ports=HTTP))
        await client.create(pod("no-port", labels={"app": "web"}))
        await set_pod_status(client, "done", phase="Succeeded", ip="127.16.1.5", exit_code=0)
        await set_pod_status(client, "no-port", phase="Running", ready=True, ip="127.16.1.6")
        await settle(clock)
        assert (await get_endpoints(client))["subsets"] == []


async def test_numeric_target_ports_and_headless_label(
    client: MemoryClient, clock: FakeClock
) -> None:
    async with running(client, clock, endpoints.controller):
        svc = service("db", selector={"app": "db"}, clusterIP="None")
        svc["spec"]["ports"] = [{"port": 5432, "targetPort": 5432}]
        await client.create(svc)
        await client.create(pod("db-0", labels={"app": "db"}))
        await set_pod_status(client, "db-0", phase="Running", ready=True, ip="127.16.1.7")
        await settle(clock)
        eps = await get_endpoints(client, "db")
        assert eps["metadata"]["labels"][endpoints.HEADLESS_LABEL] == ""
        assert eps["subsets"][0]["ports"] == [{"port": 5432, "protocol": "TCP"}]


async def test_a_service_without_selector_keeps_the_users_endpoints(
    client: MemoryClient, clock: FakeClock
) -> None:
    manual = {"apiVersion": "v1", "kind": "Endpoints",
              "metadata": {"name": "web", "namespace": "default"},
              "subsets": [{"addresses": [{"ip": "127.0.0.9"}], "ports": [{"port": 1}]}]}
    async with running(client, clock, endpoints.controller):
        await client.create(service())
        await client.create(manual)
        await settle(clock)
        eps = await get_endpoints(client)
        assert eps["subsets"][0]["addresses"] == [{"ip": "127.0.0.9"}]


async def test_deleting_the_service_deletes_its_endpoints(
    client: MemoryClient, clock: FakeClock
) -> None:
    async with running(client, clock, endpoints.controller):
        await client.create(service(selector={"app": "web"}))
        await settle(clock)
        await get_endpoints(client)
        await client.delete("v1", "Service", "web", namespace="default")
        await settle(clock)
        with pytest.raises(NotFound):
            await get_endpoints(client)
