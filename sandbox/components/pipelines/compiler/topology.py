"""Who needs what across sub-DAGs: the analysis the IR builder runs before writing any component.

A pipeline's groups nest (root → If → ParallelFor → …) and each becomes a
sub-DAG component that can only see its own inputs. For every task this
module works out, by walking the group tree:

* **inputs** — which channels every enclosing group must accept
  ("punching holes" through the DAG levels), and from which producer;
* **outputs** — which values groups must surface upwards, for
  ``dsl.Collected`` fan-ins and ``dsl.OneOf`` picks;
* **dependencies** — which sibling (task or group) each task or group waits
  for: an edge between tasks in different groups becomes an edge between
  their first uncommon ancestors, and edges out of a Condition or
  ExitHandler into the outside are refused (kfp's topology rules).

The algorithms, including their corner cases, follow kfp 2.15's
``compiler_utils`` so the same pipeline yields the same IR.
"""

from __future__ import annotations

import collections
import copy
from typing import Any

from sandbox.components.pipelines.dsl import loops
from sandbox.components.pipelines.dsl.channels import (
    OneOfMixin,
    PipelineArtifactChannel,
    PipelineChannel,
    PipelineParameterChannel,
    additional_input_name,
)
from sandbox.components.pipelines.dsl.context import Pipeline
from sandbox.components.pipelines.dsl.groups import (
    ExitHandler,
    ParallelFor,
    TasksGroup,
    TasksGroupType,
    _ConditionBase,
)

__all__ = [
    "ILLEGAL_CROSS_DAG_ERROR_PREFIX",
    "InvalidTopologyException",
    "get_condition_channels_for_tasks",
    "get_dependencies",
    "get_inputs_for_all_groups",
    "get_outputs_for_all_groups",
    "get_parent_groups",
]

ILLEGAL_CROSS_DAG_ERROR_PREFIX = "Illegal task dependency across DSL context managers."

_LOOP_ARGUMENTS = (loops.LoopParameterArgument, loops.LoopArtifactArgument, loops.LoopArgumentVariable)


class InvalidTopologyException(Exception):
    """A dependency the IR cannot express (e.g. out of a Condition into the outside)."""


def get_parent_groups(root_group: TasksGroup) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """For each task and each group: the names of its ancestors, outermost first, ending with itself."""
    tasks_to_groups: dict[str, list[str]] = {}
    groups_to_groups: dict[str, list[str]] = {}

    def walk(current: list[TasksGroup]) -> None:
        parent = current[-1]
        for group in parent.groups:
            groups_to_groups[group.name] = [g.name for g in current] + [group.name]
            current.append(group)
            walk(current)
            del current[-1]
        for task in parent.tasks:
            tasks_to_groups[task.name] = [g.name for g in current] + [task.name]

    walk([root_group])
    return tasks_to_groups, groups_to_groups


def channels_from_conditions(operations: list[Any], collected: list[PipelineChannel]) -> None:
    """Appends the channels both sides of each condition operation use."""
    for operation in operations:
        for operand in (operation.left_operand, operation.right_operand):
            if isinstance(operand, PipelineChannel):
                collected.append(operand)


def get_condition_channels_for_tasks(root_group: TasksGroup) -> dict[str, set[PipelineChannel]]:
    """For each task: the channels the conditions of its enclosing condition groups compare."""
    conditions: dict[str, set[PipelineChannel]] = collections.defaultdict(set)

    def walk(group: TasksGroup, current: list[PipelineChannel]) -> None:
        if isinstance(group, _ConditionBase):
            current = list(current)
            channels_from_conditions(group.conditions, current)
        for task in group.tasks:
            for channel in current:
                conditions[task.name].add(channel)
        for child in group.groups:
            walk(child, current)

    walk(root_group, [])
    return conditions


def uncommon_ancestors(task_name_to_parent_groups: dict[str, list[str]],
                       group_name_to_parent_groups: dict[str, list[str]], task1: Any, task2: Any,
                       ) -> tuple[list[str], list[str]]:
    """The ancestor chains of two tasks/groups below their deepest common ancestor."""
    chains = []
    for task in (task1, task2):
        if task.name in task_name_to_parent_groups:
            chains.append(task_name_to_parent_groups[task.name])
        elif task.name in group_name_to_parent_groups:
            chains.append(group_name_to_parent_groups[task.name])
        else:
            raise ValueError(task.name + " does not exist.")
    common = sum(1 for pair in zip(*chains, strict=False) if pair == (pair[0],) * len(pair))
    return chains[0][common:], chains[1][common:]


