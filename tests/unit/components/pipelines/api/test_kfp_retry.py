"""Retrying a failed run: the Workflow reset, checked by stepping the real engine over it."""

# No "from __future__ import annotations": kfp reads the component signatures at decoration time.

import copy
import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from kfp import compiler, dsl

from sandbox.components.pipelines.api.retry import reset_for_retry
from sandbox.components.pipelines.graph import PipelineGraph
from sandbox.components.pipelines.storage import ArtifactStore
from sandbox.components.pipelines.workflow.build import workflow_for_run
from sandbox.components.pipelines.workflow.engine import Engine

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DISPLAY = "pipelines.kubeflow.org/task_display_name"


@dsl.component
def add(a: int, b: int) -> int:
    return a + b


@dsl.component
def flaky() -> int:
    return 1


@dsl.pipeline(name="half-broken")
def half_broken():
    add(a=1, b=1)
    bad = flaky()
    add(a=bad.output, b=1)


@dsl.pipeline(name="retried-task")
def retried_task():
    flaky().set_retry(num_retries=1, backoff_duration="0s")


class Stepper:
    """A Workflow stepped by the engine with pods the test ends by hand."""

    def __init__(self, pipeline: Any, root: Path) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "p.yaml"
            compiler.Compiler().compile(pipeline, str(path))
            self.spec = yaml.safe_load(path.read_text())
        self.graph = PipelineGraph.from_ir(self.spec)
        self.workflow = workflow_for_run(self.spec, run_id="run-1")
        self.workflow["metadata"].update(name="wf", namespace="default", uid="uid-1")
        self.store = ArtifactStore(root / "artifacts")
        self.pods: dict[str, dict[str, Any]] = {}
        self.now = T0
        self.created: list[str] = []

    def step(self) -> None:
        actions = Engine(self.workflow, self.graph, spec=self.spec, pods=self.pods, store=self.store,
                         now=self.now).step()
        for pod in actions.create:
            pod.setdefault("status", {"phase": "Pending"})
            self.pods[pod["metadata"]["name"]] = pod
            self.created.append(pod["metadata"]["annotations"][DISPLAY])
        for name in actions.delete:
            self.pods.pop(name, None)

    def end(self, task: str, *, output: int | None = None, exit_code: int = 0) -> None:
        pod = [p for p in self.pods.values() if p["metadata"]["annotations"][DISPLAY] == task
               and p["status"]["phase"] == "Pending"][-1]
        if exit_code:
            pod["status"] = {"phase": "Failed", "containerStatuses": [{"name": "main", "state": {
                "terminated": {"exitCode": exit_code, "reason": "Error"}}}]}
            return
        command = pod["spec"]["containers"][0]["command"]
        executor_input = json.loads(command[command.index("--executor_input") + 1])
        out = Path(executor_input["outputs"]["outputFile"])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"parameterValues": {"Output": output}}))
        pod["status"] = {"phase": "Succeeded"}

    def phases(self) -> dict[str, str]:
        return {n["name"]: n["phase"] for n in self.workflow["status"]["nodes"].values()}


def test_a_retry_reruns_the_failed_task_and_its_omitted_dependents_and_keeps_what_succeeded(tmp_path):
    run = Stepper(half_broken, tmp_path)
    run.step()
    run.end("add", output=2)
    run.end("flaky", exit_code=1)
    run.step()
    assert run.workflow["status"]["phase"] == "Failed"
    assert run.phases() == {"wf": "Failed", "wf.add": "Succeeded", "wf.flaky": "Failed", "wf.add-2": "Omitted"}
    before = copy.deepcopy(run.workflow)

    reset = reset_for_retry(run.workflow)

    assert run.workflow == before, "the reset must not change its input"
    new = reset.workflow
    assert new["status"]["phase"] == "Running"
    assert "finishedAt" not in new["status"] and "message" not in new["status"]
    assert new["metadata"]["labels"]["workflows.argoproj.io/completed"] == "false"
    assert "workflows.argoproj.io/phase" not in new["metadata"]["labels"]
    names = {n["name"]: n for n in new["status"]["nodes"].values()}
    assert set(names) == {"wf", "wf.add"} and names["wf"]["phase"] == "Running"
    assert names["wf.add"]["outputs"] == {"parameters": [{"name": "Output", "value": "2"}]}
    assert reset.delete_pods == [p for p, pod in run.pods.items()
                                 if pod["metadata"]["annotations"][DISPLAY] == "flaky"]

    for pod in reset.delete_pods:
        del run.pods[pod]
    run.workflow = new
    run.created.clear()
    run.step()
    assert run.created == ["flaky"], "only the failed task starts again"
    run.end("flaky", output=5)
    run.step()
    assert run.created == ["flaky", "add-2"]
    run.end("add-2", output=6)
    run.step()
    assert run.workflow["status"]["phase"] == "Succeeded"
    assert run.workflow["metadata"]["labels"]["workflows.argoproj.io/completed"] == "true"


