"""Shared helpers for the kubelet tests: a one-node cluster, pods, waiting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.cluster.config import Lifecycle
from sandbox.cluster.images.catalog import ImageCatalog
from sandbox.cluster.kubelet import Kubelet, KubeletLogSource, LiveRuns
from sandbox.cluster.paths import SandboxPaths
from sandbox.cluster.runtime.base import ContainerRuntime
from sandbox.store import Store

NODE = "node-1"


@dataclass
class Node:
    store: Store
    client: MemoryClient
    clock: FakeClock
    kubelet: Kubelet
    paths: SandboxPaths
    logs: KubeletLogSource

    async def create(self, pod: dict[str, Any]) -> dict[str, Any]:
        return await self.client.create(pod)

    async def get(self, name: str) -> dict[str, Any]:
        return await self.client.get("v1", "Pod", name, namespace="default")

    async def events(self, reason: str | None = None) -> list[dict[str, Any]]:
        items = (await self.client.list("v1", "Event", namespace="default"))["items"]
        return [e for e in items if reason is None or e["reason"] == reason]

    async def messages(self, reason: str) -> list[str]:
        return [e["message"] for e in await self.events(reason)]


async def start_node(
    store: Store,
    clock: FakeClock,
    home: Path,
    runtime: ContainerRuntime,
    *,
    lifecycle: Lifecycle | None = None,
    **kubelet_options: Any,
) -> Node:
    paths = SandboxPaths(home)
    live = LiveRuns()
    logs = KubeletLogSource(paths, live=live, clock=clock)
    client = MemoryClient(store, logs=logs)
    kubelet = Kubelet(
        NODE,
        client=client,
        runtime=runtime,
        catalog=ImageCatalog.load(user_file=paths.user_image_catalog),
        paths=paths,
        lifecycle=lifecycle or Lifecycle(),
        clock=clock,
        pod_cidr="127.16.0.0/24",
        live_runs=live,
        **kubelet_options,
    )
    await kubelet.start()
    return Node(store, client, clock, kubelet, paths, logs)


def make_pod(
    name: str,
    *containers: dict[str, Any],
    node: str | None = NODE,
    **spec: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {"containers": list(containers), **spec}
    if node:
        body["nodeName"] = node
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": name}},
        "spec": body,
    }


def python(name: str, code: str, **extra: Any) -> dict[str, Any]:
    """A container running ``python -c code`` in the python image."""
    return {"name": name, "image": "python:3.11", "command": ["python", "-c", code], **extra}


def shell(name: str, script: str, **extra: Any) -> dict[str, Any]:
    """A container running ``sh -c script`` in the busybox image."""
    return {"name": name, "image": "busybox:1.36", "command": ["sh", "-c", script], **extra}


async def eventually(
    check: Callable[[], Awaitable[Any]],
    *,
    timeout: float = 10.0,
    clock: FakeClock | None = None,
    step: float = 0.0,
    what: str = "condition",
) -> Any:
    """Poll ``check`` (real time) until it returns something truthy; with a
    clock and a step, fake time moves by ``step`` between polls."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        if clock is not None and step:
            await clock.advance(step)
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def container_status(pod: dict[str, Any], name: str) -> dict[str, Any]:
    status = pod.get("status") or {}
    for entry in [*(status.get("initContainerStatuses") or ()), *(status.get("containerStatuses") or ())]:
        if entry["name"] == name:
            return entry
    raise KeyError(name)


def condition(pod: dict[str, Any], type_: str) -> dict[str, Any] | None:
    for entry in (pod.get("status") or {}).get("conditions") or ():
        if entry["type"] == type_:
            return entry
    return None


async def phase_is(node: Node, name: str, *phases: str) -> dict[str, Any] | None:
    pod = await node.get(name)
    return pod if (pod.get("status") or {}).get("phase") in phases else None
