"""submit, wait, get/list, terminate and logs over a MemoryClient (no controller: statuses written by hand)."""

# No "from __future__ import annotations": the DSL reads component signatures at decoration time.

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from pipeline_fakes import Logs, RunBuilder, demo_run

from sandbox.api.errors import NotFound
from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.components.pipelines.workflow.build import pipeline_spec, run_parameters
from sandbox.components.pipelines.workflow.nodes import pod_name
from sandbox.pipelines import dsl
from sandbox.sdk import pipelines
from sandbox.sdk.pipelines import (
    AmbiguousTask,
    ArgumentsInvalid,
    NoTaskLog,
    PipelineSpecInvalid,
    RunTimeout,
    aio,
)

WORKFLOW = ("argoproj.io/v1alpha1", "Workflow")


@dsl.component(base_image="python:3.11")
def add(a: int, b: float) -> float:
    return a + b


@dsl.pipeline(name="adder")
def adder(a: int, b: float = 0.5):
    add(a=a, b=b)


async def workflows(client: MemoryClient, namespace: str = "default") -> list[dict[str, Any]]:
    return (await client.list(*WORKFLOW, namespace=namespace))["items"]


async def test_submit_creates_a_workflow_with_the_arguments_coerced_to_their_types(
        pipelines_client: MemoryClient) -> None:
    run = await aio.submit(pipelines_client, adder, arguments={"a": 2.0, "b": 1}, run_name="try-1",
                           enable_caching=False, parallelism=2)
    [workflow] = await workflows(pipelines_client)
    assert workflow["metadata"]["name"] == run.name and run.name.startswith("adder-")
    assert run_parameters(workflow) == {"a": 2, "b": 1.0}
    assert json.loads(next(p["value"] for p in workflow["spec"]["arguments"]["parameters"]
                           if p["name"] == "a")) == 2
    annotations = workflow["metadata"]["annotations"]
    assert annotations["pipelines.kubeflow.org/run_name"] == "try-1" == run.run_name
    assert annotations["pipelines.kubeflow.org/enable-caching"] == "false"
    assert workflow["spec"]["parallelism"] == 2
    assert pipeline_spec(workflow) == adder.pipeline_spec
    assert run.run_id == workflow["metadata"]["labels"]["pipeline/runid"] and run.phase == "Pending"


async def test_submit_takes_a_path_an_ir_dict_or_a_loaded_pipeline(pipelines_client: MemoryClient,
                                                                   tmp_path: Path) -> None:
    from sandbox.pipelines import compiler

    compiler.Compiler().compile(adder, str(tmp_path / "adder.yaml"))
    for source in (tmp_path / "adder.yaml", str(tmp_path / "adder.yaml"), adder.pipeline_spec,
                   pipelines.load_pipeline(tmp_path / "adder.yaml")):
        await aio.submit(pipelines_client, source, arguments={"a": 1})
    assert len(await workflows(pipelines_client)) == 4
    with pytest.raises(TypeError):
        await aio.submit(pipelines_client, 42)


async def test_bad_arguments_list_every_problem_and_create_nothing(pipelines_client: MemoryClient) -> None:
    with pytest.raises(ArgumentsInvalid) as raised:
        await aio.submit(pipelines_client, adder, arguments={"b": "high", "c": 1})
    assert sorted(raised.value.reasons()) == ["MissingInput", "TypeMismatch", "UnknownInput"]
    assert 'input "b"' in raised.value.message and 'input "c"' in raised.value.message
    assert await workflows(pipelines_client) == []


async def test_an_invalid_pipeline_is_refused_before_anything_is_created(
        pipelines_client: MemoryClient) -> None:
    spec = json.loads(json.dumps(adder.pipeline_spec))
    spec["root"]["dag"]["tasks"]["add"]["componentRef"]["name"] = "comp-nope"
    with pytest.raises(PipelineSpecInvalid, match="comp-nope"):
        await aio.submit(pipelines_client, spec, arguments={"a": 1})
    with pytest.raises(ValueError, match="parallelism"):
        await aio.submit(pipelines_client, adder, arguments={"a": 1}, parallelism=0)
    assert await workflows(pipelines_client) == []


