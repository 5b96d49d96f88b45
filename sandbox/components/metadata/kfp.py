"""What Kubeflow Pipelines records in ML Metadata, as helpers the workflow controller calls.

KFP v2's driver and launcher write the store in a fixed shape (the KFP UI's
run graph, Artifacts, Executions and lineage pages read it back), and the
sandbox writes the same shape:

* **contexts** — one ``system.Pipeline`` per pipeline name and one
  ``system.PipelineRun`` per run id (custom properties ``namespace``,
  ``resource_name``, ``pipeline_root`` = ``<root>/<pipeline>/<run id>``,
  ``store_session_info``), the run a child of the pipeline;
* **executions** — ``system.DAGExecution`` for the root DAG and every
  condition / loop / sub-pipeline, ``system.ContainerExecution`` for each
  container task, ``system.ImporterExecution`` for importers; each associated
  with both contexts and carrying custom properties ``display_name``,
  ``task_name``, ``image``, ``pod_name``, ``pod_uid``, ``namespace``,
  ``inputs`` (the parameter values), ``outputs`` (output parameters),
  ``cache_fingerprint``, ``cached_execution_id``, ``parent_dag_id``,
  ``iteration_index``, ``iteration_count``, ``total_dag_tasks``;
* **artifacts** — typed by the artifact's schema title (``system.Model`` …),
  state ``LIVE``, ``uri`` in the pipeline root, custom properties
  ``display_name`` (the output name unless the metadata names one) and the
  artifact's ``metadata`` encoded as KFP does (numbers → double, bools → int,
  lists → ``{"list": …}``, dicts → ``{"struct": …}``); attributed to both
  contexts;
* **events** — ``INPUT`` / ``OUTPUT`` with one path key, the input or output
  name.

The life of a task, as the controller drives it::

    run = open_run(store, pipeline_name="p", run_id=uid, pipeline_root=root)
    execution = start_execution(store, run, task_name="train", image=…, inputs={…},
                                input_artifacts={"dataset": data}, cache_fingerprint=fp)
    hit = find_cached_execution(store, fp, artifact_exists=lambda a: path_of(a).exists())
    if hit:
        outputs = mark_cached(store, execution, run, hit)        # state CACHED, no pod
    else:
        …run the pod…
        outputs = complete_execution(store, execution, run, outputs={
            "model": output_artifact("model", uri=…, schema_title="system.Model",
                                     metadata={"accuracy": 0.9})})
        # or fail_execution(store, execution, run)

A cache hit is recorded as KFP records it: a new execution in state
``CACHED`` whose ``cached_execution_id`` names the reused one and whose
OUTPUT events point at that execution's artifacts (so the run still shows,
and lineage still follows, its outputs). :func:`find_cached_execution` takes
the newest ``COMPLETE`` execution with the fingerprint whose output artifacts
all still exist: not marked deleted or abandoned, and present according to the
caller's ``artifact_exists`` (the store does not know the artifact files).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from sandbox.api.errors import AlreadyExists, BadRequest, NotFound

from .model import (
    Artifact,
    ArtifactState,
    ArtifactType,
    Context,
    ContextType,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    ParentContext,
)
from .store import MetadataStore

__all__ = [
    "ARTIFACT_TYPES",
    "CONTAINER_EXECUTION_TYPE",
    "CONTEXT_TYPES",
    "DAG_EXECUTION_TYPE",
    "EXECUTION_TYPES",
    "IMPORTER_EXECUTION_TYPE",
    "PIPELINE_CONTEXT_TYPE",
    "PIPELINE_RUN_CONTEXT_TYPE",
    "CacheHit",
    "RunContexts",
    "artifact_metadata",
    "complete_execution",
    "fail_execution",
    "find_cached_execution",
    "find_run",
    "input_artifacts",
    "mark_cached",
    "metadata_to_custom_properties",
    "open_run",
    "output_artifact",
    "output_artifacts",
    "publish_execution",
    "record_inputs",
    "record_task",
    "register_types",
    "run_pipeline_root",
    "start_execution",
]

PIPELINE_CONTEXT_TYPE = "system.Pipeline"
PIPELINE_RUN_CONTEXT_TYPE = "system.PipelineRun"
DAG_EXECUTION_TYPE = "system.DAGExecution"
CONTAINER_EXECUTION_TYPE = "system.ContainerExecution"
IMPORTER_EXECUTION_TYPE = "system.ImporterExecution"
CONTEXT_TYPES = (PIPELINE_CONTEXT_TYPE, PIPELINE_RUN_CONTEXT_TYPE)
EXECUTION_TYPES = (DAG_EXECUTION_TYPE, CONTAINER_EXECUTION_TYPE, IMPORTER_EXECUTION_TYPE)
#: The schema titles of kfp.dsl's artifact classes.
ARTIFACT_TYPES = (
    "system.Artifact",
    "system.Dataset",
    "system.Model",
    "system.Metrics",
    "system.ClassificationMetrics",
    "system.SlicedClassificationMetrics",
    "system.HTML",
    "system.Markdown",
)

# The custom property keys KFP writes.
DISPLAY_NAME = "display_name"
TASK_NAME = "task_name"
IMAGE = "image"
POD_NAME = "pod_name"
POD_UID = "pod_uid"
NAMESPACE = "namespace"
RESOURCE_NAME = "resource_name"
PIPELINE_ROOT = "pipeline_root"
STORE_SESSION_INFO = "store_session_info"
CACHE_FINGERPRINT = "cache_fingerprint"
CACHED_EXECUTION_ID = "cached_execution_id"
INPUTS = "inputs"
OUTPUTS = "outputs"
PARENT_DAG_ID = "parent_dag_id"
ITERATION_INDEX = "iteration_index"
ITERATION_COUNT = "iteration_count"
TOTAL_DAG_TASKS = "total_dag_tasks"

# Artifacts in these states are gone as far as the cache is concerned.
_GONE = frozenset({ArtifactState.MARKED_FOR_DELETION, ArtifactState.DELETED,
                   ArtifactState.ABANDONED})

#: Input name → the stored artifacts (or their ids) bound to it.
InputArtifacts: TypeAlias = Mapping[str, Artifact | int | Sequence[Artifact | int]]


@dataclass(frozen=True)
class RunContexts:
    """A run's two contexts: its pipeline and itself."""

    pipeline: Context
    run: Context

    @property
    def context_ids(self) -> list[int]:
        assert self.pipeline.id is not None and self.run.id is not None
        return [self.pipeline.id, self.run.id]


