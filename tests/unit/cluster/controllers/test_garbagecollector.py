"""The garbage collector: background, foreground and orphan propagation."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from workloads_helpers import running, settle, until

from sandbox.api.errors import NotFound
from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.cluster.controllers import garbagecollector
from sandbox.store import Store


def configmap(name: str, *owners: dict[str, Any], block: bool = False, finalizers: list[str] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}}
    if owners:
        obj["metadata"]["ownerReferences"] = [ref(o, block=block) for o in owners]
    if finalizers:
        obj["metadata"]["finalizers"] = finalizers
    return obj


def ref(owner: dict[str, Any], *, block: bool = False) -> dict[str, Any]:
    return {
        "apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"], "blockOwnerDeletion": block,
    }


@pytest.fixture
def gc(store: Store) -> Any:
    return partial(garbagecollector.controller, resources=store.registry.all)


async def exists(client: MemoryClient, name: str, kind: str = "ConfigMap", api_version: str = "v1", namespace: str | None = "default") -> bool:
    try:
        await client.get(api_version, kind, name, namespace=namespace)
    except NotFound:
        return False
    return True


async def gone(client: MemoryClient, *names: str) -> bool:
    return not any([await exists(client, n) for n in names])


async def test_dependents_of_a_deleted_owner_are_deleted_in_the_background(client: MemoryClient, clock: FakeClock, gc: Any) -> None:
    async with running(client, clock, gc):
        owner = await client.create(configmap("owner"))
        await client.create(configmap("child-1", owner))
        await client.create(configmap("child-2", owner))
        await settle()
        assert await exists(client, "child-1")
        await client.delete("v1", "ConfigMap", "owner", namespace="default")
        await until(lambda: gone(client, "child-1", "child-2"), what="dependents collected")


async def test_a_dependent_whose_owner_was_replaced_is_collected(client: MemoryClient, clock: FakeClock, gc: Any) -> None:
    async with running(client, clock, gc):
        owner = await client.create(configmap("owner"))
        await client.delete("v1", "ConfigMap", "owner", namespace="default")
        await client.create(configmap("owner"))  # same name, another uid
        await client.create(configmap("child", owner))
        await until(lambda: gone(client, "child"), what="the dependent of the old owner collected")
        assert await exists(client, "owner")


async def test_a_dependent_with_a_remaining_owner_survives_and_drops_the_gone_one(
    client: MemoryClient, clock: FakeClock, gc: Any
) -> None:
    async with running(client, clock, gc):
        first = await client.create(configmap("first"))
        second = await client.create(configmap("second"))
        await client.create(configmap("child", first, second))
        await client.delete("v1", "ConfigMap", "first", namespace="default")
        async def one_owner() -> bool:
            child = await client.get("v1", "ConfigMap", "child", namespace="default")
            return [r["name"] for r in child["metadata"]["ownerReferences"]] == ["second"]
        await until(one_owner, what="the reference to the deleted owner removed")


async def test_foreground_deletion_waits_for_blocking_dependents(client: MemoryClient, clock: FakeClock, gc: Any) -> None:
    async with running(client, clock, gc):
        owner = await client.create(configmap("owner"))
        await client.create(configmap("held", owner, block=True, finalizers=["example.com/hold"]))
        await client.create(configmap("loose", owner))
        await client.delete("v1", "ConfigMap", "owner", namespace="default", propagation_policy="Foreground")
        async def held_deleting() -> bool:
            held = await client.get("v1", "ConfigMap", "held", namespace="default")
            return bool(held["metadata"].get("deletionTimestamp"))
        await until(held_deleting, what="the blocking dependent being deleted")
        await settle()
        waiting = await client.get("v1", "ConfigMap", "owner", namespace="default")
        assert waiting["metadata"]["finalizers"] == ["foregroundDeletion"]
        assert waiting["metadata"]["deletionTimestamp"]
        await client.patch("v1", "ConfigMap", "held", {"metadata": {"finalizers": None}}, namespace="default")
        await until(lambda: gone(client, "owner", "held", "loose"), what="owner, then the loose dependent, gone")


async def test_foreground_deletion_goes_down_a_chain_of_owners(client: MemoryClient, clock: FakeClock, gc: Any) -> None:
    async with running(client, clock, gc):
        top = await client.create(configmap("top"))
        middle = await client.create(configmap("middle", top, block=True))
        await client.create(configmap("bottom", middle, block=True, finalizers=["example.com/hold"]))
        await client.delete("v1", "ConfigMap", "top", namespace="default", propagation_policy="Foreground")
        async def middle_waits() -> bool:
            found = await client.get("v1", "ConfigMap", "middle", namespace="default")
            return "foregroundDeletion" in (found["metadata"].get("finalizers") or ())
        await until(middle_waits, what="the middle object deleted in foreground too")
        assert await exists(client, "top")
        await client.patch("v1", "ConfigMap", "bottom", {"metadata": {"finalizers": None}}, namespace="default")
        await until(lambda: gone(client, "top", "middle", "bottom"))


async def test_orphan_deletion_keeps_dependents_without_the_owner_reference(
    client: MemoryClient, clock: FakeClock, gc: Any
) -> None:
    async with running(client, clock, gc):
        owner = await client.create(configmap("owner"))
        await client.create(configmap("child", owner, block=True))
        await client.delete("v1", "ConfigMap", "owner", namespace="default", propagation_policy="Orphan")
        await until(lambda: gone(client, "owner"), what="the owner gone")
        await settle()
        child = await client.get("v1", "ConfigMap", "child", namespace="default")
        assert "ownerReferences" not in child["metadata"]


async def test_a_cluster_scoped_owner_collects_namespaced_dependents(client: MemoryClient, clock: FakeClock, gc: Any) -> None:
    async with running(client, clock, gc):
        owner = await client.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "viewer"}})
        await client.create(configmap("child", owner))
        await settle()
        assert await exists(client, "child")
        await client.delete("rbac.authorization.k8s.io/v1", "ClusterRole", "viewer")
        await until(lambda: gone(client, "child"))


WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {"group": "example.com", "scope": "Namespaced",
             "names": {"kind": "Widget", "plural": "widgets"},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]},
}


async def widget_with_child(client: MemoryClient) -> None:
    await client.create(WIDGET_CRD)
    await settle()
    widget = await client.create({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "default"}})
    await client.create(configmap("child", widget))
    await settle()
    assert await exists(client, "child")


async def test_kinds_from_a_new_crd_are_watched(client: MemoryClient, clock: FakeClock, gc: Any) -> None:
    async with running(client, clock, gc):
        await widget_with_child(client)
        await client.delete("example.com/v1", "Widget", "w", namespace="default")
        await until(lambda: gone(client, "child"), what="the Widget's dependent collected")


async def test_deleting_a_crd_collects_the_dependents_of_its_objects_and_stops_watching_it(
    client: MemoryClient, clock: FakeClock, gc: Any
) -> None:
    async with running(client, clock, gc) as manager:
        await widget_with_child(client)
        widgets = manager.informer("example.com/v1", "Widget")
        assert widgets.running
        await client.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com")
        await until(lambda: gone(client, "child"), what="the Widget's dependent collected")
        await until(lambda: not widgets.running, what="the Widget informer stopped")
