"""KFP's recording conventions: runs, task executions, outputs, cache hits."""

from __future__ import annotations

import pytest

from sandbox.api.errors import BadRequest
from sandbox.clock import FakeClock
from sandbox.components.metadata import (
    Artifact,
    ArtifactState,
    ArtifactType,
    EventType,
    Execution,
    ExecutionState,
    MetadataStore,
    PropertyType,
    kfp,
)
from sandbox.components.metadata.kfp import (
    CacheHit,
    RunContexts,
    artifact_metadata,
    complete_execution,
    fail_execution,
    find_cached_execution,
    find_run,
    input_artifacts,
    mark_cached,
    metadata_to_custom_properties,
    open_run,
    output_artifact,
    output_artifacts,
    record_inputs,
    record_task,
    start_execution,
)


@pytest.fixture
def run(mlmd: MetadataStore) -> RunContexts:
    return open_run(mlmd, pipeline_name="train-pipeline", run_id="run-1", namespace="alice",
                    resource_name="train-pipeline-abc", pipeline_root="minio://mlpipeline/v2/artifacts")


def _train(store: MetadataStore, run: RunContexts, *, fingerprint: str = "fp-1",
           uri: str = "minio://mlpipeline/v2/artifacts/model") -> tuple[int, Artifact]:
    execution = start_execution(store, run, task_name="train", cache_fingerprint=fingerprint,
                                namespace="alice")
    outputs = complete_execution(store, execution, run, outputs={
        "model": output_artifact("model", uri=uri, schema_title="system.Model"),
    }, output_parameters={"Output": 0.9})
    assert execution.id is not None
    return execution.id, outputs["model"]


def test_register_types_creates_the_system_types_once(mlmd):
    kfp.register_types(mlmd)
    kfp.register_types(mlmd)
    assert [t.name for t in mlmd.get_artifact_types()] == list(kfp.ARTIFACT_TYPES)
    assert [t.name for t in mlmd.get_execution_types()] == list(kfp.EXECUTION_TYPES)
    assert [t.name for t in mlmd.get_context_types()] == list(kfp.CONTEXT_TYPES)


def test_register_types_accepts_a_system_type_declared_with_properties(mlmd):
    mlmd.put_artifact_type(ArtifactType("system.Model", properties={"x": PropertyType.INT}))
    kfp.register_types(mlmd)
    assert mlmd.get_artifact_type("system.Model").properties == {"x": PropertyType.INT}


def test_open_run_makes_a_pipeline_context_and_a_run_context_under_it(mlmd, run):
    assert run.pipeline.type == "system.Pipeline" and run.pipeline.name == "train-pipeline"
    assert run.run.type == "system.PipelineRun" and run.run.name == "run-1"
    assert run.run.custom_properties == {
        "namespace": "alice",
        "resource_name": "train-pipeline-abc",
        "pipeline_root": "minio://mlpipeline/v2/artifacts/train-pipeline/run-1",
        "store_session_info": "",
    }
    assert [p.id for p in mlmd.get_parent_contexts_by_context(run.run.id)] == [run.pipeline.id]
    again = open_run(mlmd, pipeline_name="train-pipeline", run_id="run-1")
    assert again.context_ids == run.context_ids
    assert find_run(mlmd, "run-1") == again
    assert find_run(mlmd, "run-2") is None


def test_a_run_id_belongs_to_one_pipeline(mlmd, run):
    with pytest.raises(BadRequest, match="belongs to pipeline 'train-pipeline'"):
        open_run(mlmd, pipeline_name="other", run_id="run-1")


def test_the_run_root_keeps_a_query_last():
    assert kfp.run_pipeline_root("s3://b/root/?region=x", "p", "r") == "s3://b/root/p/r?region=x"
    assert kfp.run_pipeline_root("", "p", "r") == ""


def test_start_execution_records_the_task_its_inputs_and_both_contexts(mlmd, run):
    [_, data] = _train(mlmd, run)
    execution = start_execution(
        mlmd, run, task_name="evaluate", display_name="Evaluate", image="python:3.11",
        pod_name="p-1", pod_uid="uid-1", namespace="alice", inputs={"threshold": 0.5, "n": 3},
        input_artifacts={"model": data, "same-model-again": [data.id]}, cache_fingerprint="fp-e",
        parent_dag_id=7, iteration_index=2, custom_properties={"plugins.x": "y"},
    )
    stored = mlmd.get_execution(execution.id)
    assert stored.type == "system.ContainerExecution"
    assert stored.last_known_state is ExecutionState.RUNNING
    assert stored.custom_properties == {
        "display_name": "Evaluate", "task_name": "evaluate", "image": "python:3.11",
        "pod_name": "p-1", "pod_uid": "uid-1", "namespace": "alice",
        "inputs": {"threshold": 0.5, "n": 3}, "cache_fingerprint": "fp-e",
        "parent_dag_id": 7, "iteration_index": 2, "plugins.x": "y",
    }
    events = mlmd.get_events_by_execution_ids([execution.id])
    assert [(e.type, e.path, e.artifact_id) for e in events] == [
        (EventType.INPUT, ("model",), data.id)]
    assert {c.id for c in mlmd.get_contexts_by_execution(execution.id)} == set(run.context_ids)
    assert {name: [a.id for a in found] for name, found in input_artifacts(mlmd, execution.id).items()} == {
        "model": [data.id]}


