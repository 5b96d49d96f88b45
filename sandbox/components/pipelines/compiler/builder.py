"""Tasks and groups → the KFP IR (PipelineSpec) as a plain dict, shaped as kfp 2.15.2 writes it.

kfp builds protobuf messages and serialises them with ``MessageToDict``; we
build the dict directly, so the rules that serialisation implies are kept by
hand: camelCase keys; unset scalars, empty lists and empty maps omitted; a
message touched but left empty kept as ``{}`` (``cachingOptions: {}`` when
caching is off); every number inside a ``google.protobuf.Value`` (defaults,
constants) and inside the ``deploymentSpec`` Struct a float (``2`` → ``2.0``);
int64 fields (accelerator count) as strings.

Walk: :func:`create_pipeline_spec` analyses the topology
(:mod:`.topology`), then builds each group's DAG in order — root first,
then every group depth-first; within a group its subgroups, then its tasks.
Names follow kfp's rules because that order decides the suffixes:
components ``comp-<task>`` / ``comp-<group>`` made unique with ``-2``,
executors ``exec-<task>`` likewise, a nested pipeline's components and
executors merged in with renames. Exit handlers are added last.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from sandbox.components.pipelines.compiler import topology
from sandbox.components.pipelines.dsl import loops, placeholders, structures, types
from sandbox.components.pipelines.dsl.channels import (
    OneOfArtifact,
    OneOfMixin,
    OneOfParameter,
    PipelineArtifactChannel,
    PipelineChannel,
    PipelineParameterChannel,
    additional_input_name,
    create_pipeline_channel,
    extract_pipeline_channels_from_any,
)
from sandbox.components.pipelines.dsl.context import Pipeline
from sandbox.components.pipelines.dsl.factory import KFP_SDK_VERSION, SINGLE_OUTPUT_NAME
from sandbox.components.pipelines.dsl.groups import (
    ConditionBranches,
    ExitHandler,
    ParallelFor,
    TasksGroup,
    TasksGroupType,
    _ConditionBase,
    all_groups,
)
from sandbox.components.pipelines.dsl.tasks import PipelineTask

__all__ = [
    "SCHEMA_VERSION",
    "SDK_VERSION",
    "component_to_pipeline_spec",
    "create_pipeline_spec",
    "modify_pipeline_spec_with_override",
    "to_value",
]

SDK_VERSION = f"kfp-{KFP_SDK_VERSION}"
SCHEMA_VERSION = "2.1.0"

IR = dict[str, Any]

_PARAMETER_KINDS = ("componentInputParameter", "taskOutputParameter", "runtimeValue", "taskFinalStatus")
_ARTIFACT_KINDS = ("componentInputArtifact", "taskOutputArtifact")
_GROUP_CLASS_NAMES = {TasksGroupType.PIPELINE: "Pipeline", TasksGroupType.CONDITION: "Condition",
                      TasksGroupType.FOR_LOOP: "ParallelFor", TasksGroupType.EXIT_HANDLER: "ExitHandler"}


# --- small helpers --------------------------------------------------------------------------------

def to_value(value: Any) -> Any:
    """A constant as a ``google.protobuf.Value`` serialises: numbers become floats."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict):
        return {key: to_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_value(item) for item in value]
    raise ValueError("Value must be one of the following types: str, int, float, bool, dict, and list. Got: "
                     f'"{value}" of type "{type(value)}".')


def _sub(message: IR, *keys: str) -> IR:
    """The nested message at ``keys``, created (present, maybe empty) on the way."""
    for key in keys:
        message = message.setdefault(key, {})
    return message


def _input_parameter(task_spec: IR, name: str) -> IR:
    return _sub(task_spec, "inputs", "parameters", name)


def _input_artifact(task_spec: IR, name: str) -> IR:
    return _sub(task_spec, "inputs", "artifacts", name)


def _set_kind(entry: IR, kinds: tuple[str, ...], kind: str, value: Any) -> None:
    """Sets one member of a protobuf oneof, clearing the others."""
    for other in kinds:
        if other != kind:
            entry.pop(other, None)
    entry[kind] = value


def _component_input_parameter(task_spec: IR, name: str, source: str) -> None:
    _set_kind(_input_parameter(task_spec, name), _PARAMETER_KINDS, "componentInputParameter", source)


def _task_output_parameter(task_spec: IR, name: str, producer: str, key: str) -> None:
    _set_kind(_input_parameter(task_spec, name), _PARAMETER_KINDS, "taskOutputParameter",
              {"outputParameterKey": key, "producerTask": producer})


def _component_input_artifact(task_spec: IR, name: str, source: str) -> None:
    _set_kind(_input_artifact(task_spec, name), _ARTIFACT_KINDS, "componentInputArtifact", source)


def _task_output_artifact(task_spec: IR, name: str, producer: str, key: str) -> None:
    _set_kind(_input_artifact(task_spec, name), _ARTIFACT_KINDS, "taskOutputArtifact",
              {"outputArtifactKey": key, "producerTask": producer})


def _artifact_type(bundled: str) -> IR:
    schema_title, schema_version = bundled.split("@")
    return {"schemaTitle": schema_title, "schemaVersion": schema_version}


def sanitize_component_name(name: str) -> str:
    return "comp-" + structures.maybe_rename_for_k8s(name)


def sanitize_executor_label(name: str) -> str:
    return "exec-" + structures.maybe_rename_for_k8s(name)


def _inputs_defined(definitions: IR, kind: str) -> IR:
    return definitions.get(kind, {})


# --- component specs ------------------------------------------------------------------------------

def _default_value(parameter_type: str | None, default: Any) -> Any:
    if parameter_type in ("NUMBER_INTEGER", "NUMBER_DOUBLE"):
        return float(default)
    if parameter_type in ("STRING", "BOOLEAN"):
        return default
    return to_value(default)


