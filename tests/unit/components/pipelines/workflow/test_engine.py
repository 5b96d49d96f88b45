"""The workflow engine without a cluster: pods are dicts whose phase the test sets."""

# No "from __future__ import annotations": kfp reads the component signatures at decoration time.

import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from kfp import compiler, dsl

from sandbox.components.pipelines.graph import PipelineGraph
from sandbox.components.pipelines.storage import ArtifactStore
from sandbox.components.pipelines.workflow.build import workflow_for_run
from sandbox.components.pipelines.workflow.engine import Engine

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def compile_ir(pipeline: Any) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.yaml"
        compiler.Compiler().compile(pipeline, str(path))
        return yaml.safe_load(path.read_text())


class Run:
    """A Workflow, its pods, and a clock — stepped by hand."""

    def __init__(self, pipeline: Any, tmp_path: Path, *, arguments: dict | None = None, **options: Any):
        self.spec = compile_ir(pipeline)
        self.graph = PipelineGraph.from_ir(self.spec)
        self.workflow = workflow_for_run(self.spec, run_id="run-1", parameters=arguments or {}, **options)
        self.workflow["metadata"].update(name="wf", namespace="default", uid="uid-1")
        self.store = ArtifactStore(tmp_path / "artifacts")
        self.pods: dict[str, dict[str, Any]] = {}
        self.now = T0

    def step(self):
        actions = Engine(self.workflow, self.graph, spec=self.spec, pods=self.pods, store=self.store,
                         now=self.now).step()
        for pod in actions.create:
            pod.setdefault("status", {"phase": "Pending"})
            self.pods.setdefault(pod["metadata"]["name"], pod)
        for name in actions.delete:
            self.pods.pop(name, None)
        return actions

    def pod_of(self, task: str) -> dict[str, Any]:
        found = [p for p in self.pods.values()
                 if p["metadata"]["annotations"]["pipelines.kubeflow.org/task_display_name"] == task]
        assert found, f"no pod for {task}: {sorted(self.pods)}"
        return found[-1]

    def finish(self, task: str, *, output: Any = None, exit_code: int = 0) -> None:
        pod = self.pod_of(task)
        if exit_code == 0:
            command = pod["spec"]["containers"][0]["command"]
            ei = json.loads(command[command.index("--executor_input") + 1])
            out = {"parameterValues": {"Output": output}} if output is not None else {}
            Path(ei["outputs"]["outputFile"]).parent.mkdir(parents=True, exist_ok=True)
            Path(ei["outputs"]["outputFile"]).write_text(json.dumps(out))
            pod["status"] = {"phase": "Succeeded"}
        else:
            pod["status"] = {"phase": "Failed", "containerStatuses": [{"name": "main", "state": {
                "terminated": {"exitCode": exit_code, "reason": "Error"}}}]}

    def phase(self, display: str) -> str:
        return next(n["phase"] for n in reversed(list(self.workflow["status"]["nodes"].values()))
                    if n["displayName"] == display)


@dsl.component
def add(a: int, b: int) -> int:
    return a + b


@dsl.component
def fail() -> int:
    raise SystemExit(1)


@dsl.pipeline(name="chain")
def chain(x: int = 1):
    first = add(a=x, b=1)
    second = add(a=first.output, b=1)
    add(a=second.output, b=1)


def test_a_chain_starts_each_task_when_its_upstream_succeeded(tmp_path):
    run = Run(chain, tmp_path, arguments={"x": 5})
    actions = run.step()
    assert [p["metadata"]["annotations"]["pipelines.kubeflow.org/task_display_name"] for p in actions.create] == ["add"]
    assert run.workflow["status"]["phase"] == "Running"
    run.finish("add", output=6)
    actions = run.step()
    command = actions.create[0]["spec"]["containers"][0]["command"]
    assert json.loads(command[command.index("--executor_input") + 1])["inputs"]["parameterValues"] == {"a": 6, "b": 1}
    run.finish("add-2", output=7)
    run.step()
    run.finish("add-3", output=8)
    run.step()
    assert run.workflow["status"]["phase"] == "Succeeded"
    assert run.workflow["status"]["progress"] == "3/3"
    assert run.workflow["metadata"]["labels"]["workflows.argoproj.io/completed"] == "true"


@dsl.pipeline(name="broken-chain")
def broken_chain():
    bad = fail()
    add(a=bad.output, b=1)


