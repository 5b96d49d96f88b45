"""ClusterIP allocation: admission gives IPs, the repair loop frees them, nothing leaks."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from sandbox.api.errors import AlreadyExists, Invalid
from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.cluster import services
from sandbox.cluster.services import ClusterIPAllocator
from sandbox.runtime import Manager
from sandbox.store import Store

CIDR = "127.96.0.0/16"


def service(name: str, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"ports": [{"port": 80, "targetPort": 8080}], **spec}
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "default"}, "spec": body}


@pytest.fixture
def allocator(store: Store) -> ClusterIPAllocator:
    alloc = ClusterIPAllocator(CIDR)
    store.admission.add_mutating("", "Service", alloc.allocate_cluster_ip)
    return alloc


async def test_a_clusterip_service_gets_a_free_ip_from_the_service_cidr(
    client: MemoryClient, allocator: ClusterIPAllocator
) -> None:
    a = await client.create(service("a"))
    b = await client.create(service("b", type="NodePort"))
    ip_a, ip_b = a["spec"]["clusterIP"], b["spec"]["clusterIP"]
    assert ip_a != ip_b
    assert a["spec"]["clusterIPs"] == [ip_a]
    for ip in (ip_a, ip_b):
        assert ipaddress.ip_address(ip) in ipaddress.ip_network(CIDR)
        assert ip not in ("127.96.0.0", "127.96.0.1")
    assert allocator.used == {ip_a, ip_b}


async def test_headless_and_externalname_services_get_no_ip(
    client: MemoryClient, allocator: ClusterIPAllocator
) -> None:
    headless = await client.create(service("db", clusterIP="None"))
    external = {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "ext", "namespace": "default"},
                "spec": {"type": "ExternalName", "externalName": "example.com"}}
    ext = await client.create(external)
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["clusterIPs"] == ["None"]
    assert "clusterIP" not in ext["spec"]
    assert allocator.used == frozenset()


async def test_a_chosen_free_ip_is_kept_and_a_taken_one_is_refused_with_the_apiservers_words(
    client: MemoryClient, allocator: ClusterIPAllocator
) -> None:
    dns = await client.create(service("dns", clusterIP="127.96.0.10"))
    assert dns["spec"]["clusterIPs"] == ["127.96.0.10"]
    with pytest.raises(Invalid) as err:
        await client.create(service("other", clusterIP="127.96.0.10"))
    assert str(err.value.message) == (
        'Service "other" is invalid: spec.clusterIPs: Invalid value: []string{"127.96.0.10"}: '
        "failed to allocate IP 127.96.0.10: provided IP is already allocated"
    )
    with pytest.raises(Invalid) as err:
        await client.create(service("far", clusterIP="10.0.0.5"))
    assert "the provided IP (10.0.0.5) is not in the valid range. The range of valid IPs is " \
        "127.96.0.0/16" in err.value.message


async def test_an_update_without_the_ip_keeps_the_allocated_one(
    client: MemoryClient, allocator: ClusterIPAllocator
) -> None:
    created = await client.create(service("web"))
    body = service("web")  # a manifest re-applied: no clusterIP in it
    body["metadata"]["labels"] = {"v": "2"}
    updated = await client.replace(body)
    assert updated["spec"]["clusterIP"] == created["spec"]["clusterIP"]
    assert allocator.used == {created["spec"]["clusterIP"]}


async def test_a_dry_run_allocates_nothing(
    client: MemoryClient, allocator: ClusterIPAllocator
) -> None:
    await client.create(service("web"), dry_run=True)
    assert allocator.used == frozenset()


async def test_rebuild_frees_the_ip_of_a_deleted_service(
    client: MemoryClient, allocator: ClusterIPAllocator
) -> None:
    created = await client.create(service("web"))
    allocator.rebuild([created])
    await client.delete("v1", "Service", "web", namespace="default")
    freed = allocator.rebuild((await client.list("v1", "Service"))["items"])
    assert freed == [created["spec"]["clusterIP"]]
    assert allocator.used == frozenset()


async def test_an_ip_reserved_by_a_failed_create_is_freed_after_two_repairs(
    client: MemoryClient, allocator: ClusterIPAllocator
) -> None:
    await client.create(service("web"))
    with pytest.raises(AlreadyExists):
        await client.create(service("web"))  # the hook ran, the write did not
    assert len(allocator.used) == 2
    items = (await client.list("v1", "Service"))["items"]
    assert allocator.rebuild(items) == []  # maybe in flight: kept once
    assert len(allocator.rebuild(items)) == 1
    assert allocator.used == {items[0]["spec"]["clusterIP"]}


def test_rebuild_after_a_restart_marks_every_stored_ip_used() -> None:
    allocator = ClusterIPAllocator("127.96.0.0/30")  # one usable address: .2
    allocator.rebuild([service("web", clusterIP="127.96.0.2")])
    with pytest.raises(RuntimeError, match="range is full"):
        allocator.allocate()


async def test_the_repair_controller_frees_a_deleted_services_ip(
    clock: FakeClock, store: Store, client: MemoryClient, allocator: ClusterIPAllocator
) -> None:
    manager = Manager(client, clock=clock)
    manager.add(services.controller(manager, allocator=allocator))
    await manager.start()
    try:
        await client.create(service("web"))
        await clock.advance(0.1)
        await client.delete("v1", "Service", "web", namespace="default")
        await clock.advance(0.1)
        assert allocator.used == frozenset()
    finally:
        await manager.stop()
