"""The artifact store lays runs out as KFP does, reads and writes outputs, never leaves its root."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from sandbox.components.pipelines.storage import (
    DEFAULT_PIPELINE_ROOT,
    ArtifactStore,
    TaskOutputs,
    UnsafeURI,
)
from sandbox.components.pipelines.storage import uris as uris_module

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(tmp_path / "artifacts")


@pytest.fixture
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uris_module, "_warned", set())


def test_output_uris_follow_kfp_layout_under_the_default_root(store):
    assert store.default_pipeline_root == DEFAULT_PIPELINE_ROOT == "minio://mlpipeline/v2/artifacts"
    assert store.output_uri("my-pipeline", "run-1", "train", "model", execution_id=7) == \
        "minio://mlpipeline/v2/artifacts/my-pipeline/run-1/train/7/model"
    uri = store.output_uri("my-pipeline", "run-1", "train", "model")
    prefix, salt, name = uri.rsplit("/", 2)
    assert prefix == "minio://mlpipeline/v2/artifacts/my-pipeline/run-1/train"
    assert UUID.fullmatch(salt) and name == "model"
    assert uri != store.output_uri("my-pipeline", "run-1", "train", "model")


def test_task_outputs_map_to_local_paths_through_the_uri_mapping(store):
    outputs = store.task_outputs("p", "r", "Say hello", execution_id="e1")
    assert outputs.uri == "minio://mlpipeline/v2/artifacts/p/r/Say hello/e1"
    assert outputs.path == store.root / "minio/mlpipeline/v2/artifacts/p/r/Say hello/e1"
    assert outputs.artifact_uri("model") == outputs.uri + "/model"
    assert outputs.artifact_path("model") == outputs.path / "model"
    assert store.path(outputs.artifact_uri("model")) == outputs.artifact_path("model")
    assert store.uri(outputs.artifact_path("model")) == outputs.artifact_uri("model")
    assert outputs.executor_output_path == outputs.path / "output_metadata.json"
    assert outputs.parameter_path("Output") == outputs.path / ".parameters" / "Output"


def test_a_pipeline_root_loses_its_trailing_slash_and_query(store):
    assert store.run_root("p", "r", pipeline_root="minio://bucket/root/?region=x") == \
        "minio://bucket/root/p/r"
    custom = ArtifactStore(store.root, default_pipeline_root="minio://other/")
    assert custom.run_root("p", "r") == "minio://other/p/r"


def test_s3_and_gs_roots_map_into_the_store_with_a_warning(store, fresh_warnings):
    with pytest.warns(UserWarning, match="not in Amazon S3"):
        outputs = store.task_outputs("p", "r", "t", execution_id=1,
                                     pipeline_root="s3://my-bucket/kfp")
    assert outputs.path == store.root / "s3/my-bucket/kfp/p/r/t/1"
    with pytest.warns(UserWarning, match="not in Google Cloud Storage"):
        gs_store = ArtifactStore(store.root, default_pipeline_root="gs://b")
    assert gs_store.output_uri("p", "r", "t", "m", execution_id=2) == "gs://b/p/r/t/2/m"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        store.task_outputs("p", "r", "t", execution_id=3)


def test_prepare_creates_the_directories_an_execution_writes_into(store):
    outputs = store.task_outputs("p", "r", "t", execution_id=1)
    store.prepare(outputs, artifacts=["model"], parameters=["Output"])
    assert outputs.path.is_dir() and (outputs.path / ".parameters").is_dir()
    assert not outputs.artifact_path("model").exists()
    with pytest.raises(UnsafeURI):
        store.prepare(outputs, artifacts=["../escape"])


def test_prepare_without_create_checks_the_names_and_leaves_the_directories_to_the_executor(store):
    outputs = store.task_outputs("p", "r", "t", execution_id=2)
    store.prepare(outputs, artifacts=["model"], parameters=["Output"], create=False)
    assert not outputs.path.exists()
    with pytest.raises(UnsafeURI):
        store.prepare(outputs, artifacts=["../escape"], create=False)


@pytest.mark.parametrize("value,kind,text", [
    ("hello world\n", "STRING", "hello world\n"),
    (42, "NUMBER_INTEGER", "42"),
    (2.5, "NUMBER_DOUBLE", "2.5"),
    (True, "BOOLEAN", "true"),
    ([1, "a"], "LIST", '[1,"a"]'),
    ({"k": [1]}, "STRUCT", '{"k":[1]}'),
])
def test_output_parameters_round_trip_through_their_files(store, value, kind, text):
    outputs = store.task_outputs("p", "r", "t", execution_id=1)
    path = store.write_parameter(outputs, "Output", value)
    assert path == outputs.parameter_path("Output") and path.read_text() == text
    assert store.read_parameter(outputs, "Output", kind) == value


def test_parameters_a_container_wrote_are_read_by_declared_type(store):
    outputs = store.task_outputs("p", "r", "t", execution_id=1)
    store.prepare(outputs, parameters=["n", "flag"])
    outputs.parameter_path("n").write_text(" 7\n")
    outputs.parameter_path("flag").write_text("True\n")
    assert store.read_parameters(outputs, {"n": "NUMBER_INTEGER", "flag": "BOOLEAN",
                                           "absent": "STRING"}) == {"n": 7, "flag": True}
    with pytest.raises(FileNotFoundError):
        store.read_parameter(outputs, "absent", "STRING")


def test_executor_output_round_trips_and_is_empty_when_not_written(store):
    outputs = store.task_outputs("p", "r", "t", execution_id=1)
    assert store.read_executor_output(outputs) == {}
    data = {"parameterValues": {"Output": 3}, "artifacts": {"m": {"artifacts": [
        {"name": "m", "uri": outputs.artifact_uri("m"), "metadata": {"acc": 0.9}}]}}}
    store.write_executor_output(outputs, data)
    assert store.read_executor_output(outputs) == data
    outputs.executor_output_path.write_text("[1]")
    with pytest.raises(ValueError, match="not a JSON object"):
        store.read_executor_output(outputs)


def _write(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)


def _populate(store: ArtifactStore, run: str = "r1") -> list[TaskOutputs]:
    first = store.task_outputs("p", run, "train", execution_id="a")
    second = store.task_outputs("p", run, "train", execution_id="b")
    other = store.task_outputs("p", run, "eval", execution_id="c")
    _write(first.artifact_path("model"), 100)
    _write(second.artifact_path("model") / "weights.bin", 30)
    _write(second.artifact_path("model") / "sub" / "config.json", 20)
    _write(other.artifact_path("metrics"), 5)
    store.write_parameter(other, "Output", 0.5)
    store.write_executor_output(other, {"parameterValues": {"Output": 0.5}})
    return [first, second, other]


def test_a_runs_artifacts_are_listed_with_their_sizes(store):
    _populate(store)
    listed = store.list_run("p", "r1")
    assert [(a.task, a.execution, a.name, a.size, a.is_dir) for a in listed] == [
        ("eval", "c", "metrics", 5, False),
        ("train", "a", "model", 100, False),
        ("train", "b", "model", 50, True),
    ]
    assert listed[1].uri == "minio://mlpipeline/v2/artifacts/p/r1/train/a/model"
    assert listed[1].path == store.path(listed[1].uri)
    parameter_and_metadata = len("0.5") + len('{"parameterValues": {"Output": 0.5}}')
    assert store.run_size("p", "r1") == 155 + parameter_and_metadata
    assert store.list_run("p", "nothing") == [] and store.run_size("p", "nothing") == 0


def test_deleting_a_run_frees_its_bytes_and_leaves_other_runs(store):
    _populate(store, "r1")
    _populate(store, "r2")
    assert store.run_ids("p") == ["r1", "r2"]
    size = store.run_size("p", "r1")
    assert store.delete_run("p", "r1") == size
    assert store.run_ids("p") == ["r2"] and store.list_run("p", "r1") == []
    assert len(store.list_run("p", "r2")) == 3
    assert store.delete_run("p", "r1") == 0
    store.delete_run("p", "r2")
    assert not (store.root / "minio/mlpipeline/v2/artifacts/p").exists()
    assert store.run_ids("p") == []


@pytest.mark.parametrize("call", [
    lambda s: s.run_root("..", "r"),
    lambda s: s.run_root("a/b", "r"),
    lambda s: s.run_root("p", "../other"),
    lambda s: s.run_root("p", ""),
    lambda s: s.run_root("p", " r"),
    lambda s: s.task_outputs("p", "r", "x/../../y"),
    lambda s: s.task_outputs("p", "r", "t", execution_id=".."),
    lambda s: s.task_outputs("p", "r", "t", execution_id="a\\b"),
    lambda s: s.task_outputs("p", "r", "t", execution_id="a\x00"),
    lambda s: s.output_uri("p", "r", "t", "../../../etc/passwd", execution_id=1),
    lambda s: s.output_uri("p", "r", "t", "m?x=1", execution_id=1),
    lambda s: s.task_outputs("p", "r", "t", execution_id=1).parameter_path("../x"),
    lambda s: s.run_root("p", "r", pipeline_root="minio://mlpipeline/../../etc"),
    lambda s: s.run_root("p", "r", pipeline_root="file:///etc"),
    lambda s: s.run_root("p", "r", pipeline_root="/tmp/abs"),
    lambda s: ArtifactStore(s.root, default_pipeline_root="http://example.com/x"),
    lambda s: s.path("minio://mlpipeline/a/../../../x"),
    lambda s: s.list_run("p", ".."),
    lambda s: s.delete_run("..", "r"),
    lambda s: s.run_ids("../.."),
])
def test_path_traversal_is_refused_everywhere(store, call):
    with pytest.raises(UnsafeURI):
        call(store)


def test_a_symlink_out_of_the_store_is_refused_and_never_followed(store, tmp_path):
    outside = tmp_path / "outside"
    _write(outside / "secret", 1000)
    outputs = store.task_outputs("p", "r1", "t", execution_id=1)
    store.prepare(outputs)
    outputs.artifact_path("link").symlink_to(outside)
    with pytest.raises(UnsafeURI, match="symbolic link"):
        store.path(outputs.artifact_uri("link") + "/secret")
    (outputs.path / ".parameters").symlink_to(outside)
    with pytest.raises(UnsafeURI):
        store.write_parameter(outputs, "secret", "overwritten")
    with pytest.raises(UnsafeURI):
        store.read_parameter(outputs, "secret", "STRING")
    (listed,) = store.list_run("p", "r1")
    assert (listed.name, listed.is_dir) == ("link", False)
    assert store.run_size("p", "r1") < 1000
    store.delete_run("p", "r1")
    assert (outside / "secret").read_bytes() == b"x" * 1000


def test_a_run_directory_that_links_out_of_the_store_is_refused(store, tmp_path):
    outside = tmp_path / "elsewhere"
    _write(outside / "keep", 10)
    pipeline_dir = store.root / "minio/mlpipeline/v2/artifacts/p"
    pipeline_dir.mkdir(parents=True)
    (pipeline_dir / "r1").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafeURI):
        store.delete_run("p", "r1")
    with pytest.raises(UnsafeURI):
        store.list_run("p", "r1")
    assert (outside / "keep").exists()
    assert store.run_ids("p") == []
