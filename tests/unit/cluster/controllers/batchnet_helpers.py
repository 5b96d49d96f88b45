"""Helpers for the batch, networking and storage controller tests.

There is no scheduler or kubelet in these tests: a test plays their part by
writing pod status itself (``set_pod_status``), and moves time with the
FakeClock. ``running`` starts a manager with the controllers under test.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock, format_time
from sandbox.runtime import Controller, Manager


@contextlib.asynccontextmanager
async def running(
    client: MemoryClient, clock: FakeClock, *factories: Callable[[Manager], Controller]
) -> AsyncIterator[Manager]:
    manager = Manager(client, clock=clock)
    for factory in factories:
        manager.add(factory(manager))
    await manager.start()
    try:
        yield manager
    finally:
        await manager.stop(timeout=0)


async def settle(clock: FakeClock, seconds: float = 0.0, *, rounds: int = 5) -> None:
    """Let controllers react: yield repeatedly, moving the clock by ``seconds`` in total.

    Retries with backoff and reconciles chained through several watches need
    a few passes (each ``advance`` wakes sleepers and lets tasks run)."""
    for _ in range(rounds):
        await clock.advance(seconds / rounds)
        for _ in range(20):
            await asyncio.sleep(0)


async def until(
    predicate: Callable[[], Awaitable[bool]], clock: FakeClock, *, step: float = 0.01,
    limit: int = 400, what: str = "condition",
) -> None:
    """Advance the clock in small steps until ``predicate`` holds."""
    for _ in range(limit):
        if await predicate():
            return
        await clock.advance(step)
    raise AssertionError(f"{what} did not hold")


def pod(name: str, *, labels: dict[str, str] | None = None,
        ports: list[dict[str, Any]] | None = None, namespace: str = "default") -> dict[str, Any]:
    container: dict[str, Any] = {"name": "main", "image": "python"}
    if ports:
        container["ports"] = ports
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": {"containers": [container]},
    }


async def set_pod_status(
    client: MemoryClient,
    name: str,
    *,
    phase: str,
    namespace: str = "default",
    ready: bool = False,
    ip: str | None = None,
    exit_code: int | None = None,
    restarts: int = 0,
    now: Any = None,
) -> dict[str, Any]:
    """Write what a kubelet would: phase, podIP, Ready and a container status."""
    state: dict[str, Any]
    if exit_code is not None:
        terminated: dict[str, Any] = {
            "exitCode": exit_code, "reason": "Completed" if exit_code == 0 else "Error",
        }
        if now is not None:
            terminated["finishedAt"] = format_time(now)
        state = {"terminated": terminated}
    else:
        state = {"running": {}}
    status: dict[str, Any] = {
        "phase": phase,
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        "containerStatuses": [{
            "name": "main", "image": "python", "imageID": "", "ready": ready,
            "restartCount": restarts, "state": state,
        }],
    }
    if ip:
        status["podIP"] = ip
        status["podIPs"] = [{"ip": ip}]
    return await client.patch_status("v1", "Pod", name, {"status": status}, namespace=namespace)
