"""``PipelineTask``: a component called inside a pipeline, and the chainable methods that configure it.

A task checks its arguments against the component's inputs (kfp's type
rules), registers itself with the default pipeline (getting its unique
name), and exposes its outputs as channels (``.output``, ``.outputs[...]``).
Its methods mirror kfp's and only record settings — caching, retries,
resources, accelerators, env, display name, image, ``after`` edges,
``ignore_upstream_failure`` — which the compiler writes into the IR task and
executor. Validation messages are kfp's, so a user sees the same errors.
"""

from __future__ import annotations

import copy
import re
import warnings
from typing import TYPE_CHECKING, Any

from sandbox.components.pipelines.dsl import context, placeholders, structures, types
from sandbox.components.pipelines.dsl.channels import PipelineChannel, create_pipeline_channel
from sandbox.components.pipelines.dsl.channels import extract_pipeline_channels_from_any as _extract

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sandbox.components.pipelines.dsl.groups import TasksGroup

__all__ = ["PipelineTask"]

#: Set while a lone component is compiled: its task must not join any pipeline being defined.
_registration_blocked = False


class BlockPipelineTaskRegistration:
    """Builds tasks without registering them in the default pipeline (compiling one component)."""

    def __enter__(self) -> None:
        global _registration_blocked
        self._previous = _registration_blocked
        _registration_blocked = True

    def __exit__(self, *exc_info: Any) -> None:
        global _registration_blocked
        _registration_blocked = self._previous


