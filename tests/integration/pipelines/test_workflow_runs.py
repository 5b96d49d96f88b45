"""Pipelines compiled by the real kfp SDK run on the sandbox to the states KFP documents."""

# No "from __future__ import annotations": kfp reads the component signatures at decoration time.

import json

import pytest
from kfp import dsl
from kfp.dsl import Dataset, Input, Metrics, Model, Output
from pipeline_runs import nodes_by_display, run

from sandbox.backends.inprocess.cluster import InProcessCluster


@pytest.fixture
async def cluster(tmp_path):
    async with InProcessCluster.start("default", home=tmp_path) as running:
        yield running


@dsl.component
def make_data(rows: int, data: Output[Dataset]) -> int:
    with open(data.path, "w") as f:
        for i in range(rows):
            f.write(f"{i},{i * 2}\n")
    data.metadata["rows"] = rows
    return rows


@dsl.component
def train(data: Input[Dataset], lr: float, model: Output[Model], metrics: Output[Metrics]) -> float:
    with open(data.path) as f:
        rows = [line.split(",") for line in f.read().splitlines()]
    score = round(1.0 - lr / len(rows), 4)
    with open(model.path, "w") as f:
        f.write(f"lr={lr}")
    metrics.log_metric("score", score)
    return score


@dsl.component
def best(scores: list) -> float:
    return max(scores)


@dsl.component
def say(text: str) -> str:
    print(text)
    return text


@dsl.pipeline(name="train-pipeline")
def train_pipeline(rows: int = 4):
    data = make_data(rows=rows)
    with dsl.ParallelFor([0.1, 0.2, 0.3], parallelism=2) as lr:
        trained = train(data=data.outputs["data"], lr=lr)
    top = best(scores=dsl.Collected(trained.outputs["Output"]))
    with dsl.If(data.outputs["Output"] > 3):
        say(text="many rows")
    with dsl.Else():
        say(text="few rows")
    top.set_caching_options(False)


async def test_artifacts_loops_collected_and_conditions(cluster):
    workflow = await run(cluster, train_pipeline, arguments={"rows": 5})
    assert workflow["status"]["phase"] == "Succeeded", json.dumps(workflow["status"], indent=1)[:3000]
    nodes = nodes_by_display(workflow)
    assert nodes["make-data"]["phase"] == "Succeeded"
    trains = [n for n in workflow["status"]["nodes"].values() if n["displayName"] == "train"]
    assert len(trains) == 3 and {n["phase"] for n in trains} == {"Succeeded"}
    best_out = json.loads(nodes["best"]["outputs"]["parameters"][0]["value"])
    assert best_out == pytest.approx(1.0 - 0.1 / 5)
    # dsl.If / dsl.Else: one branch ran, the other was skipped by its trigger condition.
    assert nodes["say"]["phase"] == "Succeeded" and "say-2" not in nodes
    branches = sorted((n["displayName"], n["phase"]) for n in workflow["status"]["nodes"].values()
                      if (n["displayName"].startswith("condition-") and n["type"] != "DAG")
                      or n["phase"] == "Skipped")
    assert branches == [("condition-5", "Skipped")], branches
    assert workflow["metadata"]["labels"]["workflows.argoproj.io/completed"] == "true"
    assert workflow["status"]["progress"].endswith("/6")


@dsl.component
def flaky(marker: str) -> str:
    import os
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise SystemExit("first attempt fails on purpose")
    return "ok"


@dsl.component
def always_fails():
    raise RuntimeError("broken on purpose")


@dsl.component
def report(status: dsl.PipelineTaskFinalStatus) -> str:
    print("the guarded tasks ended", status.state, status.error_message)
    return status.state


@dsl.pipeline(name="retries")
def retry_pipeline(marker: str):
    flaky(marker=marker).set_retry(num_retries=2, backoff_duration="0s")


@dsl.pipeline(name="exit-handler")
def exit_pipeline():
    final = report()
    with dsl.ExitHandler(final):
        always_fails().set_retry(num_retries=1, backoff_duration="0s")


