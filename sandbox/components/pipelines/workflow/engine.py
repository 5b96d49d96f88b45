"""One step of a pipeline run: from the Workflow's recorded state and its pods to what to do next.

The workflow controller is level-triggered: each reconcile hands this module
the Workflow (its IR, its ``status.nodes``), the parsed
:class:`~sandbox.components.pipelines.graph.PipelineGraph` and the pods it
owns, and gets back the new status plus :class:`Actions` — pods to create or
delete, when to look again. Nothing here talks to the cluster, so the whole
of KFP's execution semantics is tested without one.

Data flow of a step::

    root DAG node (the run's arguments, bound to the pipeline's inputs)
      └─ for each DAG instance still running, until nothing changes:
           blocked tasks (an upstream did not succeed)        → node Omitted
           ready tasks → resolve inputs (parent DAG inputs, sibling outputs,
                         constants, final statuses, selectors)
                         condition false                     → node Skipped
                         sub-DAG (condition, exit handler,
                           nested pipeline)                  → node DAG, recurse
                         ParallelFor                          → node TaskGroup, one DAG per item
                                                                (at most parallelismLimit at once)
                         importer                             → node Succeeded, artifact recorded
                         container: cache hit                 → node Succeeded, outputs reused
                                    else                      → node Pod (or Retry + attempt) + a pod
           running tasks → pods' phases → node phases; outputs read from the
                         executor output / parameter files; failed attempts
                         retried after their backoff
           all tasks ended → the DAG's phase and outputs (Collected lists for loops)
    root ended → the Workflow's phase, message, finishedAt, progress

Node names and ids are Argo's (:mod:`.nodes`), so a step recomputes where a
run is from ``status.nodes`` alone; values live in each node's ``inputs``
and ``outputs`` (parameters as JSON text, as Argo stores them; artifacts as
lists of KFP artifact dicts). Task output URIs are salted with the node id
(:class:`~sandbox.components.pipelines.storage.ArtifactStore`), so a pod
created twice (a controller restart between creating it and seeing it)
writes to the same place.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sandbox.components.pipelines.graph import (
    ArgumentsInvalid,
    Dag,
    ExpressionError,
    InputSource,
    LoopError,
    PipelineGraph,
    Task,
    TaskKind,
    loop_items,
    select,
)
from sandbox.components.pipelines.graph.types import ParameterTypeError, coerce_parameter
from sandbox.components.pipelines.storage import ArtifactStore, TaskOutputs
from sandbox.components.pipelines.workflow.build import (
    CACHING_ANNOTATION,
    PIPELINE_ROOT_ANNOTATION,
    RUN_ID_LABEL,
    run_parameters,
)
from sandbox.components.pipelines.workflow.nodes import DONE, FAILED, new_node, node_id, pod_name
from sandbox.components.pipelines.workflow.placeholders import PlaceholderError
from sandbox.components.pipelines.workflow.pods import KFP_COMMAND_ANNOTATION, task_container

__all__ = ["Actions", "CachedTask", "Engine", "Recorder", "TaskRecord", "waiting_message"]

#: How many passes one step makes at most (each settles tasks that end at once).
MAX_PASSES = 200
NODE_LABEL = "workflows.argoproj.io/workflow"
COMPLETED_LABEL = "workflows.argoproj.io/completed"
NODE_NAME_ANNOTATION = "workflows.argoproj.io/node-name"
NODE_ID_ANNOTATION = "workflows.argoproj.io/node-id"
DISPLAY_NAME_ANNOTATION = "pipelines.kubeflow.org/task_display_name"
_TERMINATED = "Stopped with strategy 'Terminate'"


@dataclass
class Actions:
    """What the controller must do after a step."""

    create: list[dict[str, Any]] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    #: Seconds until a retry's backoff ends (None: nothing timed is pending).
    requeue_after: float | None = None
    #: (type, reason, message) Events for the Workflow.
    events: list[tuple[str, str, str]] = field(default_factory=list)

    def wake_in(self, seconds: float) -> None:
        seconds = max(seconds, 0.0)
        self.requeue_after = seconds if self.requeue_after is None else min(self.requeue_after, seconds)


@dataclass(frozen=True)
class TaskRecord:
    """One container task as the metadata recorder sees it."""

    task_name: str
    display_name: str
    node_id: str
    pod_name: str
    image: str
    parameters: Mapping[str, Any]
    artifacts: Mapping[str, list[dict[str, Any]]]
    fingerprint: str


@dataclass(frozen=True)
class CachedTask:
    """A previous execution whose outputs a task may reuse."""

    execution_id: int | str
    run_id: str
    parameters: Mapping[str, Any]
    artifacts: Mapping[str, list[dict[str, Any]]]
    #: The recorder's own record of the hit (opaque to the engine).
    handle: Any = None


class Recorder(Protocol):
    """Where executions are recorded (ML Metadata) and the cache is looked up."""

    def lookup(self, fingerprint: str) -> CachedTask | None: ...

    def started(self, task: TaskRecord) -> int | str | None: ...

    def cached(self, task: TaskRecord, hit: CachedTask) -> int | str | None: ...

    def finished(self, execution: int | str | None, *, succeeded: bool,
                 parameters: Mapping[str, Any], artifacts: Mapping[str, list[dict[str, Any]]]) -> None: ...


class NoRecorder:
    """Records nothing, caches nothing."""

    def lookup(self, fingerprint: str) -> CachedTask | None:
        return None

    def started(self, task: TaskRecord) -> None:
        return None

    def cached(self, task: TaskRecord, hit: CachedTask) -> None:
        return None

    def finished(self, execution: int | str | None, *, succeeded: bool,
                 parameters: Mapping[str, Any], artifacts: Mapping[str, list[dict[str, Any]]]) -> None:
        return None


class _TaskFailure(Exception):
    """A task that cannot start (an input that cannot be resolved, a bad condition)."""


# Values in nodes -------------------------------------------------------------------------


def _encode(parameters: Mapping[str, Any], artifacts: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    section: dict[str, Any] = {}
    if parameters:
        section["parameters"] = [{"name": k, "value": json.dumps(v)} for k, v in parameters.items()]
    if artifacts:
        section["artifacts"] = [{"name": k, "artifacts": list(v)} for k, v in artifacts.items()]
    return section


def _params(section: Mapping[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for entry in (section or {}).get("parameters") or []:
        try:
            out[entry["name"]] = json.loads(entry["value"])
        except (KeyError, TypeError, ValueError):
            out[entry.get("name", "")] = entry.get("value")
    return out


def _arts(section: Mapping[str, Any] | None) -> dict[str, list[dict[str, Any]]]:
    return {e["name"]: list(e.get("artifacts") or []) for e in (section or {}).get("artifacts") or []}


def _fingerprint(component: Any, executor: Any, parameters: Mapping[str, Any],
                 artifacts: Mapping[str, list[dict[str, Any]]], cache_key: str) -> str:
    if cache_key:
        return hashlib.sha256(f"key:{cache_key}".encode()).hexdigest()
    basis = {"component": component, "executor": executor, "parameters": parameters,
             "artifacts": {k: [a.get("uri") for a in v] for k, v in artifacts.items()}}
    return hashlib.sha256(json.dumps(basis, sort_keys=True, default=str).encode()).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _seconds(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").timestamp()


class Engine:
    """One step of one Workflow (see the module docstring)."""

    def __init__(self, workflow: dict[str, Any], graph: PipelineGraph, *, spec: Mapping[str, Any],
                 pods: Mapping[str, Mapping[str, Any]], store: ArtifactStore, now: datetime,
                 recorder: Recorder | None = None, failure_logs: Mapping[str, str] | None = None) -> None:
        self.workflow = workflow
        self.graph = graph
        self.spec = spec
        self.pods = pods
        self.store = store
        self.now = now
        self.recorder: Recorder = recorder or NoRecorder()
        #: Pod name → the last log line of a failed pod (the error a learner needs to see).
        self.failure_logs = failure_logs or {}
        meta = workflow["metadata"]
        self.name: str = meta["name"]
        self.namespace: str = meta.get("namespace", "default")
        self.uid: str = meta.get("uid", "")
        self.run_id: str = (meta.get("labels") or {}).get(RUN_ID_LABEL) or self.uid or self.name
        annotations = meta.get("annotations") or {}
        self.pipeline_root = store.pipeline_root(annotations.get(PIPELINE_ROOT_ANNOTATION) or None)
        self.caching = annotations.get(CACHING_ANNOTATION, "true") != "false"
        self.status: dict[str, Any] = workflow.setdefault("status", {})
        self.nodes: dict[str, dict[str, Any]] = self.status.setdefault("nodes", {})
        self.actions = Actions()
        wf_spec = workflow.get("spec") or {}
        self.parallelism: int = int(wf_spec.get("parallelism") or 0)
        self.service_account: str | None = wf_spec.get("serviceAccountName")
        self._running_pods = sum(1 for n in self.nodes.values()
                                 if n.get("type") == "Pod" and n.get("phase") in ("Pending", "Running"))

    # The step ------------------------------------------------------------------------------

    def step(self) -> Actions:
        if self.status.get("phase") in ("Succeeded", "Failed", "Error"):
            return self.actions
        if (self.workflow.get("spec") or {}).get("shutdown"):
            self._terminate()
            return self.actions
        root = self.nodes.get(self.name)
        if root is None:
            try:
                arguments = self.graph.bind_arguments(run_parameters(self.workflow))
            except ArgumentsInvalid as err:
                self._finish_workflow("Failed", f"invalid arguments: {err}")
                return self.actions
            root = self._add_node(self.name, display=self.name, node_type="DAG", template="entrypoint",
                                  boundary=None, phase="Running")
            root.update(inputs=_encode(arguments, {}))
            self.status.update(phase="Running", startedAt=_iso(self.now))
            self.actions.events.append(("Normal", "WorkflowRunning", "Workflow Running"))
        for _ in range(MAX_PASSES):
            if not self._advance_dag(root, self.graph.root_dag):
                break
        if root["phase"] in DONE:
            phase = "Succeeded" if root["phase"] == "Succeeded" else "Failed"
            self._finish_workflow(phase, root.get("message", ""))
        self._progress()
        return self.actions

    def _finish_workflow(self, phase: str, message: str) -> None:
        self.status["phase"] = phase
        self.status.setdefault("startedAt", _iso(self.now))
        self.status["finishedAt"] = _iso(self.now)
        if message:
            self.status["message"] = message
        labels = self.workflow["metadata"].setdefault("labels", {})
        labels[COMPLETED_LABEL] = "true"
        labels["workflows.argoproj.io/phase"] = phase
        if phase == "Succeeded":
            self.actions.events.append(("Normal", "WorkflowSucceeded", "Workflow completed"))
        else:
            self.actions.events.append(("Warning", "WorkflowFailed", message or "Workflow failed"))

    def _progress(self) -> None:
        pods = [n for n in self.nodes.values() if n.get("type") == "Pod"]
        done = sum(1 for n in pods if n.get("phase") in DONE)
        self.status["progress"] = f"{done}/{len(pods)}"

    def _terminate(self) -> None:
        for node in self.nodes.values():
            if node.get("phase") in DONE:
                continue
            if node.get("type") == "Pod":
                self.actions.delete.append(self._pod_of(node))
            self._end(node, "Failed", _TERMINATED)
        self._finish_workflow("Failed", _TERMINATED)
        self._progress()

    # Nodes ----------------------------------------------------------------------------------

    def _add_node(self, name: str, *, display: str, node_type: str, template: str,
                  boundary: str | None, phase: str = "Pending", parent: dict[str, Any] | None = None
                  ) -> dict[str, Any]:
        node = new_node(self.name, name, display_name=display, node_type=node_type, template=template,
                        boundary=boundary, now=_iso(self.now), phase=phase)  # type: ignore[arg-type]
        self.nodes[node["id"]] = node
        if parent is not None:
            children = parent.setdefault("children", [])
            if node["id"] not in children:
                children.append(node["id"])
        return node

    def _end(self, node: dict[str, Any], phase: str, message: str = "") -> None:
        node["phase"] = phase
        node["finishedAt"] = _iso(self.now)
        if message:
            node["message"] = message

    def _child(self, parent: dict[str, Any], task: str) -> dict[str, Any] | None:
        return self.nodes.get(node_id(self.name, f"{parent['name']}.{task}"))

    # DAGs -----------------------------------------------------------------------------------

    def _advance_dag(self, node: dict[str, Any], dag: Dag) -> bool:
        """Move one DAG instance forward; True when anything changed."""
        if node["phase"] in DONE:
            return False
        changed = False
        if node["phase"] == "Pending":
            node["phase"] = "Running"
            changed = True
        children = {t: self._child(node, t) for t in dag.tasks}
        phases = {t: n["phase"] for t, n in children.items() if n and n["phase"] in DONE}
        started = {t for t, n in children.items() if n and n["phase"] not in DONE}
        for name in dag.blocked_tasks(phases, started=started):
            task = dag.task(name)
            omitted = self._add_node(f"{node['name']}.{name}", display=task.display_name,
                                     node_type="Skipped", template=task.component_ref,
                                     boundary=node["id"], phase="Omitted", parent=node)
            self._end(omitted, "Omitted", "omitted: depends on a task that did not succeed")
            phases[name] = "Omitted"
            changed = True
        for name in dag.ready_tasks(phases, started=started):
            if self._start_task(node, dag, dag.task(name)):
                changed = True
        for name in started:
            child = children[name]
            assert child is not None
            if self._progress_task(node, dag, dag.task(name), child):
                changed = True
        children = {t: self._child(node, t) for t in dag.tasks}
        phases = {t: n["phase"] for t, n in children.items() if n and n["phase"] in DONE}
        if dag.is_complete(phases):
            failed = [t for t in dag.topological_order() if phases[t] in (*FAILED, "Omitted")]
            if failed:
                first = next((t for t in failed if phases[t] in FAILED), failed[0])
                self._end(node, "Failed", f"child '{first}' failed")
            else:
                try:
                    parameters, artifacts = self._dag_outputs(node, dag)
                except _TaskFailure as err:
                    self._end(node, "Failed", str(err))
                    return True
                node["outputs"] = _encode(parameters, artifacts)
                self._end(node, "Succeeded")
            changed = True
        return changed

    def _dag_outputs(self, node: dict[str, Any], dag: Dag
                     ) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
        parameters: dict[str, Any] = {}
        artifacts: dict[str, list[dict[str, Any]]] = {}
        for name, output in dag.component.dag_outputs.items():
            for producer, key in output.selectors:
                child = self._child(node, producer)
                if child is None or child["phase"] != "Succeeded":
                    continue
                if output.is_artifact:
                    found = _arts(child.get("outputs")).get(key)
                    if found is not None:
                        artifacts.setdefault(name, []).extend(found)
                        if output.oneof:
                            break
                else:
                    values = _params(child.get("outputs"))
                    if key in values:
                        parameters[name] = values[key]
                        break
        return parameters, artifacts

    # Starting a task ---------------------------------------------------------------------------

    def _start_task(self, parent: dict[str, Any], dag: Dag, task: Task) -> bool:
        name = f"{parent['name']}.{task.name}"
        try:
            parameters, artifacts = self._resolve_inputs(parent, dag, task)
            if task.trigger.condition and not dag.should_run(task.name, parameters):
                skipped = self._add_node(name, display=task.display_name, node_type="Skipped",
                                         template=task.component_ref, boundary=parent["id"],
                                         phase="Skipped", parent=parent)
                self._end(skipped, "Skipped", f"when '{task.trigger.condition}' evaluated false")
                return True
        except (_TaskFailure, ExpressionError) as err:
            failed = self._add_node(name, display=task.display_name, node_type="Pod",
                                    template=task.component_ref, boundary=parent["id"], parent=parent)
            self._end(failed, "Error", str(err))
            return True
        if task.kind is TaskKind.DAG:
            node_type = "TaskGroup" if task.is_loop else "DAG"
            group = self._add_node(name, display=task.display_name, node_type=node_type,
                                   template=task.component_ref, boundary=parent["id"], parent=parent,
                                   phase="Running")
            group["inputs"] = _encode(parameters, artifacts)
            if task.is_loop:
                try:
                    items = loop_items(task, parameters=parameters, artifacts=artifacts)
                except LoopError as err:
                    self._end(group, "Error", str(err))
                    return True
                group["items"] = items
            return True
        executor = self.graph.executor(task)
        if executor is not None and executor.kind is TaskKind.IMPORTER:
            return self._import(parent, task, parameters)
        if executor is None or executor.kind is not TaskKind.CONTAINER:
            failed = self._add_node(name, display=task.display_name, node_type="Pod",
                                    template=task.component_ref, boundary=parent["id"], parent=parent)
            self._end(failed, "Error", f"task '{task.name}' has no container executor")
            return True
        if self.parallelism and self._running_pods >= self.parallelism:
            return False  # spec.parallelism: wait for a running pod to end
        if task.retry is not None and task.retry.max_retry_count > 0:
            retry = self._add_node(name, display=task.display_name, node_type="Retry",
                                   template=task.component_ref, boundary=parent["id"], parent=parent,
                                   phase="Running")
            retry["inputs"] = _encode(parameters, artifacts)
            self._launch(f"{name}(0)", task, parameters, artifacts, parent=retry, boundary=parent["id"])
            return True
        self._launch(name, task, parameters, artifacts, parent=parent, boundary=parent["id"])
        return True

    def _resolve_inputs(self, parent: dict[str, Any], dag: Dag, task: Task
                        ) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
        scope_params = _params(parent.get("inputs"))
        scope_arts = _arts(parent.get("inputs"))
        parameters: dict[str, Any] = {}
        for name, item in task.parameters.items():
            if item.source is InputSource.COMPONENT_INPUT_PARAMETER:
                if item.component_input not in scope_params:
                    continue  # not given: the component's default applies
                value = scope_params[item.component_input]
            elif item.source is InputSource.TASK_OUTPUT_PARAMETER:
                producer = self._child(parent, item.producer_task)
                values = _params((producer or {}).get("outputs"))
                if item.output_key not in values:
                    if producer is not None and producer["phase"] == "Skipped":
                        continue
                    raise _TaskFailure(f"input '{name}' of task '{task.name}': task "
                                       f"'{item.producer_task}' produced no output '{item.output_key}'")
                value = values[item.output_key]
            elif item.source is InputSource.RUNTIME_VALUE:
                value = item.constant
            elif item.source is InputSource.TASK_FINAL_STATUS:
                value = self._final_status(parent, item.producer_task)
            else:
                continue
            if item.selector:
                try:
                    value = select(item.selector, value)
                except ExpressionError as err:
                    raise _TaskFailure(f"input '{name}' of task '{task.name}': {err}") from None
            parameters[name] = value
        artifacts: dict[str, list[dict[str, Any]]] = {}
        for name, item in task.artifacts.items():
            if item.source is InputSource.COMPONENT_INPUT_ARTIFACT:
                if item.component_input in scope_arts:
                    artifacts[name] = scope_arts[item.component_input]
            elif item.source is InputSource.TASK_OUTPUT_ARTIFACT:
                producer = self._child(parent, item.producer_task)
                found = _arts((producer or {}).get("outputs")).get(item.output_key)
                if found is None:
                    if producer is not None and producer["phase"] == "Skipped":
                        continue
                    raise _TaskFailure(f"input '{name}' of task '{task.name}': task "
                                       f"'{item.producer_task}' produced no artifact '{item.output_key}'")
                artifacts[name] = found
        return dag.typed_parameters(task.name, parameters), artifacts

    def _final_status(self, parent: dict[str, Any], producer: str) -> dict[str, Any]:
        node = self._child(parent, producer) or {}
        phase = node.get("phase", "")
        state = {"Succeeded": "SUCCEEDED", "Skipped": "SKIPPED", "Omitted": "SKIPPED"}.get(phase, "FAILED")
        status: dict[str, Any] = {"state": state, "pipelineJobResourceName": self.name,
                                  "pipelineTaskName": producer, "error": {}}
        if state == "FAILED":
            status["error"] = {"code": 1, "message": node.get("message") or f"task '{producer}' failed"}
        return status

    def _import(self, parent: dict[str, Any], task: Task, parameters: Mapping[str, Any]) -> bool:
        executor = self.graph.executor(task)
        assert executor is not None and executor.importer is not None
        importer = executor.importer
        uri = importer.artifact_uri or parameters.get(importer.uri_parameter) or parameters.get("uri")
        node = self._add_node(f"{parent['name']}.{task.name}", display=task.display_name, node_type="Pod",
                              template=task.component_ref, boundary=parent["id"], parent=parent)
        if not uri:
            self._end(node, "Error", f"importer '{task.name}' has no artifact URI")
            return True
        artifact = {"name": "artifact", "uri": str(uri), "metadata": dict(importer.metadata),
                    "type": {"schemaTitle": importer.schema_title,
                             "schemaVersion": importer.schema_version or "0.0.1"}}
        node["outputs"] = _encode({}, {"artifact": [artifact]})
        self._end(node, "Succeeded", f"imported {uri}")
        return True

    # Container tasks ------------------------------------------------------------------------------

    def _task_outputs(self, node_id_: str, task: Task) -> TaskOutputs:
        return self.store.task_outputs(self.graph.name, self.run_id, task.display_name.replace("/", "-")
                                       or task.name, execution_id=node_id_, pipeline_root=self.pipeline_root)

    def _executor_input(self, task: Task, parameters: Mapping[str, Any],
                        artifacts: Mapping[str, list[dict[str, Any]]], outputs: TaskOutputs) -> dict[str, Any]:
        component = self.graph.component(task.component_ref)
        values = dict(parameters)
        for name, spec in component.inputs.parameters.items():
            if name not in values and spec.has_default:
                values[name] = spec.default
        ei: dict[str, Any] = {"inputs": {}, "outputs": {"outputFile": str(outputs.executor_output_path)}}
        declared = {k: v for k, v in values.items() if k in component.inputs.parameters}
        if declared:
            ei["inputs"]["parameterValues"] = declared
        if artifacts:
            ei["inputs"]["artifacts"] = {k: {"artifacts": v} for k, v in artifacts.items()}
        if component.outputs.parameters:
            ei["outputs"]["parameters"] = {n: {"outputFile": str(outputs.parameter_path(n))}
                                           for n in component.outputs.parameters}
        if component.outputs.artifacts:
            ei["outputs"]["artifacts"] = {
                n: {"artifacts": [{"name": n, "uri": outputs.artifact_uri(n), "metadata": {},
                                   "type": {"schemaTitle": a.schema_title,
                                            "schemaVersion": a.schema_version or "0.0.1"}}]}
                for n, a in component.outputs.artifacts.items()}
        return ei

    def _pod_of(self, node: Mapping[str, Any]) -> str:
        return pod_name(self.name, str(node.get("templateName", "task")), str(node["name"]))

    def _launch(self, name: str, task: Task, parameters: Mapping[str, Any],
                artifacts: Mapping[str, list[dict[str, Any]]], *, parent: dict[str, Any],
                boundary: str) -> None:
        node = self._add_node(name, display=task.display_name, node_type="Pod",
                              template=task.component_ref, boundary=boundary, parent=parent)
        node["inputs"] = _encode(parameters, artifacts)
        executor = self.graph.executor(task)
        assert executor is not None
        fingerprint = _fingerprint((self.spec.get("components") or {}).get(task.component_ref),
                                   executor.raw, parameters, artifacts, task.caching.cache_key)
        node["fingerprint"] = fingerprint
        record = self._record(node, task, parameters, artifacts)
        # The cache answers a task's first attempt; a retry after a failure runs for real.
        first_attempt = parent.get("type") != "Retry" or not parent.get("children", [])[:-1]
        if self.caching and task.caching.enable_cache and first_attempt:
            hit = self.recorder.lookup(fingerprint)
            if hit is not None:
                node["outputs"] = _encode(hit.parameters, hit.artifacts)
                node["executionID"] = self.recorder.cached(record, hit)
                self._end(node, "Succeeded", f"Cached: reused the outputs of execution "
                                             f"{hit.execution_id} (run {hit.run_id})")
                node["cached"] = True
                return
        if self._create_pod(node, task, parameters, artifacts):
            node["executionID"] = self.recorder.started(record)
            self._running_pods += 1

    def _record(self, node: Mapping[str, Any], task: Task, parameters: Mapping[str, Any],
                artifacts: Mapping[str, list[dict[str, Any]]]) -> TaskRecord:
        executor = self.graph.executor(task)
        image = executor.container.image if executor and executor.container else ""
        return TaskRecord(task_name=task.name, display_name=task.display_name, node_id=node["id"],
                          pod_name=self._pod_of(node), image=image, parameters=dict(parameters),
                          artifacts={k: list(v) for k, v in artifacts.items()},
                          fingerprint=str(node.get("fingerprint", "")))

    def _create_pod(self, node: dict[str, Any], task: Task, parameters: Mapping[str, Any],
                    artifacts: Mapping[str, list[dict[str, Any]]]) -> bool:
        executor = self.graph.executor(task)
        assert executor is not None
        outputs = self._task_outputs(node["id"], task)
        component = self.graph.component(task.component_ref)
        ei = self._executor_input(task, parameters, artifacts, outputs)
        context = {"pipeline_job_name": self.name, "pipeline_job_uuid": self.run_id,
                   "pipeline_task_name": task.name, "pipeline_task_uuid": node["id"],
                   "pipeline_root": self.pipeline_root,
                   "pipeline_job_create_time_utc": str(self.status.get("startedAt", ""))}
        try:
            container, annotations = task_container(
                executor.raw, ei, artifact_root=str(self.store.root), path_of=lambda u: str(self.store.path(u)),
                context=context)
        except PlaceholderError as err:
            self._end(node, "Error", str(err))
            return False
        # The sandbox's executor makes its output directories itself, in the task's own process (as
        # kfp's does); a container component's command expects them to exist, as KFP's launcher makes them.
        self.store.prepare(outputs, artifacts=component.outputs.artifacts, parameters=component.outputs.parameters,
                           create=KFP_COMMAND_ANNOTATION not in annotations)
        pod: dict[str, Any] = {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": self._pod_of(node), "namespace": self.namespace,
                "labels": {NODE_LABEL: self.name, RUN_ID_LABEL: self.run_id,
                           "pipelines.kubeflow.org/v2_component": "true", COMPLETED_LABEL: "false"},
                "annotations": {NODE_NAME_ANNOTATION: node["name"], NODE_ID_ANNOTATION: node["id"],
                                DISPLAY_NAME_ANNOTATION: task.display_name, **annotations},
                "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                                     "name": self.name, "uid": self.uid, "controller": True,
                                     "blockOwnerDeletion": True}],
            },
            "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 5,
                     "containers": [container]},
        }
        if self.service_account:
            pod["spec"]["serviceAccountName"] = self.service_account
        self.actions.create.append(pod)
        return True

    # Running tasks -------------------------------------------------------------------------------

    def _progress_task(self, parent: dict[str, Any], dag: Dag, task: Task, node: dict[str, Any]) -> bool:
        kind = node.get("type")
        if kind == "DAG":
            sub = self.graph.sub_dag(task)
            assert sub is not None
            return self._advance_dag(node, sub)
        if kind == "TaskGroup":
            return self._advance_loop(node, task)
        if kind == "Retry":
            return self._advance_retry(node, task)
        if kind == "Pod":
            return self._sync_pod(node, task)
        return False

    def _advance_loop(self, node: dict[str, Any], task: Task) -> bool:
        sub = self.graph.sub_dag(task)
        assert sub is not None
        items: list[Any] = node.get("items") or []
        limit = task.parallelism_limit
        changed = False
        running = 0
        scope_params = _params(node.get("inputs"))
        scope_arts = _arts(node.get("inputs"))
        item_input = task.item_input or ""
        for index, item in enumerate(items):
            name = f"{node['name']}({index})"
            iteration = self.nodes.get(node_id(self.name, name))
            if iteration is None:
                if limit and running >= limit:
                    continue
                iteration = self._add_node(name, display=f"{task.display_name}({index})", node_type="DAG",
                                           template=task.component_ref, boundary=node["id"], parent=node,
                                           phase="Running")
                if task.artifact_iterator is not None:
                    iteration["inputs"] = _encode(scope_params, {**scope_arts, item_input: [item]})
                else:
                    iteration["inputs"] = _encode({**scope_params, item_input: item}, scope_arts)
                iteration["iterationIndex"] = index
                changed = True
            if self._advance_dag(iteration, sub):
                changed = True
            if iteration["phase"] not in DONE:
                running += 1
        iterations = [self.nodes.get(node_id(self.name, f"{node['name']}({i})")) for i in range(len(items))]
        if all(it is not None and it["phase"] in DONE for it in iterations):
            failed = [it for it in iterations if it and it["phase"] not in ("Succeeded", "Skipped")]
            if failed:
                self._end(node, "Failed", f"child '{failed[0]['displayName']}' failed")
            else:
                node["outputs"] = self._collected(iterations, sub)
                self._end(node, "Succeeded")
            changed = True
        return changed

    def _collected(self, iterations: list[dict[str, Any] | None], sub: Dag) -> dict[str, Any]:
        """A loop's outputs: each iteration's DAG outputs gathered into lists (``dsl.Collected``)."""
        parameters: dict[str, list[Any]] = {}
        artifacts: dict[str, list[dict[str, Any]]] = {}
        for name, output in sub.component.dag_outputs.items():
            if output.is_artifact:
                artifacts[name] = []
            else:
                parameters[name] = []
        for iteration in iterations:
            assert iteration is not None
            values = _params(iteration.get("outputs"))
            for name in parameters:
                if name in values:
                    parameters[name].append(values[name])
            for name, found in _arts(iteration.get("outputs")).items():
                artifacts.setdefault(name, []).extend(found)
        return _encode(parameters, artifacts)

    def _advance_retry(self, node: dict[str, Any], task: Task) -> bool:
        attempts = [self.nodes[c] for c in node.get("children") or [] if c in self.nodes]
        last = attempts[-1]
        changed = self._sync_pod(last, task)
        if last["phase"] not in DONE:
            return changed
        if last["phase"] == "Succeeded":
            node["outputs"] = last.get("outputs", {})
            if last.get("cached"):
                node["cached"] = True
            self._end(node, "Succeeded", last.get("message", "") if last.get("cached") else "")
            return True
        policy = task.retry
        assert policy is not None
        failures = sum(1 for a in attempts if a["phase"] in FAILED)
        started = _seconds(node.get("startedAt")) or self.now.timestamp()
        finished = _seconds(last.get("finishedAt")) or self.now.timestamp()
        at = policy.next_attempt_at(failures=failures, first_started=started, last_finished=finished)
        if at is None:
            self._end(node, last["phase"], last.get("message", "") +
                      f" (after {len(attempts)} attempt{'s' if len(attempts) != 1 else ''})")
            return True
        if self.now.timestamp() < at:
            self.actions.wake_in(at - self.now.timestamp())
            return changed
        if self.parallelism and self._running_pods >= self.parallelism:
            return changed
        parameters, artifacts = _params(node.get("inputs")), _arts(node.get("inputs"))
        self._launch(f"{node['name']}({len(attempts)})", task, parameters, artifacts, parent=node,
                     boundary=str(node.get("boundaryID", "")))
        return True

    def _sync_pod(self, node: dict[str, Any], task: Task) -> bool:
        if node["phase"] in DONE:
            return False
        name = self._pod_of(node)
        pod = self.pods.get(name)
        if pod is None:
            if node["phase"] == "Running":
                self._end(node, "Error", f"pod {name} deleted")
                self._finished(node, succeeded=False)
                return True
            if not any(p["metadata"]["name"] == name for p in self.actions.create):
                # Created in an earlier step and not seen yet, or lost: (re)create it (idempotent).
                self._create_pod(node, task, _params(node.get("inputs")), _arts(node.get("inputs")))
            return False
        phase = (pod.get("status") or {}).get("phase", "Pending")
        if phase == "Pending":
            message = waiting_message(pod)
            if message and node.get("message") != message:
                node["message"] = message
                return True
            return False
        if phase == "Running":
            if node["phase"] != "Running":
                node["phase"] = "Running"
                node.pop("message", None)
                return True
            return False
        if phase == "Succeeded":
            try:
                parameters, artifacts = self._read_outputs(node, task)
            except (OSError, ValueError, ParameterTypeError) as err:
                self._end(node, "Failed", f"could not read the task's outputs: {err}")
                self._finished(node, succeeded=False)
                return True
            node["outputs"] = _encode(parameters, artifacts)
            self._end(node, "Succeeded")
            self._finished(node, succeeded=True, parameters=parameters, artifacts=artifacts)
            self._running_pods -= 1
            return True
        message = _failure_message(pod)
        last_line = self.failure_logs.get(name, "").strip()
        if last_line and last_line not in message:
            message = f"{message}: {last_line}"
        self._end(node, "Failed", message)
        self._finished(node, succeeded=False)
        self._running_pods -= 1
        return True

    def _finished(self, node: Mapping[str, Any], *, succeeded: bool, parameters: Mapping[str, Any] | None = None,
                  artifacts: Mapping[str, list[dict[str, Any]]] | None = None) -> None:
        self.recorder.finished(node.get("executionID"), succeeded=succeeded, parameters=parameters or {},
                               artifacts=artifacts or {})

    def _read_outputs(self, node: Mapping[str, Any], task: Task
                      ) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
        component = self.graph.component(task.component_ref)
        outputs = self._task_outputs(node["id"], task)
        written = self.store.read_executor_output(outputs)
        parameters: dict[str, Any] = {}
        for name, spec in component.outputs.parameters.items():
            values = written.get("parameterValues") or {}
            if name in values:
                parameters[name] = coerce_parameter(values[name], spec.type)
        missing = {n: str(s.type) for n, s in component.outputs.parameters.items() if n not in parameters}
        parameters.update(self.store.read_parameters(outputs, missing))
        artifacts: dict[str, list[dict[str, Any]]] = {}
        reported = written.get("artifacts") or {}
        for name, spec in component.outputs.artifacts.items():
            entries = (reported.get(name) or {}).get("artifacts") or [{}]
            artifacts[name] = [{
                "name": name, "uri": str(entry.get("uri") or outputs.artifact_uri(name)),
                "metadata": dict(entry.get("metadata") or {}),
                "type": {"schemaTitle": spec.schema_title, "schemaVersion": spec.schema_version or "0.0.1"},
            } for entry in entries]
        return parameters, artifacts


def waiting_message(pod: Mapping[str, Any]) -> str:
    """Why a Pending task pod waits, as its node's message ("" while it is merely being created)."""
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        waiting = (status.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") and waiting["reason"] not in ("ContainerCreating", "PodInitializing"):
            return f"{waiting['reason']}: {waiting.get('message', '')}".rstrip(": ")
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return f"Unschedulable: {condition.get('message', '')}"
    return ""


def _failure_message(pod: Mapping[str, Any]) -> str:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        terminated = (status.get("state") or {}).get("terminated") or {}
        if terminated:
            reason = terminated.get("reason") or "Error"
            message = (terminated.get("message") or "").strip()
            text = f"{reason} (exit code {terminated.get('exitCode')})"
            return f"{text}: {message}" if message else text
    return (pod.get("status") or {}).get("message") or "pod failed"
