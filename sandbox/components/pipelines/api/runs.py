"""Runs: a KFP run is a Workflow, and the API's Run message is read off it.

KFP's API server turns a run into an Argo Workflow and its persistence agent
copies the Workflow's state back into a database row. The sandbox keeps no
copy: the Workflow *is* the run, so ``kubectl get workflows -A`` and
``kfp.Client().list_runs()`` always agree, and a Workflow created outside the
API (with :func:`~..workflow.build.workflow_for_run` and kubectl, or the
sandbox's own SDK) is listed as a run too. A Workflow is a run when it
carries a pipeline spec (its ``pipeline-spec`` argument).

Creating a run (``POST /runs``): the pipeline spec comes from the request
(``pipeline_spec``) or from a stored version (``pipeline_version_reference``;
its newest version when only the pipeline is named); it is validated, the
``runtime_config.parameters`` are bound to the pipeline's inputs (unknown,
missing or mistyped ones are a 400, as in KFP) and the pipeline root is
checked against the artifact store. The Workflow goes to the ``kubeflow``
namespace with a new ``run_id`` (a UUID, label ``pipeline/runid``) and the
API's fields as annotations::

    pipelines.kubeflow.org/run_name              display_name
    pipelines.kubeflow.org/run_description       description
    pipelines.kubeflow.org/experiment_id         experiment_id (else the Default experiment)
    pipelines.kubeflow.org/storage_state         ARCHIVED once archived
    pipelines.kubeflow.org/pipeline_id,
    pipelines.kubeflow.org/pipeline_version_id   when made from a stored version

Reading a run: ``state`` from the Workflow's phase (Pending → PENDING,
Running → RUNNING, Succeeded → SUCCEEDED, Failed/Error → FAILED, and
CANCELING/CANCELED once terminated), ``state_history`` from its creation,
start and finish times, and ``run_details.task_details`` from
``status.nodes`` — one task per node (the root DAG, groups, tasks, retry
attempts) with its times, state, children and pod, and, from ML Metadata,
its execution id, input and output artifact ids and the run's contexts.

Terminate sets ``spec.shutdown: Terminate`` (the workflow controller stops
the pods); retry resets the failed part of the Workflow
(:func:`.retry.reset_for_retry`) after deleting the pods of the tasks that run
again; delete deletes the Workflow (its pods follow it); archive marks it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandbox.api.errors import ApiError, Conflict, NotFound
from sandbox.client.protocol import Client
from sandbox.clock import Clock
from sandbox.components.metadata import MetadataStore
from sandbox.components.metadata import kfp as mlmd
from sandbox.components.pipelines.api.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFoundError,
)
from sandbox.components.pipelines.api.experiments import ExperimentStore
from sandbox.components.pipelines.api.kube import (
    NAMESPACE,
    annotations_of,
    by_creation,
    ensure_namespace,
    labels_of,
)
from sandbox.components.pipelines.api.listing import ListQuery, list_page
from sandbox.components.pipelines.api.messages import compact, get_field, timestamp
from sandbox.components.pipelines.api.pipelines import PipelineService, ResolvedSpec
from sandbox.components.pipelines.api.retry import RETRYABLE_PHASES, reset_for_retry
from sandbox.components.pipelines.storage import ArtifactStore
from sandbox.components.pipelines.workflow.build import (
    PIPELINE_ROOT_ANNOTATION,
    RUN_ID_LABEL,
    RUN_NAME_ANNOTATION,
    pipeline_spec,
    run_parameters,
    workflow_for_run,
)
from sandbox.components.pipelines.workflow.nodes import pod_name
from sandbox.components.pipelines.workflow.scheduled import (
    EPOCH_LABEL,
    RECURRING_RUN_ANNOTATION,
    SCHEDULED_WORKFLOW,
)

__all__ = [
    "DESCRIPTION_ANNOTATION",
    "EXPERIMENT_ANNOTATION",
    "STORAGE_ANNOTATION",
    "RunService",
    "is_pipeline_run",
    "run_message",
    "run_state",
    "task_details",
]

WORKFLOW = ("argoproj.io/v1alpha1", "Workflow")
EXPERIMENT_ANNOTATION = "pipelines.kubeflow.org/experiment_id"
DESCRIPTION_ANNOTATION = "pipelines.kubeflow.org/run_description"
STORAGE_ANNOTATION = "pipelines.kubeflow.org/storage_state"
PIPELINE_ID_ANNOTATION = "pipelines.kubeflow.org/pipeline_id"
VERSION_ID_ANNOTATION = "pipelines.kubeflow.org/pipeline_version_id"
TERMINATED = "Stopped with strategy 'Terminate'"
RUN_SORTABLE = ("run_id", "display_name", "created_at", "scheduled_at", "finished_at", "state",
                "storage_state", "experiment_id", "description")
_PHASE_STATES = {"Pending": "PENDING", "Running": "RUNNING", "Succeeded": "SUCCEEDED",
                 "Skipped": "SKIPPED", "Omitted": "SKIPPED", "Failed": "FAILED", "Error": "FAILED"}
_FINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "SKIPPED", "CANCELED"})


# Reading a Workflow as a run -------------------------------------------------------------------


def is_pipeline_run(workflow: Mapping[str, Any]) -> bool:
    """Whether a Workflow runs a pipeline (carries a pipeline spec argument)."""
    try:
        pipeline_spec(workflow)
    except ValueError:
        return False
    return True


def run_id_of(workflow: Mapping[str, Any]) -> str:
    return labels_of(workflow).get(RUN_ID_LABEL) or str(workflow["metadata"].get("uid", ""))


def _terminated(workflow: Mapping[str, Any]) -> bool:
    return bool((workflow.get("spec") or {}).get("shutdown"))


def run_state(workflow: Mapping[str, Any]) -> str:
    """The run's ``RuntimeState`` from the Workflow's phase and its terminate request."""
    status = workflow.get("status") or {}
    phase = status.get("phase")
    if phase == "Succeeded":
        return "SUCCEEDED"
    if phase in ("Failed", "Error"):
        return "CANCELED" if _terminated(workflow) or status.get("message") == TERMINATED else "FAILED"
    if _terminated(workflow):
        return "CANCELING"
    return "RUNNING" if phase == "Running" else "PENDING"


def _node_state(node: Mapping[str, Any]) -> str:
    if node.get("phase") in ("Failed", "Error") and node.get("message") == TERMINATED:
        return "CANCELED"
    return _PHASE_STATES.get(str(node.get("phase")), "RUNTIME_STATE_UNSPECIFIED")


def _history(created: str | None, started: str | None, finished: str | None, final: str
             ) -> list[dict[str, Any]]:
    history = [{"update_time": timestamp(created), "state": "PENDING"}] if created else []
    if started:
        history.append({"update_time": timestamp(started), "state": "RUNNING"})
    if final in _FINAL_STATES and finished:
        history.append({"update_time": timestamp(finished), "state": final})
    return history


def _artifact_ids(found: Mapping[str, Any]) -> dict[str, Any]:
    ids: dict[str, Any] = {}
    for name, artifacts in found.items():
        listed = artifacts if isinstance(artifacts, list) else [artifacts]
        ids[name] = {"artifact_ids": [str(a.id) for a in listed if a.id is not None]}
    return ids


def task_details(workflow: Mapping[str, Any], *, metadata: MetadataStore | None = None
                 ) -> list[dict[str, Any]]:
    """``run_details.task_details``: one entry per node of ``status.nodes``, in start order."""
    name = str(workflow["metadata"]["name"])
    run_id = run_id_of(workflow)
    nodes: Mapping[str, Mapping[str, Any]] = (workflow.get("status") or {}).get("nodes") or {}
    containers = {t.get("name") for t in (workflow.get("spec") or {}).get("templates") or [] if "container" in t}
    parents = {child: node_id for node_id, node in nodes.items() for child in node.get("children") or []}

    def pod_of(node: Mapping[str, Any]) -> str | None:
        if (node.get("type") != "Pod" or node.get("cached") or node.get("executionID") is None
                or node.get("templateName") not in containers):
            return None
        return pod_name(name, str(node["templateName"]), str(node["name"]))

    details = []
    for node_id, node in sorted(nodes.items(), key=lambda item: (str(item[1].get("startedAt", "")), item[0])):
        state = _node_state(node)
        execution = node.get("executionID")
        entry: dict[str, Any] = {
            "run_id": run_id, "task_id": node_id, "display_name": node.get("displayName") or node.get("name"),
            "create_time": timestamp(node.get("startedAt")), "start_time": timestamp(node.get("startedAt")),
            "end_time": timestamp(node.get("finishedAt")) if state in _FINAL_STATES else None,
            "state": state, "execution_id": str(execution) if execution is not None else None,
            "parent_task_id": parents.get(node_id), "pod_name": pod_of(node),
            "error": {"code": 2, "message": node["message"]}
            if state in ("FAILED", "CANCELED") and node.get("message") else None,
            "child_tasks": [compact({"task_id": child, "pod_name": pod_of(nodes[child])})
                            for child in node.get("children") or [] if child in nodes],
            "state_history": _history(None, node.get("startedAt") if state != "SKIPPED" else None,
                                      node.get("finishedAt"), state),
        }
        if metadata is not None and execution is not None:
            try:
                entry["inputs"] = _artifact_ids(mlmd.input_artifacts(metadata, int(execution)))
                entry["outputs"] = _artifact_ids(mlmd.output_artifacts(metadata, int(execution)))
            except (ValueError, KeyError, ApiError):
                pass  # not (yet) recorded: the task is listed without its artifacts
        details.append(compact(entry))
    return details


def recurring_run_id_of(workflow: Mapping[str, Any]) -> str | None:
    for ref in workflow["metadata"].get("ownerReferences") or []:
        if (ref.get("apiVersion"), ref.get("kind")) == SCHEDULED_WORKFLOW:
            return str(ref.get("uid"))
    return annotations_of(workflow).get(RECURRING_RUN_ANNOTATION) or None


def _epoch(text: str | None) -> str | None:
    try:
        return timestamp(datetime.fromtimestamp(int(text or ""), UTC))
    except ValueError:
        return None


def run_message(workflow: Mapping[str, Any], *, default_experiment: str,
                metadata: MetadataStore | None = None) -> dict[str, Any]:
    """The API's ``Run`` for a pipeline-run Workflow."""
    meta = workflow["metadata"]
    annotations = annotations_of(workflow)
    status = workflow.get("status") or {}
    state = run_state(workflow)
    run_id = run_id_of(workflow)
    created = meta.get("creationTimestamp")
    message: dict[str, Any] = {
        "experiment_id": annotations.get(EXPERIMENT_ANNOTATION) or default_experiment,
        "run_id": run_id,
        "display_name": annotations.get(RUN_NAME_ANNOTATION) or meta["name"],
        "storage_state": annotations.get(STORAGE_ANNOTATION) or "AVAILABLE",
        "description": annotations.get(DESCRIPTION_ANNOTATION),
        "runtime_config": compact({"parameters": run_parameters(workflow),
                                   "pipeline_root": annotations.get(PIPELINE_ROOT_ANNOTATION)}),
        "service_account": (workflow.get("spec") or {}).get("serviceAccountName"),
        "created_at": timestamp(created),
        "scheduled_at": _epoch(labels_of(workflow).get(EPOCH_LABEL)) or timestamp(created),
        "finished_at": timestamp(status.get("finishedAt")) if state in _FINAL_STATES else None,
        "state": state,
        "error": {"code": 2, "message": status["message"]}
        if state in ("FAILED", "CANCELED") and status.get("message") else None,
        "recurring_run_id": recurring_run_id_of(workflow),
        "state_history": _history(created, status.get("startedAt"), status.get("finishedAt"), state),
    }
    if annotations.get(VERSION_ID_ANNOTATION):
        message["pipeline_version_reference"] = compact({
            "pipeline_id": annotations.get(PIPELINE_ID_ANNOTATION),
            "pipeline_version_id": annotations[VERSION_ID_ANNOTATION]})
        message["pipeline_version_id"] = annotations[VERSION_ID_ANNOTATION]
    else:
        message["pipeline_spec"] = pipeline_spec(workflow)
    details: dict[str, Any] = {"task_details": task_details(workflow, metadata=metadata)}
    if metadata is not None:
        contexts = mlmd.find_run(metadata, run_id)
        if contexts is not None:
            details["pipeline_context_id"] = str(contexts.pipeline.id)
            details["pipeline_run_context_id"] = str(contexts.run.id)
    message["run_details"] = compact(details)
    return compact(message)


