"""The metadata store: MLMD's MetadataStore semantics over SQLite."""

from __future__ import annotations

import math
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from sandbox.api.errors import AlreadyExists, BadRequest, NotFound, ServiceUnavailable
from sandbox.clock import FakeClock
from sandbox.components.metadata import (
    Artifact,
    ArtifactBaseType,
    ArtifactState,
    ArtifactType,
    Association,
    Attribution,
    Context,
    ContextType,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    MetadataStore,
    ParentContext,
    PropertyType,
    ProtoValue,
)

REPO = Path(__file__).resolve().parents[4]


@pytest.fixture
def typed(mlmd: MetadataStore) -> MetadataStore:
    """A store with a few types, as most tests need."""
    mlmd.put_artifact_type(ArtifactType("Model", properties={
        "accuracy": PropertyType.DOUBLE, "layers": PropertyType.INT,
        "framework": PropertyType.STRING,
    }))
    mlmd.put_artifact_type(ArtifactType("Dataset"))
    mlmd.put_execution_type(ExecutionType("Trainer"))
    mlmd.put_context_type(ContextType("Run"))
    return mlmd


# Types -----------------------------------------------------------------------


def test_putting_an_identical_type_again_returns_the_stored_id(mlmd):
    first = ArtifactType("Model", properties={"accuracy": PropertyType.DOUBLE})
    type_id = mlmd.put_artifact_type(first)
    again = ArtifactType("Model", properties={"accuracy": PropertyType.DOUBLE})
    assert mlmd.put_artifact_type(again) == type_id
    assert first.id == again.id == type_id
    assert len(mlmd.get_artifact_types()) == 1


@pytest.mark.parametrize("properties", [
    {"accuracy": PropertyType.STRING},                               # value type changed
    {"accuracy": PropertyType.DOUBLE, "loss": PropertyType.DOUBLE},  # property added
    {},                                                              # property dropped
])
def test_redefining_a_type_differently_is_a_conflict(mlmd, properties):
    mlmd.put_artifact_type(ArtifactType("Model", properties={"accuracy": PropertyType.DOUBLE}))
    with pytest.raises(AlreadyExists, match="different definition"):
        mlmd.put_artifact_type(ArtifactType("Model", properties=properties))
    assert mlmd.get_artifact_type("Model").properties == {"accuracy": PropertyType.DOUBLE}


def test_a_type_may_grow_or_be_named_partially_when_allowed(mlmd):
    type_id = mlmd.put_execution_type(ExecutionType("Trainer", properties={"a": PropertyType.INT}))
    assert mlmd.put_execution_type(
        ExecutionType("Trainer", properties={"b": PropertyType.STRING}),
        can_add_fields=True, can_omit_fields=True,
    ) == type_id
    assert mlmd.get_execution_type("Trainer").properties == {
        "a": PropertyType.INT, "b": PropertyType.STRING,
    }
    with pytest.raises(AlreadyExists, match="is INT, not STRING"):
        mlmd.put_execution_type(ExecutionType("Trainer", properties={"a": PropertyType.STRING}),
                                can_add_fields=True, can_omit_fields=True)


def test_a_different_base_type_is_a_conflict_but_a_missing_one_is_filled_in(mlmd):
    mlmd.put_artifact_type(ArtifactType("Model"))
    mlmd.put_artifact_type(ArtifactType("Model", base_type=ArtifactBaseType.MODEL,
                                        description="a model"))
    stored = mlmd.get_artifact_type("Model")
    assert stored.base_type is ArtifactBaseType.MODEL and stored.description == "a model"
    with pytest.raises(AlreadyExists, match="base_type"):
        mlmd.put_artifact_type(ArtifactType("Model", base_type=ArtifactBaseType.DATASET))


def test_each_kind_of_type_and_each_version_is_its_own_name(mlmd):
    ids = {
        mlmd.put_artifact_type(ArtifactType("Thing")),
        mlmd.put_execution_type(ExecutionType("Thing")),
        mlmd.put_context_type(ContextType("Thing")),
        mlmd.put_artifact_type(ArtifactType("Thing", version="v2",
                                            properties={"x": PropertyType.INT})),
    }
    assert len(ids) == 4
    assert mlmd.get_artifact_type("Thing").properties == {}
    assert mlmd.get_artifact_type("Thing", version="v2").properties == {"x": PropertyType.INT}
    assert [t.name for t in mlmd.get_context_types()] == ["Thing"]