@dataclass(frozen=True)
class CacheHit:
    """A reusable execution and its output artifacts by output name."""

    execution: Execution
    artifacts: dict[str, Artifact] = field(default_factory=dict)

    @property
    def parameters(self) -> dict[str, Any]:
        """The output parameters the execution recorded."""
        return dict(self.execution.custom_properties.get(OUTPUTS) or {})


# Types and runs ----------------------------------------------------------------


def register_types(store: MetadataStore) -> None:
    """Create KFP's system types if absent; all schemaless, as KFP makes them."""
    for name in CONTEXT_TYPES:
        _ensure_type(store, ContextType(name))
    for name in EXECUTION_TYPES:
        _ensure_type(store, ExecutionType(name))
    for name in ARTIFACT_TYPES:
        _ensure_type(store, ArtifactType(name))


def _ensure_type(store: MetadataStore, new: ArtifactType | ExecutionType | ContextType) -> None:
    """Put a schemaless type unless it exists; a read first, so no write lock when it does."""
    try:
        if isinstance(new, ArtifactType):
            store.get_artifact_type(new.name)
        elif isinstance(new, ExecutionType):
            store.get_execution_type(new.name)
        else:
            store.get_context_type(new.name)
    except NotFound:
        # can_omit_fields: a type someone declared with properties is fine too.
        if isinstance(new, ArtifactType):
            store.put_artifact_type(new, can_omit_fields=True)
        elif isinstance(new, ExecutionType):
            store.put_execution_type(new, can_omit_fields=True)
        else:
            store.put_context_type(new, can_omit_fields=True)


def run_pipeline_root(pipeline_root: str, pipeline_name: str, run_id: str) -> str:
    """The run's root as KFP records it: ``<root>/<pipeline>/<run id>``, a query kept last."""
    if not pipeline_root:
        return ""
    base, sep, query = pipeline_root.partition("?")
    return f"{base.rstrip('/')}/{pipeline_name}/{run_id}{sep}{query}"


def open_run(
    store: MetadataStore,
    *,
    pipeline_name: str,
    run_id: str,
    namespace: str = "",
    resource_name: str = "",
    pipeline_root: str = "",
    store_session_info: str = "",
) -> RunContexts:
    """The pipeline and run contexts of a run, created on first use (idempotent)."""
    register_types(store)
    pipeline = store.get_or_create_context(Context(type=PIPELINE_CONTEXT_TYPE, name=pipeline_name))
    run = store.get_or_create_context(Context(
        type=PIPELINE_RUN_CONTEXT_TYPE,
        name=run_id,
        custom_properties={
            NAMESPACE: namespace,
            RESOURCE_NAME: resource_name,
            PIPELINE_ROOT: run_pipeline_root(pipeline_root, pipeline_name, run_id),
            STORE_SESSION_INFO: store_session_info,
        },
    ))
    assert pipeline.id is not None and run.id is not None
    parents = store.get_parent_contexts_by_context(run.id)
    if parents and all(p.id != pipeline.id for p in parents):
        raise BadRequest(
            f"run {run_id!r} belongs to pipeline {parents[0].name!r}, not {pipeline_name!r}"
        )
    if not parents:
        try:
            store.put_parent_contexts([ParentContext(child_id=run.id, parent_id=pipeline.id)])
        except AlreadyExists:
            pass  # another process linked them first
    return RunContexts(pipeline=pipeline, run=run)


