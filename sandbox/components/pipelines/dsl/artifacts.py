"""Artifact classes (``dsl.Artifact``, ``Dataset``, ``Model``, ``Metrics`` …) and where their files live.

An artifact is a name, a URI and a metadata dict. Components receive them as
``Input[Dataset]`` / ``Output[Model]`` objects and read or write ``.path``;
the executor hands the URIs and the final metadata back in the executor
output. The classes, their ``schema_title``/``schema_version`` and the
metrics helpers (``log_metric``, ``log_roc_curve``, ``log_confusion_matrix``)
follow kfp 2.15 so a component body ports unchanged.

Where ``.path`` points differs by design: kfp maps ``minio://b/k`` to the
``/minio/b/k`` mount a real cluster provides. Inside a sandbox task pod
``$SANDBOX_ARTIFACT_ROOT`` is set and the same URI maps under that root
(:mod:`sandbox.components.pipelines.storage.uris`, which refuses URIs that
would leave their bucket). Without the variable (e.g. a notebook building
artifacts by hand) the kfp mount paths are used, and URIs of other schemes
(plain local paths, ``oci://``) behave exactly as in kfp.

Imported inside every task pod: standard library and ``storage.uris`` only.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, ClassVar

from sandbox.components.pipelines.storage import uris

__all__ = [
    "HTML",
    "Artifact",
    "ClassificationMetrics",
    "Dataset",
    "Markdown",
    "Metrics",
    "Model",
    "SlicedClassificationMetrics",
    "artifact_class_for_schema",
    "get_uri",
]

#: Where a pipeline workspace is mounted in a task (kfp's WORKSPACE_MOUNT_PATH).
WORKSPACE_MOUNT_PATH = "/kfp-workspace"

# kfp's mount prefixes: used when no sandbox artifact root is configured.
_MOUNT_PREFIXES = {"gs://": "/gcs/", "minio://": "/minio/", "s3://": "/s3/"}
_OCI_PREFIX = "oci://"
_OCI_MOUNT = "/oci/"


def _root() -> Path | None:
    value = os.environ.get(uris.ROOT_ENV)
    return Path(value) if value else None


def uri_to_local_path(uri: str) -> str:
    """The local path a task reads and writes for ``uri`` (see the module docstring)."""
    scheme, sep, _ = uri.partition("://")
    root = _root()
    if sep and scheme in uris.SCHEMES and root is not None:
        return str(uris.uri_to_path(uri, root))
    for prefix, mount in _MOUNT_PREFIXES.items():
        if uri.startswith(prefix):
            return mount + uri[len(prefix):]
    if uri.startswith(_OCI_PREFIX):
        return _OCI_MOUNT + uri[len(_OCI_PREFIX):].replace("/", "_")
    return uri


def local_path_to_uri(path: str) -> str:
    """The URI of a local path: the inverse of :func:`uri_to_local_path`."""
    root = _root()
    if root is not None:
        try:
            return uris.path_to_uri(Path(path), root)
        except uris.UnsafeURI:
            pass
    for prefix, mount in _MOUNT_PREFIXES.items():
        if path.startswith(mount):
            return prefix + path[len(mount):]
    if path.startswith(_OCI_MOUNT):
        remote = path[len(_OCI_MOUNT):].replace("_", "/")
        if remote.endswith("/models"):
            remote = remote[: -len("/models")]
        return _OCI_PREFIX + remote
    return path


class Artifact:
    """A generic ML artifact: ``name``, ``uri``, ``metadata`` and a local ``path``."""

    schema_title: ClassVar[str] = "system.Artifact"
    schema_version: ClassVar[str] = "0.0.1"

    def __init__(self, name: str | None = None, uri: str | None = None,
                 metadata: dict[str, Any] | None = None) -> None:
        self.uri = uri or ""
        self.name = name or ""
        self.metadata: dict[str, Any] = metadata or {}
        self._custom_path = ""

    @property
    def path(self) -> str:
        return self._get_path()

    @path.setter
    def path(self, path: str) -> None:
        self.uri = local_path_to_uri(path)

    def _get_path(self) -> str:
        local_path = self._custom_path or uri_to_local_path(self.uri)
        if self.metadata.get("_kfp_workspace") is True:
            local_path = os.path.join(WORKSPACE_MOUNT_PATH, ".artifacts", local_path.lstrip("/"))
        return local_path

    @property
    def custom_path(self) -> str:
        return self._custom_path

    @custom_path.setter
    def custom_path(self, value: str) -> None:
        self._custom_path = value

    def set_path(self, path: str) -> None:
        """Use ``path`` instead of the path derived from the URI (reported as ``custom_path``)."""
        self._custom_path = path

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, uri={self.uri!r}, metadata={self.metadata!r})"


class Model(Artifact):
    """A trained model; ``framework`` is kept in the metadata."""

    schema_title = "system.Model"

    @property
    def framework(self) -> str:
        return self.metadata.get("framework", "")

    @framework.setter
    def framework(self, framework: str) -> None:
        self.metadata["framework"] = framework

    @property
    def path(self) -> str:
        # KServe modelcar images keep the model files under /models.
        if self.uri.startswith(_OCI_PREFIX):
            return self._get_path() + "/models"
        return self._get_path()

    @path.setter
    def path(self, path: str) -> None:
        self.uri = local_path_to_uri(path)


class Dataset(Artifact):
    """A dataset."""

    schema_title = "system.Dataset"


class Metrics(Artifact):
    """Scalar metrics, stored as metadata entries."""

    schema_title = "system.Metrics"

    def log_metric(self, metric: str, value: float) -> None:
        self.metadata[metric] = value


class ClassificationMetrics(Artifact):
    """ROC curve points and a confusion matrix, stored in the metadata in KFP's schema."""

    schema_title = "system.ClassificationMetrics"

    def __init__(self, name: str | None = None, uri: str | None = None,
                 metadata: dict[str, Any] | None = None) -> None:
        super().__init__(name=name, uri=uri, metadata=metadata)
        self._categories: list[str] = []
        self._matrix: list[dict[str, list[Any]]] = []
        self._confusion_matrix: dict[str, Any] = {}

    def log_roc_data_point(self, fpr: float, tpr: float, threshold: float) -> None:
        reading = {"confidenceThreshold": threshold, "recall": tpr, "falsePositiveRate": fpr}
        self.metadata.setdefault("confidenceMetrics", []).append(reading)

    def log_roc_curve(self, fpr: list[float], tpr: list[float], threshold: list[float]) -> None:
        if len(fpr) != len(tpr) or len(fpr) != len(threshold):
            raise ValueError(
                f"Length of fpr, tpr and threshold must be the same. Got lengths {len(fpr)}, "
                f"{len(tpr)} and {len(threshold)} respectively.")
        for i in range(len(fpr)):
            self.log_roc_data_point(fpr=fpr[i], tpr=tpr[i], threshold=threshold[i])

    def set_confusion_matrix_categories(self, categories: list[str]) -> None:
        self._categories = list(categories)
        self._matrix = [{"row": [0] * len(categories)} for _ in categories]
        self._confusion_matrix = {
            "annotationSpecs": [{"displayName": category} for category in categories],
            "rows": self._matrix,
        }
        self.metadata["confusionMatrix"] = self._confusion_matrix

    def _check_category(self, category: str) -> None:
        if category not in self._categories:
            raise ValueError(f"Invalid category: {category} passed. Expected one of: {self._categories}")

    def log_confusion_matrix_row(self, row_category: str, row: list[float]) -> None:
        self._check_category(row_category)
        if len(row) != len(self._categories):
            raise ValueError(f"Invalid row. Expected size: {len(self._categories)} got: {len(row)}")
        self._matrix[self._categories.index(row_category)] = {"row": row}
        self.metadata["confusionMatrix"] = self._confusion_matrix

    def log_confusion_matrix_cell(self, row_category: str, col_category: str, value: int) -> None:
        self._check_category(row_category)
        self._check_category(col_category)
        self._matrix[self._categories.index(row_category)]["row"][
            self._categories.index(col_category)] = value
        self.metadata["confusionMatrix"] = self._confusion_matrix

    def log_confusion_matrix(self, categories: list[str], matrix: list[list[int]]) -> None:
        self.set_confusion_matrix_categories(categories)
        if len(matrix) != len(categories) or any(len(row) != len(categories) for row in matrix):
            raise ValueError(f"Invalid matrix: {matrix} passed for categories: {categories}")
        for index, category in enumerate(categories):
            self.log_confusion_matrix_row(category, matrix[index])
        self.metadata["confusionMatrix"] = self._confusion_matrix