def test_type_fields_round_trip_and_types_are_found_by_id(mlmd):
    written = ArtifactType("Model", version="1", description="d", external_id="ext-1",
                           base_type=ArtifactBaseType.MODEL,
                           properties={"p": PropertyType.PROTO, "s": PropertyType.STRUCT,
                                       "b": PropertyType.BOOLEAN})
    mlmd.put_artifact_type(written)
    [read] = mlmd.get_artifact_types_by_id([written.id])
    assert read == written


def test_a_missing_type_is_not_found_and_a_type_needs_a_name(mlmd):
    with pytest.raises(NotFound, match="artifact type 'Nope' not found"):
        mlmd.get_artifact_type("Nope")
    with pytest.raises(BadRequest):
        mlmd.put_context_type(ContextType(""))
    with pytest.raises(BadRequest, match="no value type"):
        mlmd.put_context_type(ContextType("C", properties={"x": PropertyType.UNKNOWN}))


def test_type_external_ids_are_unique_per_kind(mlmd):
    mlmd.put_artifact_type(ArtifactType("A", external_id="same"))
    mlmd.put_execution_type(ExecutionType("E", external_id="same"))
    with pytest.raises(AlreadyExists, match="already used"):
        mlmd.put_artifact_type(ArtifactType("B", external_id="same"))


# Nodes and their properties ------------------------------------------------


def test_typed_values_round_trip_with_their_python_types(typed):
    values = {
        "int": 7, "big": 2**63 - 1, "float": 1.0, "inf": math.inf, "str": "text",
        "true": True, "false": False, "dict": {"b": [1, 2.5, None], "a": {"x": "y"}},
        "list": ["a", 1], "proto": ProtoValue("type.googleapis.com/foo.Bar", b"\x00\x01"),
    }
    artifact = Artifact(type="Model", uri="minio://b/m", custom_properties=values,
                        properties={"accuracy": 0.5, "layers": 3, "framework": "sklearn"})
    [artifact_id] = typed.put_artifacts([artifact])
    read = typed.get_artifact(artifact_id)
    assert read.custom_properties == values
    for key, value in values.items():
        assert type(read.custom_properties[key]) is type(value), key
    assert read.properties == {"accuracy": 0.5, "layers": 3, "framework": "sklearn"}


def test_nan_round_trips_although_sqlite_has_no_nan(typed):
    [artifact_id] = typed.put_artifacts([Artifact(type="Dataset",
                                                  custom_properties={"loss": math.nan})])
    assert math.isnan(typed.get_artifact(artifact_id).custom_properties["loss"])


def test_a_declared_property_takes_only_its_declared_type(typed):
    artifact = Artifact(type="Model", properties={"accuracy": 1})
    typed.put_artifacts([artifact])
    stored = typed.get_artifact(artifact.id).properties["accuracy"]
    assert stored == 1.0 and isinstance(stored, float)
    assert isinstance(artifact.properties["accuracy"], float)
    with pytest.raises(BadRequest, match="declared INT"):
        typed.put_artifacts([Artifact(type="Model", properties={"layers": "three"})])
    with pytest.raises(BadRequest, match="not declared by type 'Model'"):
        typed.put_artifacts([Artifact(type="Model", properties={"color": "red"})])


@pytest.mark.parametrize("value", [b"bytes", object(), 2**63, {"x": object()}])
def test_values_the_store_cannot_hold_are_refused(typed, value):
    with pytest.raises(BadRequest):
        typed.put_artifacts([Artifact(type="Dataset", custom_properties={"v": value})])
    assert typed.get_artifacts() == []


def test_none_means_no_value(typed):
    artifact = Artifact(type="Dataset", custom_properties={"a": None, "b": 1})
    typed.put_artifacts([artifact])
    assert typed.get_artifact(artifact.id).custom_properties == {"b": 1}