def find_run(store: MetadataStore, run_id: str) -> RunContexts | None:
    """The contexts of a run opened before (by any process), or ``None``."""
    run = store.get_context_by_type_and_name(PIPELINE_RUN_CONTEXT_TYPE, run_id)
    if run is None or run.id is None:
        return None
    parents = [p for p in store.get_parent_contexts_by_context(run.id)
               if p.type == PIPELINE_CONTEXT_TYPE]
    return RunContexts(pipeline=parents[0], run=run) if parents else None


# Executions ----------------------------------------------------------------------


def _input_events(input_artifacts: InputArtifacts | None) -> list[Event]:
    events: list[Event] = []
    seen: set[int] = set()
    for name, value in (input_artifacts or {}).items():
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            artifact_id = item if isinstance(item, int) else item.id
            if artifact_id is None:
                raise BadRequest(f"input artifact {name!r} has not been stored (no id)")
            # MLMD keeps one INPUT event per (artifact, execution): an artifact
            # passed to two inputs is recorded under the first name.
            if artifact_id not in seen:
                seen.add(artifact_id)
                events.append(Event(artifact_id=artifact_id, type=EventType.INPUT, path=(name,)))
    return events


def _new_execution(
    *,
    task_name: str,
    execution_type: str,
    display_name: str | None,
    name: str | None,
    state: ExecutionState,
    properties: Mapping[str, Any],
    custom_properties: Mapping[str, Any] | None,
) -> Execution:
    custom: dict[str, Any] = {
        DISPLAY_NAME: task_name if display_name is None else display_name,
        TASK_NAME: task_name,
    }
    custom.update({key: value for key, value in properties.items() if value is not None})
    custom.update(custom_properties or {})
    return Execution(type=execution_type, name=name, last_known_state=state,
                     custom_properties=custom)


def start_execution(
    store: MetadataStore,
    run: RunContexts,
    *,
    task_name: str,
    execution_type: str = CONTAINER_EXECUTION_TYPE,
    display_name: str | None = None,
    name: str | None = None,
    image: str | None = None,
    pod_name: str | None = None,
    pod_uid: str | None = None,
    namespace: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    input_artifacts: InputArtifacts | None = None,
    cache_fingerprint: str | None = None,
    parent_dag_id: int | None = None,
    iteration_index: int | None = None,
    iteration_count: int | None = None,
    total_dag_tasks: int | None = None,
    state: ExecutionState = ExecutionState.RUNNING,
    custom_properties: Mapping[str, Any] | None = None,
) -> Execution:
    """Record that a task (or DAG) started: its execution, INPUT events, both contexts.

    ``inputs`` are the resolved parameter values; ``input_artifacts`` maps
    each input name to stored artifacts (or their ids). A task that will not
    run (a condition was false) starts in state ``CANCELED``, as in KFP.
    """
    execution = _new_execution(
        task_name=task_name, execution_type=execution_type, display_name=display_name,
        name=name, state=state, custom_properties=custom_properties,
        properties={
            IMAGE: image, POD_NAME: pod_name, POD_UID: pod_uid, NAMESPACE: namespace,
            INPUTS: None if inputs is None else dict(inputs),
            CACHE_FINGERPRINT: cache_fingerprint, PARENT_DAG_ID: parent_dag_id,
            ITERATION_INDEX: iteration_index, ITERATION_COUNT: iteration_count,
            TOTAL_DAG_TASKS: total_dag_tasks,
        },
    )
    store.put_execution(
        execution, [(None, event) for event in _input_events(input_artifacts)], run.context_ids
    )
    return execution


def record_inputs(
    store: MetadataStore, execution: Execution, input_artifacts: InputArtifacts
) -> list[Event]:
    """INPUT events for artifacts resolved after the execution started (already recorded
    ones are skipped)."""
    assert execution.id is not None
    recorded = {
        e.artifact_id for e in store.get_events_by_execution_ids([execution.id])
        if e.type is EventType.INPUT
    }
    events = [e for e in _input_events(input_artifacts) if e.artifact_id not in recorded]
    for event in events:
        event.execution_id = execution.id
    store.put_events(events)
    return events


