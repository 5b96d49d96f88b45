"""Lineage: upstream and downstream walks over events, runs by URI."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sandbox.api.errors import NotFound
from sandbox.components.metadata import (
    Artifact,
    EventType,
    MetadataStore,
    downstream,
    producer,
    runs_using_uri,
    upstream,
)
from sandbox.components.metadata.kfp import (
    IMPORTER_EXECUTION_TYPE,
    RunContexts,
    find_cached_execution,
    mark_cached,
    open_run,
    output_artifact,
    record_task,
    start_execution,
)

DATA_URI = "minio://mlpipeline/v2/artifacts/p/run-1/prepare/dataset"
MODEL_URI = "minio://mlpipeline/v2/artifacts/p/run-1/train/model"


@dataclass
class World:
    """Run 1: prepare → dataset → train → model → evaluate (also reads the dataset) → metrics.
    Run 2 trains another model on the same dataset. Run 3 imports the dataset's URI as a
    new artifact and trains on it. Run 4 hits the cache for run 1's train."""

    runs: dict[str, RunContexts]
    dataset: Artifact
    model: Artifact
    metrics: Artifact
    model2: Artifact
    imported: Artifact
    executions: dict[str, int]


@pytest.fixture
def world(mlmd: MetadataStore) -> World:
    runs = {f"run-{i}": open_run(mlmd, pipeline_name="p", run_id=f"run-{i}") for i in range(1, 5)}
    ids: dict[str, int] = {}

    def task(run: str, name: str, **kwargs) -> None:
        ids[name] = record_task(mlmd, runs[run], task_name=name, **kwargs).id

    dataset = output_artifact("dataset", uri=DATA_URI, schema_title="system.Dataset")
    task("run-1", "prepare", outputs={"dataset": dataset})
    model = output_artifact("model", uri=MODEL_URI, schema_title="system.Model")
    task("run-1", "train", input_artifacts={"dataset": dataset}, outputs={"model": model},
         custom_properties={"cache_fingerprint": "fp-train"})
    metrics = output_artifact("metrics", uri="minio://x/metrics", schema_title="system.Metrics")
    task("run-1", "evaluate", input_artifacts={"model": model, "test_data": dataset},
         outputs={"metrics": metrics})
    model2 = output_artifact("model", uri="minio://x/model2", schema_title="system.Model")
    task("run-2", "train-2", input_artifacts={"dataset": dataset}, outputs={"model": model2})
    imported = output_artifact("artifact", uri=DATA_URI, schema_title="system.Dataset")
    task("run-3", "importer", execution_type=IMPORTER_EXECUTION_TYPE,
         outputs={"artifact": imported})
    task("run-3", "train-3", input_artifacts={"dataset": imported},
         outputs={"model": output_artifact("model", uri="minio://x/model3",
                                           schema_title="system.Model")})
    cached = start_execution(mlmd, runs["run-4"], task_name="train",
                             input_artifacts={"dataset": dataset})
    hit = find_cached_execution(mlmd, "fp-train")
    assert hit is not None
    mark_cached(mlmd, cached, runs["run-4"], hit)
    ids["train-cached"] = cached.id
    return World(runs, dataset, model, metrics, model2, imported, ids)


def _steps(graph) -> list[tuple[int, str]]:
    return [(s.depth, s.execution.custom_properties["task_name"]) for s in graph.steps]


def test_upstream_of_a_model_is_its_producer_and_the_producers_of_its_inputs(mlmd, world):
    graph = upstream(mlmd, world.model.id)
    assert _steps(graph) == [(1, "train"), (2, "prepare")]
    train = graph.steps[0]
    assert [a.id for a in train.inputs["dataset"]] == [world.dataset.id]
    assert [a.id for a in train.outputs["model"]] == [world.model.id]
    assert train.context().name == "run-1"
    assert set(graph.artifacts) == {world.dataset.id, world.model.id}
    assert [r.name for r in graph.runs()] == ["run-1"]
    assert not graph.truncated