async def test_put_assigns_ids_and_times_and_an_update_replaces_fields(typed, clock: FakeClock):
    artifact = Artifact(type="Model", uri="minio://b/m", name="m1",
                        custom_properties={"a": 1, "b": 2})
    [artifact_id] = typed.put_artifacts([artifact])
    assert artifact.id == artifact_id and artifact.type_id is not None
    created = artifact.create_time_since_epoch
    assert created == int(clock.now().timestamp() * 1000) == artifact.last_update_time_since_epoch
    await clock.advance(2)
    update = Artifact(id=artifact_id, uri="minio://b/m2", state=ArtifactState.LIVE,
                      custom_properties={"a": 10})
    assert typed.put_artifacts([update]) == [artifact_id]
    read = typed.get_artifact(artifact_id)
    assert (read.uri, read.state, read.name, read.type) == ("minio://b/m2", ArtifactState.LIVE,
                                                           "m1", "Model")
    assert read.custom_properties == {"a": 10}
    assert read.create_time_since_epoch == created
    assert read.last_update_time_since_epoch == created + 2000


def test_an_update_cannot_change_type_or_name_and_needs_a_stored_node(typed):
    artifact = Artifact(type="Model", name="m1")
    typed.put_artifacts([artifact])
    with pytest.raises(BadRequest, match="type of a stored artifact cannot change"):
        typed.put_artifacts([Artifact(id=artifact.id, type="Dataset")])
    with pytest.raises(BadRequest, match="name 'm1' cannot change"):
        typed.put_artifacts([Artifact(id=artifact.id, name="m2")])
    with pytest.raises(NotFound, match="artifact 999 not found"):
        typed.put_artifacts([Artifact(id=999, type="Model")])


def test_names_are_unique_per_type_and_external_ids_per_kind(typed):
    typed.put_artifacts([Artifact(type="Model", name="m"), Artifact(type="Dataset", name="m"),
                         Artifact(type="Model"), Artifact(type="Model")])
    with pytest.raises(AlreadyExists, match='artifact "m" of type "Model" already exists'):
        typed.put_artifacts([Artifact(type="Model", name="m")])
    typed.put_executions([Execution(type="Trainer", external_id="x")])
    with pytest.raises(AlreadyExists, match="external_id 'x'"):
        typed.put_executions([Execution(type="Trainer", external_id="x")])
    typed.put_contexts([Context(type="Run", name="r")])
    with pytest.raises(AlreadyExists):
        typed.put_contexts([Context(type="Run", name="r")])


def test_a_node_needs_a_known_type_and_a_context_a_name(typed):
    with pytest.raises(BadRequest, match="type_id or type is required"):
        typed.put_artifacts([Artifact(uri="x")])
    with pytest.raises(NotFound, match="'Nope' not found"):
        typed.put_artifacts([Artifact(type="Nope")])
    with pytest.raises(NotFound, match="type id 999"):
        typed.put_executions([Execution(type_id=999)])
    model_type = typed.get_artifact_type("Model").id
    with pytest.raises(BadRequest, match="is type 'Model', not 'Dataset'"):
        typed.put_artifacts([Artifact(type_id=model_type, type="Dataset")])
    with pytest.raises(BadRequest, match="name is required"):
        typed.put_contexts([Context(type="Run")])


def test_a_failing_put_stores_nothing_of_the_batch(typed):
    good = Artifact(type="Dataset", uri="minio://b/ok")
    with pytest.raises(NotFound):
        typed.put_artifacts([good, Artifact(type="Nope")])
    assert typed.get_artifacts() == []
    assert good.id is None


