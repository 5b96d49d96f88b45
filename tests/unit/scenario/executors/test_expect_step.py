"""The expect step: every assertion checked, failures carry the object's conditions and events."""

from __future__ import annotations

import pytest

from sandbox.scenario.executors import expect
from sandbox.scenario.results import StepFailed
from sandbox.scenario.steps import Expect


async def _job(client) -> dict:
    job = await client.create({
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi", "labels": {"app": "pi"}},
        "spec": {"template": {"spec": {"restartPolicy": "Never",
                                       "containers": [{"name": "c", "image": "python:3.11"}]}}}},
        namespace="demo")
    await client.patch_status("batch/v1", "Job", "pi", {"status": {"succeeded": 1, "conditions": [
        {"type": "Complete", "status": "True", "reason": "CompletionsReached",
         "message": "Reached expected number of succeeded pods"}]}}, namespace="demo")
    await client.create({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "pi.1"},
                         "involvedObject": {"kind": "Job", "name": "pi", "namespace": "demo",
                                            "uid": job["metadata"]["uid"]},
                         "reason": "Completed", "type": "Normal", "message": "Job completed"},
                        namespace="demo")
    return job


async def test_object_assertions_equals_matches_exists(client, make_ctx):
    ctx, _ = make_ctx()
    await _job(client)
    for assertion in ({"equals": 1}, {"equals": "1"}, {"matches": "^[0-9]+$"}, {"exists": True}):
        spec = Expect.model_validate({"object": {"kind": "job", "name": "pi",
                                                 "jsonpath": "{.status.succeeded}", **assertion}})
        await expect.execute(spec, ctx)
    spec = Expect.model_validate({"object": {"kind": "job", "name": "pi",
                                             "jsonpath": "{.status.failed}", "exists": False}})
    await expect.execute(spec, ctx)
    assert ctx.step.entries[0].text == "job/pi {.status.succeeded} = 1"


async def test_a_false_expectation_fails_with_conditions_and_events(client, make_ctx):
    ctx, _ = make_ctx()
    await _job(client)
    spec = Expect.model_validate({"object": {"kind": "Job", "name": "pi",
                                             "jsonpath": "{.status.succeeded}", "equals": 2}})
    with pytest.raises(StepFailed) as failed:
        await expect.execute(spec, ctx)
    assert failed.value.message == "job/pi {.status.succeeded}: expected '2', found '1'"
    assert "Complete=True (CompletionsReached): Reached expected number of succeeded pods" \
        in failed.value.details
    assert "Normal Completed: Job completed" in failed.value.details


async def test_every_assertion_is_checked_and_all_failures_reported(client, make_ctx):
    ctx, _ = make_ctx()
    await _job(client)
    spec = Expect.model_validate({
        "object": {"kind": "Job", "name": "missing", "jsonpath": "{.x}", "exists": True},
        "count": {"kind": "jobs", "selector": "app=pi", "equals": 2},
        "events": {"kind": "Job", "name": "pi", "reason": "Completed", "type": "Normal"},
    })
    with pytest.raises(StepFailed) as failed:
        await expect.execute(spec, ctx)
    assert "job/missing does not exist in namespace demo" in failed.value.message
    assert "expected 2 jobs matching app=pi, found 1 (pi)" in failed.value.message
    assert "event on job/pi: Normal Completed: Job completed" in ctx.step.entries[-1].text


async def test_events_match_reason_type_and_message_or_fail_saying_how_many_there_were(client, make_ctx):
    ctx, _ = make_ctx()
    await _job(client)
    ok = Expect.model_validate({"events": {"kind": "Job", "name": "pi", "message": "comp.eted"}})
    await expect.execute(ok, ctx)
    wrong = Expect.model_validate({"events": {"kind": "Job", "name": "pi", "type": "Warning"}})
    with pytest.raises(StepFailed, match=r"no event on job/pi with type Warning \(found 1 events\)"):
        await expect.execute(wrong, ctx)