def get_inputs_for_all_groups(pipeline: Pipeline, task_name_to_parent_groups: dict[str, list[str]],
                              group_name_to_parent_groups: dict[str, list[str]],
                              condition_channels: dict[str, set[PipelineChannel]],
                              name_to_for_loop_group: dict[str, ParallelFor],
                              ) -> dict[str, set[tuple[PipelineChannel, str | None]]]:
    """For each group/task: the (channel, producer-or-None) pairs it must receive as inputs."""
    inputs: dict[str, set[tuple[PipelineChannel, str | None]]] = collections.defaultdict(set)
    for task in pipeline.tasks.values():
        for channel in task.channel_inputs + list(condition_channels[task.name]):
            if getattr(channel, "value", None):
                continue  # an immediate value needs no input
            # A loop item may derive from another loop item: a nested loop needs the more
            # general channel, the task inside it the more specific one. Walk from the
            # most specific (the channel itself) to its origin.
            channels_to_add: collections.deque[PipelineChannel] = collections.deque()
            channel_to_add: Any = channel
            while isinstance(channel_to_add, _LOOP_ARGUMENTS):
                channels_to_add.append(channel_to_add)
                if isinstance(channel_to_add, loops.LoopArgumentVariable):
                    channel_to_add = channel_to_add.loop_argument
                else:
                    channel_to_add = channel_to_add.items_or_pipeline_channel
            if isinstance(channel_to_add, PipelineChannel):
                channels_to_add.append(channel_to_add)

            if channel.task:
                upstream_groups, downstream_groups = uncommon_ancestors(
                    task_name_to_parent_groups, group_name_to_parent_groups, channel.task, task)
                for i, group_name in enumerate(downstream_groups):
                    # The first uncommon downstream group gets it from the first uncommon
                    # upstream one; the groups below get it from their parents.
                    producer = upstream_groups[0] if i == 0 else None
                    inputs[group_name].add((channels_to_add[-1], producer))
                    if group_name in name_to_for_loop_group:
                        loop_group = name_to_for_loop_group[group_name]
                        if channels_to_add[-1].full_name in loop_group.loop_argument.full_name:
                            channels_to_add.pop()
                            if not channels_to_add:
                                break
            else:
                if task.is_exit_handler:
                    continue
                if isinstance(channel, _LOOP_ARGUMENTS) and channel.is_with_items_loop_argument:
                    # Items of a literal list originate inside the DAG: go bottom-up.
                    for group_name in task_name_to_parent_groups[task.name][::-1]:
                        inputs[group_name].add((channels_to_add[0], None))
                        if group_name in name_to_for_loop_group:
                            loop_group = name_to_for_loop_group[group_name]
                            if channels_to_add[0].full_name in loop_group.loop_argument.full_name:
                                channels_to_add.popleft()
                                if not channels_to_add:
                                    break
                else:
                    for group_name in task_name_to_parent_groups[task.name]:
                        inputs[group_name].add((channels_to_add[-1], None))
                        if group_name in name_to_for_loop_group:
                            loop_group = name_to_for_loop_group[group_name]
                            if channels_to_add[-1].full_name in loop_group.loop_argument.full_name:
                                channels_to_add.pop()
                                if not channels_to_add:
                                    break
    return inputs