async def test_list_filters_combine_and_order(typed, clock: FakeClock):
    run = Context(type="Run", name="r")
    typed.put_contexts([run])
    artifacts = []
    for i in range(5):
        artifact = Artifact(type="Dataset" if i % 2 else "Model", uri=f"minio://b/{i}",
                            name=f"a{i}", state=ArtifactState.LIVE if i < 3 else ArtifactState.DELETED,
                            custom_properties={"i": i, "even": i % 2 == 0, "tag": "x" if i < 2 else "y"})
        typed.put_artifacts([artifact])
        artifacts.append(artifact)
        await clock.advance(1)
    ids = [a.id for a in artifacts]
    typed.put_attributions_and_associations(
        attributions=[Attribution(ids[1], run.id), Attribution(ids[2], run.id)])

    def found(**filters):
        return [a.id for a in typed.get_artifacts(**filters)]

    assert found() == ids
    assert found(ids=[ids[3], ids[0]]) == [ids[0], ids[3]]
    assert found(type_name="Dataset") == [ids[1], ids[3]] == [a.id for a in typed.get_artifacts_by_type("Dataset")]
    assert found(uri="minio://b/2") == [ids[2]] == [a.id for a in typed.get_artifacts_by_uri("minio://b/2")]
    assert typed.get_artifact_by_type_and_name("Model", "a4").id == ids[4]
    assert typed.get_artifact_by_type_and_name("Dataset", "a4") is None
    assert found(state=ArtifactState.DELETED) == [ids[3], ids[4]]
    assert found(state=["LIVE"], type_name="Model") == [ids[0], ids[2]]
    assert found(context_id=run.id) == [ids[1], ids[2]] == [a.id for a in typed.get_artifacts_by_context(run.id)]
    assert found(custom_properties={"tag": "y", "even": True}) == [ids[2], ids[4]]
    assert found(custom_properties={"i": 1}) == [ids[1]]
    assert found(custom_properties={"i": 1.0}) == []          # a value matches with its type
    assert found(custom_properties={"even": 1}) == []
    assert found(custom_properties={"missing": None}) == ids  # None: not set
    assert found(custom_properties={"i": None}) == []
    assert found(order_by="create_time_since_epoch", descending=True, limit=2) == [ids[4], ids[3]]
    assert found(limit=2, offset=1) == [ids[1], ids[2]]
    assert found(offset=3) == [ids[3], ids[4]]
    with pytest.raises(BadRequest, match="order_by"):
        typed.get_artifacts(order_by="uri; DROP TABLE artifact")


def test_struct_and_declared_property_filters(typed):
    a = Artifact(type="Model", properties={"layers": 3}, custom_properties={"cfg": {"b": 1, "a": 2}})
    b = Artifact(type="Model", properties={"layers": 4}, custom_properties={"cfg": {"a": 2}})
    typed.put_artifacts([a, b])
    assert [x.id for x in typed.get_artifacts(properties={"layers": 4})] == [b.id]
    assert [x.id for x in typed.get_artifacts(custom_properties={"cfg": {"a": 2, "b": 1}})] == [a.id]
    assert typed.get_artifacts(custom_properties={"layers": 3}) == []  # declared ≠ custom


def test_executions_are_found_by_state_and_contexts_by_type_and_name(typed):
    running = Execution(type="Trainer", last_known_state=ExecutionState.RUNNING)
    done = Execution(type="Trainer", last_known_state=ExecutionState.COMPLETE, name="t")
    typed.put_executions([running, done])
    assert [e.id for e in typed.get_executions(state=ExecutionState.COMPLETE)] == [done.id]
    assert [e.id for e in typed.get_executions(state=["RUNNING", "COMPLETE"])] == [running.id, done.id]
    assert typed.get_execution_by_type_and_name("Trainer", "t").id == done.id
    assert [e.id for e in typed.get_executions_by_type("Trainer")] == [running.id, done.id]
    typed.put_contexts([Context(type="Run", name="r1"), Context(type="Run", name="r2")])
    assert [c.name for c in typed.get_contexts_by_type("Run")] == ["r1", "r2"]
    assert typed.get_context_by_type_and_name("Run", "r2").name == "r2"
    assert [c.name for c in typed.get_contexts(name="r1")] == ["r1"]
    with pytest.raises(NotFound, match="execution 999 not found"):
        typed.get_execution(999)


def test_get_or_create_context_creates_once(typed):
    first = typed.get_or_create_context(Context(type="Run", name="r", custom_properties={"a": 1}))
    again = typed.get_or_create_context(Context(type="Run", name="r", custom_properties={"a": 2}))
    assert first.id == again.id and again.custom_properties == {"a": 1}
    assert len(typed.get_contexts()) == 1


# Events and membership ---------------------------------------------------------