class SlicedClassificationMetrics(Artifact):
    """:class:`ClassificationMetrics` per slice, stored as ``evaluationSlices`` in the metadata."""

    schema_title = "system.SlicedClassificationMetrics"

    def __init__(self, name: str | None = None, uri: str | None = None,
                 metadata: dict[str, Any] | None = None) -> None:
        super().__init__(name=name, uri=uri, metadata=metadata)
        self._sliced_metrics: dict[str, ClassificationMetrics] = {}

    def _slice(self, slice: str) -> ClassificationMetrics:
        return self._sliced_metrics.setdefault(slice, ClassificationMetrics())

    def _update_metadata(self) -> None:
        self.metadata = {"evaluationSlices": [
            {"slice": name, "sliceClassificationMetrics": metrics.metadata}
            for name, metrics in self._sliced_metrics.items()]}

    def log_roc_reading(self, slice: str, threshold: float, tpr: float, fpr: float) -> None:
        self._slice(slice).log_roc_data_point(fpr=fpr, tpr=tpr, threshold=threshold)
        self._update_metadata()

    def load_roc_readings(self, slice: str, readings: list[list[float]]) -> None:
        """Readings are ``[threshold, tpr, fpr]`` triples."""
        for threshold, tpr, fpr in readings:
            self._slice(slice).log_roc_data_point(fpr=fpr, tpr=tpr, threshold=threshold)
        self._update_metadata()

    def set_confusion_matrix_categories(self, slice: str, categories: list[str]) -> None:
        self._slice(slice).set_confusion_matrix_categories(categories)
        self._update_metadata()

    def log_confusion_matrix_row(self, slice: str, row_category: str, row: list[int]) -> None:
        self._slice(slice).log_confusion_matrix_row(row_category, row)
        self._update_metadata()

    def log_confusion_matrix_cell(self, slice: str, row_category: str, col_category: str,
                                  value: int) -> None:
        self._slice(slice).log_confusion_matrix_cell(row_category, col_category, value)
        self._update_metadata()

    def load_confusion_matrix(self, slice: str, categories: list[str],
                              matrix: list[list[int]]) -> None:
        self._slice(slice).log_confusion_matrix(categories, matrix)
        self._update_metadata()