def output_artifact(
    name: str,
    *,
    uri: str,
    schema_title: str = "system.Artifact",
    metadata: Mapping[str, Any] | None = None,
    store_session_info: str | None = None,
) -> Artifact:
    """A new output artifact as KFP records it (not stored until published)."""
    custom = metadata_to_custom_properties(metadata or {})
    custom.setdefault(DISPLAY_NAME, name)
    if store_session_info is not None:
        custom.setdefault(STORE_SESSION_INFO, store_session_info)
    return Artifact(type=schema_title, uri=uri, state=ArtifactState.LIVE,
                    custom_properties=custom)


def _output_pairs(
    store: MetadataStore, outputs: Mapping[str, Artifact]
) -> list[tuple[Artifact | None, Event]]:
    pairs: list[tuple[Artifact | None, Event]] = []
    for name, artifact in outputs.items():
        event = Event(type=EventType.OUTPUT, path=(name,))
        if artifact.id is not None:
            event.artifact_id = artifact.id
            pairs.append((None, event))
            continue
        if artifact.type_id is None:
            if artifact.type is None:
                raise BadRequest(f"output artifact {name!r} has no type (schema title)")
            _ensure_type(store, ArtifactType(artifact.type))
        if artifact.state is ArtifactState.UNKNOWN:
            artifact.state = ArtifactState.LIVE
        artifact.custom_properties.setdefault(DISPLAY_NAME, name)
        pairs.append((artifact, event))
    return pairs


def publish_execution(
    store: MetadataStore,
    execution: Execution,
    run: RunContexts,
    *,
    state: ExecutionState,
    outputs: Mapping[str, Artifact] | None = None,
    output_parameters: Mapping[str, Any] | None = None,
) -> dict[str, Artifact]:
    """Finish an execution in one transaction: its state, output parameters, and the
    output artifacts (new ones stored) with OUTPUT events, attributed to both contexts.

    Returns the outputs by name, now with ids.
    """
    if execution.id is None:
        raise BadRequest("publish_execution takes a started execution (one with an id)")
    outputs = dict(outputs or {})
    execution.last_known_state = state
    if output_parameters is not None:
        execution.custom_properties[OUTPUTS] = dict(output_parameters)
    store.put_execution(execution, _output_pairs(store, outputs), run.context_ids)
    return outputs


def complete_execution(
    store: MetadataStore,
    execution: Execution,
    run: RunContexts,
    *,
    outputs: Mapping[str, Artifact] | None = None,
    output_parameters: Mapping[str, Any] | None = None,
) -> dict[str, Artifact]:
    """:func:`publish_execution` with state ``COMPLETE``."""
    return publish_execution(store, execution, run, state=ExecutionState.COMPLETE,
                             outputs=outputs, output_parameters=output_parameters)


def fail_execution(
    store: MetadataStore,
    execution: Execution,
    run: RunContexts,
    *,
    outputs: Mapping[str, Artifact] | None = None,
) -> dict[str, Artifact]:
    """:func:`publish_execution` with state ``FAILED`` (outputs written before failing
    may still be recorded)."""
    return publish_execution(store, execution, run, state=ExecutionState.FAILED, outputs=outputs)


def mark_cached(
    store: MetadataStore, execution: Execution, run: RunContexts, hit: CacheHit
) -> dict[str, Artifact]:
    """Record a cache hit: state ``CACHED``, ``cached_execution_id``, the reused output
    parameters, and OUTPUT events to the reused artifacts (attributed to this run)."""
    execution.custom_properties[CACHED_EXECUTION_ID] = str(hit.execution.id)
    return publish_execution(
        store, execution, run, state=ExecutionState.CACHED, outputs=hit.artifacts,
        output_parameters=hit.parameters if OUTPUTS in hit.execution.custom_properties else None,
    )


def record_task(
    store: MetadataStore,
    run: RunContexts,
    *,
    task_name: str,
    state: ExecutionState = ExecutionState.COMPLETE,
    execution_type: str = CONTAINER_EXECUTION_TYPE,
    display_name: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    input_artifacts: InputArtifacts | None = None,
    outputs: Mapping[str, Artifact] | None = None,
    output_parameters: Mapping[str, Any] | None = None,
    custom_properties: Mapping[str, Any] | None = None,
) -> Execution:
    """Record a whole task after the fact — execution, inputs, outputs — in one transaction."""
    execution = _new_execution(
        task_name=task_name, execution_type=execution_type, display_name=display_name,
        name=None, state=state, custom_properties=custom_properties,
        properties={
            INPUTS: None if inputs is None else dict(inputs),
            OUTPUTS: None if output_parameters is None else dict(output_parameters),
        },
    )
    pairs: list[tuple[Artifact | None, Event]] = [
        (None, event) for event in _input_events(input_artifacts)
    ]
    pairs += _output_pairs(store, dict(outputs or {}))
    store.put_execution(execution, pairs, run.context_ids)
    return execution


