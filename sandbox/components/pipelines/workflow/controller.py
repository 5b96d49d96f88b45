"""The workflow controller: runs each pipeline-run ``Workflow`` by creating one Pod per task.

A controller-runtime-style reconciler (``Workflow`` primary, owned Pods
enqueue their Workflow): each reconcile reads the Workflow and its pods,
hands them to the :class:`~.engine.Engine`, then does what the step decided
— deletes pods (terminate), writes ``status`` and the
``workflows.argoproj.io/completed`` label, records Events, creates the new
pods last (so that nothing of the step delays their start), and requeues when
a retry's backoff ends. Executions and artifacts go to ML Metadata
(:mod:`.lineage`), which also answers the cache.

What it runs: a Workflow that carries a KFP pipeline (the ``pipeline-spec``
argument :func:`~.build.workflow_for_run` writes). A hand-written Argo
Workflow without one is marked ``Error`` with a message saying so — the
sandbox implements KFP's use of Argo, not Argo's template language.

Per-task cost matters (a pipeline's tasks are often milliseconds long), so a
reconcile does little besides the engine's step: the Workflow comes from the
informer's cache (only its status and labels are copied, the parts a step
changes; the API server is asked when the cache has not yet seen the
controller's own last write); the parsed pipeline is
cached by its IR text (runs of one pipeline share it; the Workflow's
generation cannot key it, moving with every status write as Argo's Workflow
has no status subresource); the
run's pods come from the shared pod informer's cache through an index on the
``workflows.argoproj.io/workflow`` label, not from a list call; and the
status write is a merge patch of only the nodes that changed. Events that
cannot change a step's outcome wake nothing: the Workflow's own status
writes (the controller remembers the resourceVersion each of its patches
produced — the step that wrote it has already acted on it), the ADDED
event of a pod it just created (controller-runtime's *expectations*), and a
pod's updates that leave what the engine reads of it unchanged. An invalid
pipeline ends the run ``Failed`` with the graph layer's problem list as its
message.
"""

from __future__ import annotations

import contextlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.api.errors import AlreadyExists, ApiError, NotFound
from sandbox.api.objects import fast_copy
from sandbox.components.metadata import MetadataStore, kfp
from sandbox.components.metadata.model import Execution
from sandbox.components.pipelines.graph import PipelineGraph, PipelineSpecInvalid
from sandbox.components.pipelines.storage import ArtifactStore
from sandbox.components.pipelines.workflow.build import pipeline_spec_text
from sandbox.components.pipelines.workflow.engine import NODE_LABEL, Engine, waiting_message
from sandbox.components.pipelines.workflow.lineage import MetadataRecorder
from sandbox.runtime import (
    Controller,
    EnqueueRequestForObject,
    EnqueueRequestForOwner,
    Manager,
    Request,
    Result,
    WorkQueue,
    get_logger,
)

__all__ = ["WORKFLOW", "WorkflowReconciler", "controller"]

WORKFLOW = ("argoproj.io/v1alpha1", "Workflow")
#: How many parsed pipelines the controller keeps (graph and IR are only read, never changed).
_PARSED_PIPELINES = 32
log = get_logger(__name__)