class PipelineTask:
    """One instantiation of a component in a pipeline."""

    def __init__(self, component_spec: structures.ComponentSpec, args: dict[str, Any], *,
                 execution_caching_default: bool = True, execution_cache_key: str | None = None) -> None:
        self.parent_task_group: TasksGroup | None = None
        self.is_exit_handler = False
        args = args or {}
        for input_name, argument in args.items():
            if input_name not in (component_spec.inputs or {}):
                raise ValueError(f"Component {component_spec.name!r} got an unexpected input: {input_name!r}.")
            types.verify_type_compatibility(
                given_value=argument, expected_spec=component_spec.inputs[input_name],  # type: ignore[index]
                error_message_prefix=(f"Incompatible argument passed to the input {input_name!r} of "
                                      f"component {component_spec.name!r}: "))
        self.component_spec = component_spec
        self._task_spec = structures.TaskSpec(
            name=self._register(), inputs=dict(args), dependent_tasks=[], component_ref=component_spec.name,
            enable_caching=execution_caching_default, cache_key=execution_cache_key)
        self.importer_spec: structures.ImporterSpec | None = None
        self.container_spec: structures.ContainerSpecImplementation | None = None
        self.pipeline_spec: dict[str, Any] | None = None
        self._ignore_upstream_failure_tag = False
        self.platform_config: dict[str, Any] = {}

        implementation = component_spec.implementation
        if implementation.container is not None:
            self._validate_placeholder_types()
            self.container_spec = self._container_spec_with_string_placeholders()
        elif implementation.importer is not None:
            self.importer_spec = implementation.importer
            self.importer_spec.artifact_uri = args["uri"]
        else:
            self.pipeline_spec = implementation.graph

        self._outputs = {
            name: create_pipeline_channel(name=name, channel_type=spec.type, task_name=self._task_spec.name,
                                          is_artifact_list=spec.is_artifact_list)
            for name, spec in (component_spec.outputs or {}).items()
        }
        self._inputs = args
        self._channel_inputs = [value for value in args.values() if isinstance(value, PipelineChannel)] + _extract(
            [value for value in args.values() if not isinstance(value, PipelineChannel)])

    def _register(self) -> str:
        pipeline = context.get_default_pipeline()
        if pipeline is None or _registration_blocked:
            return structures.maybe_rename_for_k8s(self.component_spec.name)
        return pipeline.add_task(self, add_to_group=not self.is_exit_handler)

    @property
    def name(self) -> str:
        """The task's name, unique within the pipeline."""
        return self._task_spec.name

    @property
    def inputs(self) -> dict[str, Any]:
        """The arguments the task was called with."""
        return self._inputs

    @property
    def channel_inputs(self) -> list[PipelineChannel]:
        return self._channel_inputs

    @property
    def output(self) -> PipelineChannel:
        """The task's only output."""
        if len(self._outputs) != 1:
            raise AttributeError("The task has multiple outputs. Please reference the output by its name.")
        return next(iter(self._outputs.values()))

    @property
    def outputs(self) -> Mapping[str, PipelineChannel]:
        """The task's outputs by name."""
        return self._outputs

    @property
    def dependent_tasks(self) -> list[str]:
        """Names of the tasks this one runs ``after``."""
        return self._task_spec.dependent_tasks

    @property
    def platform_spec(self) -> dict[str, Any]:
        if self.pipeline_spec is not None:
            return {}
        raise ValueError("Can only access '.platform_spec' property on a tasks created from pipelines. "
                         "Use '.platform_config' for tasks created from primitive components.")

    def _validate_placeholder_types(self) -> None:
        container = self.component_spec.implementation.container
        assert container is not None
        for arg in [*(container.command or []), *(container.args or [])]:
            _check_placeholder_io_type(self.component_spec.inputs or {}, self.component_spec.outputs or {}, arg)

    def _container_spec_with_string_placeholders(self) -> structures.ContainerSpecImplementation:
        container = copy.deepcopy(self.component_spec.implementation.container)
        assert container is not None
        container.command = [placeholders.to_string(e) for e in container.command or []]
        container.args = [placeholders.to_string(e) for e in container.args or []]
        return container

    def _ensure_container_spec_exists(self, method: str) -> structures.ContainerSpecImplementation:
        if self.container_spec is None:
            raise ValueError(f"{method} can only be used on single-step components, not pipelines used as "
                             "components, or special components like importers.")
        return self.container_spec

    def _resources(self, method: str) -> structures.ResourceSpec:
        container = self._ensure_container_spec_exists(method)
        if container.resources is None:
            container.resources = structures.ResourceSpec()
        return container.resources

    def set_caching_options(self, enable_caching: bool, cache_key: str | None = None) -> PipelineTask:
        """Turns caching of this task's results on or off (and sets a custom cache key)."""
        self._task_spec.enable_caching = enable_caching
        self._task_spec.cache_key = cache_key
        return self

    @staticmethod
    def _validate_cpu(cpu: Any) -> str:
        if isinstance(cpu, PipelineChannel):
            return str(cpu)
        if re.match(r"([0-9]*[.])?[0-9]+m?$", cpu) is None:
            raise ValueError('Invalid cpu string. Should be float or integer, or integer followed by "m".')
        return cpu

    @staticmethod
    def _validate_memory(memory: Any) -> str:
        if isinstance(memory, PipelineChannel):
            return str(memory)
        if re.match(r"^[0-9]+(E|Ei|P|Pi|T|Ti|G|Gi|M|Mi|K|Ki){0,1}$", memory) is None:
            raise ValueError('Invalid memory string. Should be a number or a number followed by one of "E", "Ei", '
                             '"P", "Pi", "T", "Ti", "G", "Gi", "M", "Mi", "K", "Ki".')
        return memory

    def set_cpu_request(self, cpu: str | PipelineChannel) -> PipelineTask:
        """Minimum CPU (``'500m'``, ``'2'``)."""
        self._ensure_container_spec_exists("set_cpu_request")
        value = self._validate_cpu(cpu)
        self._resources("set_cpu_request").cpu_request = value
        return self

    def set_cpu_limit(self, cpu: str | PipelineChannel) -> PipelineTask:
        """Maximum CPU (``'500m'``, ``'2'``)."""
        self._ensure_container_spec_exists("set_cpu_limit")
        value = self._validate_cpu(cpu)
        self._resources("set_cpu_limit").cpu_limit = value
        return self

    def set_memory_request(self, memory: str | PipelineChannel) -> PipelineTask:
        """Minimum memory (``'512Mi'``, ``'2G'``)."""
        self._ensure_container_spec_exists("set_memory_request")
        value = self._validate_memory(memory)
        self._resources("set_memory_request").memory_request = value
        return self

    def set_memory_limit(self, memory: str | PipelineChannel) -> PipelineTask:
        """Maximum memory (``'512Mi'``, ``'2G'``)."""
        self._ensure_container_spec_exists("set_memory_limit")
        value = self._validate_memory(memory)
        self._resources("set_memory_limit").memory_limit = value
        return self

    def set_accelerator_limit(self, limit: int | str | PipelineChannel) -> PipelineTask:
        """How many accelerators (applies with :meth:`set_accelerator_type`)."""
        self._ensure_container_spec_exists("set_accelerator_limit")
        if isinstance(limit, PipelineChannel):
            limit = str(limit)
        else:
            if isinstance(limit, int):
                limit = str(limit)
            if isinstance(limit, str) and re.match(r"^0$|^1$|^2$|^4$|^8$|^16$", limit) is None:
                raise ValueError(f'{"limit"!r} must be one of 0, 1, 2, 4, 8, 16.')
        self._resources("set_accelerator_limit").accelerator_count = limit
        return self

    def set_gpu_limit(self, gpu: str) -> PipelineTask:
        """Deprecated: use :meth:`set_accelerator_limit`."""
        warnings.warn("'set_gpu_limit' is deprecated. Please use 'set_accelerator_limit' instead.",
                      category=DeprecationWarning, stacklevel=2)
        return self.set_accelerator_limit(gpu)

    def set_accelerator_type(self, accelerator: str | PipelineChannel) -> PipelineTask:
        """The accelerator resource (``'nvidia.com/gpu'``); the limit defaults to 1."""
        resources = self._resources("set_accelerator_type")
        resources.accelerator_type = str(accelerator) if isinstance(accelerator, PipelineChannel) else accelerator
        if resources.accelerator_count is None:
            resources.accelerator_count = "1"
        return self

    def add_node_selector_constraint(self, accelerator: str) -> PipelineTask:
        """Deprecated: use :meth:`set_accelerator_type`."""
        warnings.warn("'add_node_selector_constraint' is deprecated. Please use 'set_accelerator_type' instead.",
                      category=DeprecationWarning, stacklevel=2)
        return self.set_accelerator_type(accelerator)

    def set_retry(self, num_retries: int, backoff_duration: str | None = None, backoff_factor: float | None = None,
                  backoff_max_duration: str | None = None) -> PipelineTask:
        """Retry a failed task up to ``num_retries`` times with exponential backoff."""
        self._task_spec.retry_policy = structures.RetryPolicy(
            max_retry_count=num_retries, backoff_duration=backoff_duration, backoff_factor=backoff_factor,
            backoff_max_duration=backoff_max_duration)
        return self

    def set_display_name(self, name: str) -> PipelineTask:
        """The name shown for the task in UIs."""
        self._task_spec.display_name = name
        return self

    def set_env_variable(self, name: str, value: str) -> PipelineTask:
        """An environment variable of the task's container."""
        container = self._ensure_container_spec_exists("set_env_variable")
        if container.env is None:
            container.env = {}
        container.env[name] = value
        return self

    def set_container_image(self, name: str | PipelineChannel) -> PipelineTask:
        """The image to run instead of the component's base image (may be a pipeline parameter)."""
        container = self._ensure_container_spec_exists("set_container_image")
        container.image = str(name) if isinstance(name, PipelineChannel) else name
        return self

    def after(self, *tasks: PipelineTask) -> PipelineTask:
        """Run after ``tasks`` finish, with no data passing between them."""
        for task in tasks:
            self._task_spec.dependent_tasks.append(task.name)
        return self

    def ignore_upstream_failure(self) -> PipelineTask:
        """Run once the upstream tasks finish, even when they failed."""
        for input_name, input_spec in (self.component_spec.inputs or {}).items():
            if types.is_task_final_status_type(input_spec.type):
                continue
            argument = self._inputs[input_name]
            if isinstance(argument, PipelineChannel) and not input_spec.optional and argument.task_name is not None:
                raise ValueError(
                    "Tasks can only use .ignore_upstream_failure() if all input parameters that accept arguments "
                    "created by an upstream task have a default value, in case the upstream task fails to produce "
                    f"its output. Input parameter task {self.name!r}`s {input_name!r} argument is an output of an "
                    f"upstream task {argument.task_name!r}, but {input_name!r} has no default value.")
        self._ignore_upstream_failure_tag = True
        return self


