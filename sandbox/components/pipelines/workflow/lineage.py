"""The workflow controller's ML Metadata recorder: executions, their inputs and outputs, the cache.

Implements :class:`~sandbox.components.pipelines.workflow.engine.Recorder`
over :mod:`sandbox.components.metadata` with KFP's conventions:

- a run is two contexts, ``system.Pipeline`` (the pipeline's name) and
  ``system.PipelineRun`` (the run id), opened on the run's first task;
- each container task is a ``system.ContainerExecution`` with the task's
  name, pod, image, namespace, resolved inputs and cache fingerprint,
  associated with both contexts; its input artifacts get ``INPUT`` events
  (found by URI: every artifact a task consumes was recorded when it was
  produced, or imported); its outputs are stored as artifacts of their
  ``schemaTitle`` with the metadata the component logged (``Metrics``
  values), ``OUTPUT`` events and attributions to both contexts;
- the cache: the newest ``COMPLETE`` execution with the same fingerprint, in
  the same namespace, whose output files are still in the artifact store. A
  hit is recorded as a ``CACHED`` execution pointing at it
  (``cached_execution_id``), with ``OUTPUT`` events to the reused artifacts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sandbox.components.metadata import MetadataStore, kfp
from sandbox.components.metadata.model import Artifact, Execution, ExecutionState
from sandbox.components.pipelines.workflow.engine import CachedTask, TaskRecord

__all__ = ["MetadataRecorder"]

_METADATA_ONLY = frozenset({"system.Metrics", "system.ClassificationMetrics", "system.SlicedClassificationMetrics"})


class MetadataRecorder:
    """Records one run's tasks in ML Metadata (see the module docstring)."""

    def __init__(self, store: MetadataStore, *, pipeline_name: str, run_id: str, namespace: str,
                 resource_name: str, pipeline_root: str, artifact_exists: Callable[[str], bool],
                 opened: dict[tuple[str, str], kfp.RunContexts] | None = None,
                 running: dict[int, Execution] | None = None) -> None:
        """``opened``: run contexts already opened, by (pipeline, run id); ``running``: the
        executions started and not yet finished, by id. Both are shared between the recorders
        of a run's steps (one per reconcile) so that a step does not read them back."""
        self.store = store
        self.pipeline_name = pipeline_name
        self.run_id = run_id
        self.namespace = namespace
        self.resource_name = resource_name
        self.pipeline_root = pipeline_root
        self.artifact_exists = artifact_exists
        self._opened = opened if opened is not None else {}
        self._running = running if running is not None else {}

    @property
    def run(self) -> kfp.RunContexts:
        key = (self.pipeline_name, self.run_id)
        if key not in self._opened:
            self._opened[key] = kfp.open_run(
                self.store, pipeline_name=self.pipeline_name, run_id=self.run_id, namespace=self.namespace,
                resource_name=self.resource_name, pipeline_root=self.pipeline_root)
        return self._opened[key]

    def lookup(self, fingerprint: str) -> CachedTask | None:
        hit = kfp.find_cached_execution(self.store, fingerprint, namespace=self.namespace,
                                        artifact_exists=self._still_there)
        if hit is None:
            return None
        run_of = [c.name for c in self.store.get_contexts_by_execution(hit.execution.id or 0)
                  if c.type == kfp.PIPELINE_RUN_CONTEXT_TYPE]
        return CachedTask(
            execution_id=hit.execution.id or 0, run_id=run_of[0] if run_of else "",
            parameters=hit.parameters,
            artifacts={name: [_artifact_dict(name, a)] for name, a in hit.artifacts.items()},
            handle=hit)

    def _still_there(self, artifact: Artifact) -> bool:
        """Metrics live in the artifact's metadata (``log_metric`` writes no file); others need their file."""
        return artifact.type in _METADATA_ONLY or self.artifact_exists(artifact.uri or "")

    def _inputs(self, artifacts: Mapping[str, list[dict[str, Any]]]) -> dict[str, list[Artifact]]:
        found: dict[str, list[Artifact]] = {}
        for name, entries in artifacts.items():
            for entry in entries:
                stored = self.store.get_artifacts(uri=str(entry.get("uri", "")), order_by="id", descending=True,
                                                  limit=1)
                if stored:
                    found.setdefault(name, []).append(stored[0])
        return found

    def _start(self, task: TaskRecord, state: ExecutionState) -> Execution:
        return kfp.start_execution(
            self.store, self.run, task_name=task.task_name, display_name=task.display_name,
            pod_name=task.pod_name, image=task.image, namespace=self.namespace,
            inputs=dict(task.parameters), input_artifacts=self._inputs(task.artifacts),
            cache_fingerprint=task.fingerprint, state=state)

    def started(self, task: TaskRecord) -> int | None:
        execution = self._start(task, ExecutionState.RUNNING)
        if execution.id is not None:
            self._running[execution.id] = execution
        return execution.id

    def cached(self, task: TaskRecord, hit: CachedTask) -> int | None:
        execution = self._start(task, ExecutionState.RUNNING)
        kfp.mark_cached(self.store, execution, self.run, hit.handle)
        return execution.id

    def finished(self, execution: int | str | None, *, succeeded: bool, parameters: Mapping[str, Any],
                 artifacts: Mapping[str, list[dict[str, Any]]]) -> None:
        if execution is None:
            return
        known = self._running.pop(int(execution), None)
        found = [known] if known is not None else self.store.get_executions(ids=[int(execution)])
        if not found:
            return
        outputs = {name: kfp.output_artifact(name, uri=str(entries[0]["uri"]),
                                             schema_title=str(entries[0].get("type", {}).get("schemaTitle")
                                                              or "system.Artifact"),
                                             metadata=entries[0].get("metadata") or {})
                   for name, entries in artifacts.items() if entries}
        if succeeded:
            kfp.complete_execution(self.store, found[0], self.run, outputs=outputs,
                                   output_parameters=dict(parameters))
        else:
            kfp.fail_execution(self.store, found[0], self.run, outputs=outputs)


def _artifact_dict(name: str, artifact: Artifact) -> dict[str, Any]:
    return {"name": name, "uri": artifact.uri or "",
            "metadata": {k: v for k, v in kfp.artifact_metadata(artifact, unwrap=True).items()
                         if k not in (kfp.DISPLAY_NAME, kfp.STORE_SESSION_INFO)},
            "type": {"schemaTitle": artifact.type or "system.Artifact", "schemaVersion": "0.0.1"}}