def component_spec_from_structure(spec: structures.ComponentSpec) -> IR:
    """The IR ComponentSpec (input/output definitions) of a DSL component spec."""
    component: IR = {}
    for name, input_spec in (spec.inputs or {}).items():
        if types.is_task_final_status_type(input_spec.type) or types.is_task_config_type(input_spec.type):
            entry = _sub(component, "inputDefinitions", "parameters", name)
            entry["parameterType"] = "TASK_FINAL_STATUS" if types.is_task_final_status_type(input_spec.type) \
                else "TASK_CONFIG"
            entry["isOptional"] = True
        elif types.is_parameter_type(input_spec.type):
            entry = _sub(component, "inputDefinitions", "parameters", name)
            parameter_type = types.parameter_type(input_spec.type)
            if parameter_type:
                entry["parameterType"] = parameter_type
            if input_spec.optional:
                entry["isOptional"] = True
                if input_spec.default is not None:
                    entry["defaultValue"] = _default_value(parameter_type, input_spec.default)
        else:
            entry = _sub(component, "inputDefinitions", "artifacts", name)
            entry["artifactType"] = _artifact_type(input_spec.type)
            if input_spec.is_artifact_list:
                entry["isArtifactList"] = True
            if input_spec.optional:
                entry["isOptional"] = True
        if input_spec.description:
            entry["description"] = input_spec.description
    for name, output_spec in (spec.outputs or {}).items():
        if types.is_parameter_type(output_spec.type):
            entry = _sub(component, "outputDefinitions", "parameters", name)
            parameter_type = types.parameter_type(output_spec.type)
            if parameter_type:
                entry["parameterType"] = parameter_type
        else:
            entry = _sub(component, "outputDefinitions", "artifacts", name)
            entry["artifactType"] = _artifact_type(output_spec.type)
            if output_spec.is_artifact_list:
                entry["isArtifactList"] = True
        if output_spec.description:
            entry["description"] = output_spec.description
    return component


def component_spec_for_task(task: PipelineTask, *, is_compiled_component: bool, is_exit_task: bool = False) -> IR:
    for input_name, input_spec in (task.component_spec.inputs or {}).items():
        if (not is_exit_task and types.is_task_final_status_type(input_spec.type) and not is_compiled_component
                and not task._ignore_upstream_failure_tag):
            raise ValueError("PipelineTaskFinalStatus can only be used in an exit task. Parameter "
                             f"{input_name} of a non exit task has type PipelineTaskFinalStatus.")
    component = component_spec_from_structure(task.component_spec)
    component["executorLabel"] = sanitize_executor_label(task.name)
    return component


def component_spec_for_group(input_channels: list[PipelineChannel],
                             output_channels: dict[str, PipelineChannel]) -> IR:
    """A sub-DAG's interface: its injected ``pipelinechannel--`` inputs and surfaced outputs."""
    component: IR = {}
    for channel in input_channels:
        input_name = additional_input_name(channel)
        if isinstance(channel, PipelineArtifactChannel | loops.LoopArtifactArgument):
            entry = _sub(component, "inputDefinitions", "artifacts", input_name)
            entry["artifactType"] = _artifact_type(channel.channel_type)
            if channel.is_artifact_list:
                entry["isArtifactList"] = True
        elif isinstance(channel, PipelineParameterChannel | loops.Collected):
            entry = _sub(component, "inputDefinitions", "parameters", input_name)
            parameter_type = types.parameter_type(channel.channel_type)
            if parameter_type:
                entry["parameterType"] = parameter_type
        else:
            raise TypeError("Expected PipelineParameterChannel, PipelineArtifactChannel, LoopParameterArgument, "
                            f"LoopArtifactArgument, LoopArgumentVariable, or Collected, got {type(channel)}.")
    for output_name, output in output_channels.items():
        if isinstance(output, PipelineArtifactChannel):
            entry = _sub(component, "outputDefinitions", "artifacts", output_name)
            entry["artifactType"] = _artifact_type(output.channel_type)
            if output.is_artifact_list:
                entry["isArtifactList"] = True
        else:
            entry = _sub(component, "outputDefinitions", "parameters", output_name)
            parameter_type = types.parameter_type(output.channel_type)
            if parameter_type:
                entry["parameterType"] = parameter_type
    return component


# --- task specs -----------------------------------------------------------------------------------

def _new_task_spec(display_name: str, component_name: str) -> IR:
    return {"taskInfo": {"name": display_name}, "componentRef": {"name": component_name}}