def test_events_round_trip_with_their_paths(typed):
    artifact, execution = Artifact(type="Dataset"), Execution(type="Trainer")
    typed.put_artifacts([artifact])
    typed.put_executions([execution])
    written = Event(artifact_id=artifact.id, execution_id=execution.id, type=EventType.INPUT,
                    path=("examples", 0, "split"))
    typed.put_events([written,
                      Event(artifact_id=artifact.id, execution_id=execution.id,
                            type=EventType.DECLARED_INPUT, milliseconds_since_epoch=5)])
    assert written.milliseconds_since_epoch is not None
    by_execution = typed.get_events_by_execution_ids([execution.id])
    assert by_execution == typed.get_events_by_artifact_ids([artifact.id])
    assert by_execution[0] == written
    assert (by_execution[1].type, by_execution[1].path, by_execution[1].milliseconds_since_epoch) == (
        EventType.DECLARED_INPUT, (), 5)


def test_an_event_needs_both_ends_a_type_and_is_unique_per_type(typed):
    artifact, execution = Artifact(type="Dataset"), Execution(type="Trainer")
    typed.put_artifacts([artifact])
    typed.put_executions([execution])
    event = Event(artifact_id=artifact.id, execution_id=execution.id, type=EventType.OUTPUT)
    typed.put_events([event])
    with pytest.raises(AlreadyExists, match="event OUTPUT of artifact"):
        typed.put_events([Event(artifact_id=artifact.id, execution_id=execution.id,
                                type=EventType.OUTPUT)])
    with pytest.raises(NotFound, match="execution 99 not found"):
        typed.put_events([Event(artifact_id=artifact.id, execution_id=99, type=EventType.INPUT)])
    with pytest.raises(BadRequest, match="type is required"):
        typed.put_events([Event(artifact_id=artifact.id, execution_id=execution.id)])
    with pytest.raises(BadRequest, match="neither a key"):
        typed.put_events([Event(artifact_id=artifact.id, execution_id=execution.id,
                                type=EventType.INPUT, path=(True,))])
    assert len(typed.get_events_by_execution_ids([execution.id])) == 1


def test_attributions_and_associations_make_context_members_once(typed):
    artifact, execution, run = Artifact(type="Dataset"), Execution(type="Trainer"), Context(type="Run", name="r")
    typed.put_artifacts([artifact])
    typed.put_executions([execution])
    typed.put_contexts([run])
    for _ in range(2):
        typed.put_attributions_and_associations([Attribution(artifact.id, run.id)],
                                                [Association(execution.id, run.id)])
    assert [a.id for a in typed.get_artifacts_by_context(run.id)] == [artifact.id]
    assert [e.id for e in typed.get_executions_by_context(run.id)] == [execution.id]
    assert [c.id for c in typed.get_contexts_by_artifact(artifact.id)] == [run.id]
    assert [c.id for c in typed.get_contexts_by_execution(execution.id)] == [run.id]
    with pytest.raises(NotFound, match="context 42 not found"):
        typed.put_attributions_and_associations([Attribution(artifact.id, 42)])


def test_parent_contexts_link_once_and_never_in_a_cycle(typed):
    a, b, c = (Context(type="Run", name=n) for n in "abc")
    typed.put_contexts([a, b, c])
    typed.put_parent_contexts([ParentContext(child_id=b.id, parent_id=a.id),
                               ParentContext(child_id=c.id, parent_id=b.id)])
    assert [p.name for p in typed.get_parent_contexts_by_context(b.id)] == ["a"]
    assert [p.name for p in typed.get_children_contexts_by_context(b.id)] == ["c"]
    with pytest.raises(AlreadyExists):
        typed.put_parent_contexts([ParentContext(child_id=b.id, parent_id=a.id)])
    with pytest.raises(BadRequest, match="cycle"):
        typed.put_parent_contexts([ParentContext(child_id=a.id, parent_id=c.id)])
    with pytest.raises(BadRequest, match="own parent"):
        typed.put_parent_contexts([ParentContext(child_id=a.id, parent_id=a.id)])
    with pytest.raises(NotFound):
        typed.put_parent_contexts([ParentContext(child_id=a.id, parent_id=77)])


# put_execution ----------------------------------------------------------------