# The service ----------------------------------------------------------------------------------


class RunService:
    """The run endpoints over the cluster client (see the module docstring)."""

    def __init__(self, client: Client, *, experiments: ExperimentStore, pipelines: PipelineService,
                 artifacts: ArtifactStore, metadata_path: Path | None, clock: Clock) -> None:
        self.client = client
        self.experiments = experiments
        self.pipelines = pipelines
        self.artifacts = artifacts
        self.metadata_path = metadata_path
        self.clock = clock
        self._metadata: MetadataStore | None = None

    def metadata(self) -> MetadataStore | None:
        """ML Metadata, once the workflow controller has created its database."""
        if self._metadata is None and self.metadata_path is not None and self.metadata_path.exists():
            self._metadata = MetadataStore(self.metadata_path, clock=self.clock)
        return self._metadata

    def message(self, workflow: Mapping[str, Any]) -> dict[str, Any]:
        return run_message(workflow, default_experiment=self.experiments.default_id(), metadata=self.metadata())

    async def workflows(self) -> list[dict[str, Any]]:
        """Every pipeline-run Workflow in the cluster."""
        return [w for w in by_creation((await self.client.list(*WORKFLOW))["items"]) if is_pipeline_run(w)]

    async def workflow(self, run_id: str) -> dict[str, Any]:
        """The Workflow of run ``run_id``; NotFoundError when there is none."""
        try:
            listed = (await self.client.list(*WORKFLOW, label_selector={"matchLabels": {RUN_ID_LABEL: run_id}}
                                             ))["items"]
        except ApiError:
            listed = []  # not a valid label value: only a uid can match
        for workflow in listed or await self.workflows():
            if (run_id_of(workflow) == run_id and is_pipeline_run(workflow)
                    and not workflow["metadata"].get("deletionTimestamp")):
                return workflow
        raise NotFoundError(f"Run {run_id} not found")

    # Creating ----------------------------------------------------------------------------

    async def source(self, body: Mapping[str, Any]) -> tuple[ResolvedSpec, dict[str, str]]:
        """The pipeline spec a run or recurring run names, and the annotations saying where it came from."""
        spec_value = get_field(body, "pipeline_spec")
        reference = get_field(body, "pipeline_version_reference") or {}
        version_id = get_field(reference, "pipeline_version_id") or get_field(body, "pipeline_version_id")
        pipeline_id = get_field(reference, "pipeline_id")
        if spec_value is not None and (version_id or pipeline_id):
            raise InvalidArgument("give either pipeline_spec or pipeline_version_reference, not both")
        if spec_value is not None:
            return ResolvedSpec(spec_value), {}
        if pipeline_id:
            version = await self.pipelines.version_object(str(pipeline_id), str(version_id or ""))
        elif version_id:
            pipeline_id, version = await self.pipelines.find_version(str(version_id))
        else:
            raise InvalidArgument("the run has no pipeline: give pipeline_spec or pipeline_version_reference")
        spec = version.get("spec") or {}
        resolved = ResolvedSpec({"pipeline_spec": spec.get("pipelineSpec") or {},
                                 "platform_spec": spec.get("platformSpec") or {}})
        return resolved, {PIPELINE_ID_ANNOTATION: str(pipeline_id),
                          VERSION_ID_ANNOTATION: str(version["metadata"]["uid"])}

    def experiment_for(self, body: Mapping[str, Any]) -> str:
        """The experiment a new run or recurring run joins; it must exist and not be archived."""
        experiment_id = str(get_field(body, "experiment_id", "") or "") or self.experiments.default_id()
        experiment = self.experiments.get(experiment_id)
        if experiment.get("storage_state") == "ARCHIVED":
            raise FailedPrecondition(f"Experiment {experiment_id} is archived: unarchive it to add runs")
        return experiment_id

    def runtime_config(self, body: Mapping[str, Any], resolved: ResolvedSpec) -> tuple[dict[str, Any], str | None]:
        """The run's parameters (checked against the pipeline) and its pipeline root (checked against the store)."""
        config = get_field(body, "runtime_config") or {}
        parameters = get_field(config, "parameters") or {}
        if not isinstance(parameters, Mapping):
            raise InvalidArgument("runtime_config.parameters must be a map of parameter values")
        resolved.graph.bind_arguments(parameters)
        root = str(get_field(config, "pipeline_root", "") or "") or None
        if root:
            try:
                self.artifacts.pipeline_root(root)
            except ValueError as err:
                raise InvalidArgument(f"pipeline root {root!r}: {err}") from None
        return dict(parameters), root

    async def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        display_name = str(get_field(body, "display_name", "") or "").strip()
        if not display_name:
            raise InvalidArgument("Run display name is empty. Please specify a valid name")
        experiment_id = self.experiment_for(body)
        resolved, origin = await self.source(body)
        parameters, root = self.runtime_config(body, resolved)
        run_id = str(uuid.uuid4())
        workflow = workflow_for_run(resolved.pipeline, run_id=run_id, parameters=parameters,
                                    run_name=display_name, pipeline_root=root,
                                    service_account=str(get_field(body, "service_account", "") or "") or None)
        annotations = workflow["metadata"]["annotations"]
        annotations.update(origin)
        annotations[EXPERIMENT_ANNOTATION] = experiment_id
        description = str(get_field(body, "description", "") or "")
        if description:
            annotations[DESCRIPTION_ANNOTATION] = description
        await ensure_namespace(self.client)
        created = await self.client.create(workflow, namespace=NAMESPACE)
        self.experiments.touch_last_run(experiment_id)
        return self.message(created)

    # Reading -----------------------------------------------------------------------------

    async def get(self, run_id: str) -> dict[str, Any]:
        return self.message(await self.workflow(run_id))

    async def list(self, params: Mapping[str, str]) -> dict[str, Any]:
        query = ListQuery.from_params(params)
        experiment_id = params.get("experiment_id") or params.get("experimentId") or ""
        messages = [self.message(w) for w in await self.workflows()]
        if experiment_id:
            messages = [m for m in messages if m.get("experiment_id") == experiment_id]
        page = list_page(messages, query, sortable=RUN_SORTABLE,
                         aliases={"name": "display_name", "id": "run_id"})
        return compact({"runs": page.items, "total_size": page.total_size,
                        "next_page_token": page.next_page_token})

    # Changing ----------------------------------------------------------------------------

    async def terminate(self, run_id: str) -> None:
        workflow = await self.workflow(run_id)
        state = run_state(workflow)
        if state in _FINAL_STATES:
            raise FailedPrecondition(f"Run {run_id} has already finished ({state}): nothing to terminate")
        meta = workflow["metadata"]
        await self.client.patch(*WORKFLOW, meta["name"], {"spec": {"shutdown": "Terminate"}},
                                namespace=meta.get("namespace"))

    async def retry(self, run_id: str) -> None:
        for _ in range(3):
            workflow = await self.workflow(run_id)
            phase = (workflow.get("status") or {}).get("phase")
            if phase not in RETRYABLE_PHASES:
                raise FailedPrecondition(f"Run {run_id} is {run_state(workflow)}: only a failed or "
                                         "terminated run can be retried")
            reset = reset_for_retry(workflow)
            namespace = workflow["metadata"].get("namespace")
            for pod in reset.delete_pods:
                try:
                    await self.client.delete("v1", "Pod", pod, namespace=namespace, grace_period_seconds=0)
                except NotFound:
                    pass
            try:
                await self.client.replace(reset.workflow)
                return
            except Conflict:
                continue  # changed under us: read it again
        raise FailedPrecondition(f"Run {run_id} keeps changing; try the retry again")

    async def delete(self, run_id: str) -> None:
        workflow = await self.workflow(run_id)
        meta = workflow["metadata"]
        try:
            await self.client.delete(*WORKFLOW, meta["name"], namespace=meta.get("namespace"),
                                     propagation_policy="Background")
        except NotFound:
            pass

    async def set_storage_state(self, run_id: str, state: str) -> None:
        await self._annotate(await self.workflow(run_id), state)

    async def archive_experiment(self, experiment_id: str) -> None:
        """Archive every run of an experiment (what archiving the experiment does)."""
        default = self.experiments.default_id()
        for workflow in await self.workflows():
            if (annotations_of(workflow).get(EXPERIMENT_ANNOTATION) or default) == experiment_id:
                await self._annotate(workflow, "ARCHIVED")

    async def _annotate(self, workflow: Mapping[str, Any], state: str) -> None:
        meta = workflow["metadata"]
        await self.client.patch(*WORKFLOW, meta["name"], {"metadata": {"annotations": {STORAGE_ANNOTATION: state}}},
                                namespace=meta.get("namespace"))