def _validate_fan_in(consumer_task_name: str, upstream_groups: list[str],
                     group_name_to_group: dict[str, TasksGroup]) -> None:
    producer_task_name = upstream_groups[-1]
    if all(group_name_to_group[name].group_type != TasksGroupType.FOR_LOOP for name in upstream_groups[:-1]):
        raise InvalidTopologyException(
            "dsl.Collected can only be used to fan-in outputs produced by a task within a dsl.ParallelFor context "
            "to a task outside of the dsl.ParallelFor context. Producer task "
            f"{producer_task_name} is either not in a dsl.ParallelFor context or is only in a dsl.ParallelFor that "
            f"also contains consumer task {consumer_task_name}.")
    group = group_name_to_group[upstream_groups[0]]
    if group.group_type in (TasksGroupType.CONDITION, TasksGroupType.EXIT_HANDLER):
        raise InvalidTopologyException(
            f"{ILLEGAL_CROSS_DAG_ERROR_PREFIX} When using dsl.Collected to fan-in outputs from a task within a "
            "dsl.ParallelFor context, the dsl.ParallelFor context manager cannot be nested within a "
            f"dsl.{group.__class__.__name__} context manager unless the consumer task is too. Task "
            f"{consumer_task_name} consumes from {producer_task_name} within a dsl.{group.__class__.__name__} "
            "context.")
    if group.group_type != TasksGroupType.FOR_LOOP:
        raise ValueError("Got unexpected group type when validating fanning-in outputs from task in "
                         f"dsl.ParallelFor: {group.group_type}")


def collected_output_channel(channel_name: str, starting_channel: PipelineChannel, task_name: str,
                             ) -> PipelineChannel:
    """The list channel a group surfaces for a ``dsl.Collected`` of ``starting_channel``."""
    if isinstance(starting_channel, PipelineParameterChannel):
        return PipelineParameterChannel(channel_name, channel_type="LIST", task_name=task_name)
    if isinstance(starting_channel, PipelineArtifactChannel):
        return PipelineArtifactChannel(channel_name, channel_type=starting_channel.channel_type,
                                       task_name=task_name, is_artifact_list=True)
    raise ValueError(f"Got unknown PipelineChannel: {starting_channel!r}.")


def _surface_oneof(channel: OneOfMixin, upstream_chains: dict[int, list[str]],
                   outputs: dict[str, dict[str, PipelineChannel]]) -> None:
    # Only the OneOf's own copies of the inner channels change, not uses elsewhere.
    channel.channels = [copy.copy(c) for c in channel.channels]
    for index, inner in enumerate(channel.channels):
        surfaced_name = additional_input_name(inner)
        for upstream_name in reversed(upstream_chains[index]):
            if upstream_name == inner.task.name:
                continue
            if upstream_name == channel.condition_branches_group.name:
                outputs[upstream_name][channel.name] = channel
                break
            outputs[upstream_name][surfaced_name] = copy.copy(inner)
            inner.name = surfaced_name
            inner.task_name = upstream_name


def get_outputs_for_all_groups(pipeline: Pipeline, task_name_to_parent_groups: dict[str, list[str]],
                               group_name_to_parent_groups: dict[str, list[str]], all_groups: list[TasksGroup],
                               pipeline_outputs_dict: dict[str, PipelineChannel],
                               ) -> tuple[dict[str, dict[str, PipelineChannel]], dict[str, PipelineChannel]]:
    """For each group: the outputs it surfaces (Collected fan-ins, OneOf picks), and the rewired pipeline outputs."""
    group_name_to_group = {group.name: group for group in all_groups}
    group_name_to_children = {
        group.name: [g.name for g in group.groups] + [t.name for t in group.tasks] for group in all_groups}
    outputs: dict[str, dict[str, PipelineChannel]] = collections.defaultdict(dict)
    processed_oneofs: set[OneOfMixin] = set()

    for task in pipeline.tasks.values():
        for channel in task.channel_inputs:
            if isinstance(channel, loops.Collected):
                producer_task = pipeline.tasks[channel.task_name]  # type: ignore[index]
                upstream_groups, downstream_groups = uncommon_ancestors(
                    task_name_to_parent_groups, group_name_to_parent_groups, producer_task, task)
                _validate_fan_in(task.name, upstream_groups, group_name_to_group)
                surfaced_name = additional_input_name(channel)
                parent_consumer = downstream_groups[0]
                producer_task_name = upstream_groups.pop()
                for upstream_name in reversed(upstream_groups):
                    outputs[upstream_name][surfaced_name] = collected_output_channel(
                        channel.name, channel.output, producer_task_name)
                    # The consumer now reads what this group surfaces.
                    channel.name = surfaced_name
                    channel.task_name = upstream_name
                    producer_task_name = upstream_name
                    parent_of_surfacer = group_name_to_parent_groups[upstream_name][-2]
                    if parent_consumer in group_name_to_children[parent_of_surfacer]:
                        break
            elif isinstance(channel, OneOfMixin):
                if channel in processed_oneofs:
                    continue
                chains = {}
                for index, inner in enumerate(channel.channels):
                    chains[index] = uncommon_ancestors(task_name_to_parent_groups, group_name_to_parent_groups,
                                                       pipeline.tasks[inner.task_name], task)[0]  # type: ignore[index]
                _surface_oneof(channel, chains, outputs)
                processed_oneofs.add(channel)

    for output_key, channel in list(pipeline_outputs_dict.items()):
        if isinstance(channel, loops.Collected):
            surfaced_name = additional_input_name(channel)
            upstream_groups = task_name_to_parent_groups[channel.task_name][1:]  # type: ignore[index]
            producer_task_name = upstream_groups.pop()
            upstream_name = producer_task_name
            for upstream_name in reversed(upstream_groups):
                new_channel = collected_output_channel(channel.name, channel.output, producer_task_name)
                channel.name = surfaced_name
                channel.task_name = upstream_name
                producer_task_name = upstream_name
                outputs[upstream_name][surfaced_name] = new_channel
            pipeline_outputs_dict[output_key] = collected_output_channel(surfaced_name, channel.output, upstream_name)
        elif isinstance(channel, OneOfMixin):
            if channel in processed_oneofs:
                continue
            chains = {index: task_name_to_parent_groups[inner.task_name][1:]  # type: ignore[index]
                      for index, inner in enumerate(channel.channels)}
            _surface_oneof(channel, chains, outputs)
    return outputs, pipeline_outputs_dict