class HTML(Artifact):
    """An HTML file (rendered by the KFP UI)."""

    schema_title = "system.HTML"


class Markdown(Artifact):
    """A Markdown file (rendered by the KFP UI)."""

    schema_title = "system.Markdown"


_SCHEMA_TITLE_TO_TYPE: dict[str, type[Artifact]] = {
    cls.schema_title: cls
    for cls in (Artifact, Model, Dataset, Metrics, ClassificationMetrics,
                SlicedClassificationMetrics, HTML, Markdown)
}

#: Lower-cased v1 type names (``OutputPath('Dataset')``) → artifact classes.
ARTIFACT_CLASSES_MAPPING: dict[str, type[Artifact]] = {
    "artifact": Artifact,
    "model": Model,
    "dataset": Dataset,
    "metrics": Metrics,
    "classificationmetrics": ClassificationMetrics,
    "slicedclassificationmetrics": SlicedClassificationMetrics,
    "html": HTML,
    "markdown": Markdown,
}


def artifact_class_for_schema(schema_title: str, fallback: type[Artifact] = Artifact) -> type[Artifact]:
    """The artifact class of a schema title (``system.Model`` → :class:`Model`)."""
    return _SCHEMA_TITLE_TO_TYPE.get(schema_title, fallback)


#: The task's output directory, set by the executor (``dsl.get_uri`` derives URIs from it).
CONTAINER_TASK_ROOT: str | None = None


def get_uri(suffix: str = "Output") -> str:
    """A URI under the current task's root (only at task run time)."""
    if CONTAINER_TASK_ROOT is None:
        raise RuntimeError("'dsl.get_uri' can only be called at task runtime. "
                           "The task root is unknown in the current environment.")
    if CONTAINER_TASK_ROOT == "/tmp/kfp_outputs":
        warnings.warn("dsl.get_uri is not yet supported by the KFP backend. Please specify a URI explicitly.",
                      RuntimeWarning, stacklevel=2)
        return ""
    return os.path.join(local_path_to_uri(CONTAINER_TASK_ROOT), suffix)
