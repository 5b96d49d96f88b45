"""``sandbox pipelines run|list|get|logs|terminate`` with an injected MemoryClient.

No workflow controller runs here: :class:`ScriptedClient` plays a run's
statuses (as the controller would write them) right after the Workflow is
created, so ``run --wait`` sees the run progress and end. The real
controller is exercised by tests/integration/pipelines/test_pipelines_sdk.py.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from sandbox.backends.inprocess.cluster import install_crds
from sandbox.cli.main import cli
from sandbox.cli.output import Printer
from sandbox.cli.pipelines_cmds import PlainProgress, RichProgress, choose_progress
from sandbox.cli.verbs import Connection
from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.components.pipelines.component import COMPONENT
from sandbox.components.pipelines.workflow.build import run_parameters
from sandbox.components.pipelines.workflow.nodes import new_node, node_id, pod_name
from sandbox.store import Store

WORKFLOW = ("argoproj.io/v1alpha1", "Workflow")

PIPELINE = """\
from sandbox.pipelines import dsl

@dsl.component(base_image="python:3.11")
def add(a: int, b: float) -> float:
    return a + b

@dsl.pipeline(name="adder")
def adder(a: int, b: float = 0.5):
    add(a=a, b=add(a=a, b=b).output)
"""

Script = Callable[[str], list[dict[str, Any]]]


def _node(wf: str, path: str, *, phase: str, display: str | None = None, node_type: str = "Pod",
          started: str = "2026-01-01T00:00:00Z", finished: str | None = None, message: str = "",
          children: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    name = f"{wf}.{path}" if path else wf
    node = new_node(wf, name, display_name=display or path.rsplit(".", 1)[-1] or wf, node_type=node_type,
                    template="entrypoint" if not path else f"comp-{display or path}", boundary=None,
                    now=started, phase=phase)  # type: ignore[arg-type]
    if finished:
        node["finishedAt"] = finished
    if message:
        node["message"] = message
    if children:
        node["children"] = [node_id(wf, f"{wf}.{c}") for c in children]
    node.update(extra)
    return node


def _nodes(*nodes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["id"]: n for n in nodes}


def succeeding(wf: str) -> list[dict[str, Any]]:
    """add runs and succeeds, add-2 is a cache hit."""
    root = {"children": ["add", "add-2"]}
    end = "2026-01-01T00:00:03Z"
    return [
        {"phase": "Running", "startedAt": "2026-01-01T00:00:00Z", "progress": "0/1",
         "nodes": _nodes(_node(wf, "", phase="Running", node_type="DAG", **root),
                         _node(wf, "add", phase="Pending"))},
        {"nodes": _nodes(_node(wf, "add", phase="Running"))},
        {"progress": "1/1", "nodes": _nodes(
            _node(wf, "add", phase="Succeeded", finished=end),
            _node(wf, "add-2", phase="Succeeded", finished=end, cached=True, display="add-2",
                  message="Cached: reused the outputs of execution 1 (run r0)"))},
        {"phase": "Succeeded", "finishedAt": end, "nodes": _nodes(
            _node(wf, "", phase="Succeeded", node_type="DAG", finished=end, **root))},
    ]


def failing(wf: str) -> list[dict[str, Any]]:
    """add fails; add-2 is omitted."""
    end = "2026-01-01T00:00:02Z"
    root = {"children": ["add", "add-2"]}
    return [
        {"phase": "Running", "startedAt": "2026-01-01T00:00:00Z", "progress": "0/1",
         "nodes": _nodes(_node(wf, "", phase="Running", node_type="DAG", **root),
                         _node(wf, "add", phase="Running"))},
        {"phase": "Failed", "finishedAt": end, "message": "child 'add' failed", "progress": "1/1",
         "nodes": _nodes(
             _node(wf, "", phase="Failed", node_type="DAG", finished=end, message="child 'add' failed",
                   **root),
             _node(wf, "add", phase="Failed", finished=end, message="Error (exit code 1): boom"),
             _node(wf, "add-2", phase="Omitted", node_type="Skipped", finished=end,
                   message="omitted: depends on a task that did not succeed"))},
    ]


class ScriptedClient(MemoryClient):
    """A MemoryClient that plays a script of statuses on every Workflow it creates."""

    script: Script | None = None

    async def create(self, obj: Any, **kwargs: Any) -> dict[str, Any]:
        created = await super().create(obj, **kwargs)
        if created.get("kind") == "Workflow" and self.script is not None:
            statuses = self.script(created["metadata"]["name"])
            asyncio.get_running_loop().create_task(self._play(created["metadata"]["name"], statuses))
        return created

    async def _play(self, name: str, statuses: list[dict[str, Any]]) -> None:
        for status in statuses:
            await asyncio.sleep(0)
            await self.patch(*WORKFLOW, name, {"status": status}, namespace="default")


class Logs:
    def __init__(self) -> None:
        self.texts: dict[str, str] = {}

    async def read(self, namespace: str, pod: dict[str, Any], *, container: str | None, previous: bool,
                   tail_lines: int | None, since_seconds: int | None, timestamps: bool) -> str:
        return self.texts.get(pod["metadata"]["name"], "")

    def last_pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        return None

    async def follow(self, namespace: str, pod: dict[str, Any], *, container: str | None,
                     tail_lines: int | None, since_seconds: int | None,
                     timestamps: bool) -> AsyncIterator[str]:
        yield self.texts.get(pod["metadata"]["name"], "")


class Sandbox:
    def __init__(self, clock: FakeClock) -> None:
        self.store = Store(clock=clock)
        install_crds(self.store, COMPONENT.crds())
        self.logs = Logs()
        self.client = ScriptedClient(self.store, logs=self.logs)

    def invoke(self, *args: str, script: Script | None = None) -> Result:
        self.client.script = script
        conn = Connection(client=lambda: self.client, now=self.store.clock.now)
        return CliRunner().invoke(cli, ["pipelines", *args], obj=conn, catch_exceptions=False)

    def call(self, coro: Any) -> Any:
        return asyncio.run(coro)

    def workflows(self) -> list[dict[str, Any]]:
        return self.call(self.client.list(*WORKFLOW, namespace="default"))["items"]

    def finished_run(self, name: str, script: Script) -> None:
        """A Workflow called ``name`` that went through ``script``."""
        self.client.script = None

        async def make() -> None:
            await self.client.create({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                                      "metadata": {"name": name, "labels": {"pipeline/runid": f"id-{name}"},
                                                   "annotations": {"pipelines.kubeflow.org/run_name": "adder"}},
                                      "spec": {"arguments": {"parameters": [{"name": "a", "value": "1"}]}}},
                                     namespace="default")
            for status in script(name):
                await self.client.patch(*WORKFLOW, name, {"status": status}, namespace="default")
        self.call(make())


@pytest.fixture
def sandbox(clock: FakeClock) -> Sandbox:
    return Sandbox(clock)


@pytest.fixture
def pipeline_file(tmp_path: Path) -> Path:
    path = tmp_path / "adder.py"
    path.write_text(PIPELINE)
    return path


def test_run_wait_follows_the_run_and_prints_the_final_tree(sandbox: Sandbox, pipeline_file: Path) -> None:
    result = sandbox.invoke("run", str(pipeline_file), "-p", "a=1", "--wait", script=succeeding)
    assert result.exit_code == 0, result.output
    [workflow] = sandbox.workflows()
    name = workflow["metadata"]["name"]
    tree = result.stdout.splitlines()
    assert tree[0].split() == ["TASK", "STATUS", "DURATION", "MESSAGE"]
    assert tree[1].split() == [name, "Succeeded", "3s"]
    assert tree[2].split() == ["├─", "add", "Succeeded", "3s"]
    assert tree[3].split() == ["└─", "add-2", "Succeeded", "3s", "cached"]
    progress = result.stderr.splitlines()
    assert progress[0] == f"run {name} of pipeline adder submitted"
    assert [line.split() for line in progress[1:-1]] == [
        ["run", name, "Running"], ["add", "Running"], ["add", "Succeeded", "3s"],
        ["add-2", "Succeeded", "3s", "(cached)"]]
    assert progress[-1] == f"run {name} Succeeded in 3s"


def test_run_wait_exits_1_when_the_run_fails_showing_why(sandbox: Sandbox, pipeline_file: Path) -> None:
    result = sandbox.invoke("run", str(pipeline_file), "-p", "a=1", "--wait", "--output", "plain",
                            script=failing)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert "Error (exit code 1): boom" in lines[2] and lines[2].split()[1:3] == ["add", "Failed"]
    assert "Omitted" in lines[3] and "omitted: depends on a task" in lines[3]
    assert "add                      Failed 2s Error (exit code 1): boom" in result.stderr
    assert result.stderr.splitlines()[-1].endswith("Failed in 2s: child 'add' failed")
    assert result.stderr.splitlines()[-1].startswith("error: run adder-")


def test_progress_lines_are_timestamped_under_ci(sandbox: Sandbox, pipeline_file: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    result = sandbox.invoke("run", str(pipeline_file), "-p", "a=1", "--wait", script=succeeding)
    assert result.exit_code == 0
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "
    assert all(re.match(stamp, line) for line in result.stderr.splitlines() if not line.startswith(" "))
    assert not re.match(stamp, result.stdout)  # the result itself stays clean


def test_run_without_wait_prints_the_run_name_and_how_to_follow_it(sandbox: Sandbox,
                                                                  pipeline_file: Path) -> None:
    result = sandbox.invoke("run", str(pipeline_file), "-p", "a=2", "-p", "b=1", "--name", "try-1",
                            "--no-cache", "--parallelism", "3")
    assert result.exit_code == 0, result.output
    [workflow] = sandbox.workflows()
    assert result.stdout == workflow["metadata"]["name"] + "\n"
    assert f"sandbox pipelines get {workflow['metadata']['name']}" in result.stderr
    assert run_parameters(workflow) == {"a": 2, "b": 1.0}
    annotations = workflow["metadata"]["annotations"]
    assert annotations["pipelines.kubeflow.org/run_name"] == "try-1"
    assert annotations["pipelines.kubeflow.org/enable-caching"] == "false"
    assert workflow["spec"]["parallelism"] == 3


def test_bad_parameter_values_are_refused_before_anything_is_created(sandbox: Sandbox,
                                                                    pipeline_file: Path) -> None:
    wrong = sandbox.invoke("run", str(pipeline_file), "-p", "a=two", "-p", "c=1")
    assert wrong.exit_code == 1
    assert wrong.stderr.startswith('error: invalid run arguments for pipeline "adder" (2 problems):')
    assert 'input "a": string value \'two\' is not a NUMBER_INTEGER' in wrong.stderr
    assert 'input "c": the pipeline has no such parameter' in wrong.stderr
    missing = sandbox.invoke("run", str(pipeline_file))
    assert missing.exit_code == 1 and 'input "a": required NUMBER_INTEGER parameter' in missing.stderr
    malformed = sandbox.invoke("run", str(pipeline_file), "-p", "oops")
    assert malformed.exit_code == 2 and "expected NAME=VALUE, got 'oops'" in malformed.stderr
    assert sandbox.workflows() == []


def test_a_file_that_does_not_load_is_an_error_naming_it(sandbox: Sandbox, tmp_path: Path) -> None:
    result = sandbox.invoke("run", str(tmp_path / "nope.py"))
    assert result.exit_code == 1 and result.stderr == f"error: {tmp_path / 'nope.py'}: no such file\n"
    (tmp_path / "two.py").write_text(PIPELINE + PIPELINE.replace('"adder"', '"other"').replace(
        "def adder", "def other").replace("def add(", "def add_other(").replace("add(a=", "add_other(a="))
    chosen = sandbox.invoke("run", str(tmp_path / "two.py"), "-p", "a=1")
    assert chosen.exit_code == 1 and "--function NAME" in chosen.stderr
    assert sandbox.invoke("run", str(tmp_path / "two.py"), "-p", "a=1", "--function", "other").exit_code == 0


def test_list_prints_runs_like_kubectl(sandbox: Sandbox, clock: FakeClock) -> None:
    assert sandbox.invoke("list").stderr == "No pipeline runs found in default namespace.\n"
    sandbox.finished_run("adder-aaaaa", succeeding)
    sandbox.call(clock.advance(60))
    sandbox.finished_run("adder-bbbbb", failing)
    sandbox.call(clock.advance(60))
    result = sandbox.invoke("list")
    assert result.exit_code == 0, result.output
    assert [line.split() for line in result.stdout.splitlines()] == [
        ["NAME", "STATUS", "TASKS", "STARTED", "DURATION"],
        ["adder-bbbbb", "Failed", "1/1", "2m", "ago", "2s"],
        ["adder-aaaaa", "Succeeded", "1/1", "2m", "ago", "3s"]]
    assert sandbox.invoke("list", "-A").stdout.splitlines()[0].split()[:2] == ["NAMESPACE", "NAME"]


def test_get_shows_the_run_and_its_task_tree(sandbox: Sandbox) -> None:
    sandbox.finished_run("adder-bbbbb", failing)
    result = sandbox.invoke("get", "adder-bbbbb")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    fields = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in lines[:lines.index("")]}
    assert lines[0].split() == ["Name:", "adder-bbbbb"]
    assert fields["Status"] == "Failed" and fields["Message"] == "child 'add' failed"
    assert fields["Arguments"] == "a=1" and fields["Duration"] == "2s" and fields["Task pods"] == "1/1 done"
    tree = lines[lines.index("") + 1:]
    assert tree[1].split()[:2] == ["adder-bbbbb", "Failed"]
    assert tree[2].split()[:4] == ["├─", "add", "Failed", "2s"] and tree[2].endswith("boom")
    by_run_name = sandbox.invoke("get", "adder")
    assert by_run_name.stdout == result.stdout
    missing = sandbox.invoke("get", "nope")
    assert missing.exit_code == 1
    assert missing.stderr == 'Error from server (NotFound): pipeline run "nope" not found in namespace default\n'


def test_logs_prints_a_tasks_log_by_name(sandbox: Sandbox) -> None:
    sandbox.finished_run("adder-aaaaa", succeeding)
    pod = pod_name("adder-aaaaa", "comp-add", "adder-aaaaa.add")
    sandbox.logs.texts[pod] = "adding 1 and 0.5\n"
    sandbox.call(sandbox.client.create({"apiVersion": "v1", "kind": "Pod",
                                        "metadata": {"name": pod, "namespace": "default"},
                                        "spec": {"containers": [{"name": "main", "image": "python:3.11"}]}}))
    result = sandbox.invoke("logs", "adder-aaaaa", "add")
    assert result.exit_code == 0 and result.stdout == "adding 1 and 0.5\n"
    cached = sandbox.invoke("logs", "adder-aaaaa", "add-2")
    assert cached.exit_code == 1 and cached.stderr.startswith('error: task "add-2" ran no pod')
    unknown = sandbox.invoke("logs", "adder-aaaaa", "sub")
    assert unknown.exit_code == 1
    assert unknown.stderr == 'error: run "adder-aaaaa" has no task "sub"; its tasks: add, add-2\n'


def test_terminate_stops_a_running_run(sandbox: Sandbox, pipeline_file: Path) -> None:
    name = sandbox.invoke("run", str(pipeline_file), "-p", "a=1").stdout.strip()
    result = sandbox.invoke("terminate", name)
    assert result.exit_code == 0 and result.stdout == f"run {name} terminating\n"
    [workflow] = sandbox.workflows()
    assert workflow["spec"]["shutdown"] == "Terminate"
    sandbox.finished_run("adder-aaaaa", succeeding)
    assert sandbox.invoke("terminate", "adder-aaaaa").stdout == "run adder-aaaaa already ended: Succeeded\n"


def test_plain_output_carries_no_terminal_escapes(sandbox: Sandbox, pipeline_file: Path) -> None:
    result = sandbox.invoke("run", str(pipeline_file), "-p", "a=1", "--wait", "--output", "plain",
                            script=succeeding)
    assert result.exit_code == 0
    assert "\x1b[" not in result.stdout + result.stderr


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_progress_is_rich_on_a_terminal_and_plain_elsewhere_or_under_ci(
        monkeypatch: pytest.MonkeyPatch) -> None:
    printer = Printer()
    assert isinstance(choose_progress("auto", printer=printer, now=_now, stream=io.StringIO()), PlainProgress)
    rich = choose_progress("auto", printer=printer, now=_now, stream=_Terminal())
    rich.close()
    assert isinstance(rich, RichProgress)
    monkeypatch.setenv("CI", "1")
    assert isinstance(choose_progress("auto", printer=printer, now=_now, stream=_Terminal()), PlainProgress)


def test_the_rich_progress_draws_a_live_tree_of_the_tasks() -> None:
    screen = _Terminal()
    progress = choose_progress("rich", printer=Printer(), now=_now, stream=screen)
    workflow = {"metadata": {"name": "adder-x"}, "status": {}}
    for status in succeeding("adder-x"):
        nodes = {**workflow["status"].get("nodes", {}), **status.pop("nodes", {})}
        workflow["status"] = {**workflow["status"], **status, "nodes": nodes}
        progress.update(workflow)
    progress.close()
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
    assert "adder-x" in drawn and "Succeeded" in drawn and "cached" in drawn
    assert "✓ add" in drawn and "└── ✓ add-2" in drawn


def _now() -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC)


def terminated(wf: str) -> list[dict[str, Any]]:
    stopped = "Stopped with strategy 'Terminate'"
    end = "2026-01-01T00:00:05Z"
    return [{"phase": "Failed", "startedAt": "2026-01-01T00:00:00Z", "finishedAt": end, "message": stopped,
             "progress": "1/1", "nodes": _nodes(
                 _node(wf, "", phase="Failed", node_type="DAG", finished=end, message=stopped,
                       children=["add"]),
                 _node(wf, "add", phase="Failed", finished=end, message=stopped))}]


def test_a_terminated_run_and_its_stopped_tasks_read_canceled(sandbox: Sandbox) -> None:
    sandbox.finished_run("adder-ccccc", terminated)
    lines = sandbox.invoke("get", "adder-ccccc").stdout.splitlines()
    assert "Status:    Canceled" in lines
    assert lines[-1].split()[:4] == ["└─", "add", "Canceled", "5s"]
    assert sandbox.invoke("list").stdout.splitlines()[1].split()[:2] == ["adder-ccccc", "Canceled"]
