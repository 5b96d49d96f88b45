"""Artifacts: paths in the sandbox store, and metrics metadata shaped exactly as kfp's."""

from __future__ import annotations

import pytest

from sandbox.components.pipelines.storage import uris
from sandbox.components.pipelines.storage.uris import ROOT_ENV, UnsafeURI
from sandbox.pipelines import dsl

kfp_dsl = pytest.importorskip("kfp.dsl")


def test_artifact_paths_map_under_the_sandbox_artifact_root(tmp_path, monkeypatch):
    monkeypatch.setenv(ROOT_ENV, str(tmp_path))
    monkeypatch.setattr(uris, "_warned", set())  # the store warns once per process: keep that state ours
    model = dsl.Model(name="m", uri="minio://mlpipeline/v2/artifacts/p/r/train/model")
    assert model.path == str(tmp_path / "minio/mlpipeline/v2/artifacts/p/r/train/model")
    model.path = str(tmp_path / "minio/mlpipeline/elsewhere/model")
    assert model.uri == "minio://mlpipeline/elsewhere/model"
    with pytest.warns(UserWarning, match="not in Amazon S3"):
        assert dsl.Dataset(uri="s3://bucket/key").path == str(tmp_path / "s3/bucket/key")


def test_a_uri_leaving_its_bucket_never_becomes_a_path(tmp_path, monkeypatch):
    monkeypatch.setenv(ROOT_ENV, str(tmp_path))
    with pytest.raises(UnsafeURI):
        _ = dsl.Dataset(uri="minio://mlpipeline/../../etc/passwd").path


@pytest.mark.parametrize("uri", [
    "minio://mlpipeline/a/b", "gs://bucket/k", "s3://bucket/k", "oci://registry/repo:tag", "/local/file", "",
])
def test_without_a_sandbox_root_paths_are_kfps_mount_paths(uri, monkeypatch):
    monkeypatch.delenv(ROOT_ENV, raising=False)
    for cls_name in ("Artifact", "Model"):
        assert getattr(dsl, cls_name)(uri=uri).path == getattr(kfp_dsl, cls_name)(uri=uri).path
    # Setting a path sets the URI back (kfp's Model.path has no setter; ours does, like Artifact's).
    ours, theirs = dsl.Artifact(uri=uri), kfp_dsl.Artifact(uri=uri)
    ours.path, theirs.path = theirs.path, theirs.path
    assert ours.uri == theirs.uri


def test_custom_paths_and_model_framework():
    model = dsl.Model(uri="minio://b/k")
    model.framework = "sklearn"
    model.set_path("/tmp/custom")
    assert (model.path, model.custom_path, model.metadata) == ("/tmp/custom", "/tmp/custom", {"framework": "sklearn"})


def _metrics_calls(module: object) -> tuple[dict, dict]:
    metrics = module.Metrics()
    metrics.log_metric("accuracy", 0.9)
    metrics.log_metric("loss", 1)
    roc = module.ClassificationMetrics()
    roc.log_roc_data_point(fpr=0.1, tpr=0.7, threshold=0.5)
    roc.log_roc_curve(fpr=[0.0, 1.0], tpr=[0.0, 1.0], threshold=[1.0, 0.0])
    roc.set_confusion_matrix_categories(["a", "b", "c"])
    roc.log_confusion_matrix_row("b", [1, 2, 3])
    roc.log_confusion_matrix_cell("c", "a", 7)
    roc.log_confusion_matrix(["x", "y"], [[1, 0], [2, 3]])
    return metrics.metadata, roc.metadata


def test_metrics_metadata_is_what_kfp_records():
    assert _metrics_calls(dsl) == _metrics_calls(kfp_dsl)


@pytest.mark.parametrize("call", [
    lambda m: m.log_roc_curve(fpr=[0.0], tpr=[0.0, 1.0], threshold=[1.0]),
    lambda m: m.log_confusion_matrix(["a", "b"], [[1, 2]]),
    lambda m: (m.set_confusion_matrix_categories(["a"]), m.log_confusion_matrix_row("z", [1])),
    lambda m: (m.set_confusion_matrix_categories(["a"]), m.log_confusion_matrix_row("a", [1, 2])),
])
def test_classification_metrics_reject_bad_input_like_kfp(call):
    with pytest.raises(ValueError) as ours:
        call(dsl.ClassificationMetrics())
    with pytest.raises(ValueError) as theirs:
        call(kfp_dsl.ClassificationMetrics())
    assert str(ours.value) == str(theirs.value)


def test_sliced_classification_metrics_group_metrics_by_slice():
    # kfp's SlicedClassificationMetrics never initialises its slices (every call raises
    # AttributeError); ours records each slice as KFP's schema describes.
    sliced = dsl.SlicedClassificationMetrics()
    sliced.load_roc_readings("train", [[0.5, 0.8, 0.1]])
    sliced.log_roc_reading("train", threshold=0.2, tpr=0.9, fpr=0.3)
    sliced.load_confusion_matrix("test", ["a", "b"], [[1, 2], [3, 4]])
    slices = sliced.metadata["evaluationSlices"]
    assert [entry["slice"] for entry in slices] == ["train", "test"]
    assert slices[0]["sliceClassificationMetrics"]["confidenceMetrics"] == [
        {"confidenceThreshold": 0.5, "recall": 0.8, "falsePositiveRate": 0.1},
        {"confidenceThreshold": 0.2, "recall": 0.9, "falsePositiveRate": 0.3}]
    assert slices[1]["sliceClassificationMetrics"]["confusionMatrix"]["rows"] == [{"row": [1, 2]}, {"row": [3, 4]}]


def test_get_uri_only_works_at_task_runtime():
    with pytest.raises(RuntimeError, match="can only be called at task runtime"):
        dsl.get_uri()