def get_dependencies(pipeline: Pipeline, task_name_to_parent_groups: dict[str, list[str]],
                     group_name_to_parent_groups: dict[str, list[str]], group_name_to_group: dict[str, TasksGroup],
                     condition_channels: dict[str, set[PipelineChannel]]) -> dict[str, set[str]]:
    """For each task/group: the sibling tasks/groups it depends on (data edges and ``.after``)."""
    dependencies: dict[str, set[str]] = collections.defaultdict(set)
    for task in pipeline.tasks.values():
        all_channels = task.channel_inputs + list(condition_channels[task.name])
        upstream_tasks: list[Any] = []
        for upstream in [channel.task for channel in all_channels if channel.task] + [
                pipeline.tasks[name] for name in task.dependent_tasks]:
            if not any(upstream is seen for seen in upstream_tasks):
                upstream_tasks.append(upstream)
        for upstream_task in upstream_tasks:
            upstream_names, downstream_names = uncommon_ancestors(
                task_name_to_parent_groups, group_name_to_parent_groups, upstream_task, task)
            uncommon_upstream = list(upstream_names)
            uncommon_upstream.remove(upstream_task.name)
            if uncommon_upstream:
                upstream_parent_group = group_name_to_group.get(uncommon_upstream[0])
                if isinstance(upstream_parent_group, _ConditionBase | ExitHandler):
                    kind = upstream_parent_group.__class__.__name__
                    raise InvalidTopologyException(
                        f"{ILLEGAL_CROSS_DAG_ERROR_PREFIX} A downstream task cannot depend on an upstream task "
                        f"within a dsl.{kind} context unless the downstream is within that context too. Found task "
                        f"{task.name} which depends on upstream task {upstream_task.name} within an uncommon "
                        f"dsl.{kind} context.")
                if isinstance(upstream_parent_group, ParallelFor):
                    consumed_from = [channel.task.name for channel in task.channel_inputs
                                     if channel.task is not None]
                    if upstream_task.name in consumed_from:  # .after() out of a loop is fine
                        raise InvalidTopologyException(
                            f"{ILLEGAL_CROSS_DAG_ERROR_PREFIX} A downstream task cannot depend on an upstream task "
                            "within a dsl.ParallelFor context unless the downstream is within that context too or "
                            "the outputs are begin fanned-in to a list using dsl.Collected. Found task "
                            f"{task.name} which depends on upstream task {upstream_task.name} within an uncommon "
                            "dsl.ParallelFor context.")
            dependencies[downstream_names[0]].add(upstream_names[0])
    return dependencies