def test_a_dag_execution_carries_its_task_count(mlmd, run):
    dag = start_execution(mlmd, run, task_name="", execution_type=kfp.DAG_EXECUTION_TYPE,
                          display_name="train-pipeline", total_dag_tasks=3, iteration_count=4)
    stored = mlmd.get_execution(dag.id)
    assert stored.type == "system.DAGExecution"
    assert stored.custom_properties["total_dag_tasks"] == 3
    assert stored.custom_properties["iteration_count"] == 4


def test_complete_execution_records_outputs_as_kfp_does(mlmd, run):
    execution = start_execution(mlmd, run, task_name="evaluate")
    metrics = output_artifact("metrics", uri="minio://mlpipeline/v2/artifacts/m",
                              schema_title="system.Metrics",
                              metadata={"accuracy": 0.93, "epochs": 3, "ok": True,
                                        "labels": ["a", "b"], "cfg": {"k": 1}, "gone": None})
    outputs = complete_execution(mlmd, execution, run, outputs={"metrics": metrics},
                                 output_parameters={"Output": "done"})
    assert outputs["metrics"].id is not None
    stored_execution = mlmd.get_execution(execution.id)
    assert stored_execution.last_known_state is ExecutionState.COMPLETE
    assert stored_execution.custom_properties["outputs"] == {"Output": "done"}
    stored = mlmd.get_artifact(outputs["metrics"].id)
    assert (stored.type, stored.state, stored.uri) == (
        "system.Metrics", ArtifactState.LIVE, "minio://mlpipeline/v2/artifacts/m")
    assert stored.custom_properties == {
        "display_name": "metrics", "accuracy": 0.93, "epochs": 3.0, "ok": 1,
        "labels": {"list": ["a", "b"]}, "cfg": {"struct": {"k": 1}},
    }
    [event] = [e for e in mlmd.get_events_by_artifact_ids([stored.id])]
    assert (event.type, event.path, event.execution_id) == (EventType.OUTPUT, ("metrics",), execution.id)
    assert {c.id for c in mlmd.get_contexts_by_artifact(stored.id)} == set(run.context_ids)
    assert {n: a.id for n, a in output_artifacts(mlmd, execution.id).items()} == {"metrics": stored.id}


def test_an_output_of_a_new_schema_title_gets_its_type(mlmd, run):
    execution = start_execution(mlmd, run, task_name="upload")
    vertex = Artifact(type="google.VertexModel", uri="gs://b/m")
    complete_execution(mlmd, execution, run, outputs={"vertex_model": vertex})
    stored = mlmd.get_artifact(vertex.id)
    assert stored.type == "google.VertexModel" and stored.state is ArtifactState.LIVE
    assert stored.custom_properties == {"display_name": "vertex_model"}
    with pytest.raises(BadRequest, match="has no type"):
        complete_execution(mlmd, execution, run, outputs={"x": Artifact(uri="gs://b/x")})


def test_fail_execution_marks_the_execution_failed(mlmd, run):
    execution = start_execution(mlmd, run, task_name="train")
    fail_execution(mlmd, execution, run)
    assert mlmd.get_execution(execution.id).last_known_state is ExecutionState.FAILED
    with pytest.raises(BadRequest, match="started execution"):
        fail_execution(mlmd, Execution(type="system.ContainerExecution"), run)


def test_record_inputs_adds_only_new_input_events(mlmd, run):
    [_, model] = _train(mlmd, run)
    [_, other] = _train(mlmd, run, fingerprint="fp-2", uri="minio://mlpipeline/v2/artifacts/other")
    execution = start_execution(mlmd, run, task_name="evaluate", input_artifacts={"model": model})
    added = record_inputs(mlmd, execution, {"model": model, "baseline": other})
    assert [(e.key, e.artifact_id) for e in added] == [("baseline", other.id)]
    assert sorted(input_artifacts(mlmd, execution.id)) == ["baseline", "model"]


