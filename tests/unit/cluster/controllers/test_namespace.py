"""The namespace controller: a deleted namespace empties itself, honouring finalizers."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from workloads_helpers import bind, running, settle, until

from sandbox.api.errors import NotFound
from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.cluster.controllers import namespace
from sandbox.store import Store


@pytest.fixture
def ns_controller(store: Store) -> Any:
    return partial(namespace.controller, resources=store.registry.all)


async def setup_team(client: MemoryClient, **extra_spec: Any) -> None:
    await client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}, "spec": extra_spec})
    await client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "team"}})
    await client.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token", "namespace": "team"}})
    await client.create({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "worker", "namespace": "team"},
        "spec": {"containers": [{"name": "app", "image": "python:3.11"}]},
    })


async def namespace_gone(client: MemoryClient) -> bool:
    try:
        await client.get("v1", "Namespace", "team")
    except NotFound:
        return True
    return False


async def count(client: MemoryClient, kind: str) -> int:
    return len((await client.list("v1", kind, namespace="team"))["items"])


def conditions(ns: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    return {c["type"]: (c["status"], c["reason"], c["message"]) for c in ns["status"].get("conditions") or ()}


async def test_deleting_a_namespace_deletes_its_content_then_the_namespace(
    client: MemoryClient, clock: FakeClock, ns_controller: Any
) -> None:
    await setup_team(client)
    async with running(client, clock, ns_controller):
        await client.delete("v1", "Namespace", "team")
        await until(lambda: namespace_gone(client), what="the namespace gone")
        assert [await count(client, k) for k in ("ConfigMap", "Secret", "Pod")] == [0, 0, 0]
        assert await client.get("v1", "Namespace", "default")  # other namespaces are untouched


async def test_a_terminating_namespace_waits_for_finalizers_and_says_why(
    client: MemoryClient, clock: FakeClock, ns_controller: Any
) -> None:
    await setup_team(client)
    await client.patch("v1", "ConfigMap", "settings", {"metadata": {"finalizers": ["example.com/hold"]}}, namespace="team")
    async with running(client, clock, ns_controller):
        await client.delete("v1", "Namespace", "team")
        async def reported() -> bool:
            ns = await client.get("v1", "Namespace", "team")
            return "NamespaceContentRemaining" in conditions(ns)
        await until(reported, what="conditions")
        ns = await client.get("v1", "Namespace", "team")
        assert ns["status"]["phase"] == "Terminating"
        found = conditions(ns)
        assert found["NamespaceContentRemaining"] == (
            "True", "SomeResourcesRemain", "Some resources are remaining: configmaps. has 1 resource instances")
        assert found["NamespaceFinalizersRemaining"] == (
            "True", "SomeFinalizersRemain",
            "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances")
        assert found["NamespaceDeletionContentFailure"] == (
            "False", "ContentDeleted", "All content successfully deleted, may be waiting on finalization")
        assert [c["type"] for c in ns["status"]["conditions"]] == list(namespace.CONDITION_TYPES)
        assert [await count(client, k) for k in ("Secret", "Pod")] == [0, 0]
        await client.patch("v1", "ConfigMap", "settings", {"metadata": {"finalizers": None}}, namespace="team")
        await settle()
        assert not await namespace_gone(client)  # it looks again after the 15 s estimate
        await clock.advance(8)
        await until(lambda: namespace_gone(client), what="the namespace gone once the finalizer was removed")


async def test_a_namespace_waits_for_its_pods_to_terminate(client: MemoryClient, clock: FakeClock, ns_controller: Any) -> None:
    await setup_team(client)
    pod = await client.get("v1", "Pod", "worker", namespace="team")
    await bind(client, pod, "node-1")
    async with running(client, clock, ns_controller):
        await client.delete("v1", "Namespace", "team")
        async def terminating() -> bool:
            found = await client.get("v1", "Pod", "worker", namespace="team")
            return bool(found["metadata"].get("deletionTimestamp"))
        await until(terminating, what="the pod terminating")
        await settle()
        assert not await namespace_gone(client)
        await client.delete("v1", "Pod", "worker", namespace="team", grace_period_seconds=0)  # the kubelet is done
        await until(lambda: namespace_gone(client), what="the namespace gone right after its last pod")


async def test_finalizing_keeps_other_namespace_finalizers(client: MemoryClient, clock: FakeClock, ns_controller: Any) -> None:
    await setup_team(client, finalizers=["example.com/audit"])
    async with running(client, clock, ns_controller):
        await client.delete("v1", "Namespace", "team")
        async def finalized() -> bool:
            ns = await client.get("v1", "Namespace", "team")
            return ns["spec"]["finalizers"] == ["example.com/audit"]
        await until(finalized, what="the kubernetes finalizer removed")
        await settle()
        assert not await namespace_gone(client)
