"""Component and task definitions as plain dataclasses: the DSL's in-memory model of a component.

``@component``/``@container_component``/``@pipeline``/``importer`` all produce
a :class:`ComponentSpec` (name, typed inputs and outputs, and one
implementation: a container, an importer, or a compiled graph). Calling a
component inside a pipeline makes a task whose :class:`TaskSpec` records what
the task methods set (caching, retries, display name). The compiler turns
these into IR; nothing here knows about IR dicts except :class:`RetryPolicy`,
whose IR form carries kfp's defaults (backoff ``0s``, factor 2, cap 3600s).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from sandbox.components.pipelines.dsl import placeholders, types

__all__ = [
    "ComponentSpec",
    "ContainerSpec",
    "ContainerSpecImplementation",
    "Implementation",
    "ImporterSpec",
    "InputSpec",
    "OutputSpec",
    "ResourceSpec",
    "RetryPolicy",
    "TaskSpec",
    "maybe_rename_for_k8s",
]


def maybe_rename_for_k8s(name: str) -> str:
    """A Kubernetes-compatible name: ``Train Model_v2`` → ``train-model-v2``."""
    return re.sub("-+", "-", re.sub("[^-0-9a-z]+", "-", name.lower())).lstrip("-").rstrip("-")


def make_name_unique_by_adding_index(name: str, collection: Any, delimiter: str) -> str:
    """``name``, or ``name<delimiter>2``, ``…3`` — the first not in ``collection``."""
    unique_name = name
    if unique_name in collection:
        index = 2
        while True:
            unique_name = f"{name}{delimiter}{index}"
            if unique_name not in collection:
                break
            index += 1
    return unique_name


def validate_pipeline_name(name: str) -> None:
    if not re.match(r"^[a-z0-9][a-z0-9-]{0,127}$", name):
        raise ValueError(
            f"Invalid pipeline name: {name}.\nPlease specify a pipeline name that matches the regular "
            'expression "^[a-z0-9][a-z0-9-]{0,127}$" using `dsl.pipeline(name=...)` decorator.')


@dataclasses.dataclass
class InputSpec:
    """A component input: its type string, default, optionality, and description."""

    type: Any
    default: Any = None
    optional: bool = False
    is_artifact_list: bool = False
    description: str | None = None

    def __post_init__(self) -> None:
        if not types.spec_type_is_parameter(self.type):
            types.validate_bundled_artifact_type(self.type)
        if self.optional is False and self.default is not None:
            raise ValueError(f"`optional` argument to {self.__class__.__name__} must be True if `default` is not None.")


@dataclasses.dataclass
class OutputSpec:
    """A component output: its type string and description."""

    type: Any
    is_artifact_list: bool = False
    description: str | None = None

    def __post_init__(self) -> None:
        if not types.spec_type_is_parameter(self.type):
            types.validate_bundled_artifact_type(self.type)


@dataclasses.dataclass
class ResourceSpec:
    """CPU, memory and accelerator settings of a task's container (strings, or placeholder strings)."""

    cpu_request: str | None = None
    cpu_limit: str | None = None
    memory_request: str | None = None
    memory_limit: str | None = None
    accelerator_type: str | None = None
    accelerator_count: str | None = None


@dataclasses.dataclass
class ContainerSpec:
    """What a ``@container_component`` function returns: image, command and args with placeholders."""

    image: str
    command: list[placeholders.CommandLineElement] | None = None
    args: list[placeholders.CommandLineElement] | None = None


@dataclasses.dataclass
class ContainerSpecImplementation:
    """A component's container: image, command, args, env and resources."""

    image: str
    command: list[Any] | None = None
    args: list[Any] | None = None
    env: dict[str, Any] | None = None
    resources: ResourceSpec | None = None

    def __post_init__(self) -> None:
        self.command = None if self.command == [] else self.command
        self.args = None if self.args == [] else self.args
        self.env = None if self.env == {} else self.env

    @classmethod
    def from_container_spec(cls, container_spec: ContainerSpec) -> ContainerSpecImplementation:
        return cls(image=container_spec.image, command=container_spec.command, args=container_spec.args)