def test_record_task_records_a_finished_task_at_once(mlmd, run):
    [_, model] = _train(mlmd, run)
    report = output_artifact("report", uri="minio://mlpipeline/v2/artifacts/r",
                             schema_title="system.HTML")
    execution = record_task(mlmd, run, task_name="report", inputs={"title": "t"},
                            input_artifacts={"model": model}, outputs={"report": report},
                            output_parameters={"pages": 2})
    stored = mlmd.get_execution(execution.id)
    assert stored.last_known_state is ExecutionState.COMPLETE
    assert stored.custom_properties["inputs"] == {"title": "t"}
    assert stored.custom_properties["outputs"] == {"pages": 2}
    assert {e.type for e in mlmd.get_events_by_execution_ids([execution.id])} == {
        EventType.INPUT, EventType.OUTPUT}


# The cache ---------------------------------------------------------------------


async def test_the_cache_finds_the_newest_complete_execution_with_the_fingerprint(
    mlmd, run, clock: FakeClock
):
    older, _ = _train(mlmd, run)
    await clock.advance(1)
    newer, _ = _train(mlmd, run, uri="minio://mlpipeline/v2/artifacts/model-2")
    await clock.advance(1)
    failed = start_execution(mlmd, run, task_name="train", cache_fingerprint="fp-1")
    fail_execution(mlmd, failed, run)
    start_execution(mlmd, run, task_name="train", cache_fingerprint="fp-1")  # still running
    _train(mlmd, run, fingerprint="fp-other")

    hit = find_cached_execution(mlmd, "fp-1")
    assert hit is not None and hit.execution.id == newer
    assert hit.parameters == {"Output": 0.9}
    assert hit.artifacts["model"].uri == "minio://mlpipeline/v2/artifacts/model-2"
    assert find_cached_execution(mlmd, "fp-none") is None
    assert find_cached_execution(mlmd, "fp-1", artifact_exists=lambda a: a.uri.endswith("/model")
                                 ).execution.id == older


def test_the_cache_ignores_executions_whose_outputs_are_gone(mlmd, run):
    _, model = _train(mlmd, run)
    assert find_cached_execution(mlmd, "fp-1", artifact_exists=lambda a: False) is None
    stored = mlmd.get_artifact(model.id)
    stored.state = ArtifactState.DELETED
    mlmd.put_artifacts([stored])
    assert find_cached_execution(mlmd, "fp-1") is None


def test_the_cache_can_be_scoped_to_a_pipeline_and_namespace(mlmd, run):
    _train(mlmd, run)
    assert find_cached_execution(mlmd, "fp-1", pipeline_name="train-pipeline") is not None
    assert find_cached_execution(mlmd, "fp-1", pipeline_name="other-pipeline") is None
    assert find_cached_execution(mlmd, "fp-1", namespace="alice") is not None
    assert find_cached_execution(mlmd, "fp-1", namespace="bob") is None


def test_a_cache_hit_is_recorded_as_a_cached_execution_pointing_at_the_reused_outputs(mlmd, run):
    original, model = _train(mlmd, run)
    second = open_run(mlmd, pipeline_name="train-pipeline", run_id="run-2")
    execution = start_execution(mlmd, second, task_name="train", cache_fingerprint="fp-1")
    hit = find_cached_execution(mlmd, "fp-1")
    assert isinstance(hit, CacheHit)
    outputs = mark_cached(mlmd, execution, second, hit)

    assert outputs["model"].id == model.id
    stored = mlmd.get_execution(execution.id)
    assert stored.last_known_state is ExecutionState.CACHED
    assert stored.custom_properties["cached_execution_id"] == str(original)
    assert stored.custom_properties["outputs"] == {"Output": 0.9}
    assert {n: a.id for n, a in output_artifacts(mlmd, execution.id).items()} == {"model": model.id}
    assert model.id in {a.id for a in mlmd.get_artifacts_by_context(second.run.id)}
    assert len(mlmd.get_artifacts()) == 1  # nothing copied
    # A cached execution is not itself a cache source.
    assert find_cached_execution(mlmd, "fp-1").execution.id == original


# Artifact metadata ---------------------------------------------------------------


def test_artifact_metadata_reads_back_what_kfp_hands_downstream_tasks():
    metadata = {"accuracy": 0.5, "n": 2, "ok": False, "xs": [1, 2], "d": {"a": "b"}, "s": "t"}
    stored = Artifact(custom_properties=metadata_to_custom_properties(metadata),
                      properties={"declared": 4})
    assert artifact_metadata(stored) == {
        "accuracy": 0.5, "n": 2.0, "ok": 0.0, "xs": {"list": [1, 2]}, "d": {"struct": {"a": "b"}},
        "s": "t", "declared": 4.0,
    }
    assert artifact_metadata(stored, unwrap=True)["xs"] == [1, 2]
    assert artifact_metadata(stored, unwrap=True)["d"] == {"a": "b"}
    with pytest.raises(BadRequest, match="not JSON"):
        metadata_to_custom_properties({"x": object()})