async def test_a_failed_attempt_is_retried(cluster, tmp_path):
    workflow = await run(cluster, retry_pipeline, arguments={"marker": str(tmp_path / "marker")})
    assert workflow["status"]["phase"] == "Succeeded", workflow["status"].get("message")
    nodes = workflow["status"]["nodes"].values()
    retry = next(n for n in nodes if n["type"] == "Retry")
    attempts = [workflow["status"]["nodes"][c] for c in retry["children"]]
    assert [a["phase"] for a in attempts] == ["Failed", "Succeeded"]
    assert "exit code 1" in attempts[0]["message"]


async def test_the_exit_handler_runs_after_a_failure_and_sees_it(cluster):
    workflow = await run(cluster, exit_pipeline)
    assert workflow["status"]["phase"] == "Failed"
    nodes = nodes_by_display(workflow)
    retry = next(n for n in workflow["status"]["nodes"].values() if n["type"] == "Retry")
    assert retry["phase"] == "Failed" and "after 2 attempts" in retry["message"]
    assert "RuntimeError: broken on purpose" in retry["message"]  # the error, from the pod's log
    assert nodes["report"]["phase"] == "Succeeded"
    assert json.loads(nodes["report"]["outputs"]["parameters"][0]["value"]) == "FAILED"


@dsl.component
def add(a: int, b: int) -> int:
    return a + b


@dsl.pipeline(name="cached")
def cached_pipeline(x: int = 1):
    first = add(a=x, b=1)
    add(a=first.output, b=10).set_caching_options(False)


async def test_a_second_run_reuses_cached_outputs_unless_inputs_changed_or_caching_is_off(cluster):
    first = await run(cluster, cached_pipeline, arguments={"x": 1})
    assert first["status"]["phase"] == "Succeeded"
    second = await run(cluster, cached_pipeline, arguments={"x": 1})
    nodes = nodes_by_display(second)
    assert nodes["add"].get("cached") is True and nodes["add"]["message"].startswith("Cached")
    assert not nodes["add-2"].get("cached")  # caching off for this task
    assert json.loads(nodes["add-2"]["outputs"]["parameters"][0]["value"]) == 12
    third = await run(cluster, cached_pipeline, arguments={"x": 2})
    assert not nodes_by_display(third)["add"].get("cached")
    fourth = await run(cluster, cached_pipeline, arguments={"x": 1}, enable_caching=False)
    assert not nodes_by_display(fourth)["add"].get("cached")
    pods = await cluster.client.list("v1", "Pod", namespace="default")
    assert len(pods["items"]) == 2 + 1 + 2 + 2  # the cached task made no pod


@dsl.container_component
def echo(text: str, out: dsl.OutputPath(str)):
    return dsl.ContainerSpec(image="busybox:1.36", command=["sh", "-c", 'mkdir -p "$(dirname "$1")"; '
                                                            'echo -n "$0!" > "$1"'], args=[text, out])


@dsl.pipeline(name="containers")
def container_pipeline():
    shouted = echo(text="hello")
    say(text=shouted.output)


async def test_container_components_run_with_placeholders_and_hand_on_outputs(cluster):
    workflow = await run(cluster, container_pipeline)
    assert workflow["status"]["phase"] == "Succeeded", workflow["status"].get("message")
    nodes = nodes_by_display(workflow)
    assert json.loads(nodes["say"]["outputs"]["parameters"][0]["value"]) == "hello!"


@dsl.pipeline(name="metrics-cached")
def metrics_pipeline():
    data = make_data(rows=3)
    train(data=data.outputs["data"], lr=0.5)


async def test_a_task_with_a_metrics_output_is_cached_too(cluster):
    assert (await run(cluster, metrics_pipeline))["status"]["phase"] == "Succeeded"
    again = await run(cluster, metrics_pipeline)
    assert nodes_by_display(again)["train"].get("cached") is True  # Metrics live in metadata, no file


async def test_an_invalid_pipeline_fails_the_run_naming_the_problem(cluster):
    from pipeline_runs import compile_ir
    spec = compile_ir(cached_pipeline)
    spec["root"]["dag"]["tasks"]["add-2"]["inputs"]["parameters"]["a"]["taskOutputParameter"][
        "producerTask"] = "nope"
    workflow = await run(cluster, spec)
    assert workflow["status"]["phase"] == "Failed"
    assert "nope" in workflow["status"]["message"] and "add-2" in workflow["status"]["message"]
