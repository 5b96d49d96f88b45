"""The wait step: until a condition/phase/JSONPath/count holds; on timeout, why not."""

from __future__ import annotations

import asyncio

import pytest

from sandbox.clock import FakeClock
from sandbox.scenario.executors import wait
from sandbox.scenario.results import StepFailed
from sandbox.scenario.steps import Wait


def deployment(name: str = "web") -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": "python:3.11"}]}}}}


def pod(name: str, *, phase: str = "Pending", app: str = "web") -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": app}},
            "spec": {"containers": [{"name": "c", "image": "python:3.11"}]},
            **({"status": {"phase": phase}} if phase else {})}


async def test_waits_until_the_condition_holds_and_shows_the_state_meanwhile(client, make_ctx):
    ctx, recorder = make_ctx()
    await client.create(deployment(), namespace="demo")
    spec = Wait.model_validate({"kind": "deploy", "name": "web", "condition": "Available"})
    task = asyncio.create_task(wait.execute(spec, ctx))
    await asyncio.sleep(0.05)
    assert not task.done()
    await client.patch_status("apps/v1", "Deployment", "web", {"status": {"conditions": [
        {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}]}}, namespace="demo")
    await asyncio.wait_for(task, 5)
    assert any("now Available: not reported" in t for t in recorder.progress_texts())
    assert ctx.step.entries[-1].text == "deployment/web condition met"


async def test_a_timeout_fails_with_the_conditions_and_recent_events(client, make_ctx, clock: FakeClock):
    ctx, _ = make_ctx()
    created = await client.create(deployment(), namespace="demo")
    await client.patch_status("apps/v1", "Deployment", "web", {"status": {"conditions": [
        {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable",
         "message": "Deployment does not have minimum availability."}]}}, namespace="demo")
    await client.create({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "web.1"},
                         "involvedObject": {"kind": "Deployment", "name": "web", "namespace": "demo",
                                            "uid": created["metadata"]["uid"]},
                         "reason": "ScalingReplicaSet", "message": "Scaled up replica set web-1 to 2",
                         "type": "Normal"}, namespace="demo")
    spec = Wait.model_validate({"kind": "Deployment", "name": "web", "condition": "Available",
                                "timeout": "5s"})
    task = asyncio.create_task(wait.execute(spec, ctx))
    await asyncio.sleep(0.05)
    await clock.advance(5)
    with pytest.raises(StepFailed) as failed:
        await asyncio.wait_for(task, 5)
    assert "timed out after 5s waiting for deployment/web: condition Available=True" in failed.value.message
    assert "last state: Available=False (MinimumReplicasUnavailable)" in failed.value.message
    assert "Available=False (MinimumReplicasUnavailable): Deployment does not have minimum" \
        in failed.value.details
    assert "Normal ScalingReplicaSet: Scaled up replica set web-1 to 2" in failed.value.details


async def test_a_missing_object_times_out_saying_it_does_not_exist(make_ctx, clock: FakeClock):
    ctx, _ = make_ctx()
    spec = Wait.model_validate({"kind": "pod", "name": "nope", "phase": "Running", "timeout": 1})
    task = asyncio.create_task(wait.execute(spec, ctx))
    await asyncio.sleep(0.05)
    await clock.advance(1)
    with pytest.raises(StepFailed) as failed:
        await task
    assert "last state: not found" in failed.value.message
    assert "Pod 'nope' does not exist in namespace demo" in failed.value.details


async def test_a_selector_waits_for_every_object_and_an_empty_set_is_not_done(client, make_ctx,
                                                                              clock: FakeClock):
    ctx, _ = make_ctx()
    spec = Wait.model_validate({"kind": "pods", "selector": "app=web", "phase": "Running", "timeout": 2})
    task = asyncio.create_task(wait.execute(spec, ctx))
    await asyncio.sleep(0.05)
    assert not task.done()  # no pods yet: not vacuously true
    await client.create(pod("b"), namespace="demo")
    await client.create(pod("a"), namespace="demo")
    await client.patch_status("v1", "Pod", "a", {"status": {"phase": "Running"}}, namespace="demo")
    await client.create(pod("other", app="db"), namespace="demo")
    await asyncio.sleep(0.05)
    assert not task.done()  # b is Pending
    await client.patch_status("v1", "Pod", "b", {"status": {"phase": "Running"}}, namespace="demo")
    await asyncio.wait_for(task, 5)


async def test_a_count_waits_for_exactly_that_many_matching(client, make_ctx):
    ctx, recorder = make_ctx()
    for name in ("a", "b", "c"):
        await client.create(pod(name), namespace="demo")
    spec = Wait.model_validate({"kind": "pods", "selector": "app=web", "count": 2, "phase": "Running"})
    task = asyncio.create_task(wait.execute(spec, ctx))
    await asyncio.sleep(0.05)
    await client.patch_status("v1", "Pod", "a", {"status": {"phase": "Running"}}, namespace="demo")
    await asyncio.sleep(0.05)
    assert not task.done()
    await client.patch_status("v1", "Pod", "c", {"status": {"phase": "Running"}}, namespace="demo")
    await asyncio.wait_for(task, 5)
    assert any("now 1 of 3 match" in t for t in recorder.progress_texts())


async def test_jsonpath_values_compare_as_text(client, make_ctx):
    ctx, _ = make_ctx()
    await client.create(deployment(), namespace="demo")
    await client.patch_status("apps/v1", "Deployment", "web", {"status": {"readyReplicas": 3}},
                              namespace="demo")
    spec = Wait.model_validate({"kind": "deployments.apps", "name": "web",
                                "jsonpath": "{.status.readyReplicas}", "value": "3"})
    await asyncio.wait_for(wait.execute(spec, ctx), 5)


async def test_an_unknown_kind_fails_naming_it(make_ctx):
    ctx, _ = make_ctx()
    spec = Wait.model_validate({"kind": "widgets", "name": "w", "phase": "Running"})
    with pytest.raises(StepFailed, match='resource type "widgets"'):
        await wait.execute(spec, ctx)
