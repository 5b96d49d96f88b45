"""Component objects: what ``@component``, ``@container_component``, ``@pipeline`` and ``importer`` return.

A component is a :class:`~.structures.ComponentSpec` plus how it was made.
Calling one inside a pipeline function makes a :class:`~.tasks.PipelineTask`
(keyword arguments only, required inputs enforced, kfp's messages). Calling
one anywhere else is an error: kfp would run it locally with ``kfp.local``,
which the sandbox does not implement — pipelines run on the sandbox cluster.

A :class:`GraphComponent` (a ``@pipeline``) runs its function once, at
decoration time as kfp does, inside a fresh default pipeline, and compiles
the recorded tasks and groups to IR right away (so topology errors surface
where the pipeline is defined, and a pipeline can be used as a component of
another). The compiler is imported lazily: task pods import this package for
its artifact types and never define pipelines.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from typing import Any

from sandbox.components.pipelines.dsl import (
    channels,
    context,
    placeholders,
    structures,
    tasks,
    types,
)

__all__ = [
    "BaseComponent",
    "ContainerComponent",
    "ContainerComponentArtifactChannel",
    "GraphComponent",
    "ImporterComponent",
    "LocalExecutionNotSupported",
    "PythonComponent",
]


class LocalExecutionNotSupported(RuntimeError):
    """A component or pipeline was called outside a pipeline function (kfp.local is not implemented)."""


class BaseComponent:
    """A component: its spec, and a call that makes a task in the pipeline being defined."""

    def __init__(self, component_spec: structures.ComponentSpec) -> None:
        self.component_spec = component_spec
        self.name = component_spec.name
        self.description = component_spec.description or None
        # PipelineTaskFinalStatus inputs are filled by the backend, never by the caller.
        self._component_inputs = {
            name for name, spec in (component_spec.inputs or {}).items()
            if not types.is_task_final_status_type(spec.type)
        }

    def _prevent_using_output_lists_of_artifacts(self) -> None:
        for output_name, output_spec in (self.component_spec.outputs or {}).items():
            if output_spec.is_artifact_list:
                raise ValueError("Output lists of artifacts are only supported for pipelines. Got output list of "
                                 f"artifacts for output parameter {output_name!r} of component {self.name!r}.")

    @property
    def required_inputs(self) -> list[str]:
        return [name for name, spec in (self.component_spec.inputs or {}).items() if not spec.optional]

    def __call__(self, *args: Any, **kwargs: Any) -> tasks.PipelineTask:
        if context.get_default_pipeline() is None:
            raise LocalExecutionNotSupported(
                f"Component {self.name!r} was called outside a pipeline. kf-sandbox does not implement kfp.local: "
                "call components inside a @dsl.pipeline function, then compile the pipeline or run it on the "
                "sandbox (`sandbox pipelines run FILE.py`).")
        if args:
            raise TypeError("Components must be instantiated using keyword arguments. Positional parameters are "
                            f'not allowed (found {len(args)} such parameters for component "{self.name}").')
        for key in kwargs:
            if key not in self._component_inputs:
                raise TypeError(f'{self.name}() got an unexpected keyword argument "{key}".')
        missing = [name for name in self.required_inputs if name not in kwargs]
        if missing:
            noun = "argument" if len(missing) == 1 else "arguments"
            names = ", ".join(name.replace("-", "_") for name in missing)
            raise TypeError(f"{self.name}() missing {len(missing)} required {noun}: {names}.")
        return tasks.PipelineTask(component_spec=self.component_spec, args=dict(kwargs),
                                  execution_caching_default=context.execution_caching_default())

    @property
    def pipeline_spec(self) -> dict[str, Any]:
        """The IR of this component compiled on its own (a one-task pipeline)."""
        from sandbox.components.pipelines.compiler import builder

        with tasks.BlockPipelineTaskRegistration():
            return builder.component_to_pipeline_spec(self.component_spec)

    @property
    def platform_spec(self) -> dict[str, Any]:
        """Platform (kfp-kubernetes) settings: none, the extension is not supported."""
        return {}


class PythonComponent(BaseComponent):
    """A lightweight Python component (``@dsl.component``): its function, image and required packages."""

    def __init__(self, component_spec: structures.ComponentSpec, python_func: Callable[..., Any], *,
                 base_image: str = "python:3.11", packages_to_install: list[str] | None = None) -> None:
        super().__init__(component_spec)
        self.python_func = python_func
        self.base_image = base_image
        self.packages_to_install = list(packages_to_install or [])
        self._prevent_using_output_lists_of_artifacts()


class ContainerComponent(BaseComponent):
    """A container component (``@dsl.container_component``)."""

    def __init__(self, component_spec: structures.ComponentSpec, pipeline_func: Callable[..., Any]) -> None:
        super().__init__(component_spec)
        self.pipeline_func = pipeline_func
        self._prevent_using_output_lists_of_artifacts()


class ImporterComponent(BaseComponent):
    """The component behind ``dsl.importer``."""


class GraphComponent(BaseComponent):
    """A pipeline (``@dsl.pipeline``), usable as a component of another pipeline."""

    def __init__(self, component_spec: structures.ComponentSpec, pipeline_func: Callable[..., Any],
                 display_name: str | None = None) -> None:
        super().__init__(component_spec)
        self.pipeline_func = pipeline_func
        arguments = []
        for arg_name in inspect.signature(pipeline_func).parameters:
            input_spec = (component_spec.inputs or {})[arg_name]
            arguments.append(channels.create_pipeline_channel(
                name=arg_name, channel_type=input_spec.type, is_artifact_list=input_spec.is_artifact_list))
        with context.Pipeline(component_spec.name) as dsl_pipeline:
            pipeline_outputs = pipeline_func(*arguments)
        if not dsl_pipeline.tasks:
            raise ValueError("Task is missing from pipeline.")
        # A unique root group name, so it cannot clash with component names.
        dsl_pipeline.groups[0].name = uuid.uuid4().hex

        from sandbox.components.pipelines.compiler import builder

        pipeline_spec = builder.create_pipeline_spec(pipeline=dsl_pipeline, component_spec=component_spec,
                                                     pipeline_outputs=pipeline_outputs)
        pipeline_root = getattr(pipeline_func, "pipeline_root", None)
        if pipeline_root is not None:
            pipeline_spec["defaultPipelineRoot"] = pipeline_root
        if display_name is not None:
            pipeline_spec["pipelineInfo"]["displayName"] = display_name
        if component_spec.description is not None:
            pipeline_spec["pipelineInfo"]["description"] = component_spec.description
        component_spec.implementation.graph = pipeline_spec

    @property
    def pipeline_spec(self) -> dict[str, Any]:
        assert self.component_spec.implementation.graph is not None
        return self.component_spec.implementation.graph


class ContainerComponentArtifactChannel:
    """What a container component function gets for an artifact: ``.path``, ``.uri``, ``.metadata`` placeholders."""

    _PLACEHOLDERS: dict[str, dict[str, type[placeholders.Placeholder]]] = {
        "uri": {"input": placeholders.InputUriPlaceholder, "output": placeholders.OutputUriPlaceholder},
        "path": {"input": placeholders.InputPathPlaceholder, "output": placeholders.OutputPathPlaceholder},
        "metadata": {"input": placeholders.InputMetadataPlaceholder,
                     "output": placeholders.OutputMetadataPlaceholder},
    }

    def __init__(self, io_type: str, var_name: str) -> None:
        self._io_type = io_type
        self._var_name = var_name

    def __getattr__(self, name: str) -> placeholders.Placeholder:
        if name not in self._PLACEHOLDERS:
            raise AttributeError(f'Cannot access artifact attribute "{name}".')
        return self._PLACEHOLDERS[name][self._io_type](self._var_name)  # type: ignore[call-arg]
