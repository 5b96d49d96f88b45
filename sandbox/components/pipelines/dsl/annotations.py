"""Component signature markers: ``Input[...]``, ``Output[...]``, ``InputPath``, ``OutputPath``, final status.

A lightweight component declares its interface with annotations, as in kfp:
``Input[Dataset]``/``Output[Model]`` are artifacts passed as objects,
``InputPath('Dataset')``/``OutputPath(str)`` are artifacts or output
parameters passed as plain local paths, and a ``PipelineTaskFinalStatus``
parameter receives the final state of the task an exit handler guards. The
component factory reads these markers to build the component interface, the
executor reads them again in the pod to decide what to pass each argument.

Standard library only (imported in every task pod).
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, TypeVar

from sandbox.components.pipelines.dsl import types
from sandbox.components.pipelines.dsl.artifacts import ARTIFACT_CLASSES_MAPPING, Artifact

__all__ = [
    "Input",
    "InputAnnotation",
    "InputPath",
    "Output",
    "OutputAnnotation",
    "OutputPath",
    "PipelineTaskFinalStatus",
    "TaskConfig",
]


class InputAnnotation:
    """Marker of input artifacts (``Input[T]``)."""


class OutputAnnotation:
    """Marker of output artifacts (``Output[T]``)."""


T = TypeVar("T")
#: An input artifact of class ``T``: the component receives the artifact object.
Input = Annotated[T, InputAnnotation]
#: An output artifact of class ``T``: the component writes ``.path`` and ``.metadata``.
Output = Annotated[T, OutputAnnotation]


def _path_type(type_: Any) -> Any:
    if types.is_artifact_class(type_):
        return types.create_bundled_artifact_type(type_.schema_title, type_.schema_version)
    if isinstance(type_, str) and type_.lower() in ARTIFACT_CLASSES_MAPPING:
        return types.create_bundled_artifact_type(ARTIFACT_CLASSES_MAPPING[type_.lower()].schema_title)
    if types.parameter_type(type_):
        return type_
    # An unknown v1 type name, e.g. OutputPath('MyCustomType'), is a generic artifact.
    return types.create_bundled_artifact_type(Artifact.schema_title)


class OutputPath:
    """An output (parameter or artifact) the component writes to a local path it is given."""

    def __init__(self, type: Any = None) -> None:
        self.type = _path_type(type)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OutputPath) and self.type == other.type

    def __hash__(self) -> int:
        return hash(("OutputPath", str(self.type)))


class InputPath:
    """An input artifact the component reads from a local path it is given."""

    def __init__(self, type: Any = None) -> None:
        self.type = _path_type(type)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, InputPath) and self.type == other.type

    def __hash__(self) -> int:
        return hash(("InputPath", str(self.type)))


@dataclasses.dataclass
class PipelineTaskFinalStatus:
    """The final status of the task an exit handler guards (``state``: SUCCEEDED, FAILED, CANCELLED)."""

    state: str
    pipeline_job_resource_name: str
    pipeline_task_name: str
    error_code: int | None
    error_message: str | None


@dataclasses.dataclass
class TaskConfig:
    """Pod settings passed through to a component that launches other workloads (kfp's TaskConfig)."""

    affinity: dict[str, Any] | None = None
    tolerations: list[dict[str, Any]] | None = None
    node_selector: dict[str, str] | None = None
    env: list[dict[str, Any]] | None = None
    volumes: list[dict[str, Any]] | None = None
    volume_mounts: list[dict[str, Any]] | None = None
    resources: dict[str, Any] | None = None


def is_input_output_annotation(annotation: Any) -> bool:
    metadata = getattr(annotation, "__metadata__", None)
    return bool(metadata) and metadata[0] in (InputAnnotation, OutputAnnotation)


def is_input_artifact(annotation: Any) -> bool:
    return is_input_output_annotation(annotation) and annotation.__metadata__[0] is InputAnnotation


def is_output_artifact(annotation: Any) -> bool:
    return is_input_output_annotation(annotation) and annotation.__metadata__[0] is OutputAnnotation


def strip_input_output_marker(annotation: Any) -> Any:
    return annotation.__args__[0]


def issubclass_of_artifact(obj: Any) -> bool:
    return type(obj) is type and issubclass(obj, Artifact)


def is_generic_list(annotation: Any) -> bool:
    return getattr(annotation, "__origin__", None) is list or annotation is list


def inner_type(annotation: Any) -> Any:
    args = getattr(annotation, "__args__", None)
    if args is None:
        return None
    return args[0] if len(args) == 1 else tuple(args)


def is_list_of_artifacts(annotation: Any) -> bool:
    """``List[Dataset]`` (a list of artifacts, as a pipeline input or ``Input[List[...]]``)."""
    return is_generic_list(annotation) and issubclass_of_artifact(inner_type(annotation))
