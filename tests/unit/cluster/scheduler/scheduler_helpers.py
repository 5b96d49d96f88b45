"""Helpers for scheduler tests: Node and Pod objects, a running scheduler, and
waiting by yielding to the event loop (never by sleeping)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sandbox.client.protocol import Client
from sandbox.clock import FakeClock
from sandbox.cluster.scheduler import NodeInfo, PodInfo, Scheduler

CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def node(
    name: str,
    *,
    cpu: str = "4",
    memory: str = "8Gi",
    pods: str = "110",
    extra: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    taints: list[dict[str, str]] | None = None,
    unschedulable: bool = False,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"taints": taints or []}
    if unschedulable:
        spec["unschedulable"] = True
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/hostname": name, **(labels or {})},
        },
        "spec": spec,
        "status": node_status(cpu=cpu, memory=memory, pods=pods, extra=extra),
    }


def node_status(
    *,
    cpu: str = "4",
    memory: str = "8Gi",
    pods: str = "110",
    extra: dict[str, str] | None = None,
    ready: str = "True",
) -> dict[str, Any]:
    resources = {"cpu": cpu, "memory": memory, "pods": pods, **(extra or {})}
    return {
        "capacity": dict(resources),
        "allocatable": dict(resources),
        "conditions": [{"type": "Ready", "status": ready, "reason": "KubeletReady"}],
    }


async def add_node(client: Client, name: str, **kwargs: Any) -> dict[str, Any]:
    """Create a Node and write its status, the way a kubelet registers."""
    obj = node(name, **kwargs)
    status = obj.pop("status")
    await client.create(obj)
    return await client.patch_status("v1", "Node", name, {"status": status})


async def default_cluster(client: Client) -> None:
    """clusters/inprocess/default.yaml: a tainted control plane (2 cpu) and two 4-cpu workers."""
    await add_node(
        client,
        "control-plane",
        cpu="2",
        memory="4Gi",
        labels={"node-role.kubernetes.io/control-plane": ""},
        taints=[CONTROL_PLANE_TAINT],
    )
    await add_node(client, "worker-1")
    await add_node(client, "worker-2")


def pod(
    name: str,
    *,
    namespace: str = "default",
    cpu: str | None = None,
    memory: str | None = None,
    gpu: str | None = None,
    labels: dict[str, str] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    requests: dict[str, str] = {}
    if cpu:
        requests["cpu"] = cpu
    if memory:
        requests["memory"] = memory
    container: dict[str, Any] = {"name": "main", "image": "python:3.11"}
    if gpu:
        requests["nvidia.com/gpu"] = gpu
        container["resources"] = {"requests": requests, "limits": {"nvidia.com/gpu": gpu}}
    elif requests:
        container["resources"] = {"requests": requests}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": {"containers": [container], **spec},
    }


async def settle(rounds: int = 100) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


async def until(
    predicate: Callable[[], bool | Awaitable[bool]], *, rounds: int = 5000, what: str = "condition"
) -> None:
    """Yield to the loop until ``predicate`` holds; fail after ``rounds`` yields."""
    for _ in range(rounds):
        value = predicate()
        if not isinstance(value, bool):
            value = await value
        if value:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{what} did not hold after {rounds} event-loop rounds")


async def node_of(client: Client, name: str, namespace: str = "default") -> str | None:
    obj = await client.get("v1", "Pod", name, namespace=namespace)
    return obj["spec"].get("nodeName")


async def bound(client: Client, *names: str, namespace: str = "default") -> bool:
    return all([await node_of(client, n, namespace) for n in names])


def scheduled_condition(obj: dict[str, Any]) -> dict[str, Any] | None:
    return next(
        (c for c in obj.get("status", {}).get("conditions", []) if c["type"] == "PodScheduled"),
        None,
    )


async def condition_of(client: Client, name: str, namespace: str = "default") -> dict[str, Any] | None:
    return scheduled_condition(await client.get("v1", "Pod", name, namespace=namespace))


async def events_about(
    client: Client, name: str, *, reason: str | None = None, namespace: str = "default"
) -> list[dict[str, Any]]:
    listed = await client.list("v1", "Event", namespace=namespace)
    return [
        e
        for e in listed["items"]
        if e["involvedObject"]["name"] == name and (reason is None or e["reason"] == reason)
    ]


@asynccontextmanager
async def running(
    client: Client, clock: FakeClock, *, seed: int = 7, **kwargs: Any
) -> AsyncIterator[Scheduler]:
    scheduler = Scheduler(client, clock=clock, rng=random.Random(seed), **kwargs)
    await scheduler.start()
    try:
        yield scheduler
    finally:
        await scheduler.stop()


def node_info(name: str, *, ready: str = "True", **kwargs: Any) -> NodeInfo:
    """A NodeInfo straight from a Node object (no API involved)."""
    obj = node(name, **{k: v for k, v in kwargs.items() if k != "status"})
    obj["status"]["conditions"][0]["status"] = ready
    return NodeInfo(obj)


def pod_info(name: str = "p", **kwargs: Any) -> PodInfo:
    obj = pod(name, **kwargs)
    obj["metadata"]["uid"] = f"uid-{name}"
    return PodInfo(obj)