def test_upstream_across_three_executions_reaches_every_ancestor_once(mlmd, world):
    graph = upstream(mlmd, world.metrics.id)
    assert _steps(graph) == [(1, "evaluate"), (2, "prepare"), (2, "train")]
    evaluate = graph.steps[0]
    assert sorted(evaluate.inputs) == ["model", "test_data"]
    assert set(graph.executions) == {world.executions[n] for n in ("evaluate", "train", "prepare")}
    assert {c.type for c in graph.contexts.values()} == {"system.Pipeline", "system.PipelineRun"}


def test_a_depth_limit_cuts_the_walk_and_says_so(mlmd, world):
    one = upstream(mlmd, world.metrics.id, max_depth=1)
    assert _steps(one) == [(1, "evaluate")] and one.truncated
    assert set(one.artifacts) == {world.metrics.id, world.model.id, world.dataset.id}
    none = upstream(mlmd, world.metrics.id, max_depth=0)
    assert none.steps == [] and none.truncated
    assert not upstream(mlmd, world.metrics.id, max_depth=2).truncated


def test_upstream_skips_cache_hits_unless_asked(mlmd, world):
    assert "train-cached" not in [t for _, t in _steps(upstream(mlmd, world.model.id))]
    with_cached = upstream(mlmd, world.model.id, include_cached=True)
    assert world.executions["train-cached"] in with_cached.executions
    assert producer(mlmd, world.model.id).id == world.executions["train"]
    assert producer(mlmd, world.dataset.id).id == world.executions["prepare"]
    assert producer(mlmd, world.imported.id).type == IMPORTER_EXECUTION_TYPE


def test_downstream_of_a_dataset_lists_the_executions_and_runs_that_used_it(mlmd, world):
    graph = downstream(mlmd, world.dataset.id)
    assert _steps(graph) == [(1, "train"), (1, "evaluate"), (1, "train-2"), (1, "train")]
    assert [r.name for r in graph.runs()] == ["run-1", "run-2", "run-4"]
    assert [r.name for r in downstream(mlmd, world.dataset.id, include_cached=False).runs()] == [
        "run-1", "run-2"]
    assert [r.name for r in graph.runs("system.Pipeline")] == ["p"]


def test_downstream_follows_outputs_to_their_consumers(mlmd, world):
    graph = downstream(mlmd, world.model2.id)
    assert graph.steps == [] and not graph.truncated
    by_model = downstream(mlmd, world.model.id)
    assert _steps(by_model) == [(1, "evaluate")]
    assert [a.id for a in by_model.steps[0].outputs["metrics"]] == [world.metrics.id]


def test_runs_using_a_uri_include_every_artifact_record_of_it(mlmd, world):
    assert [r.name for r in runs_using_uri(mlmd, DATA_URI)] == ["run-1", "run-2", "run-3", "run-4"]
    assert [r.name for r in runs_using_uri(mlmd, MODEL_URI)] == ["run-1"]
    assert [r.name for r in runs_using_uri(mlmd, MODEL_URI, include_producers=True)] == [
        "run-1", "run-4"]
    assert runs_using_uri(mlmd, "minio://nowhere") == []


def test_edges_point_from_what_was_read_to_what_was_written(mlmd, world):
    graph = upstream(mlmd, world.model.id, max_depth=1)
    train = ("execution", world.executions["train"])
    edges = {(source, target, event.type) for source, target, event in graph.edges()}
    assert edges == {
        (("artifact", world.dataset.id), train, EventType.INPUT),
        (train, ("artifact", world.model.id), EventType.OUTPUT),
    }


def test_an_artifact_nobody_touched_has_an_empty_lineage(mlmd, world):
    stray = Artifact(type="system.Artifact", uri="minio://x/stray")
    mlmd.put_artifacts([stray])
    graph = upstream(mlmd, stray.id)
    assert graph.steps == [] and not graph.truncated and list(graph.artifacts) == [stray.id]
    assert producer(mlmd, stray.id) is None
    with pytest.raises(NotFound):
        downstream(mlmd, 9999)