def task_spec_for_task(task: PipelineTask, parent_inputs: IR, tasks_in_current_dag: list[str]) -> IR:
    """The IR task of a component task: where each input comes from, caching, retries.

    An input produced outside the task's DAG arrives through the enclosing
    group's injected ``pipelinechannel--`` input (see :mod:`.topology`).
    """
    spec = _new_task_spec(task._task_spec.display_name or task.name, sanitize_component_name(task.name))
    caching: IR = {}
    if task._task_spec.enable_caching:
        caching["enableCache"] = True
    if task._task_spec.cache_key:
        caching["cacheKey"] = task._task_spec.cache_key
    spec["cachingOptions"] = caching
    if task._task_spec.retry_policy is not None:
        spec["retryPolicy"] = task._task_spec.retry_policy.to_ir()

    # Resources and images given as pipeline parameters become inputs of the task.
    if task.container_spec and task.container_spec.resources:
        for key, value in vars(task.container_spec.resources).items():
            if value and extract_pipeline_channels_from_any(value):
                task.inputs[key] = value
    if task.container_spec and task.container_spec.image:
        image = task.container_spec.image
        if image and extract_pipeline_channels_from_any(image):
            task.inputs["base_image"] = image

    parent_parameters = _inputs_defined(parent_inputs, "parameters")
    parent_artifacts = _inputs_defined(parent_inputs, "artifacts")
    for input_name, value in task.inputs.items():
        if isinstance(value, loops.LoopParameterArgument):
            source = additional_input_name(value)
            assert source in parent_parameters, f"component_input_parameter: {source} not found."
            _component_input_parameter(spec, input_name, source)
        elif isinstance(value, loops.LoopArtifactArgument):
            source = additional_input_name(value)
            assert source in parent_artifacts, f"component_input_artifact: {source} not found."
            _component_input_artifact(spec, input_name, source)
        elif isinstance(value, loops.LoopArgumentVariable):
            source = additional_input_name(value.loop_argument)
            assert source in parent_parameters, f"component_input_parameter: {source} not found."
            _component_input_parameter(spec, input_name, source)
            _input_parameter(spec, input_name)["parameterExpressionSelector"] = \
                f'parseJson(string_value)["{value.subvar_name}"]'
        elif isinstance(value, PipelineArtifactChannel) or (
                isinstance(value, loops.Collected) and value.is_artifact_channel):
            if value.task_name:
                if value.task_name in tasks_in_current_dag:
                    _task_output_artifact(spec, input_name, structures.maybe_rename_for_k8s(value.task_name),
                                          value.name)
                else:
                    source = additional_input_name(value)
                    assert source in parent_artifacts, f"component_input_artifact: {source} not found."
                    _component_input_artifact(spec, input_name, source)
            else:
                source = value.full_name
                if source not in parent_artifacts:
                    source = additional_input_name(value)
                _component_input_artifact(spec, input_name, source)
        elif isinstance(value, PipelineParameterChannel) or (
                isinstance(value, loops.Collected) and not value.is_artifact_channel):
            _parameter_from_channel(spec, input_name, value, parent_parameters, tasks_in_current_dag)
        elif isinstance(value, str | int | float | bool | dict | list):
            for channel in extract_pipeline_channels_from_any(value):
                # A constant embedding channels (an f-string): each channel becomes an extra input.
                extra_name = additional_input_name(channel)
                for existing in task.inputs:
                    if existing == extra_name:
                        raise RuntimeError(f"Name collision between existing input name {existing} and compiler "
                                           f"injected input name {extra_name}")
                value = _replace_placeholders(value, channel.pattern,
                                              placeholders.InputValuePlaceholder(extra_name)._to_string())
                _parameter_from_channel(spec, extra_name, channel, parent_parameters, tasks_in_current_dag)
            _set_kind(_input_parameter(spec, input_name), _PARAMETER_KINDS, "runtimeValue",
                      {"constant": to_value(value)})
        else:
            raise ValueError("Input argument supports only the following types: str, int, float, bool, dict, and "
                             f"list.Got {value} of type {type(value)}.")
    return spec


def _parameter_from_channel(spec: IR, input_name: str, channel: PipelineChannel, parent_parameters: IR,
                            tasks_in_current_dag: list[str]) -> None:
    if channel.task_name:
        if channel.task_name in tasks_in_current_dag:
            _task_output_parameter(spec, input_name, structures.maybe_rename_for_k8s(channel.task_name), channel.name)
        else:
            source = additional_input_name(channel)
            assert source in parent_parameters, f"component_input_parameter: {source} not found."
            _component_input_parameter(spec, input_name, source)
    else:
        source = channel.full_name
        if source not in parent_parameters:
            source = additional_input_name(channel)
        _component_input_parameter(spec, input_name, source)


def _replace_placeholders(data: Any, old: str, new: str) -> Any:
    if isinstance(data, dict):
        return {key: _replace_placeholders(value, old, new) for key, value in data.items()}
    if isinstance(data, list):
        return [_replace_placeholders(item, old, new) for item in data]
    if isinstance(data, PipelineChannel):
        data = str(data)
    if isinstance(data, str):
        return data.replace(old, new)
    return data


def task_spec_for_group(group: TasksGroup, channels: list[PipelineChannel], tasks_in_current_dag: list[str], *,
                        is_parent_component_root: bool) -> IR:
    """The IR task that runs a sub-DAG, passing in the channels its inside needs."""
    spec = _new_task_spec(group.display_name or group.name, sanitize_component_name(group.name))
    for channel in channels:
        channel_full_name = channel.full_name
        subvar_name = None
        if isinstance(channel, loops.LoopArgumentVariable):
            channel_full_name = channel.loop_argument.full_name
            subvar_name = channel.subvar_name
        input_name = additional_input_name(channel)
        channel_name = channel.name
        if subvar_name:
            _input_parameter(spec, input_name)["parameterExpressionSelector"] = \
                f'parseJson(string_value)["{subvar_name}"]'
            if not channel.is_with_items_loop_argument:  # type: ignore[attr-defined]
                channel_name = channel.items_or_pipeline_channel.name  # type: ignore[attr-defined]
        if isinstance(channel, PipelineArtifactChannel):
            if channel.task_name and channel.task_name in tasks_in_current_dag:
                _task_output_artifact(spec, input_name, structures.maybe_rename_for_k8s(channel.task_name),
                                      channel_name)
            else:
                _component_input_artifact(spec, input_name,
                                          channel_full_name if is_parent_component_root else input_name)
        elif channel.task_name and channel.task_name in tasks_in_current_dag:
            _task_output_parameter(spec, input_name, structures.maybe_rename_for_k8s(channel.task_name), channel_name)
        else:
            _component_input_parameter(spec, input_name, channel_full_name if is_parent_component_root
                                       else additional_input_name(channel_full_name))
    if isinstance(group, ParallelFor):
        _update_task_spec_for_loop_group(group, spec)
    elif isinstance(group, _ConditionBase):
        spec["triggerPolicy"] = {"condition": _conditions_to_cel(group.conditions)}
    return spec


def _pop_input(spec: IR, input_name: str) -> None:
    inputs = spec.get("inputs", {})
    for kind in ("artifacts", "parameters"):
        entries = inputs.get(kind)
        if entries is not None:
            entries.pop(input_name, None)
            if not entries:
                del inputs[kind]
    if not inputs:
        spec.pop("inputs", None)


