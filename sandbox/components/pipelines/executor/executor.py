"""Runs one component function on an executor input and writes its executor output, as kfp's ``Executor``.

Data flow: the executor input JSON (``inputs.parameterValues``,
``inputs.artifacts``, ``outputs.parameters[*].outputFile``,
``outputs.artifacts``, ``outputs.outputFile``) → keyword arguments by the
function's annotations:

* parameters are passed as the JSON values they are (kfp does not convert);
* ``Input[T]`` / ``Output[T]`` / bare artifact annotations get artifact
  objects (class from the runtime ``schemaTitle``), lists for ``List[T]``;
  output artifacts' parent directories are created;
* ``InputPath`` / ``OutputPath`` get local paths (an output *parameter*'s
  path is its ``outputFile``, written by the component and collected by the
  orchestrator, not by the executor — as in KFP);
* ``PipelineTaskFinalStatus`` / ``TaskConfig`` are rebuilt from their structs.

The return value becomes output ``Output`` (or the NamedTuple's fields):
parameters are type-checked and reported in ``parameterValues``; an artifact
return replaces the output artifact or, when it is data, is written to the
artifact's path. The executor output lists every output artifact with its
final name, URI and metadata (``Metrics.log_metric`` lands there). Artifact
files are already in the sandbox store: ``.path`` maps the URI under
``$SANDBOX_ARTIFACT_ROOT`` (same filesystem, no upload).
"""

from __future__ import annotations

import inspect
import json
import os
import warnings
from collections.abc import Callable
from typing import Any

from sandbox.components.pipelines.dsl import annotations as ann
from sandbox.components.pipelines.dsl import artifacts, types
from sandbox.components.pipelines.dsl.annotations import PipelineTaskFinalStatus, TaskConfig

__all__ = ["Executor", "create_artifact_instance"]


def _makedirs_for(path: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)


def create_artifact_instance(runtime_artifact: dict[str, Any],
                             fallback_artifact_cls: type[artifacts.Artifact] = artifacts.Artifact,
                             ) -> artifacts.Artifact:
    """An artifact object of the runtime artifact's schema (the annotation's class when unknown)."""
    schema_title = runtime_artifact.get("type", {}).get("schemaTitle", "")
    artifact_cls = artifacts.artifact_class_for_schema(schema_title, fallback_artifact_cls)
    return artifact_cls(uri=runtime_artifact.get("uri", ""), name=runtime_artifact.get("name", ""),
                        metadata=runtime_artifact.get("metadata", {}))


def is_parameter(annotation: Any) -> bool:
    if isinstance(annotation, type):
        if annotation in (str, int, float, bool, dict, list):
            return True
        name = getattr(annotation, "__name__", "")
        if types.is_task_final_status_type(name) or types.is_task_config_type(name):
            return True
    return types.is_parameter_type(str(annotation))


def is_artifact(annotation: Any) -> bool:
    return type(annotation) is type and types.is_artifact_class(annotation)


def is_named_tuple(annotation: Any) -> bool:
    return (type(annotation) is type and issubclass(annotation, tuple) and hasattr(annotation, "_fields")
            and hasattr(annotation, "__annotations__"))


def _artifact_class(annotation: Any) -> Any:
    """The class to build for an annotation (``Input[Model]`` → Model; ``InputPath('Dataset')`` → Dataset)."""
    if isinstance(annotation, ann.InputPath):
        schema_title = annotation.type.split("@")[0]
        cls = artifacts.artifact_class_for_schema(schema_title, fallback=None)  # type: ignore[arg-type]
        if cls is None:
            raise TypeError(f"Invalid type argument to InputPath: {annotation.type}")
        return cls
    if ann.is_input_output_annotation(annotation):
        annotation = ann.strip_input_output_marker(annotation)
    return annotation if isinstance(annotation, type) else artifacts.Artifact