def test_put_execution_records_execution_artifacts_events_and_contexts_together(typed):
    dataset = Artifact(type="Dataset", uri="minio://b/data")
    typed.put_artifacts([dataset])
    existing_run = Context(type="Run", name="run-1")
    typed.put_contexts([existing_run])

    execution = Execution(type="Trainer", last_known_state=ExecutionState.COMPLETE)
    model = Artifact(type="Model", uri="minio://b/model")
    input_event = Event(artifact_id=dataset.id, type=EventType.INPUT, path=("data",))
    output_event = Event(type=EventType.OUTPUT, path=("model",))
    pipeline = Context(type="Run", name="pipeline")
    execution_id, artifact_ids, context_ids = typed.put_execution(
        execution, [(None, input_event), (model, output_event)], [pipeline, existing_run.id])

    assert execution.id == execution_id and model.id == artifact_ids[1]
    assert artifact_ids == [dataset.id, model.id]
    assert context_ids == [pipeline.id, existing_run.id]
    assert output_event.artifact_id == model.id and output_event.execution_id == execution_id
    assert {(e.type, e.key) for e in typed.get_events_by_execution_ids([execution_id])} == {
        (EventType.INPUT, "data"), (EventType.OUTPUT, "model")}
    for context_id in context_ids:
        assert [e.id for e in typed.get_executions_by_context(context_id)] == [execution_id]
        assert [a.id for a in typed.get_artifacts_by_context(context_id)] == artifact_ids


def test_put_execution_is_all_or_nothing(typed):
    taken = Context(type="Run", name="taken")
    typed.put_contexts([taken])
    execution, model = Execution(type="Trainer"), Artifact(type="Model")
    with pytest.raises(AlreadyExists):
        typed.put_execution(execution, [(model, Event(type=EventType.OUTPUT))],
                            [Context(type="Run", name="taken")])
    assert typed.get_executions() == [] and typed.get_artifacts() == []
    assert typed.get_events_by_artifact_ids([1]) == []
    assert execution.id is None and model.id is None


def test_put_execution_can_reuse_a_context_and_update_an_execution(typed):
    run = Context(type="Run", name="r", custom_properties={"k": "v"})
    typed.put_contexts([run])
    execution = Execution(type="Trainer", last_known_state=ExecutionState.RUNNING)
    stand_in = Context(type="Run", name="r")
    _, _, [context_id] = typed.put_execution(execution, [], [stand_in],
                                             reuse_context_if_already_exist=True)
    assert context_id == run.id and stand_in.id == run.id
    assert stand_in.custom_properties == {"k": "v"}
    execution.last_known_state = ExecutionState.COMPLETE
    model = Artifact(type="Model")
    typed.put_execution(execution, [(model, Event(type=EventType.OUTPUT, path=("m",)))], [run.id])
    assert typed.get_execution(execution.id).last_known_state is ExecutionState.COMPLETE
    assert len(typed.get_executions()) == 1


def test_put_execution_rejects_an_event_that_names_another_node(typed):
    a, b = Artifact(type="Dataset"), Artifact(type="Dataset")
    typed.put_artifacts([a, b])
    with pytest.raises(BadRequest, match="paired with artifact"):
        typed.put_execution(Execution(type="Trainer"),
                            [(b, Event(artifact_id=a.id, type=EventType.INPUT))])
    with pytest.raises(BadRequest, match="needs an artifact"):
        typed.put_execution(Execution(type="Trainer"), [(None, Event(type=EventType.INPUT))])
    assert typed.get_executions() == []


# Files, threads, processes --------------------------------------------------------


def test_a_file_store_persists_in_wal_mode(tmp_path, clock):
    path = tmp_path / "deep" / "metadata.sqlite"
    with MetadataStore(path, clock=clock) as store:
        store.put_artifact_type(ArtifactType("Model"))
        store.put_artifacts([Artifact(type="Model", uri="minio://b/m")])
    with MetadataStore(path, clock=clock) as store:
        assert [a.uri for a in store.get_artifacts()] == ["minio://b/m"]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_a_file_of_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "metadata.sqlite"
    MetadataStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(BadRequest, match="schema version 99"):
        MetadataStore(path)


def test_a_closed_store_says_so(mlmd):
    mlmd.close()
    with pytest.raises(ServiceUnavailable, match="closed"):
        mlmd.get_artifacts()