def _update_task_spec_for_loop_group(group: ParallelFor, spec: IR) -> None:
    if group.items_is_pipeline_channel:
        items_channel = group.loop_argument.items_or_pipeline_channel
        input_parameter_name = additional_input_name(items_channel)
        item_input = additional_input_name(group.loop_argument.full_name)
        if isinstance(group.loop_argument, loops.LoopParameterArgument):
            spec["parameterIterator"] = {"itemInput": item_input, "items": {"inputParameter": input_parameter_name}}
        elif isinstance(group.loop_argument, loops.LoopArtifactArgument):
            spec["artifactIterator"] = {"itemInput": item_input, "items": {"inputArtifact": input_parameter_name}}
        else:
            raise TypeError(f"Expected LoopParameterArgument or LoopArtifactArgument, got {type(group.loop_argument)}.")
        _pop_input(spec, item_input)
        if isinstance(items_channel, loops.LoopArgumentVariable):
            # Looping over a field of an outer loop's item.
            entry = _input_parameter(spec, input_parameter_name)
            entry["parameterExpressionSelector"] = f'parseJson(string_value)["{items_channel.subvar_name}"]'
            _set_kind(entry, _PARAMETER_KINDS, "componentInputParameter",
                      additional_input_name(items_channel.loop_argument))
    else:
        item_input = additional_input_name(group.loop_argument)
        spec["parameterIterator"] = {
            "itemInput": item_input,
            "items": {"raw": json.dumps(group.loop_argument.items_or_pipeline_channel, sort_keys=True)}}
        _pop_input(spec, item_input)
    if group.parallelism_limit > 0:
        spec["iteratorPolicy"] = {"parallelismLimit": group.parallelism_limit}


# --- conditions -----------------------------------------------------------------------------------

_PROMOTION = ("STRING", "BOOLEAN", "NUMBER_DOUBLE")


def _conditions_to_cel(operations: list[Any]) -> str:
    return " && ".join(_condition_to_cel(operation) for operation in operations)


def _condition_to_cel(operation: Any) -> str:
    """One comparison as CEL over ``inputs.parameter_values[...]``, with kfp's type promotions."""
    operands = [operation.left_operand, operation.right_operand]
    for operand in operands:
        if isinstance(operand, PipelineChannel) and types.parameter_type(operand.channel_type) in (
                "STRUCT", "LIST", None):
            raise ValueError("Conditional requires primitive parameter values for comparison. Found input "
                             f'"{additional_input_name(operand)}" of type {operand.channel_type} in pipeline '
                             "definition instead.")
    parameter_types = {types.parameter_type(operand.channel_type) if isinstance(operand, PipelineChannel)
                       else types.parameter_type(type(operand).__name__) for operand in operands}
    if len(parameter_types) == 2:
        # String > Boolean > Double > Integer.
        canonical = next(kind for kind in _PROMOTION if kind in parameter_types)
    elif len(parameter_types) == 1:
        canonical = next(iter(parameter_types))
    else:
        raise ValueError(f'Unable to determine operand types for "{operands[0]}" and "{operands[1]}"')

    values = []
    for operand in operands:
        if isinstance(operand, PipelineChannel):
            value = f"inputs.parameter_values['{additional_input_name(operand)}']"
            kind = types.parameter_type(operand.channel_type)
            if kind == "NUMBER_INTEGER":
                value = f"int({value})"
        elif isinstance(operand, str):
            value, kind = f"'{operand}'", "STRING"
        elif isinstance(operand, bool):
            value, kind = str(operand).lower(), "BOOLEAN"
        elif isinstance(operand, int):
            value, kind = str(operand), "NUMBER_INTEGER"
        else:
            value, kind = str(operand), "NUMBER_DOUBLE"
        if kind != canonical:
            if canonical == "STRING":
                value = f"'{value}'"
            elif canonical == "BOOLEAN":
                value = "true" if int(value) == 0 else "false"
            else:
                value = f"double({value})"
        values.append(value)
    condition = f"{values[0]} {operation.operator} {values[1]}"
    return f"!({condition})" if operation.negate else condition


# --- executors ------------------------------------------------------------------------------------

def _to_placeholder(value: Any) -> Any:
    """A resource/image value naming a pipeline parameter → its injected input placeholder."""
    found = extract_pipeline_channels_from_any(value)
    if found:
        assert len(found) == 1
        channel = found[0]
        value = value.replace(channel.pattern,
                              placeholders.InputValuePlaceholder(additional_input_name(channel))._to_string())
    return value


def _cpu_to_float(cpu: str) -> float:
    return float(cpu[:-1]) / 1000 if cpu.endswith("m") else float(cpu)