class Executor:
    """Executes a Python function component (kfp's ``kfp.dsl.executor.Executor``)."""

    def __init__(self, executor_input: dict[str, Any], function_to_execute: Callable[..., Any]) -> None:
        self.func = getattr(function_to_execute, "python_func", function_to_execute)
        self.executor_input = executor_input
        self.executor_output_path: str = executor_input["outputs"]["outputFile"]
        artifacts.CONTAINER_TASK_ROOT = os.path.split(self.executor_output_path)[0]
        self.input_artifacts: dict[str, Any] = {}
        self.output_artifacts: dict[str, artifacts.Artifact] = {}
        self._assign_artifacts()
        self.return_annotation = inspect.signature(self.func).return_annotation
        self.executor_output: dict[str, Any] = {}

    def _annotation(self, name: str) -> Any:
        return self.func.__annotations__.get(name)

    def _assign_artifacts(self) -> None:
        for name, entry in self.executor_input.get("inputs", {}).get("artifacts", {}).items():
            runtime_artifacts = entry.get("artifacts")
            if not runtime_artifacts:
                continue
            annotation = types.maybe_strip_optional(self.func.__annotations__[name])
            is_list = (ann.is_input_output_annotation(annotation) and ann.is_list_of_artifacts(annotation.__origin__)) \
                or ann.is_list_of_artifacts(annotation)
            if is_list:
                inner = ann.inner_type(annotation)
                inner_cls = _artifact_class(ann.inner_type(inner) if ann.is_list_of_artifacts(inner) else inner)
                self.input_artifacts[name] = [create_artifact_instance(runtime, inner_cls)
                                              for runtime in runtime_artifacts]
            else:
                self.input_artifacts[name] = create_artifact_instance(
                    runtime_artifacts[0], _artifact_class(self._annotation(name)))
        for name, entry in self.executor_input.get("outputs", {}).get("artifacts", {}).items():
            runtime_artifacts = entry.get("artifacts")
            if not runtime_artifacts:
                continue
            artifact = create_artifact_instance(runtime_artifacts[0], _artifact_class(self._annotation(name)))
            self.output_artifacts[name] = artifact
            _makedirs_for(artifact.path)

    def _input_parameter(self, name: str) -> Any:
        values = self.executor_input.get("inputs", {}).get("parameterValues")
        return None if values is None else values.get(name)

    def _output_parameter_path(self, name: str) -> str | None:
        parameter = self.executor_input.get("outputs", {}).get("parameters", {}).get(name)
        if parameter is None:
            return None
        path = parameter.get("outputFile")
        if path:
            _makedirs_for(path)
        return path

    def _output_artifact_path(self, name: str) -> str:
        artifact = self.output_artifacts.get(name)
        if not artifact:
            raise ValueError(f"Failed to get output artifact path for artifact name {name}")
        return artifact.path

    def _input_artifact_path(self, name: str) -> str:
        artifact = self.input_artifacts.get(name)
        if not artifact:
            raise ValueError(f"Failed to get input artifact path for artifact name {name}")
        return artifact.path

    def _write_output_parameter_value(self, name: str, value: Any) -> None:
        if not isinstance(value, str | int | float | bool | list | dict):
            raise ValueError(f"Unable to serialize unknown type `{value}` for parameter input with value "
                             f"`{type(value)}`")
        self.executor_output.setdefault("parameterValues", {})[name] = value

    def _handle_single_return_value(self, output_name: str, annotation: Any, value: Any) -> None:
        if is_parameter(annotation):
            origin_type = getattr(annotation, "__origin__", None) or annotation
            accepted: Any = (int, float) if origin_type is float else origin_type
            if not isinstance(value, accepted):
                raise ValueError(f"Function `{self.func.__name__}` returned value of type {type(value)}; want type "
                                 f"{origin_type}")
            self._write_output_parameter_value(output_name, value)
        elif is_artifact(annotation):
            if isinstance(value, artifacts.Artifact):
                artifact_name = self.executor_input["outputs"]["artifacts"][output_name]["artifacts"][0]["name"]
                if "VERTEX_AI_PIPELINES_RUN_LABELS" in os.environ:
                    if value.name == "":
                        value.name = artifact_name
                    else:
                        warnings.warn("If you are running your pipeline Vertex AI Pipelines, you should not provide "
                                      "a name for your artifact. It will be set to the Vertex artifact resource name "
                                      f"{artifact_name} by default. Got value for name: {value.name}.",
                                      RuntimeWarning, stacklevel=2)
                self.output_artifacts[output_name] = value
            else:
                with open(self._output_artifact_path(output_name), "w") as f:
                    f.write(str(value))
        else:
            raise RuntimeError(f"Unknown return type: {annotation}. Must be one of the supported data types: "
                               "https://www.kubeflow.org/docs/components/pipelines/v2/data-types/")

    def write_executor_output(self, func_output: Any = None) -> str | None:
        """Writes the executor output file; returns its path (None on a non-chief distributed worker)."""
        if func_output is not None:
            if is_parameter(self.return_annotation) or is_artifact(self.return_annotation):
                self._handle_single_return_value("Output", self.return_annotation, func_output)
            elif is_named_tuple(self.return_annotation):
                fields = self.return_annotation._fields
                if len(fields) != len(func_output):
                    raise RuntimeError(f"Expected {len(fields)} return values from function `{self.func.__name__}`, "
                                       f"got {len(func_output)}")
                for i, field in enumerate(fields):
                    field_type = self.return_annotation.__annotations__[field]
                    field_value = func_output[i] if type(func_output) is tuple else getattr(func_output, field)
                    self._handle_single_return_value(field, field_type, field_value)
            else:
                raise RuntimeError(f"Unknown return type: {self.return_annotation}. Must be one of `str`, `int`, "
                                   "`float`, a subclass of `Artifact`, or a NamedTuple collection of these types.")
        if self.output_artifacts:
            self.executor_output["artifacts"] = {}
        for name, artifact in self.output_artifacts.items():
            runtime_artifact: dict[str, Any] = {"name": artifact.name, "uri": artifact.uri,
                                                "metadata": artifact.metadata}
            if artifact.custom_path:
                runtime_artifact["custom_path"] = artifact.custom_path
            self.executor_output["artifacts"][name] = {"artifacts": [runtime_artifact]}
        # In a distributed (mirrored) job only the chief writes the file.
        cluster_spec = os.environ.get("CLUSTER_SPEC")
        if cluster_spec and json.loads(cluster_spec)["task"]["type"] not in {"workerpool0", "chief", "master"}:
            return None
        _makedirs_for(self.executor_output_path)
        with open(self.executor_output_path, "w") as f:
            f.write(json.dumps(self.executor_output))
        return self.executor_output_path

    def _final_status(self, name: str) -> PipelineTaskFinalStatus:
        value = self._input_parameter(name) or {}
        # camelCase names are deprecated but still sent by some backends.
        resource_key = "pipelineJobResourceName" if value.get("pipelineJobResourceName") is not None \
            else "pipeline_job_resource_name"
        task_key = "pipelineTaskName" if value.get("pipelineTaskName") is not None else "pipeline_task_name"
        return PipelineTaskFinalStatus(
            state=value.get("state"), pipeline_job_resource_name=value.get(resource_key),
            pipeline_task_name=value.get(task_key), error_code=value.get("error", {}).get("code"),
            error_message=value.get("error", {}).get("message"))

    def _task_config(self, name: str) -> TaskConfig:
        value = self._input_parameter(name) or {}
        return TaskConfig(affinity=value.get("affinity"), tolerations=value.get("tolerations"),
                          node_selector=value.get("nodeSelector"), env=value.get("env"),
                          volumes=value.get("volumes"), volume_mounts=value.get("volumeMounts"),
                          resources=value.get("resources"))

    def execute(self) -> str | None:
        """Calls the function with its arguments and writes the executor output."""
        kwargs: dict[str, Any] = {}
        for name, annotation in inspect.getfullargspec(self.func).annotations.items():
            if name == "return":
                continue
            annotation = types.maybe_strip_optional(annotation)
            if annotation == PipelineTaskFinalStatus:
                kwargs[name] = self._final_status(name)
            elif annotation == TaskConfig:
                kwargs[name] = self._task_config(name)
            elif ann.is_list_of_artifacts(annotation):
                kwargs[name] = self.input_artifacts.get(name)
            elif is_parameter(annotation):
                value = self._input_parameter(name)
                if value is not None:
                    kwargs[name] = value
            elif ann.is_input_output_annotation(annotation):
                if ann.is_input_artifact(annotation):
                    kwargs[name] = self.input_artifacts.get(name)
                if ann.is_output_artifact(annotation):
                    kwargs[name] = self.output_artifacts.get(name)
            elif is_artifact(annotation):
                kwargs[name] = self.input_artifacts.get(name)
            elif isinstance(annotation, ann.OutputPath):
                kwargs[name] = self._output_parameter_path(name) if is_parameter(annotation.type) \
                    else self._output_artifact_path(name)
            elif isinstance(annotation, ann.InputPath):
                kwargs[name] = self._input_artifact_path(name)
        return self.write_executor_output(self.func(**kwargs))