async def _play(client: MemoryClient, name: str, statuses: list[dict[str, Any]]) -> None:
    for status in statuses:
        await asyncio.sleep(0)
        await client.patch(*WORKFLOW, name, {"status": status}, namespace="default")


async def test_wait_returns_the_final_state_and_shows_every_snapshot_on_the_way(
        pipelines_client: MemoryClient) -> None:
    run = await aio.submit(pipelines_client, adder, arguments={"a": 1})
    seen: list[str] = []
    player = asyncio.create_task(_play(pipelines_client, run.name, [
        {"phase": "Running", "progress": "0/1"}, {"progress": "1/1"},
        {"phase": "Succeeded", "startedAt": "2026-01-01T00:00:00Z", "finishedAt": "2026-01-01T00:00:04Z"}]))
    status = await run.wait(on_update=lambda wf: seen.append((wf.get("status") or {}).get("phase", "")))
    await player
    assert status.succeeded and status.state == "SUCCEEDED" and status.tasks_done == 1
    assert seen[0] == "" and seen[-1] == "Succeeded" and "Running" in seen
    assert run.phase == "Succeeded"


async def test_a_wait_that_times_out_says_where_the_run_is(pipelines_client: MemoryClient,
                                                            clock: FakeClock) -> None:
    slow = RunBuilder("demo-slow")
    slow.add("demo-slow", "make-data", phase="Running", finished=None)
    created = await pipelines_client.create(slow.workflow(progress="3/6"), namespace="default")
    waiting = asyncio.create_task(aio.Run(pipelines_client, created).wait(30))
    await clock.advance(31)
    with pytest.raises(RunTimeout) as raised:
        await waiting
    message = str(raised.value)
    assert "did not end within 30s" in message and "Running" in message and "3/6" in message
    assert "running: make-data" in message and "the run goes on" in message


async def test_get_run_finds_a_run_by_workflow_name_run_id_or_newest_run_name(
        pipelines_client: MemoryClient, clock: FakeClock) -> None:
    first = await aio.submit(pipelines_client, adder, arguments={"a": 1}, run_name="nightly")
    await clock.advance(5)
    second = await aio.submit(pipelines_client, adder, arguments={"a": 2}, run_name="nightly")
    assert (await aio.get_run(pipelines_client, first.name)).name == first.name
    assert (await aio.get_run(pipelines_client, first.run_id)).name == first.name
    assert (await aio.get_run(pipelines_client, "nightly")).name == second.name
    with pytest.raises(NotFound, match='pipeline run "weekly" not found in namespace default'):
        await aio.get_run(pipelines_client, "weekly")


async def test_list_runs_shows_pipeline_runs_newest_first(pipelines_client: MemoryClient,
                                                          clock: FakeClock) -> None:
    await pipelines_client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    older = await aio.submit(pipelines_client, adder, arguments={"a": 1})
    await clock.advance(2)
    newer = await aio.submit(pipelines_client, adder, arguments={"a": 1})
    elsewhere = await aio.submit(pipelines_client, adder, arguments={"a": 1}, namespace="team")
    await pipelines_client.create({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                                   "metadata": {"name": "plain-argo"}, "spec": {}}, namespace="default")
    assert [r.name for r in await aio.list_runs(pipelines_client)] == [newer.name, older.name]
    assert [r.name for r in await aio.list_runs(pipelines_client, namespace="team")] == [elsewhere.name]
    assert len(await aio.list_runs(pipelines_client, all_namespaces=True)) == 3