def test_a_task_with_a_retry_policy_gets_all_its_attempts_again(tmp_path):
    run = Stepper(retried_task, tmp_path)
    run.step()
    run.end("flaky", exit_code=1)
    run.step()
    run.now += timedelta(seconds=1)
    run.step()
    run.end("flaky", exit_code=1)
    run.step()
    assert run.workflow["status"]["phase"] == "Failed"
    assert sorted(run.phases()) == ["wf", "wf.flaky", "wf.flaky(0)", "wf.flaky(1)"]

    reset = reset_for_retry(run.workflow)

    assert sorted(n["name"] for n in reset.workflow["status"]["nodes"].values()) == ["wf"]
    assert len(reset.delete_pods) == 2
    for pod in reset.delete_pods:
        del run.pods[pod]
    run.workflow = reset.workflow
    run.step()
    assert "wf.flaky(0)" in run.phases() and run.phases()["wf.flaky"] == "Running"


def node(name: str, phase: str, node_type: str = "Pod", children: list[str] | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"id": name, "name": name, "displayName": name, "type": node_type,
                             "templateName": "comp-x", "phase": phase, "startedAt": "2026-01-01T00:00:00Z"}
    if phase not in ("Pending", "Running"):
        found["finishedAt"] = "2026-01-01T00:00:05Z"
    if children:
        found["children"] = children
    return found


def failed_workflow(*nodes: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "wf", "labels": {"workflows.argoproj.io/completed": "true",
                                                  "workflows.argoproj.io/phase": "Failed"}},
            "spec": {"entrypoint": "entrypoint", **spec},
            "status": {"phase": "Failed", "message": "child 'b' failed", "finishedAt": "2026-01-01T00:00:05Z",
                       "nodes": {n["id"]: n for n in nodes}}}


def test_a_succeeded_retry_keeps_its_failed_attempt_and_a_terminated_run_is_resumed():
    workflow = failed_workflow(
        node("wf", "Failed", "DAG", ["wf.a", "wf.b", "wf.grp"]),
        node("wf.a", "Succeeded", "Retry", ["wf.a(0)", "wf.a(1)"]),
        node("wf.a(0)", "Failed"), node("wf.a(1)", "Succeeded"),
        node("wf.b", "Failed"),
        node("wf.grp", "Failed", "DAG", ["wf.grp.c", "wf.grp.d"]),
        node("wf.grp.c", "Skipped", "Skipped"), node("wf.grp.d", "Error"),
        shutdown="Terminate")

    reset = reset_for_retry(workflow)

    nodes = reset.workflow["status"]["nodes"]
    assert sorted(nodes) == ["wf", "wf.a", "wf.a(0)", "wf.a(1)", "wf.grp", "wf.grp.c"]
    assert reset.removed == ["wf.b", "wf.grp.d"] and sorted(reset.reopened) == ["wf", "wf.grp"]
    assert nodes["wf.grp"]["children"] == ["wf.grp.c"] and nodes["wf.grp"]["phase"] == "Running"
    assert "finishedAt" not in nodes["wf.grp"]
    assert "shutdown" not in reset.workflow["spec"]
    assert len(reset.delete_pods) == 2


@pytest.mark.parametrize("phase", ["Succeeded", "Running", None])
def test_only_a_failed_workflow_can_be_reset(phase):
    workflow = failed_workflow(node("wf", "Succeeded", "DAG"))
    workflow["status"]["phase"] = phase
    with pytest.raises(ValueError, match="only a failed run can be retried"):
        reset_for_retry(workflow)
