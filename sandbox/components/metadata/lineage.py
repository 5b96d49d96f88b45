"""Lineage queries: where an artifact came from, and where it went.

The store's events make a bipartite graph: an ``OUTPUT`` event is an edge
execution → artifact ("wrote"), an ``INPUT`` event an edge artifact →
execution ("read"). Lineage is a breadth-first walk of that graph from one
artifact, one hop of executions per level:

* :func:`upstream` — "where did this model come from": the executions that
  wrote the artifact (depth 1), the artifacts they read, the executions that
  wrote *those* (depth 2), and so on;
* :func:`downstream` — "which runs used this dataset": the executions that
  read the artifact (depth 1), what they wrote, who read that …, each
  execution with its contexts so the runs are at hand
  (:meth:`LineageGraph.runs`);
* :func:`runs_using_uri` — the run contexts whose executions read an artifact
  stored at a URI (several artifact records can share one URI: every importer
  of the same file makes one).

``max_depth`` bounds the walk in execution levels; a graph cut short says so
(``truncated``). A cache hit (an execution in state ``CACHED``) has OUTPUT
events to the artifacts of the execution it reused but wrote nothing, so
upstream walks skip it unless asked; downstream walks keep it — its run did
use the artifact.

Every level costs two queries (events by artifact ids, events by execution
ids) plus the nodes, whatever the fan-out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from .kfp import PIPELINE_RUN_CONTEXT_TYPE
from .model import (
    INPUT_EVENT_TYPES,
    OUTPUT_EVENT_TYPES,
    Artifact,
    Association,
    Context,
    Event,
    EventType,
    Execution,
    ExecutionState,
)
from .store import MetadataStore

__all__ = ["LineageGraph", "LineageStep", "downstream", "producer", "runs_using_uri", "upstream"]

Direction = Literal["upstream", "downstream"]


@dataclass
class LineageStep:
    """One execution of a lineage walk, with what it read and wrote.

    ``inputs`` and ``outputs`` are keyed by the name the execution gave each
    artifact (its event's path key; ``""`` when the event has none).
    """

    depth: int
    execution: Execution
    inputs: dict[str, list[Artifact]] = field(default_factory=dict)
    outputs: dict[str, list[Artifact]] = field(default_factory=dict)
    contexts: list[Context] = field(default_factory=list)

    def context(self, type_name: str = PIPELINE_RUN_CONTEXT_TYPE) -> Context | None:
        """The execution's context of that type (its run, by default)."""
        return next((c for c in self.contexts if c.type == type_name), None)


@dataclass
class LineageGraph:
    """The part of the provenance graph one walk reached."""

    artifact: Artifact
    direction: Direction
    artifacts: dict[int, Artifact] = field(default_factory=dict)
    executions: dict[int, Execution] = field(default_factory=dict)
    contexts: dict[int, Context] = field(default_factory=dict)
    #: The events of every execution reached (their inputs and outputs).
    events: list[Event] = field(default_factory=list)
    associations: list[Association] = field(default_factory=list)
    #: The executions in walk order: by depth, then id.
    steps: list[LineageStep] = field(default_factory=list)
    #: ``max_depth`` stopped the walk before it ran out of executions.
    truncated: bool = False

    def edges(self) -> list[tuple[tuple[str, int], tuple[str, int], Event]]:
        """``(source, target, event)`` with nodes as ``("artifact", id)`` /
        ``("execution", id)``: reads point artifact → execution, writes
        execution → artifact (ready for a graph library)."""
        result = []
        for event in self.events:
            assert event.artifact_id is not None and event.execution_id is not None
            artifact, execution = ("artifact", event.artifact_id), ("execution", event.execution_id)
            if event.type in OUTPUT_EVENT_TYPES or event.type is EventType.PENDING_OUTPUT:
                result.append((execution, artifact, event))
            else:
                result.append((artifact, execution, event))
        return result

    def runs(self, type_name: str = PIPELINE_RUN_CONTEXT_TYPE) -> list[Context]:
        """The contexts of that type (runs, by default) of the executions reached."""
        return [c for c in sorted(self.contexts.values(), key=_by_id) if c.type == type_name]


def _by_id(node: Artifact | Execution | Context) -> int:
    return node.id or 0


def upstream(
    store: MetadataStore, artifact_id: int, *, max_depth: int | None = None,
    include_cached: bool = False,
) -> LineageGraph:
    """Where the artifact came from: its producers, their inputs, recursively."""
    return _walk(store, artifact_id, "upstream", max_depth, include_cached)


def downstream(
    store: MetadataStore, artifact_id: int, *, max_depth: int | None = None,
    include_cached: bool = True,
) -> LineageGraph:
    """Where the artifact went: its consumers, their outputs, recursively."""
    return _walk(store, artifact_id, "downstream", max_depth, include_cached)


def producer(store: MetadataStore, artifact_id: int) -> Execution | None:
    """The execution that wrote the artifact (the first, when several did); not a cache hit."""
    graph = upstream(store, artifact_id, max_depth=1)
    return graph.steps[0].execution if graph.steps else None


def runs_using_uri(
    store: MetadataStore, uri: str, *, include_producers: bool = False,
    type_name: str = PIPELINE_RUN_CONTEXT_TYPE,
) -> list[Context]:
    """The runs (contexts of ``type_name``) whose executions read an artifact at ``uri``;
    with ``include_producers`` also those that wrote one."""
    artifact_ids = [a.id for a in store.get_artifacts_by_uri(uri) if a.id is not None]
    wanted = INPUT_EVENT_TYPES | (OUTPUT_EVENT_TYPES if include_producers else frozenset())
    execution_ids = sorted({
        e.execution_id
        for e in store.get_events_by_artifact_ids(artifact_ids)
        if e.type in wanted and e.execution_id is not None
    })
    runs: dict[int, Context] = {}
    for execution_id in execution_ids:
        for context in store.get_contexts_by_execution(execution_id):
            if context.type == type_name and context.id is not None:
                runs[context.id] = context
    return [runs[i] for i in sorted(runs)]


def _walk(
    store: MetadataStore, artifact_id: int, direction: Direction, max_depth: int | None,
    include_cached: bool,
) -> LineageGraph:
    root = store.get_artifact(artifact_id)
    graph = LineageGraph(artifact=root, direction=direction)
    # Upstream: artifact ← (written by) execution ← (read) artifact ...
    # Downstream: artifact → (read by) execution → (wrote) artifact ...
    joins, continues = (
        (OUTPUT_EVENT_TYPES, INPUT_EVENT_TYPES)
        if direction == "upstream"
        else (INPUT_EVENT_TYPES, OUTPUT_EVENT_TYPES)
    )
    seen_artifacts = {artifact_id}
    seen_executions: set[int] = set()
    frontier = {artifact_id}
    depth = 0
    levels: list[tuple[int, list[Execution]]] = []
    while frontier:
        candidates = _execution_ids(store.get_events_by_artifact_ids(frontier), joins)
        candidates -= seen_executions
        level = [
            e for e in store.get_executions_by_id(candidates)
            if include_cached or e.last_known_state is not ExecutionState.CACHED
        ]
        if not level:
            break
        if max_depth is not None and depth >= max_depth:
            graph.truncated = True
            break
        depth += 1
        seen_executions.update(candidates)
        levels.append((depth, level))
        events = store.get_events_by_execution_ids([e.id for e in level if e.id is not None])
        graph.events.extend(events)
        frontier = {
            e.artifact_id for e in events
            if e.type in continues and e.artifact_id is not None
        } - seen_artifacts
        seen_artifacts |= frontier

    touched = {e.artifact_id for e in graph.events if e.artifact_id is not None}
    graph.artifacts = {a.id: a for a in store.get_artifacts_by_id(touched | {artifact_id})
                       if a.id is not None}
    events_of: dict[int, list[Event]] = {}
    for event in graph.events:
        assert event.execution_id is not None
        events_of.setdefault(event.execution_id, []).append(event)
    for level_depth, executions in levels:
        for execution in sorted(executions, key=_by_id):
            assert execution.id is not None
            graph.executions[execution.id] = execution
            contexts = store.get_contexts_by_execution(execution.id)
            for context in contexts:
                assert context.id is not None
                graph.contexts[context.id] = context
                graph.associations.append(Association(execution.id, context.id))
            step = LineageStep(depth=level_depth, execution=execution, contexts=contexts)
            for event in events_of.get(execution.id, []):
                assert event.artifact_id is not None
                side = step.outputs if event.type in OUTPUT_EVENT_TYPES else step.inputs
                if event.type in OUTPUT_EVENT_TYPES or event.type in INPUT_EVENT_TYPES:
                    side.setdefault(event.key or "", []).append(graph.artifacts[event.artifact_id])
            graph.steps.append(step)
    return graph


def _execution_ids(events: Iterable[Event], types: frozenset[EventType]) -> set[int]:
    return {e.execution_id for e in events if e.type in types and e.execution_id is not None}