async def test_terminate_asks_the_controller_to_stop_a_running_run_only(
        pipelines_client: MemoryClient) -> None:
    run = await aio.submit(pipelines_client, adder, arguments={"a": 1})
    status = await aio.terminate(pipelines_client, run.name)
    assert not status.done
    assert (await pipelines_client.get(*WORKFLOW, run.name, namespace="default"))["spec"]["shutdown"] == \
        "Terminate"
    ended = await pipelines_client.create(demo_run("demo-done").workflow(
        phase="Succeeded", finished="2026-01-01T00:00:09Z"), namespace="default")
    assert (await aio.Run(pipelines_client, ended).terminate()).succeeded
    assert "shutdown" not in (await pipelines_client.get(*WORKFLOW, "demo-done", namespace="default"))["spec"]


@pytest.fixture
async def demo(pipelines_client: MemoryClient, logs: Logs) -> aio.Run:
    """The demo run, with pods (and logs) for its tasks that ran one — except the second loop pod."""
    name = "demo-x7k2p"
    created = await pipelines_client.create(demo_run(name).workflow(), namespace="default")
    for template, node, text in (("comp-make-data", f"{name}.make-data", "made 5 rows\n"),
                                 ("comp-train", f"{name}.for-loop-2(0).train", "lr=0.1\nscore=0.9\n"),
                                 ("comp-flaky", f"{name}.flaky(0)", "first attempt fails on purpose\n"),
                                 ("comp-flaky", f"{name}.flaky(1)", "ok\n")):
        pod = pod_name(name, template, node)
        logs.texts[pod] = text
        await pipelines_client.create({"apiVersion": "v1", "kind": "Pod",
                                       "metadata": {"name": pod, "namespace": "default"},
                                       "spec": {"containers": [{"name": "main", "image": "python:3.11"}]}})
    return aio.Run(pipelines_client, created)


async def test_logs_by_task_name_loop_iteration_and_attempt(demo: aio.Run) -> None:
    assert await demo.logs("make-data") == "made 5 rows\n"
    assert await demo.logs("train(0)") == "lr=0.1\nscore=0.9\n"
    assert await demo.logs("train(0)", tail_lines=1) == "score=0.9\n"
    assert await demo.logs("flaky") == "ok\n"
    assert await demo.logs("flaky", attempt=0) == "first attempt fails on purpose\n"


async def test_logs_refuse_ambiguous_names_listing_the_choices(demo: aio.Run) -> None:
    with pytest.raises(AmbiguousTask, match=r"choose one of: train\(0\), train\(1\)"):
        await demo.logs("train")


@pytest.mark.parametrize(("task", "options", "said"), [
    ("add", {}, "it was cached (Cached: reused the outputs of execution 3"),
    ("condition-3", {}, "did not run (Skipped: when 'x > 3' evaluated false)"),
    ("importer", {}, "ran no pod, so it has no log (imported minio://"),
    ("flaky", {"attempt": 2}, "has 2 attempts (0 to 1); there is no attempt 2"),
    ("train(1)", {}, "its pod demo-x7k2p-comp-train-"),
    ("for-loop-2", {}, "is a group of tasks (TaskGroup), not a task; its tasks: train(0), train(1)"),
])
async def test_tasks_without_a_log_say_why(demo: aio.Run, task: str, options: dict[str, Any],
                                           said: str) -> None:
    with pytest.raises(NoTaskLog) as raised:
        await demo.logs(task, **options)
    assert said in raised.value.message


def test_the_blocking_api_drives_the_same_implementation(pipelines_client: MemoryClient) -> None:
    run = pipelines.submit(pipelines_client, adder, arguments={"a": 1}, run_name="blocking")
    assert isinstance(run, pipelines.Run) and isinstance(run.aio, aio.Run)
    assert run.status().phase == "Pending" and run.tasks().children == ()
    assert [r.name for r in pipelines.list_runs(pipelines_client)] == [run.name]
    assert pipelines.get_run(pipelines_client, "blocking").name == run.name
    assert not pipelines.terminate(pipelines_client, run.name).done
    assert run.refresh().workflow["spec"]["shutdown"] == "Terminate"
    with pytest.raises(ArgumentsInvalid):
        pipelines.submit(pipelines_client, adder, arguments={})
    assert pipelines.Run.wait.__doc__ == aio.Run.wait.__doc__
