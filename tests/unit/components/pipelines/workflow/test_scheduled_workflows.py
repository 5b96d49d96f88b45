"""Recurring runs' controller: cron parsing, trigger times, and Workflows created on a FakeClock."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sandbox.backends.inprocess.cluster import install_crds
from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock, format_time
from sandbox.components.pipelines.workflow import scheduled
from sandbox.components.pipelines.workflow.scheduled import (
    format_parameter,
    next_trigger,
    parse_cron,
    workflow_for_trigger,
    workflow_name,
)
from sandbox.components.registry import load_crds
from sandbox.runtime import Manager
from sandbox.store import Store

SWF = ("kubeflow.org/v1beta1", "ScheduledWorkflow")
WF = ("argoproj.io/v1alpha1", "Workflow")
T0 = datetime(2026, 1, 1, tzinfo=UTC)  # the FakeClock's start, a Thursday


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def iso(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def store(clock: FakeClock) -> Store:
    store = Store(clock=clock)
    install_crds(store, load_crds("sandbox.components.pipelines"))
    return store


# Cron ---------------------------------------------------------------------------------------------


def test_recurring_runs_read_seconds_first_or_five_classic_fields() -> None:
    assert parse_cron("0 0 9 ? * 2-6").next(iso("2026-01-02T10:00:00")) == iso("2026-01-03T09:00:00")
    assert parse_cron("*/5 * * * *").next(iso("2026-01-01T00:01:00")) == iso("2026-01-01T00:05:00")
    assert parse_cron("  @hourly ").next(iso("2026-01-01T00:30:00")) == iso("2026-01-01T01:00:00")


@pytest.mark.parametrize("bad", ["* * * *", "* * * * * * *", "@every soon", ""])
def test_bad_cron_expressions_do_not_parse(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_cron(bad)


# Trigger times ----------------------------------------------------------------------------------------


def schedule(*, cron: str | None = None, interval: int | None = None, last: datetime | None = None,
             created: datetime = T0, no_catchup: bool = False, start: datetime | None = None,
             end: datetime | None = None, **spec: Any) -> dict[str, Any]:
    times = {k: format_time(v) for k, v in (("startTime", start), ("endTime", end)) if v is not None}
    trigger: dict[str, Any] = {}
    if cron is not None:
        trigger = {"cronSchedule": {"cron": cron, **times}}
    elif interval is not None:
        trigger = {"periodicSchedule": {"intervalSecond": interval, **times}}
    obj: dict[str, Any] = {
        "apiVersion": SWF[0], "kind": SWF[1],
        "metadata": {"name": "nightly", "namespace": "default", "uid": "swf-uid",
                     "creationTimestamp": format_time(created)},
        "spec": {"enabled": True, "trigger": trigger, "noCatchup": no_catchup, **spec},
    }
    if last is not None:
        obj["status"] = {"trigger": {"lastTriggeredTime": format_time(last)}}
    return obj


def test_a_periodic_schedule_counts_from_creation_then_from_the_last_run() -> None:
    assert next_trigger(schedule(interval=60), now=T0) == at(60)
    assert next_trigger(schedule(interval=60, last=at(60)), now=at(500)) == at(120)


def test_without_catchup_a_late_periodic_schedule_runs_now_once() -> None:
    assert next_trigger(schedule(interval=60, last=at(60), no_catchup=True), now=at(500.5)) == at(500)
    assert next_trigger(schedule(interval=60, last=at(60), no_catchup=True), now=at(150)) == at(120)


def test_start_and_end_times_bound_a_schedule() -> None:
    assert next_trigger(schedule(interval=60, start=at(1000)), now=T0) == at(1060)
    assert next_trigger(schedule(interval=60, last=at(120), end=at(150)), now=T0) is None
    assert next_trigger(schedule(cron="0 * * * * *", end=at(30)), now=T0) is None


def test_a_cron_schedule_catches_up_one_time_after_another_or_jumps_to_the_latest() -> None:
    every_minute = "0 * * * * *"
    assert next_trigger(schedule(cron=every_minute, created=at(30)), now=at(30)) == at(60)
    assert next_trigger(schedule(cron=every_minute, last=at(60)), now=at(610)) == at(120)
    assert next_trigger(schedule(cron=every_minute, last=at(60), no_catchup=True), now=at(610)) == at(600)


def test_a_schedule_without_trigger_runs_once_at_creation() -> None:
    assert next_trigger(schedule(), now=at(5)) == T0
    assert next_trigger(schedule(last=T0), now=at(5)) is None


def test_parameter_macros_are_replaced() -> None:
    text = '"[[ScheduledTime]] [[CurrentTime.2006-01-02 15:04]] #[[Index]] [[RunUUID]]"'
    assert format_parameter(text, scheduled=at(61), now=at(3600), index=3, run_id="r-1") == \
        '"20260101000101 2026-01-01 01:00 #3 r-1"'


def test_the_workflow_for_a_trigger_is_named_labelled_and_owned_like_kfps() -> None:
    template = {"apiVersion": WF[0], "kind": WF[1],
                "metadata": {"generateName": "p-", "labels": {"pipelines.kubeflow.org/v2_component": "true"},
                             "annotations": {"pipelines.kubeflow.org/experiment_id": "e-1"}},
                "spec": {"entrypoint": "entrypoint", "arguments": {"parameters": [
                    {"name": "when", "value": '"x"'}, {"name": "pipeline-spec", "value": "{}"}]}}}
    swf = schedule(interval=60, serviceAccount="runner",
                   workflow={"spec": template, "parameters": [{"name": "when", "value": '"[[Index]]"'},
                                                              {"name": "extra", "value": "1"}]})
    workflow = workflow_for_trigger(swf, index=2, scheduled=at(120), now=at(121), run_id="run-2")
    meta = workflow["metadata"]
    assert meta["name"] == workflow_name("nightly", 2) and meta["name"].startswith("nightly-2-")
    assert "generateName" not in meta and meta["namespace"] == "default"
    assert meta["labels"] == {
        "pipelines.kubeflow.org/v2_component": "true", "pipeline/runid": "run-2",
        scheduled.NAME_LABEL: "nightly", scheduled.EPOCH_LABEL: str(int(at(120).timestamp())),
        scheduled.INDEX_LABEL: "2", "scheduledworkflows.kubeflow.org/isOwnedByScheduledWorkflow": "true",
        "workflows.argoproj.io/completed": "false"}
    assert meta["annotations"]["pipelines.kubeflow.org/experiment_id"] == "e-1"
    assert meta["annotations"][scheduled.RECURRING_RUN_ANNOTATION] == "swf-uid"
    assert meta["annotations"]["pipelines.kubeflow.org/run_name"] == meta["name"]
    assert meta["ownerReferences"][0] == {"apiVersion": SWF[0], "kind": SWF[1], "name": "nightly",
                                               "uid": "swf-uid", "controller": True, "blockOwnerDeletion": True}
    assert workflow["spec"]["arguments"]["parameters"] == [
        {"name": "when", "value": '"2"'}, {"name": "pipeline-spec", "value": "{}"}, {"name": "extra", "value": "1"}]
    assert workflow["spec"]["serviceAccountName"] == "runner"
    assert template["metadata"]["generateName"] == "p-", "the template is not changed"


# The controller on a FakeClock ---------------------------------------------------------------------


@contextlib.asynccontextmanager
async def controller(client: MemoryClient, clock: FakeClock) -> AsyncIterator[Manager]:
    manager = Manager(client, clock=clock)
    manager.add(scheduled.controller(manager))
    await manager.start()
    try:
        yield manager
    finally:
        await manager.stop(timeout=0)


async def settle(clock: FakeClock, seconds: float = 0.0, *, rounds: int = 5) -> None:
    for _ in range(rounds):
        await clock.advance(seconds / rounds)
        for _ in range(30):
            await asyncio.sleep(0)


def recurring(*, trigger: dict[str, Any], enabled: bool = True, **spec: Any) -> dict[str, Any]:
    template = {"metadata": {"generateName": "p-", "annotations": {"pipelines.kubeflow.org/run_name": "p"}},
                "spec": {"entrypoint": "entrypoint",
                         "arguments": {"parameters": [{"name": "pipeline-spec", "value": "{}"}]}}}
    return {"apiVersion": SWF[0], "kind": SWF[1], "metadata": {"name": "nightly", "namespace": "default"},
            "spec": {"enabled": enabled, "trigger": trigger, "workflow": {"spec": template}, **spec}}


async def workflows(client: MemoryClient) -> list[dict[str, Any]]:
    listed = (await client.list(*WF, namespace="default"))["items"]
    return sorted(listed, key=lambda w: int(w["metadata"]["labels"][scheduled.INDEX_LABEL]))


async def get_swf(client: MemoryClient) -> dict[str, Any]:
    return await client.get(*SWF, "nightly", namespace="default")


async def finish(client: MemoryClient, workflow: dict[str, Any], phase: str = "Succeeded") -> None:
    await client.patch(*WF, workflow["metadata"]["name"], {
        "metadata": {"labels": {"workflows.argoproj.io/completed": "true"}},
        "status": {"phase": phase, "startedAt": format_time(T0), "finishedAt": format_time(T0)}},
        namespace="default")


async def events(client: MemoryClient, reason: str) -> list[str]:
    listed = await client.list("v1", "Event", namespace="default")
    return [e["message"] for e in listed["items"] if e["reason"] == reason]


async def test_a_periodic_schedule_creates_a_workflow_at_each_interval_and_records_status(
        client: MemoryClient, clock: FakeClock) -> None:
    async with controller(client, clock):
        await client.create(recurring(trigger={"periodicSchedule": {"intervalSecond": 60}}, maxConcurrency=5))
        await settle(clock, 59)
        assert await workflows(client) == []
        swf = await get_swf(client)
        assert swf["status"]["trigger"] == {"nextTriggeredTime": format_time(at(60))}
        assert swf["status"]["conditions"][0].items() >= {
            "type": "Enabled", "status": "True", "reason": "Enabled", "message": "The schedule is enabled."}.items()
        assert swf["metadata"]["labels"] == {scheduled.ENABLED_LABEL: "true", "scheduledworkflows.kubeflow.org/status":
                                             "Enabled"}

        await settle(clock, 1.5)
        [first] = await workflows(client)
        assert first["metadata"]["name"] == workflow_name("nightly", 1)
        assert first["metadata"]["labels"][scheduled.NAME_LABEL] == "nightly"
        assert first["metadata"]["labels"][scheduled.EPOCH_LABEL] == str(int(at(60).timestamp()))
        swf = await get_swf(client)
        assert swf["status"]["trigger"] == {"lastTriggeredTime": format_time(at(60)),
                                            "nextTriggeredTime": format_time(at(120)), "lastWorkflowIndex": 1}
        assert [w["name"] for w in swf["status"]["workflowHistory"]["active"]] == [first["metadata"]["name"]]
        assert await events(client, "WorkflowCreated") == [
            f"Created workflow {first['metadata']['name']} scheduled at {format_time(at(60))}"]

        await finish(client, first)
        await settle(clock, 60)
        assert len(await workflows(client)) == 2
        swf = await get_swf(client)
        assert [w["name"] for w in swf["status"]["workflowHistory"]["completed"]] == [first["metadata"]["name"]]
        assert swf["status"]["workflowHistory"]["completed"][0]["phase"] == "Succeeded"


async def test_max_concurrency_holds_the_next_run_until_one_ends(client: MemoryClient, clock: FakeClock) -> None:
    async with controller(client, clock):
        await client.create(recurring(trigger={"periodicSchedule": {"intervalSecond": 60}}))
        await settle(clock, 61)
        await settle(clock, 120)
        [first] = await workflows(client)  # maxConcurrency defaults to 1
        await finish(client, first, "Failed")
        await settle(clock)
        # Catching up: the missed 00:02:00 runs now, then 00:03:00 once that one ends.
        names = [w["metadata"]["name"] for w in await workflows(client)]
        assert names == [workflow_name("nightly", 1), workflow_name("nightly", 2)]
        second = (await workflows(client))[1]
        assert second["metadata"]["labels"][scheduled.EPOCH_LABEL] == str(int(at(120).timestamp()))
        await finish(client, second)
        await settle(clock)
        assert len(await workflows(client)) == 3


async def test_a_disabled_schedule_creates_nothing_and_resumes_without_catchup_once(
        client: MemoryClient, clock: FakeClock) -> None:
    async with controller(client, clock):
        await client.create(recurring(trigger={"periodicSchedule": {"intervalSecond": 60}}, enabled=False,
                                      noCatchup=True, maxConcurrency=10))
        await settle(clock, 300)
        assert await workflows(client) == []
        swf = await get_swf(client)
        assert swf["status"]["conditions"][0]["type"] == "Disabled"
        assert swf["metadata"]["labels"][scheduled.ENABLED_LABEL] == "false"

        await client.patch(*SWF, "nightly", {"spec": {"enabled": True}}, namespace="default")
        await settle(clock, 1)
        [only] = await workflows(client)
        assert only["metadata"]["labels"][scheduled.EPOCH_LABEL] == str(int(at(300).timestamp()))
        assert (await get_swf(client))["status"]["conditions"][0]["type"] == "Enabled"


async def test_with_catchup_every_missed_time_runs(client: MemoryClient, clock: FakeClock) -> None:
    await client.create(recurring(trigger={"periodicSchedule": {"intervalSecond": 60}}, maxConcurrency=10))
    await clock.advance(200)  # the controller was not running at 01:00, 02:00 and 03:00
    async with controller(client, clock):
        await settle(clock)
        epochs = [int(w["metadata"]["labels"][scheduled.EPOCH_LABEL]) for w in await workflows(client)]
        assert epochs == [int(at(s).timestamp()) for s in (60, 120, 180)]


async def test_a_cron_schedule_stops_at_its_end_time(client: MemoryClient, clock: FakeClock) -> None:
    async with controller(client, clock):
        await client.create(recurring(trigger={"cronSchedule": {"cron": "0 * * * * *",
                                                                "endTime": format_time(at(150))}},
                                      maxConcurrency=10))
        await settle(clock, 400)
        assert len(await workflows(client)) == 2
        assert "nextTriggeredTime" not in (await get_swf(client))["status"]["trigger"]


async def test_an_unreadable_cron_is_an_error_condition_and_an_event(client: MemoryClient, clock: FakeClock) -> None:
    async with controller(client, clock):
        await client.create(recurring(trigger={"cronSchedule": {"cron": "every day at noon"}}))
        await settle(clock, 120)
        assert await workflows(client) == []
        condition = (await get_swf(client))["status"]["conditions"][0]
        assert condition["type"] == "Error" and condition["message"].startswith("invalid schedule:")
        assert len(await events(client, "InvalidSchedule")) == 1


async def test_a_one_off_schedule_runs_once_and_succeeds(client: MemoryClient, clock: FakeClock) -> None:
    async with controller(client, clock):
        await client.create(recurring(trigger={}))
        await settle(clock, 1)
        [only] = await workflows(client)
        assert (await get_swf(client))["status"]["conditions"][0]["type"] == "Running"
        await finish(client, only)
        await settle(clock, 600)
        assert len(await workflows(client)) == 1
        assert (await get_swf(client))["status"]["conditions"][0]["type"] == "Succeeded"