def convert_duration_to_seconds(duration: str) -> int:
    """``'1 hour'`` / ``'2h'`` / ``'90s'`` → seconds (units s, m, h, d, w)."""
    compact = duration.replace(" ", "")
    parts = [part for part in re.split(r"(\D+)", compact) if part]
    if len(parts) != 2:
        raise ValueError(f"Invalid duration string: '{duration}'. Expected one value (as integer in string) "
                         "and one unit, such as '1 hour'.")
    value, unit = parts[0], parts[1][0]
    seconds_per_unit = {"s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800}
    if unit not in seconds_per_unit:
        raise ValueError(f"Unsupported duration unit: '{unit}' for '{value + unit}'.")
    return int(value) * seconds_per_unit[unit]


@dataclasses.dataclass
class RetryPolicy:
    """``set_retry``'s settings."""

    max_retry_count: int | None = None
    backoff_duration: str | None = None
    backoff_factor: float | None = None
    backoff_max_duration: str | None = None

    def to_ir(self) -> dict[str, Any]:
        """The IR ``retryPolicy``, with the defaults filled in and the backoff cap at one hour."""
        ir: dict[str, Any] = {}
        max_retry_count = self.max_retry_count or 0
        if max_retry_count:
            ir["maxRetryCount"] = max_retry_count
        ir["backoffDuration"] = f"{convert_duration_to_seconds(self.backoff_duration or '0s')}s"
        ir["backoffFactor"] = float(self.backoff_factor or 2.0)
        cap = min(convert_duration_to_seconds(self.backoff_max_duration or "3600s"), 3600)
        ir["backoffMaxDuration"] = f"{cap}s"
        return ir


@dataclasses.dataclass
class TaskSpec:
    """What a task's methods set: caching, retries, display name, ``after`` dependencies."""

    name: str
    inputs: dict[str, Any]
    dependent_tasks: list[str]
    component_ref: str
    enable_caching: bool = True
    cache_key: str | None = None
    display_name: str | None = None
    retry_policy: RetryPolicy | None = None


@dataclasses.dataclass
class ImporterSpec:
    """An importer: the artifact URI (constant or input placeholder), its type, metadata and reimport flag."""

    artifact_uri: Any
    schema_title: str
    schema_version: str
    reimport: bool
    metadata: dict[str, Any] | None = None
    download_to_workspace: bool = False


@dataclasses.dataclass
class Implementation:
    """Exactly one of a container, an importer or a graph (the compiled IR dict of a pipeline)."""

    container: ContainerSpecImplementation | None = None
    importer: ImporterSpec | None = None
    graph: dict[str, Any] | None = None


def check_placeholder_references(inputs: dict[str, InputSpec], outputs: dict[str, OutputSpec], arg: Any) -> None:
    """Every placeholder in a container's command names an existing input/output."""
    from sandbox.components.pipelines.dsl.components import ContainerComponentArtifactChannel

    if isinstance(arg, ContainerComponentArtifactChannel):
        raise ValueError("Cannot access artifact by itself in the container definition. "
                         "Please use .uri or .path instead to access the artifact.")
    if isinstance(arg, placeholders.PRIMITIVE_INPUT_PLACEHOLDERS):
        if arg.input_name not in inputs:
            raise ValueError(f'Argument "{arg.__class__.__name__}" references nonexistant input: "{arg.input_name}".')
    elif isinstance(arg, placeholders.PRIMITIVE_OUTPUT_PLACEHOLDERS):
        if arg.output_name not in outputs:
            raise ValueError(f'Argument "{arg.__class__.__name__}" references nonexistant output: "{arg.output_name}".')
    elif isinstance(arg, placeholders.IfPresentPlaceholder):
        if arg.input_name not in inputs:
            raise ValueError(f'Argument "{arg.__class__.__name__}" references nonexistant input: "{arg.input_name}".')
        for branch in (arg.then, arg.else_):
            for element in (branch if isinstance(branch, list) else [] if branch is None else [branch]):
                check_placeholder_references(inputs, outputs, element)
    elif isinstance(arg, placeholders.ConcatPlaceholder):
        for element in arg.items:
            check_placeholder_references(inputs, outputs, element)
    elif not isinstance(arg, str):
        raise TypeError(f'Unexpected argument "{arg}" of type {type(arg)}.')


@dataclasses.dataclass
class ComponentSpec:
    """A component: name (Kubernetes-style), description, inputs, outputs and implementation."""

    name: str
    implementation: Implementation
    description: str | None = None
    inputs: dict[str, InputSpec] | None = None
    outputs: dict[str, OutputSpec] | None = None

    def __post_init__(self) -> None:
        self.name = maybe_rename_for_k8s(self.name)
        self.inputs = None if self.inputs == {} else self.inputs
        self.outputs = None if self.outputs == {} else self.outputs
        self.validate_placeholders()

    def validate_placeholders(self) -> None:
        container = self.implementation.container
        if container is None:
            return
        for arg in [*(container.command or []), *(container.args or [])]:
            check_placeholder_references(self.inputs or {}, self.outputs or {}, arg)
