"""Helpers for the workload, namespace and garbage-collector controller tests.

There is no scheduler and no kubelet here: a test plays them. :class:`FakeKubelet`
writes the pod status a kubelet would (Running, Ready, container statuses),
and :func:`bind` does what the scheduler does. :func:`until` waits by yielding
to the event loop and, when asked, by moving the fake clock in small steps
(for retries with backoff and requeues after a delay).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock, format_time
from sandbox.runtime import Controller, Manager


async def settle(rounds: int = 30) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


async def until(
    predicate: Callable[[], bool | Awaitable[bool]],
    *,
    clock: FakeClock | None = None,
    step: float = 0.05,
    rounds: int = 400,
    what: str = "condition",
) -> None:
    """Yield (and advance ``clock`` by ``step``) until ``predicate`` holds."""
    for _ in range(rounds):
        value = predicate()
        if not isinstance(value, bool):
            value = await value
        if value:
            return
        if clock is not None:
            await clock.advance(step)
        else:
            await settle(5)
    raise AssertionError(f"{what} did not hold")


@asynccontextmanager
async def running(
    client: MemoryClient, clock: FakeClock, *factories: Callable[[Manager], Controller]
) -> AsyncIterator[Manager]:
    """A manager running the controllers ``factories`` build."""
    manager = Manager(client, clock=clock)
    for factory in factories:
        manager.add(factory(manager))
    await manager.start()
    try:
        yield manager
    finally:
        await manager.stop(timeout=0)


def container(name: str = "app", image: str = "python:3.11") -> dict[str, Any]:
    return {"name": name, "image": image}


def template(labels: dict[str, str], *, env: str = "1") -> dict[str, Any]:
    return {
        "metadata": {"labels": dict(labels)},
        "spec": {"containers": [{**container(), "env": [{"name": "VERSION", "value": env}]}]},
    }


async def pods(client: MemoryClient, namespace: str = "default", **selector: str) -> list[dict[str, Any]]:
    label_selector = ",".join(f"{k}={v}" for k, v in selector.items()) or None
    listed = await client.list("v1", "Pod", namespace=namespace, label_selector=label_selector)
    return sorted(listed["items"], key=lambda p: p["metadata"]["name"])


async def events(client: MemoryClient, name: str, namespace: str = "default") -> list[tuple[str, str]]:
    """(reason, message) of the events about ``name``, oldest first."""
    listed = await client.list("v1", "Event", namespace=namespace)
    return [
        (e["reason"], e["message"])
        for e in sorted(listed["items"], key=lambda e: (e["firstTimestamp"], int(e["metadata"]["resourceVersion"])))
        if e["involvedObject"]["name"] == name
    ]


async def bind(client: MemoryClient, pod: dict[str, Any], node: str) -> None:
    """What the scheduler does: a Binding sets ``spec.nodeName``."""
    await client.create({
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": pod["metadata"]["name"], "namespace": pod["metadata"]["namespace"]},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    })


class FakeKubelet:
    """Writes the pod status a kubelet would, on demand."""

    def __init__(self, client: MemoryClient, clock: FakeClock) -> None:
        self.client = client
        self.clock = clock

    async def run(self, pod: dict[str, Any], *, ready: bool = True) -> None:
        """Mark ``pod`` Running (and Ready, unless ``ready=False``)."""
        now = format_time(self.clock.now())
        status = "True" if ready else "False"
        containers = pod["spec"]["containers"]
        await self.client.patch_status("v1", "Pod", pod["metadata"]["name"], {
            "status": {
                "phase": "Running",
                "conditions": [
                    {"type": t, "status": "True" if t in ("Initialized", "PodScheduled") else status,
                     "lastTransitionTime": now}
                    for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
                ],
                "containerStatuses": [
                    {"name": c["name"], "image": c["image"], "imageID": c["image"], "ready": ready, "restartCount": 0,
                     "started": True, "state": {"running": {"startedAt": now}}}
                    for c in containers
                ],
            }
        }, namespace=pod["metadata"]["namespace"])

    async def finish(self, pod: dict[str, Any], *, phase: str = "Failed") -> None:
        await self.client.patch_status("v1", "Pod", pod["metadata"]["name"], {
            "status": {"phase": phase, "conditions": [{"type": "Ready", "status": "False"}]}
        }, namespace=pod["metadata"]["namespace"])

    async def run_all(self, namespace: str = "default", **selector: str) -> int:
        """Mark every pod not yet Running as Running and Ready; how many it started."""
        started = 0
        for pod in await pods(self.client, namespace, **selector):
            if (pod.get("status") or {}).get("phase") != "Running" and not pod["metadata"].get("deletionTimestamp"):
                await self.run(pod)
                started += 1
        return started


def is_ready(pod: dict[str, Any]) -> bool:
    return any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in (pod.get("status") or {}).get("conditions") or ()
    )