# Reading back --------------------------------------------------------------------


def output_artifacts(store: MetadataStore, execution_id: int) -> dict[str, Artifact]:
    """The execution's OUTPUT artifacts by output name."""
    return {name: found[-1] for name, found in _artifacts_by_event(
        store, execution_id, EventType.OUTPUT).items()}


def input_artifacts(store: MetadataStore, execution_id: int) -> dict[str, list[Artifact]]:
    """The execution's INPUT artifacts by input name."""
    return _artifacts_by_event(store, execution_id, EventType.INPUT)


def _artifacts_by_event(
    store: MetadataStore, execution_id: int, kind: EventType
) -> dict[str, list[Artifact]]:
    events = [e for e in store.get_events_by_execution_ids([execution_id]) if e.type is kind]
    artifacts = {a.id: a for a in store.get_artifacts_by_id(
        e.artifact_id for e in events if e.artifact_id is not None)}
    result: dict[str, list[Artifact]] = {}
    for event in events:
        result.setdefault(event.key or "", []).append(artifacts[event.artifact_id])
    return result


def find_cached_execution(
    store: MetadataStore,
    fingerprint: str,
    *,
    artifact_exists: Callable[[Artifact], bool] | None = None,
    pipeline_name: str | None = None,
    namespace: str | None = None,
) -> CacheHit | None:
    """The newest ``COMPLETE`` execution with this cache fingerprint whose outputs all
    still exist, or ``None``; optionally only within a pipeline and/or namespace."""
    context_id = None
    if pipeline_name is not None:
        pipeline = store.get_context_by_type_and_name(PIPELINE_CONTEXT_TYPE, pipeline_name)
        if pipeline is None:
            return None
        context_id = pipeline.id
    wanted: dict[str, Any] = {CACHE_FINGERPRINT: fingerprint}
    if namespace is not None:
        wanted[NAMESPACE] = namespace
    candidates = store.get_executions(
        custom_properties=wanted, state=ExecutionState.COMPLETE, context_id=context_id,
        order_by="create_time_since_epoch", descending=True,
    )
    for candidate in candidates:
        assert candidate.id is not None
        artifacts = output_artifacts(store, candidate.id)
        if all(
            a.state not in _GONE and (artifact_exists is None or artifact_exists(a))
            for a in artifacts.values()
        ):
            return CacheHit(execution=candidate, artifacts=artifacts)
    return None


# Artifact metadata ------------------------------------------------------------------


def metadata_to_custom_properties(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """An artifact's ``metadata`` as KFP stores it: numbers → float, bools → 0/1,
    lists → ``{"list": …}``, dicts → ``{"struct": …}``; ``None`` values are dropped."""
    result: dict[str, Any] = {}
    for key, value in metadata.items():
        if value is None:
            continue
        if isinstance(value, bool):
            result[key] = int(value)
        elif isinstance(value, (int, float)):
            result[key] = float(value)
        elif isinstance(value, str):
            result[key] = value
        elif isinstance(value, (list, tuple)):
            result[key] = {"list": list(value)}
        elif isinstance(value, Mapping):
            result[key] = {"struct": dict(value)}
        else:
            raise BadRequest(f"artifact metadata {key!r}: a {type(value).__name__} is not JSON")
    return result


def artifact_metadata(artifact: Artifact, *, unwrap: bool = False) -> dict[str, Any]:
    """The ``metadata`` KFP hands a downstream task for a stored artifact: every property
    and custom property, ints as floats (JSON numbers). KFP leaves lists and dicts in
    their ``{"list": …}`` / ``{"struct": …}`` wrappers; ``unwrap`` removes them."""
    result: dict[str, Any] = {}
    for values in (artifact.properties, artifact.custom_properties):
        for key, value in values.items():
            if isinstance(value, bool):
                result[key] = value
            elif isinstance(value, (int, float)):
                result[key] = float(value)
            elif isinstance(value, (str, list)):
                result[key] = value
            elif isinstance(value, dict):
                if unwrap and len(value) == 1 and next(iter(value)) in ("list", "struct"):
                    value = next(iter(value.values()))
                result[key] = value
    return result