def test_a_store_locked_past_the_busy_timeout_is_unavailable(tmp_path):
    path = tmp_path / "metadata.sqlite"
    with MetadataStore(path, busy_timeout=0.05) as store:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(ServiceUnavailable, match="busy"):
                store.put_artifact_type(ArtifactType("Model"))
            assert store.get_artifact_types() == []  # readers are not blocked (WAL)
        finally:
            other.execute("ROLLBACK")
            other.close()
        store.put_artifact_type(ArtifactType("Model"))


def test_threads_share_one_store(typed):
    run = Context(type="Run", name="r")
    typed.put_contexts([run])
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                typed.put_execution(Execution(type="Trainer"),
                                    [(Artifact(type="Model"), Event(type=EventType.OUTPUT))],
                                    [run.id])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    executions = typed.get_executions_by_context(run.id)
    assert len(executions) == 120 == len({e.id for e in executions})
    assert len(typed.get_artifacts_by_context(run.id)) == 120


_WRITER = textwrap.dedent("""
    import sys
    from sandbox.components.metadata import (
        Artifact, ArtifactType, Context, ContextType, Event, EventType, Execution,
        ExecutionType, MetadataStore)

    path, tag = sys.argv[1], sys.argv[2]
    with MetadataStore(path) as store:
        store.put_artifact_type(ArtifactType("Model"))
        store.put_execution_type(ExecutionType("Trainer"))
        store.put_context_type(ContextType("Run"))
        run = store.get_or_create_context(Context(type="Run", name="shared"))
        print("ready", flush=True)
        sys.stdin.readline()  # both writers start writing together
        for i in range(200):
            store.put_execution(
                Execution(type="Trainer", custom_properties={"writer": tag}),
                [(Artifact(type="Model", uri=f"minio://b/{tag}/{i}"),
                  Event(type=EventType.OUTPUT, path=("model",)))],
                [run.id])
""")


def test_two_processes_write_the_same_file(tmp_path):
    path = tmp_path / "metadata.sqlite"
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(path), tag], cwd=REPO,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for tag in ("a", "b")
    ]
    for writer in writers:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready", writer.communicate()[1]
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
    for writer in writers:
        _, stderr = writer.communicate(timeout=120)
        assert writer.returncode == 0, stderr
    with MetadataStore(path) as store:
        [run] = store.get_contexts_by_type("Run")
        executions = store.get_executions_by_context(run.id)
        assert len(executions) == 400
        assert {e.custom_properties["writer"] for e in executions} == {"a", "b"}
        artifacts = store.get_artifacts_by_context(run.id)
        assert len({a.uri for a in artifacts}) == 400
        events = store.get_events_by_execution_ids([e.id for e in executions])
        assert len(events) == 400 and {e.artifact_id for e in events} == {a.id for a in artifacts}
        assert len(store.get_artifact_types()) == 1


# Batches -----------------------------------------------------------------------


def test_a_batch_commits_its_writes_together_and_a_failed_one_undoes_only_itself(tmp_path, clock):
    path = tmp_path / "mlmd.sqlite"
    with MetadataStore(path, clock=clock) as store, MetadataStore(path, clock=clock) as other:
        store.put_context_type(ContextType("Run"))
        with store.batch():
            first = Context(type="Run", name="a")
            assert store.put_contexts([first]) == [first.id] and first.id  # ids are known inside the batch
            with pytest.raises(AlreadyExists):
                store.put_contexts([Context(type="Run", name="a")])
            store.put_contexts([Context(type="Run", name="b")])
            assert [c.name for c in store.get_contexts()] == ["a", "b"]  # reads see the batch
            with store.batch():  # nested: joins the outer batch
                store.put_contexts([Context(type="Run", name="c")])
        assert [c.name for c in other.get_contexts()] == ["a", "b", "c"]


def test_an_error_in_a_batch_rolls_all_of_it_back(typed):
    with pytest.raises(RuntimeError), typed.batch():
        typed.put_contexts([Context(type="Run", name="gone")])
        raise RuntimeError("the step failed")
    assert typed.get_contexts() == []
    typed.put_contexts([Context(type="Run", name="kept")])  # the store works on afterwards
    assert [c.name for c in typed.get_contexts()] == ["kept"]
