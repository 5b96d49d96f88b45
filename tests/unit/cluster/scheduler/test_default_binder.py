"""DefaultBinder: a v1 Binding through the client sets the pod's node."""

from __future__ import annotations

from typing import Any

from scheduler_helpers import pod

from sandbox.client.memory import MemoryClient
from sandbox.cluster.scheduler.framework import Code, CycleState, PodInfo
from sandbox.cluster.scheduler.plugins.default_binder import binding_for, new


class Handle:
    def __init__(self, client: MemoryClient) -> None:
        self.client = client


async def created(client: MemoryClient, name: str) -> PodInfo:
    return PodInfo(await client.create(pod(name)))


async def test_binding_sets_the_node_and_the_pod_scheduled_condition(client: MemoryClient) -> None:
    info = await created(client, "p")
    binder = new({}, Handle(client))  # type: ignore[arg-type]
    assert await binder.bind(CycleState(), info, "worker-1") is None
    bound: dict[str, Any] = await client.get("v1", "Pod", "p", namespace="default")
    assert bound["spec"]["nodeName"] == "worker-1"
    assert {"type": "PodScheduled", "status": "True"}.items() <= bound["status"]["conditions"][0].items()


async def test_the_binding_is_a_v1_binding_naming_the_pod_and_node(client: MemoryClient) -> None:
    info = await created(client, "p")
    assert binding_for(info, "worker-1") == {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "p", "namespace": "default", "uid": info.uid},
        "target": {"apiVersion": "v1", "kind": "Node", "name": "worker-1"},
    }


async def test_binding_a_pod_already_bound_is_an_error(client: MemoryClient) -> None:
    info = await created(client, "p")
    binder = new({}, Handle(client))  # type: ignore[arg-type]
    await binder.bind(CycleState(), info, "worker-1")
    status = await binder.bind(CycleState(), info, "worker-2")
    assert status is not None and status.code == Code.Error
    assert "already assigned to node" in status.message
