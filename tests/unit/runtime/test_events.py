"""Events: core/v1 Events about objects, with repeats folded into a count."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from sandbox.api.errors import Forbidden
from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.runtime.events import EventRecorder, record_event


async def configmap(client: MemoryClient, name: str = "web") -> dict[str, Any]:
    return await client.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "default"},
        }
    )


async def events(client: MemoryClient, namespace: str = "default") -> list[dict[str, Any]]:
    return (await client.list("v1", "Event", namespace=namespace))["items"]


async def test_record_event_creates_a_core_v1_event_about_the_object(
    client: MemoryClient, clock: FakeClock
) -> None:
    obj = await configmap(client)
    event = await record_event(
        client,
        obj,
        type="Warning",
        reason="BadConfig",
        message="key x is missing",
        component="toy",
        clock=clock,
    )
    assert event["metadata"]["name"].startswith("web.")
    assert event["metadata"]["namespace"] == "default"
    assert event["involvedObject"] == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "web",
        "namespace": "default",
        "uid": obj["metadata"]["uid"],
        "resourceVersion": obj["metadata"]["resourceVersion"],
    }
    assert (event["type"], event["reason"], event["message"]) == (
        "Warning",
        "BadConfig",
        "key x is missing",
    )
    assert event["source"] == {"component": "toy"}
    assert event["count"] == 1
    assert event["firstTimestamp"] == event["lastTimestamp"] == "2026-01-01T00:00:00Z"


async def test_a_repeated_event_bumps_count_and_last_timestamp(
    client: MemoryClient, clock: FakeClock
) -> None:
    obj = await configmap(client)
    for _ in range(3):
        await record_event(
            client, obj, type="Warning", reason="R", message="m", component="toy", clock=clock
        )
        await clock.advance(60)
    (event,) = await events(client)
    assert event["count"] == 3
    assert event["firstTimestamp"] == "2026-01-01T00:00:00Z"
    assert event["lastTimestamp"] == "2026-01-01T00:02:00Z"


@pytest.mark.parametrize(
    "change",
    [
        {"reason": "Other"},
        {"message": "different"},
        {"type": "Normal"},
        {"component": "someone-else"},
    ],
)
async def test_an_event_that_differs_in_reason_message_type_or_source_is_new(
    client: MemoryClient, clock: FakeClock, change: dict[str, str]
) -> None:
    obj = await configmap(client)
    base: dict[str, Any] = {"type": "Warning", "reason": "R", "message": "m", "component": "toy"}
    await record_event(client, obj, clock=clock, **base)
    await record_event(client, obj, clock=clock, **{**base, **change})
    assert sorted(e["count"] for e in await events(client)) == [1, 1]


async def test_events_about_different_objects_are_not_folded(
    client: MemoryClient, clock: FakeClock
) -> None:
    one, two = await configmap(client, "one"), await configmap(client, "two")
    for obj in (one, two):
        await record_event(
            client, obj, type="Normal", reason="R", message="m", component="toy", clock=clock
        )
    assert sorted(e["involvedObject"]["name"] for e in await events(client)) == ["one", "two"]


async def test_events_about_cluster_scoped_objects_live_in_default(
    client: MemoryClient, clock: FakeClock
) -> None:
    namespace = await client.create(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}
    )
    await record_event(
        client,
        namespace,
        type="Normal",
        reason="Created",
        message="hi",
        component="ns",
        clock=clock,
    )
    (event,) = await events(client, "default")
    assert event["involvedObject"]["kind"] == "Namespace"
    assert "namespace" not in event["involvedObject"]


async def test_the_recorder_logs_api_errors_instead_of_raising(
    client: MemoryClient, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    class Refusing:
        async def list(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            raise Forbidden("events is forbidden")

        async def create(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            raise Forbidden("events is forbidden")

    obj = await configmap(client)
    recorder = EventRecorder(Refusing(), component="toy", clock=clock)  # type: ignore[arg-type]
    caplog.set_level(logging.WARNING, logger="sandbox.runtime.events")
    assert await recorder.event(obj, type="Warning", reason="R", message="m") is None
    assert "events is forbidden" in caplog.text


async def test_a_recorder_counts_repeats_from_its_memory_without_listing(
    client: MemoryClient, clock: FakeClock
) -> None:
    obj = await configmap(client)
    recorder = EventRecorder(client, component="toy", clock=clock)
    await recorder.event(obj, type="Warning", reason="R", message="m")
    lists = 0
    original = client.list

    async def counting_list(*args: Any, **kwargs: Any) -> dict[str, Any]:
        nonlocal lists
        lists += 1
        return await original(*args, **kwargs)

    client.list = counting_list  # type: ignore[method-assign]
    await recorder.event(obj, type="Warning", reason="R", message="m")
    await recorder.event(obj, type="Warning", reason="R", message="other")
    client.list = original  # type: ignore[method-assign]
    events = (await client.list("v1", "Event", namespace="default"))["items"]
    assert lists == 0
    assert sorted((e["message"], e["count"]) for e in events) == [("m", 2), ("other", 1)]