class WorkflowReconciler:
    """Reconciles one Workflow (see the module docstring)."""

    def __init__(self, manager: Manager, *, artifacts: ArtifactStore, metadata_path: Path) -> None:
        self.client = manager.client
        self.clock = manager.clock
        self.events = manager.event_recorder("workflow-controller")
        self.artifacts = artifacts
        self.metadata_path = metadata_path
        self._metadata: MetadataStore | None = None
        #: Parsed pipelines by their IR text, the most recently used last (runs of one pipeline share one).
        self._graphs: OrderedDict[str, tuple[PipelineGraph, dict[str, Any]]] = OrderedDict()
        #: (namespace, name) → the resourceVersion this controller's last status patch produced.
        self.written: dict[tuple[str, str], str] = {}
        #: (namespace, name) of task pods created and not yet seen by the pod informer.
        self.expected_pods: set[tuple[str, str]] = set()
        #: (namespace, name) → what the steps of a running Workflow keep of ML Metadata.
        self._recorded: dict[tuple[str, str], _Recorded] = {}
        self.pods = manager.informer("v1", "Pod")
        self.workflows = manager.informer(*WORKFLOW)
        with contextlib.suppress(ValueError):  # another reconciler of this manager added it
            self.pods.add_indexer(_POD_INDEX, _workflow_of)

    @property
    def metadata(self) -> MetadataStore:
        if self._metadata is None:
            self.metadata_path.parent.mkdir(parents=True, exist_ok=True)
            self._metadata = MetadataStore(self.metadata_path, clock=self.clock)
        return self._metadata

    def _graph(self, workflow: Mapping[str, Any]) -> tuple[PipelineGraph, dict[str, Any]]:
        text = pipeline_spec_text(workflow)
        found = self._graphs.get(text)
        if found is None:
            spec = json.loads(text)
            found = self._graphs[text] = (PipelineGraph.from_ir(spec), spec)
            while len(self._graphs) > _PARSED_PIPELINES:
                self._graphs.popitem(last=False)
        else:
            self._graphs.move_to_end(text)
        return found

    async def _read(self, request: Request) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The Workflow to step — a working copy of what the engine changes (status, labels) over
        the informer's shared object — and the status and labels as read (None: gone).

        The cache is read as controller-runtime's reconcilers read it, unless it has not yet seen
        this controller's own last write: then the API server is asked.
        """
        cached = self.workflows.get(request.namespace, request.name, copy=False)
        written = self.written.get((request.namespace, request.name))
        if cached is None or (written and int(cached["metadata"].get("resourceVersion") or 0) < int(written)):
            try:
                workflow = await self.client.get(*WORKFLOW, request.name, namespace=request.namespace)
            except NotFound:
                return None
            meta = workflow["metadata"]
            return workflow, fast_copy({"status": workflow.get("status") or {}, "labels": meta.get("labels")})
        meta = dict(cached["metadata"])
        if "labels" in meta:
            meta["labels"] = dict(meta["labels"])
        workflow = {**cached, "metadata": meta, "status": fast_copy(cached.get("status") or {})}
        return workflow, {"status": cached.get("status") or {}, "labels": cached["metadata"].get("labels")}

    async def reconcile(self, request: Request) -> Result | None:
        key = (request.namespace, request.name)
        found = await self._read(request)
        phase = (found[0].get("status") or {}).get("phase") if found is not None else None
        if found is None or phase in ("Succeeded", "Failed", "Error"):
            # Gone or done: nothing more to remember of it.
            self.written.pop(key, None)
            self._recorded.pop(key, None)
            return None
        workflow, before = found
        try:
            graph, spec = self._graph(workflow)
        except PipelineSpecInvalid as err:
            await self._fail(workflow, "Failed", f"invalid pipeline: {err}")
            return None
        except ValueError as err:
            await self._fail(workflow, "Error", (
                "not a Kubeflow Pipelines run: the sandbox's workflow controller runs Workflows made "
                f"from a pipeline (a 'pipeline-spec' argument), not other Argo templates ({err})"))
            return None
        pods = self.pods.by_index(_POD_INDEX, f"{request.namespace}/{request.name}", copy=False)
        meta = workflow["metadata"]
        engine = Engine(workflow, graph, spec=spec, pods={p["metadata"]["name"]: p for p in pods},
                        store=self.artifacts, now=self.clock.now(),
                        failure_logs=await self._failure_logs(workflow, pods))
        recorded = self._recorded.setdefault(key, _Recorded())
        engine.recorder = MetadataRecorder(
            self.metadata, pipeline_name=graph.name, run_id=engine.run_id, namespace=engine.namespace,
            resource_name=meta["name"], pipeline_root=engine.pipeline_root,
            artifact_exists=self._artifact_exists, opened=recorded.contexts, running=recorded.executions)
        try:
            with self.metadata.batch():  # a step's executions and artifacts: one commit, all or nothing
                actions = engine.step()
        except BaseException:
            self._recorded.pop(key, None)  # rolled back: what the step learnt may not exist
            raise
        for name in actions.delete:
            try:
                await self.client.delete("v1", "Pod", name, namespace=request.namespace, grace_period_seconds=0)
            except NotFound:
                pass
        # The status first, the new pods last: nothing of this step is left to do once they exist, so the
        # scheduler and the kubelet take them at once. (A pod whose create fails is created on the next step:
        # its node is open and has no pod.)
        patch = _status_patch(before, workflow)
        if patch:
            written = await self.client.patch(*WORKFLOW, request.name, patch, namespace=request.namespace,
                                              brief=True)
            self.written[key] = written["metadata"]["resourceVersion"]
        for kind, reason, message in actions.events:
            await self.events.event(workflow, type=kind, reason=reason, message=message)  # type: ignore[arg-type]
        for pod in actions.create:
            pod_key = (request.namespace, pod["metadata"]["name"])
            self.expected_pods.add(pod_key)
            try:
                await self.client.create(pod, namespace=request.namespace, brief=True)
            except BaseException as err:  # AlreadyExists included: no ADDED event of ours to expect
                self.expected_pods.discard(pod_key)
                if not isinstance(err, AlreadyExists):
                    raise
        if actions.requeue_after is not None:
            return Result(requeue_after=actions.requeue_after)
        return None

    async def _failure_logs(self, workflow: Mapping[str, Any], pods: list[dict[str, Any]]) -> dict[str, str]:
        """The last log line of each pod that failed since the last step (its node is still open)."""
        open_nodes = {n["id"] for n in ((workflow.get("status") or {}).get("nodes") or {}).values()
                      if n.get("phase") not in ("Succeeded", "Failed", "Error", "Skipped", "Omitted")}
        lines: dict[str, str] = {}
        for pod in pods:
            meta = pod["metadata"]
            node = (meta.get("annotations") or {}).get("workflows.argoproj.io/node-id")
            if (pod.get("status") or {}).get("phase") != "Failed" or node not in open_nodes:
                continue
            try:
                text = await self.client.logs(meta["name"], namespace=meta["namespace"], tail_lines=1)
            except ApiError:
                continue
            lines[meta["name"]] = text.strip().splitlines()[-1] if text.strip() else ""
        return lines

    def _artifact_exists(self, uri: str) -> bool:
        try:
            return self.artifacts.path(uri).exists()
        except ValueError:
            return False

    async def _fail(self, workflow: dict[str, Any], phase: str, message: str) -> None:
        now = self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        status = {"phase": phase, "message": message, "startedAt": now, "finishedAt": now}
        labels = {"workflows.argoproj.io/completed": "true", "workflows.argoproj.io/phase": phase}
        meta = workflow["metadata"]
        await self.client.patch(*WORKFLOW, meta["name"], {"metadata": {"labels": labels}, "status": status},
                                namespace=meta.get("namespace"))
        await self.events.warning(workflow, reason="WorkflowFailed", message=message)


_POD_INDEX = "pipelines-workflow"


def _workflow_of(pod: Mapping[str, Any]) -> list[str]:
    """Index function: ``<namespace>/<workflow>`` of a task pod."""
    meta = pod.get("metadata") or {}
    name = (meta.get("labels") or {}).get(NODE_LABEL)
    return [f"{meta.get('namespace', '')}/{name}"] if name else []


def _status_patch(before: Mapping[str, Any], workflow: Mapping[str, Any]) -> dict[str, Any]:
    """A merge patch of what a step changed: the labels, the status fields, and only the changed nodes."""
    patch: dict[str, Any] = {}
    labels = workflow["metadata"].get("labels")
    if labels != before["labels"]:
        patch["metadata"] = {"labels": labels}
    old, new = before["status"], workflow.get("status") or {}
    status: dict[str, Any] = {k: v for k, v in new.items() if k != "nodes" and old.get(k) != v}
    old_nodes, new_nodes = old.get("nodes") or {}, new.get("nodes") or {}
    changed = {k: v for k, v in new_nodes.items() if old_nodes.get(k) != v}
    if changed:
        status["nodes"] = changed
    if status:
        patch["status"] = status
    return patch


@dataclass
class _Recorded:
    """What the steps of one running Workflow keep of ML Metadata, so that a step need not read it back."""

    #: The run's contexts, by (pipeline, run id).
    contexts: dict[tuple[str, str], kfp.RunContexts] = field(default_factory=dict)
    #: The executions of its tasks still running, by id.
    executions: dict[int, Execution] = field(default_factory=dict)


class _OwnWrites(EnqueueRequestForObject):
    """Wake a Workflow on every change except the status writes of its own controller."""

    def __init__(self, reconciler: WorkflowReconciler) -> None:
        self.reconciler = reconciler

    def on_update(self, old: Mapping[str, Any], new: Mapping[str, Any], *, queue: WorkQueue[Request]) -> None:
        meta = new.get("metadata") or {}
        key = (meta.get("namespace", ""), meta.get("name", ""))
        if self.reconciler.written.get(key) == meta.get("resourceVersion"):
            return
        super().on_update(old, new, queue=queue)


class _TaskPodChanges(EnqueueRequestForOwner):
    """Wake a task pod's Workflow only when what the engine reads of the pod changed.

    A pod's status is written several times on its way to Running (IP,
    binding, container statuses, conditions); the engine only looks at its
    phase, why it waits (a reason other than ContainerCreating, or
    Unschedulable) and its deletion. The ADDED event of a pod the controller
    itself just created is expected and skipped while the pod is as created.
    """

    def __init__(self, reconciler: WorkflowReconciler) -> None:
        super().__init__(*WORKFLOW)
        self.reconciler = reconciler

    def on_add(self, obj: Mapping[str, Any], *, queue: WorkQueue[Request]) -> None:
        meta = obj.get("metadata") or {}
        key = (meta.get("namespace", ""), meta.get("name", ""))
        if key in self.reconciler.expected_pods:
            self.reconciler.expected_pods.discard(key)
            if _pod_view(obj) == _CREATED:
                return
        super().on_add(obj, queue=queue)

    def on_update(self, old: Mapping[str, Any], new: Mapping[str, Any], *, queue: WorkQueue[Request]) -> None:
        if _pod_view(old) != _pod_view(new):
            super().on_update(old, new, queue=queue)


def _pod_view(pod: Mapping[str, Any]) -> tuple[Any, ...]:
    """What the engine reads of a task pod."""
    phase = (pod.get("status") or {}).get("phase") or "Pending"
    waiting = waiting_message(pod) if phase == "Pending" else ""
    return phase, waiting, bool((pod.get("metadata") or {}).get("deletionTimestamp"))


_CREATED = ("Pending", "", False)


def controller(manager: Manager, *, artifacts: ArtifactStore, metadata_path: Path) -> Controller:
    """The workflow controller (``workflow-controller``), for the manager's registry."""
    reconciler = WorkflowReconciler(manager, artifacts=artifacts, metadata_path=metadata_path)
    return Controller(
        "workflow-controller",
        for_=WORKFLOW,
        for_handler=_OwnWrites(reconciler),
        watches=[("v1", "Pod", _TaskPodChanges(reconciler))],
        reconciler=reconciler,
        max_concurrent_reconciles=4,
    )