def _check_placeholder_io_type(inputs: dict[str, structures.InputSpec], outputs: dict[str, structures.OutputSpec],
                               arg: Any) -> None:
    """Parameter placeholders name parameters and artifact placeholders name artifacts."""
    if isinstance(arg, placeholders.InputValuePlaceholder):
        if not types.is_parameter_type(inputs[arg.input_name].type):
            raise TypeError(f'Input "{arg.input_name}" with type "{inputs[arg.input_name].type}" cannot be paired '
                            "with InputValuePlaceholder.")
    elif isinstance(arg, placeholders.InputUriPlaceholder | placeholders.InputPathPlaceholder):
        if types.is_parameter_type(inputs[arg.input_name].type):
            raise TypeError(f'Input "{arg.input_name}" with type "{inputs[arg.input_name].type}" cannot be paired '
                            f"with {arg.__class__.__name__}.")
    elif isinstance(arg, placeholders.OutputUriPlaceholder):
        if types.is_parameter_type(outputs[arg.output_name].type):
            raise TypeError(f'Output "{arg.output_name}" with type "{outputs[arg.output_name].type}" cannot be '
                            f"paired with {arg.__class__.__name__}.")
    elif isinstance(arg, placeholders.IfPresentPlaceholder):
        for branch in (arg.then, arg.else_):
            for element in (branch if isinstance(branch, list) else [] if branch is None else [branch]):
                _check_placeholder_io_type(inputs, outputs, element)
    elif isinstance(arg, placeholders.ConcatPlaceholder):
        for element in arg.items:
            _check_placeholder_io_type(inputs, outputs, element)