_MEMORY_UNITS = [("Ei", 1 << 60), ("Pi", 1 << 50), ("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20),
                 ("Ki", 1 << 10), ("E", 10**18), ("P", 10**15), ("T", 10**12), ("G", 10**9), ("M", 10**6),
                 ("K", 10**3)]


def _memory_to_float(memory: str) -> float:
    """Memory in GB (kfp's deprecated numeric resource fields)."""
    for suffix, factor in _MEMORY_UNITS:
        if memory.endswith(suffix):
            if suffix == "G":
                return float(memory[:-1])
            return float(memory[: -len(suffix)]) * factor / 10**9
    return float(memory) / 10**9


def container_executor(task: PipelineTask) -> IR:
    """The ``deploymentSpec`` executor of a container task (image, command, args, env, resources)."""
    container_spec = task.container_spec
    assert container_spec is not None
    container: IR = {"image": _to_placeholder(container_spec.image)}
    if container_spec.command:
        container["command"] = list(container_spec.command)
    if container_spec.args:
        container["args"] = list(container_spec.args)
    if container_spec.env:
        container["env"] = [{"name": name, "value": value} for name, value in container_spec.env.items()]
    resources_spec = container_spec.resources
    if resources_spec is not None:
        resources: IR = {}
        # The resource* fields take placeholders; the old numeric fields are kept for older backends.
        for attr, new_key, old_key, convert in (
                ("cpu_request", "resourceCpuRequest", "cpuRequest", _cpu_to_float),
                ("cpu_limit", "resourceCpuLimit", "cpuLimit", _cpu_to_float),
                ("memory_request", "resourceMemoryRequest", "memoryRequest", _memory_to_float),
                ("memory_limit", "resourceMemoryLimit", "memoryLimit", _memory_to_float)):
            value = getattr(resources_spec, attr)
            if value is not None:
                placeholder = _to_placeholder(value)
                if placeholder:
                    resources[new_key] = placeholder
                if value == placeholder:
                    converted = convert(value)
                    if converted:
                        resources[old_key] = converted
        if resources_spec.accelerator_count is not None:
            accelerator: IR = {}
            type_placeholder = _to_placeholder(resources_spec.accelerator_type)
            count_placeholder = _to_placeholder(resources_spec.accelerator_count)
            if type_placeholder:
                accelerator["resourceType"] = type_placeholder
            if count_placeholder:
                accelerator["resourceCount"] = count_placeholder
            if resources_spec.accelerator_type == type_placeholder and resources_spec.accelerator_type:
                accelerator["type"] = resources_spec.accelerator_type
            if resources_spec.accelerator_count == count_placeholder:
                count = int(resources_spec.accelerator_count)
                if count:
                    accelerator["count"] = str(count)
            resources["accelerator"] = accelerator
        if resources:
            container["resources"] = resources
    return {"container": container}


def importer_executor(task: PipelineTask) -> IR:
    """The ``deploymentSpec`` executor of an importer task."""
    importer_spec = task.importer_spec
    assert importer_spec is not None
    importer: IR = {"typeSchema": _artifact_type(importer_spec.schema_title)}
    if importer_spec.reimport:
        importer["reimport"] = True
    if importer_spec.metadata:
        importer["metadata"] = to_value(importer_spec.metadata)
    if importer_spec.download_to_workspace:
        importer["downloadToWorkspace"] = True
    if isinstance(importer_spec.artifact_uri, PipelineChannel):
        importer["artifactUri"] = {"runtimeParameter": "uri"}
    elif isinstance(importer_spec.artifact_uri, str):
        importer["artifactUri"] = {"constant": importer_spec.artifact_uri}
    return {"importer": importer}


# --- DAG outputs ----------------------------------------------------------------------------------

def _connect_dag_output(component: IR, output_name: str, channel: PipelineChannel) -> None:
    if isinstance(channel, PipelineArtifactChannel):
        if output_name not in component.get("outputDefinitions", {}).get("artifacts", {}):
            raise ValueError(f"Pipeline or component output not defined: {output_name}. You may be missing a type "
                             "annotation.")
        selectors = _sub(component, "dag", "outputs", "artifacts", output_name).setdefault("artifactSelectors", [])
        selectors.append({"outputArtifactKey": channel.name, "producerSubtask": channel.task_name})
    elif isinstance(channel, PipelineParameterChannel):
        if output_name not in component.get("outputDefinitions", {}).get("parameters", {}):
            raise ValueError(f"Pipeline or component output not defined: {output_name}. You may be missing a type "
                             "annotation.")
        _sub(component, "dag", "outputs", "parameters", output_name)["valueFromParameter"] = {
            "outputParameterKey": channel.name, "producerSubtask": channel.task_name}


def _validate_dag_outputs(component: IR) -> None:
    dag_outputs = component.get("dag", {}).get("outputs", {})
    for kind in ("artifacts", "parameters"):
        for output_name in component.get("outputDefinitions", {}).get(kind, {}):
            if output_name not in dag_outputs.get(kind, {}):
                raise ValueError(f"Missing pipeline output: {output_name}.")


def build_dag_outputs(component: IR, dag_outputs: dict[str, PipelineChannel]) -> None:
    for output_name, channel in dag_outputs.items():
        if not isinstance(channel, PipelineChannel):
            raise ValueError(f"Got unknown pipeline output '{output_name}' of type {channel}.")
        _connect_dag_output(component, output_name, channel)
    _validate_dag_outputs(component)


def build_oneof_dag_outputs(component: IR, oneof_outputs: dict[str, Any]) -> None:
    for output_name, oneof in oneof_outputs.items():
        if isinstance(oneof, OneOfArtifact):
            if output_name not in component.get("outputDefinitions", {}).get("artifacts", {}):
                raise ValueError(f"Pipeline or component output not defined: {output_name}.")
            selectors = _sub(component, "dag", "outputs", "artifacts", output_name).setdefault("artifactSelectors", [])
            for channel in oneof.channels:
                selectors.append({"outputArtifactKey": channel.name, "producerSubtask": channel.task_name})
        if isinstance(oneof, OneOfParameter):
            if output_name not in component.get("outputDefinitions", {}).get("parameters", {}):
                raise ValueError(f"Pipeline or component output not defined: {output_name}.")
            selectors = _sub(component, "dag", "outputs", "parameters", output_name, "valueFromOneof").setdefault(
                "parameterSelectors", [])
            for channel in oneof.channels:
                selectors.append({"outputParameterKey": channel.name, "producerSubtask": channel.task_name})
    _validate_dag_outputs(component)


# --- nested pipelines -----------------------------------------------------------------------------

def merge_sub_pipeline(main: IR, executors: IR, sub_pipeline_spec: IR) -> IR:
    """Folds a nested pipeline's executors and components into the main spec (renaming clashes).

    Works on a copy, so the nested pipeline's own IR stays a reusable template.
    Returns the copy, whose ``root`` is the component of the task that runs it.
    """
    sub = copy.deepcopy(sub_pipeline_spec)
    for old_label, executor in sub.get("deploymentSpec", {}).get("executors", {}).items():
        label = structures.make_name_unique_by_adding_index(old_label, list(executors), "-")
        if label != old_label:
            for component in sub.get("components", {}).values():
                if component.get("executorLabel") == old_label:
                    component["executorLabel"] = label
        executors[label] = executor

    old_to_new: dict[str, str] = {}
    existing = list(main.get("components", {}))
    for name in sub.get("components", {}):
        taken = [key for pair in old_to_new.items() for key in pair]
        old_to_new[name] = structures.make_name_unique_by_adding_index(name, existing + taken, "-")
    # Rename last-first so a rename never collides with a later one.
    for old, new in reversed(list(old_to_new.items())):
        if new != old:
            for task_spec in _all_dag_tasks(sub):
                if task_spec["componentRef"]["name"] == old:
                    task_spec["componentRef"]["name"] = new
    components = main.setdefault("components", {})
    for old, component in sub.get("components", {}).items():
        components[old_to_new[old]] = component
    return sub


def _all_dag_tasks(spec: IR) -> list[IR]:
    found = []
    for component in spec.get("components", {}).values():
        found.extend(component.get("dag", {}).get("tasks", {}).values())
    found.extend(spec.get("root", {}).get("dag", {}).get("tasks", {}).values())
    return found


# --- the walk -------------------------------------------------------------------------------------

class _Build:
    """The state of one compilation: the spec being written and the topology it follows."""

    def __init__(self, pipeline_spec: IR, root_group: TasksGroup, *, inputs: Any, outputs: Any, dependencies: Any,
                 task_name_to_parent_groups: dict[str, list[str]], group_name_to_parent_groups: dict[str, list[str]],
                 name_to_for_loop_group: dict[str, ParallelFor], is_compiled_component: bool) -> None:
        self.spec = pipeline_spec
        self.root_group = root_group
        self.executors: IR = {}
        self.inputs = inputs
        self.outputs = outputs
        self.dependencies = dependencies
        self.task_name_to_parent_groups = task_name_to_parent_groups
        self.group_name_to_parent_groups = group_name_to_parent_groups
        self.name_to_for_loop_group = name_to_for_loop_group
        self.is_compiled_component = is_compiled_component

    def _add_executor(self, component: IR, executor: IR) -> None:
        label = structures.make_name_unique_by_adding_index(component["executorLabel"], list(self.executors), "-")
        component["executorLabel"] = label
        self.executors[label] = executor

    def build_group(self, group: TasksGroup) -> None:
        """Writes the DAG of ``group``: a task (and a component) for each subgroup and task in it."""
        if group.name == self.root_group.name:
            group_component = self.spec["root"]
        else:
            group_component = self.spec.setdefault("components", {}).setdefault(
                sanitize_component_name(group.name), {})
        is_root = group_component is self.spec["root"]
        subgroups: list[Any] = [*group.groups, *group.tasks]
        tasks_in_current_dag = [structures.maybe_rename_for_k8s(sub.name) for sub in subgroups]
        for subgroup in subgroups:
            input_channels = [channel for channel, _ in self.inputs.get(subgroup.name, [])]
            output_channels = self.outputs.get(subgroup.name, {})
            component_name = sanitize_component_name(subgroup.name)
            if isinstance(subgroup, PipelineTask):
                task_spec = task_spec_for_task(subgroup, group_component.get("inputDefinitions", {}),
                                               tasks_in_current_dag)
                component = component_spec_for_task(subgroup, is_compiled_component=self.is_compiled_component)
                if subgroup.container_spec is not None:
                    self._add_executor(component, container_executor(subgroup))
                elif subgroup.importer_spec is not None:
                    self._add_executor(component, importer_executor(subgroup))
                elif subgroup.pipeline_spec is not None:
                    if subgroup.platform_config:
                        raise ValueError("Platform-specific features can only be set on primitive components. "
                                         "Found platform-specific feature set on a pipeline.")
                    component = merge_sub_pipeline(self.spec, self.executors, subgroup.pipeline_spec)["root"]
                else:
                    raise RuntimeError(f"Task {subgroup.name} has no implementation.")
            elif isinstance(subgroup, ParallelFor):
                loop_channels = self._loop_channels(subgroup, input_channels)
                component = component_spec_for_group(loop_channels, output_channels)
                task_spec = task_spec_for_group(subgroup, loop_channels, tasks_in_current_dag,
                                                is_parent_component_root=is_root)
                build_dag_outputs(component, output_channels)
            elif isinstance(subgroup, _ConditionBase):
                condition_channels = list(input_channels)
                topology.channels_from_conditions(subgroup.conditions, condition_channels)
                component = component_spec_for_group(condition_channels, output_channels)
                task_spec = task_spec_for_group(subgroup, condition_channels, tasks_in_current_dag,
                                                is_parent_component_root=is_root)
                build_dag_outputs(component, output_channels)
            elif isinstance(subgroup, ExitHandler):
                component = component_spec_for_group(input_channels, {})
                task_spec = task_spec_for_group(subgroup, input_channels, tasks_in_current_dag,
                                                is_parent_component_root=is_root)
            elif isinstance(subgroup, ConditionBranches):
                component = component_spec_for_group(input_channels, output_channels)
                task_spec = task_spec_for_group(subgroup, input_channels, tasks_in_current_dag,
                                                is_parent_component_root=is_root)
                build_oneof_dag_outputs(component, output_channels)
            else:
                raise RuntimeError(f"Unexpected task/group type: Got {subgroup} of type {type(subgroup)}.")

            if self.dependencies.get(subgroup.name):
                task_spec.setdefault("dependentTasks", []).extend(
                    structures.maybe_rename_for_k8s(dep) for dep in sorted(self.dependencies[subgroup.name]))
            if isinstance(subgroup, PipelineTask):
                _apply_ignore_upstream_failure(subgroup, task_spec)
            component_name = structures.make_name_unique_by_adding_index(
                component_name, list(self.spec.get("components", {})), "-")
            task_spec["componentRef"]["name"] = component_name
            self.spec.setdefault("components", {})[component_name] = copy.deepcopy(component)
            _sub(group_component, "dag", "tasks")[subgroup.name] = task_spec

    def _loop_channels(self, loop: ParallelFor, input_channels: list[PipelineChannel]) -> list[PipelineChannel]:
        """The inputs of a loop's sub-DAG: what its inside needs, its items, and its loop variable."""
        channels: list[PipelineChannel] = []
        for channel in input_channels:
            if isinstance(channel, topology._LOOP_ARGUMENTS) and channel.is_with_items_loop_argument:
                # Items of an inner loop's literal list are not inputs of this one.
                found = False
                for group_name in self.group_name_to_parent_groups[loop.name][::-1]:
                    if group_name in self.name_to_for_loop_group and \
                            channel.name in self.name_to_for_loop_group[group_name].loop_argument.name:
                        found = True
                        break
                if not found:
                    continue
            channels.append(channel)
        if loop.items_is_pipeline_channel:
            channels.append(loop.loop_argument.items_or_pipeline_channel)
        channels.append(loop.loop_argument)
        return channels

    def build_exit_handlers(self, parent_group: TasksGroup) -> None:
        """Adds each exit handler's exit task to the root DAG, triggered when its group completes."""
        for group in parent_group.groups:
            if isinstance(group, ExitHandler):
                if not parent_group.is_root:
                    raise ValueError(
                        "ExitHandler can only be used within the outermost scope of a pipeline function definition. "
                        f"Using an ExitHandler within {_GROUP_CLASS_NAMES.get(parent_group.group_type, 'group')} "
                        f"{parent_group.name} is not allowed.")
                exit_task = group.exit_task
                group_task_name = structures.maybe_rename_for_k8s(group.name)
                task_spec = task_spec_for_task(exit_task, self.spec["root"].get("inputDefinitions", {}), [])
                task_spec.setdefault("dependentTasks", []).append(group_task_name)
                task_spec["triggerPolicy"] = {"strategy": "ALL_UPSTREAM_TASKS_COMPLETED"}
                for input_name, input_spec in (exit_task.component_spec.inputs or {}).items():
                    if types.is_task_final_status_type(input_spec.type):
                        _set_kind(_input_parameter(task_spec, input_name), _PARAMETER_KINDS, "taskFinalStatus",
                                  {"producerTask": group_task_name})
                component = component_spec_for_task(exit_task, is_compiled_component=False, is_exit_task=True)
                if exit_task.container_spec is not None:
                    self._add_executor(component, container_executor(exit_task))
                elif exit_task.pipeline_spec is not None:
                    component = merge_sub_pipeline(self.spec, self.executors, exit_task.pipeline_spec)["root"]
                else:
                    raise RuntimeError(f"Exit task {exit_task.name} is missing both container spec and pipeline spec.")
                component_name = structures.make_name_unique_by_adding_index(
                    task_spec["componentRef"]["name"], list(self.spec.get("components", {})), "-")
                task_spec["componentRef"]["name"] = component_name
                self.spec.setdefault("components", {})[component_name] = component
                _sub(self.spec["root"], "dag", "tasks")[structures.maybe_rename_for_k8s(exit_task.name)] = task_spec
            self.build_exit_handlers(group)

    def finish(self) -> None:
        if self.executors:
            self.spec["deploymentSpec"] = {"executors": to_struct(self.executors)}


def to_struct(value: Any) -> Any:
    """A dict as a ``google.protobuf.Struct`` serialises: every number a float."""
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict):
        return {key: to_struct(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_struct(item) for item in value]
    return value


def _apply_ignore_upstream_failure(task: PipelineTask, task_spec: IR) -> None:
    if not task._ignore_upstream_failure_tag:
        return
    task_spec["triggerPolicy"] = {"strategy": "ALL_UPSTREAM_TASKS_COMPLETED"}
    for input_name, input_spec in (task.component_spec.inputs or {}).items():
        if not types.is_task_final_status_type(input_spec.type):
            continue
        dependent = task_spec.get("dependentTasks", [])
        if not dependent:
            parent = task.parent_task_group
            if parent is not None and parent.group_type == TasksGroupType.PIPELINE:
                raise topology.InvalidTopologyException(
                    "Tasks that use '.ignore_upstream_failure()' and 'PipelineTaskFinalStatus' must have exactly one "
                    f"dependent upstream task. Got task '{task_spec['taskInfo']['name']} with no upstream "
                    "dependencies.")
            raise topology.InvalidTopologyException(
                "Tasks that use '.ignore_upstream_failure()' and 'PipelineTaskFinalStatus' must have exactly one "
                f"dependent upstream task within the same control flow scope. Got task '{task_spec['taskInfo']['name']}' "
                f"beneath a 'dsl.{_GROUP_CLASS_NAMES.get(parent.group_type, 'group') if parent else 'group'}' that "
                "does not also contain the upstream dependent task.")
        if len(dependent) > 1:
            raise topology.InvalidTopologyException(
                "Tasks that use '.ignore_upstream_failure()' and 'PipelineTaskFinalStatus' must have exactly one "
                f"dependent upstream task. Got {len(dependent)} dependent tasks: {dependent}.")
        _set_kind(_input_parameter(task_spec, input_name), _PARAMETER_KINDS, "taskFinalStatus",
                  {"producerTask": dependent[0]})


# --- entry points ---------------------------------------------------------------------------------

def pipeline_outputs_to_dict(pipeline_outputs: Any) -> dict[str, PipelineChannel]:
    if pipeline_outputs is None:
        return {}
    if isinstance(pipeline_outputs, dict):
        return pipeline_outputs
    if isinstance(pipeline_outputs, PipelineChannel):
        return {SINGLE_OUTPUT_NAME: pipeline_outputs}
    if isinstance(pipeline_outputs, tuple) and hasattr(pipeline_outputs, "_asdict"):
        return dict(pipeline_outputs._asdict())
    raise ValueError(f"Got unknown pipeline output, {pipeline_outputs}, of type {type(pipeline_outputs)}.")


def _validate_pipeline_outputs(outputs: dict[str, PipelineChannel]) -> None:
    for channel in outputs.values():
        if isinstance(channel, loops.Collected):
            continue
        if isinstance(channel, OneOfMixin):
            parent = channel.condition_branches_group.parent_task_group
            if parent is not None and parent.group_type != TasksGroupType.PIPELINE:
                raise topology.InvalidTopologyException(
                    "Pipeline outputs may only be returned from the top level of the pipeline function scope. Got "
                    f"pipeline output dsl.OneOf from within the control flow group dsl.{parent.__class__.__name__}.")
        elif isinstance(channel, PipelineChannel):
            parent = channel.task.parent_task_group
            if parent.group_type != TasksGroupType.PIPELINE:
                raise topology.InvalidTopologyException(
                    "Pipeline outputs may only be returned from the top level of the pipeline function scope. Got "
                    f"pipeline output from within the control flow group dsl.{parent.__class__.__name__}.")
        else:
            raise ValueError(f"Got unknown pipeline output, {channel}, of type {type(channel)}.")


def _new_pipeline_spec(name: str) -> IR:
    return {"pipelineInfo": {"name": name}, "sdkVersion": SDK_VERSION, "schemaVersion": SCHEMA_VERSION}


def create_pipeline_spec(*, pipeline: Pipeline, component_spec: structures.ComponentSpec,
                         pipeline_outputs: Any = None) -> IR:
    """The IR of a pipeline whose function has run (its tasks and groups recorded in ``pipeline``)."""
    structures.validate_pipeline_name(pipeline.name)
    spec = _new_pipeline_spec(pipeline.name)
    spec["root"] = component_spec_from_structure(component_spec)
    outputs_dict = pipeline_outputs_to_dict(pipeline_outputs)
    _validate_pipeline_outputs(outputs_dict)

    root_group = pipeline.groups[0]
    groups = all_groups(root_group)
    group_name_to_group = {group.name: group for group in groups}
    task_parents, group_parents = topology.get_parent_groups(root_group)
    condition_channels = topology.get_condition_channels_for_tasks(root_group)
    loop_groups = {name: group for name, group in group_name_to_group.items() if isinstance(group, ParallelFor)}
    inputs = topology.get_inputs_for_all_groups(pipeline, task_parents, group_parents, condition_channels, loop_groups)
    outputs, outputs_dict = topology.get_outputs_for_all_groups(pipeline, task_parents, group_parents, groups,
                                                                outputs_dict)
    dependencies = topology.get_dependencies(pipeline, task_parents, group_parents, group_name_to_group,
                                             condition_channels)
    build = _Build(spec, root_group, inputs=inputs, outputs=outputs, dependencies=dependencies,
                   task_name_to_parent_groups=task_parents, group_name_to_parent_groups=group_parents,
                   name_to_for_loop_group=loop_groups, is_compiled_component=False)
    for group in groups:
        build.build_group(group)
    build.build_exit_handlers(root_group)
    build.finish()

    build_dag_outputs(spec["root"], outputs_dict)
    for output_name, channel in outputs_dict.items():
        output_spec = (component_spec.outputs or {})[output_name]
        label = "" if len(outputs_dict) == 1 else f"{output_name!r} "
        types.verify_type_compatibility(
            channel, output_spec,
            f"Incompatible return type provided for output {label}of pipeline {component_spec.name!r}. ",
            checks_input=False)
    return _ordered(spec)


def component_to_pipeline_spec(component_spec: structures.ComponentSpec) -> IR:
    """The IR of a single component compiled on its own: a pipeline of one task."""
    import uuid

    arguments = {name: create_pipeline_channel(name=name, channel_type=spec.type,
                                               is_artifact_list=spec.is_artifact_list)
                 for name, spec in (component_spec.inputs or {}).items()}
    task = PipelineTask(component_spec, arguments)
    group = TasksGroup(group_type=TasksGroupType.PIPELINE)
    group.tasks.append(task)
    group.name = uuid.uuid4().hex
    outputs = {name: create_pipeline_channel(name=name, channel_type=spec.type, task_name=task.name)
               for name, spec in (component_spec.outputs or {}).items()}
    structures.validate_pipeline_name(component_spec.name)
    spec = _new_pipeline_spec(component_spec.name)
    spec["root"] = component_spec_from_structure(component_spec)
    build_dag_outputs(spec["root"], outputs)
    task_parents, group_parents = topology.get_parent_groups(group)
    build = _Build(spec, group, inputs={}, outputs={}, dependencies={}, task_name_to_parent_groups=task_parents,
                   group_name_to_parent_groups=group_parents, name_to_for_loop_group={}, is_compiled_component=True)
    build.build_group(group)
    build.finish()
    return _ordered(spec)


def _ordered(spec: IR) -> IR:
    return {key: spec[key] for key in sorted(spec)}


def modify_pipeline_spec_with_override(pipeline_spec: IR, *, pipeline_name: str | None = None,
                                       pipeline_parameters: dict[str, Any] | None = None,
                                       pipeline_display_name: str | None = None) -> IR:
    """A copy of the IR with the compile-time overrides: name, display name, parameter defaults."""
    spec = copy.deepcopy(pipeline_spec)
    if pipeline_name is not None:
        spec["pipelineInfo"]["name"] = pipeline_name
    if pipeline_display_name is not None:
        spec["pipelineInfo"]["displayName"] = pipeline_display_name
    root_inputs = spec["root"].get("inputDefinitions", {})
    for input_name, value in (pipeline_parameters or {}).items():
        if input_name in root_inputs.get("parameters", {}):
            entry = root_inputs["parameters"][input_name]
            if value is not None:
                entry["defaultValue"] = _default_value(entry.get("parameterType"), value)
        elif input_name in root_inputs.get("artifacts", {}):
            raise NotImplementedError("Default value for artifact input is not supported.")
        else:
            raise ValueError(f"Pipeline parameter {input_name} does not match any known pipeline input.")
    return spec
