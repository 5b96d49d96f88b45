"""wait_for: conditions, predicates, deletion, and timeouts that explain themselves."""

from __future__ import annotations

import asyncio

import pytest

from sandbox.api.objects import set_condition
from sandbox.client.memory import MemoryClient
from sandbox.client.waiting import WaitTimeout
from sandbox.clock import FakeClock


def job() -> dict:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "train", "namespace": "default"},
            "spec": {"template": {"spec": {"restartPolicy": "Never",
                                           "containers": [{"name": "c", "image": "python:3.11"}]}}}}


async def test_wait_for_condition_returns_when_it_holds(client: MemoryClient, clock: FakeClock) -> None:
    await client.create(job())
    waiter = asyncio.create_task(
        client.wait_for("batch/v1", "Job", "train", namespace="default", condition="Complete", timeout=30)
    )
    await asyncio.sleep(0)
    current = await client.get("batch/v1", "Job", "train", namespace="default")
    set_condition(current, "Complete", True, reason="Done", now=clock.now())
    await client.replace_status(current)
    done = await asyncio.wait_for(waiter, 1)
    assert done["status"]["conditions"][0]["type"] == "Complete"


async def test_wait_for_deletion(client: MemoryClient) -> None:
    await client.create(job())
    waiter = asyncio.create_task(
        client.wait_for("batch/v1", "Job", "train", namespace="default", deleted=True, timeout=30)
    )
    await asyncio.sleep(0)
    await client.delete("batch/v1", "Job", "train", namespace="default")
    assert await asyncio.wait_for(waiter, 1) == {}


async def test_wait_timeout_shows_conditions_and_events(client: MemoryClient, clock: FakeClock) -> None:
    created = await client.create(job())
    set_condition(created, "Failed", True, reason="BackoffLimitExceeded",
                  message="Job has reached the specified backoff limit", now=clock.now())
    await client.replace_status(created)
    await client.create({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "train.1", "namespace": "default"},
        "involvedObject": {"apiVersion": "batch/v1", "kind": "Job", "name": "train",
                           "namespace": "default", "uid": created["metadata"]["uid"]},
        "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit",
        "type": "Warning", "count": 1,
    })
    waiter = asyncio.create_task(
        client.wait_for("batch/v1", "Job", "train", namespace="default", condition="Complete", timeout=5)
    )
    await clock.advance(5)
    with pytest.raises(WaitTimeout) as err:
        await asyncio.wait_for(waiter, 1)
    text = str(err.value)
    assert "timed out after 5s waiting for condition Complete=True on Job train" in text
    assert "Failed=True (BackoffLimitExceeded): Job has reached the specified backoff limit" in text
    assert "Warning BackoffLimitExceeded: Job has reached the specified backoff limit" in text
