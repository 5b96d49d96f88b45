"""ML Metadata (MLMD) for the sandbox: what ran, what it read, what it wrote.

Kubeflow Pipelines records every task in an ML Metadata store; the KFP UI's
run graph, Artifacts, Executions and lineage pages read it back, and the
pipeline cache finds reusable results in it. This package is that store for
the sandbox: a library over one SQLite file in the sandbox home (no server,
no cluster), which the workflow controller writes and the pipelines API reads.

Modules, bottom up:

* :mod:`.model` — MLMD's data model as dataclasses and enums (types;
  artifacts, executions, contexts; events, attributions, associations,
  parent contexts), names and enum numbers as in MLMD's protos;
* :mod:`.schema` — the SQLite tables, shaped like MLMD's own;
* :mod:`.store` — :class:`MetadataStore`, MLMD's ``MetadataStore`` API
  (``put_execution``, ``get_artifacts_by_context`` …), transactional,
  thread-safe, and safe for several processes on one file;
* :mod:`.kfp` — KFP's conventions: the ``system.*`` types, opening a run,
  recording a task's execution, inputs, outputs and final state, cache hits
  and the cache lookup;
* :mod:`.lineage` — walks over events: upstream ("where did this model come
  from"), downstream ("which runs used this dataset"), runs by artifact URI.

The pipelines use this package, never the reverse (an import-linter contract),
and it imports neither ``kfp`` nor ``ml_metadata``.
"""

from __future__ import annotations

from . import kfp
from .lineage import LineageGraph, LineageStep, downstream, producer, runs_using_uri, upstream
from .model import (
    INPUT_EVENT_TYPES,
    OUTPUT_EVENT_TYPES,
    Artifact,
    ArtifactBaseType,
    ArtifactState,
    ArtifactType,
    Association,
    Attribution,
    Context,
    ContextBaseType,
    ContextType,
    Event,
    EventType,
    Execution,
    ExecutionBaseType,
    ExecutionState,
    ExecutionType,
    ParentContext,
    PropertyType,
    ProtoValue,
    property_type_of,
)
from .store import MEMORY, MetadataStore

__all__ = [
    "INPUT_EVENT_TYPES",
    "MEMORY",
    "OUTPUT_EVENT_TYPES",
    "Artifact",
    "ArtifactBaseType",
    "ArtifactState",
    "ArtifactType",
    "Association",
    "Attribution",
    "Context",
    "ContextBaseType",
    "ContextType",
    "Event",
    "EventType",
    "Execution",
    "ExecutionBaseType",
    "ExecutionState",
    "ExecutionType",
    "LineageGraph",
    "LineageStep",
    "MetadataStore",
    "ParentContext",
    "PropertyType",
    "ProtoValue",
    "downstream",
    "kfp",
    "producer",
    "property_type_of",
    "runs_using_uri",
    "upstream",
]