def test_a_failed_task_omits_its_dependents_and_fails_the_run(tmp_path):
    run = Run(broken_chain, tmp_path)
    run.step()
    run.finish("fail", exit_code=2)
    run.step()
    assert run.phase("fail") == "Failed" and run.phase("add") == "Omitted"
    assert run.workflow["status"]["phase"] == "Failed"
    assert run.workflow["status"]["message"] == "child 'fail' failed"
    fail_node = next(n for n in run.workflow["status"]["nodes"].values() if n["displayName"] == "fail")
    assert fail_node["message"] == "Error (exit code 2)"


@dsl.pipeline(name="fan")
def fan():
    for i in range(4):
        add(a=i, b=0)


def test_parallelism_caps_running_pods(tmp_path):
    run = Run(fan, tmp_path, parallelism=2)
    assert len(run.step().create) == 2
    assert len(run.step().create) == 0
    first = next(iter(run.pods.values()))["metadata"]["annotations"]["pipelines.kubeflow.org/task_display_name"]
    run.finish(first, output=0)
    assert len(run.step().create) == 1


def test_terminate_deletes_running_pods_and_fails_every_open_node(tmp_path):
    run = Run(fan, tmp_path)
    run.step()
    assert len(run.pods) == 4
    run.workflow["spec"]["shutdown"] = "Terminate"
    actions = run.step()
    assert len(actions.delete) == 4
    assert run.workflow["status"]["phase"] == "Failed"
    assert run.workflow["status"]["message"] == "Stopped with strategy 'Terminate'"


@dsl.pipeline(name="retrying")
def retrying():
    fail().set_retry(num_retries=2, backoff_duration="10s", backoff_factor=2)


def test_a_retry_waits_for_its_backoff_then_starts_the_next_attempt(tmp_path):
    run = Run(retrying, tmp_path)
    run.step()
    run.finish("fail", exit_code=1)
    actions = run.step()
    assert actions.create == [] and actions.requeue_after == 10
    run.now = T0 + timedelta(seconds=10)
    actions = run.step()
    assert len(actions.create) == 1
    assert actions.create[0]["metadata"]["annotations"]["workflows.argoproj.io/node-name"] == "wf.fail(1)"


def test_a_pod_deleted_while_running_is_an_error_and_a_pending_one_says_why(tmp_path):
    run = Run(fan, tmp_path)
    run.step()
    names = list(run.pods)
    run.pods[names[0]]["status"] = {"phase": "Pending", "containerStatuses": [{"name": "main", "state": {
        "waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}}]}
    run.pods[names[1]]["status"] = {"phase": "Running"}
    run.step()
    del run.pods[names[1]]
    run.step()
    messages = {n.get("message") for n in run.workflow["status"]["nodes"].values()}
    assert "ImagePullBackOff: Back-off pulling image" in messages
    assert f"pod {names[1]} deleted" in messages


def test_arguments_that_do_not_fit_fail_the_run_before_any_pod(tmp_path):
    run = Run(chain, tmp_path, arguments={"x": "not a number"})
    actions = run.step()
    assert actions.create == []
    assert run.workflow["status"]["phase"] == "Failed"
    assert run.workflow["status"]["message"].startswith("invalid arguments")


class AlwaysHit:
    """A recorder whose cache has every fingerprint."""

    def lookup(self, fingerprint):
        from sandbox.components.pipelines.workflow.engine import CachedTask
        return CachedTask(execution_id=7, run_id="earlier", parameters={"Output": 1}, artifacts={})

    def started(self, task):
        return None

    def cached(self, task, hit):
        return 8

    def finished(self, execution, **kwargs):
        return None


def test_a_retried_task_is_answered_by_the_cache_and_says_so_on_its_retry_node(tmp_path):
    run = Run(retrying, tmp_path)
    actions = Engine(run.workflow, run.graph, spec=run.spec, pods=run.pods, store=run.store, now=run.now,
                     recorder=AlwaysHit()).step()
    assert actions.create == []
    retry = next(n for n in run.workflow["status"]["nodes"].values() if n["type"] == "Retry")
    assert retry["phase"] == "Succeeded" and retry.get("cached") is True
    assert retry["message"].startswith("Cached: reused the outputs of execution 7")
    assert run.workflow["status"]["phase"] == "Succeeded"
