"""Control-flow groups: ``If``/``Elif``/``Else`` (and legacy ``Condition``), ``ParallelFor``, ``ExitHandler``.

Each group is a context manager that pushes itself on the default pipeline's
group stack; tasks created inside join it, and each group becomes a sub-DAG
component in the IR (``comp-condition-N``, ``comp-for-loop-N``,
``comp-exit-handler-N``). Group numbers come from one per-pipeline counter in
the order groups open, so they match kfp's exactly — including its quirks:
a ParallelFor over a literal list uses one number for its loop variable and
the next for itself, and the first ``Elif``/``Else`` after an ``If`` wraps
the chain in a ``condition-branches-N`` group that swaps numbers with the If
so the numbering reads in source order.

Conditions are lists of :class:`~.channels.ConditionOperation`; an Elif's
conditions are the negations of everything before it plus its own, an Else's
just the negations — the compiler joins them with ``&&``.
"""

from __future__ import annotations

import copy
import enum
import warnings
from typing import TYPE_CHECKING, Any

from sandbox.components.pipelines.dsl import context, loops
from sandbox.components.pipelines.dsl.channels import (
    ConditionOperation,
    PipelineArtifactChannel,
    PipelineParameterChannel,
)

if TYPE_CHECKING:
    from sandbox.components.pipelines.dsl.tasks import PipelineTask

__all__ = [
    "Condition",
    "ConditionBranches",
    "Elif",
    "Else",
    "ExitHandler",
    "If",
    "InvalidControlFlowException",
    "ParallelFor",
    "TasksGroup",
    "TasksGroupType",
]


class InvalidControlFlowException(Exception):
    """An ``Elif``/``Else`` that does not follow an ``If``/``Elif``."""


class TasksGroupType(enum.StrEnum):
    PIPELINE = "pipeline"
    CONDITION = "condition"
    CONDITION_BRANCHES = "condition-branches"
    FOR_LOOP = "for-loop"
    EXIT_HANDLER = "exit-handler"


def _current_pipeline() -> context.Pipeline:
    pipeline = context.get_default_pipeline()
    if pipeline is None:
        raise ValueError("Default pipeline not defined.")
    return pipeline


class TasksGroup:
    """Tasks and nested groups sharing a control-flow context."""

    def __init__(self, group_type: TasksGroupType, name: str | None = None, is_root: bool = False) -> None:
        self.group_type = group_type
        self.tasks: list[PipelineTask] = []
        self.groups: list[TasksGroup] = []
        self.display_name = name
        self.name: str = name or ""
        self.is_root = is_root
        self.parent_task_group: TasksGroup | None = None

    def __enter__(self) -> Any:
        pipeline = _current_pipeline()
        self._make_name_unique()
        pipeline.push_tasks_group(self)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        _current_pipeline().pop_tasks_group()

    def _make_name_unique(self) -> None:
        group_id = _current_pipeline().get_next_group_id()
        self.name = f"{self.group_type.value}-{group_id}".replace("_", "-")

    def remove_task_recursive(self, task: PipelineTask) -> None:
        if task in self.tasks:
            self.tasks.remove(task)
        for group in self.groups:
            group.remove_task_recursive(task)


def all_groups(root: TasksGroup) -> list[TasksGroup]:
    """``root`` and every group below it, parents before children."""
    found = [root]
    for group in root.groups:
        found.extend(all_groups(group))
    return found


class ExitHandler(TasksGroup):
    """Runs ``exit_task`` after the tasks inside finish, whether they succeeded or not."""

    def __init__(self, exit_task: PipelineTask, name: str | None = None) -> None:
        super().__init__(group_type=TasksGroupType.EXIT_HANDLER, name=name)
        self.exit_task = exit_task
        if self._has_dependent_tasks():
            raise ValueError("exit_task cannot depend on any other tasks.")
        _current_pipeline().remove_task_from_groups(exit_task)
        exit_task.is_exit_handler = True

    def _has_dependent_tasks(self) -> bool:
        if self.exit_task.dependent_tasks:
            return True
        return any(isinstance(value, PipelineParameterChannel) and value.task is not None
                   for value in (self.exit_task.inputs or {}).values())


class ConditionBranches(TasksGroup):
    """The group wrapping an If/Elif/Else chain (what ``dsl.OneOf`` surfaces outputs from)."""

    def __init__(self) -> None:
        super().__init__(group_type=TasksGroupType.CONDITION_BRANCHES)
        self._oneof_id = 0

    def get_oneof_id(self) -> int:
        self._oneof_id += 1
        return self._oneof_id


class _ConditionBase(TasksGroup):
    """A condition group: its tasks run when all ``conditions`` hold."""

    _negated_upstream_conditions: list[ConditionOperation]

    def __init__(self, conditions: list[ConditionOperation], name: str | None = None) -> None:
        super().__init__(group_type=TasksGroupType.CONDITION, name=name)
        self.conditions = conditions


def _reject_constant(condition: Any) -> None:
    if isinstance(condition, bool):
        raise ValueError(f"Got constant boolean {condition} as a condition. This is likely because the provided "
                         "condition evaluated immediately. At least one of the operands must be an output from "
                         "an upstream task or a pipeline parameter.")


def _negated(condition: ConditionOperation) -> ConditionOperation:
    negated = copy.copy(condition)
    negated.negate = True
    return negated


class If(_ConditionBase):
    """Runs the tasks inside when ``condition`` (e.g. ``task.output == 'heads'``) holds."""

    def __init__(self, condition: ConditionOperation, name: str | None = None) -> None:
        super().__init__(conditions=[condition], name=name)
        _reject_constant(condition)
        self._negated_upstream_conditions = [_negated(condition)]


class Condition(If):
    """Deprecated alias of :class:`If`."""

    def __enter__(self) -> Condition:
        super().__enter__()
        warnings.warn("dsl.Condition is deprecated. Please use dsl.If instead.", category=DeprecationWarning,
                      stacklevel=2)
        return self


def _wrap_in_condition_branches(pipeline: context.Pipeline) -> None:
    """Puts the If just closed at this level into a new ConditionBranches group (once per chain)."""
    if isinstance(pipeline.get_last_tasks_group(), Elif):
        return
    wrapper = ConditionBranches()
    wrapper._make_name_unique()
    last = pipeline.groups[-1].groups.pop()
    # Swap the ids so the numbering follows the source order (branches-N wraps condition-N+1).
    wrapper_base, wrapper_id = wrapper.name.rsplit("-", 1)
    last_base, last_id = last.name.split("-")
    last.name = f"{last_base}-{wrapper_id}"
    wrapper.name = f"{wrapper_base}-{last_id}"
    pipeline.push_tasks_group(wrapper)
    pipeline.push_tasks_group(last)
    pipeline.pop_tasks_group()


class Elif(_ConditionBase):
    """Runs the tasks inside when no earlier branch ran and ``condition`` holds."""

    def __init__(self, condition: ConditionOperation, name: str | None = None) -> None:
        previous = _current_pipeline().get_last_tasks_group()
        if not isinstance(previous, If | Elif):
            raise InvalidControlFlowException("dsl.Elif can only be used following an upstream dsl.If or dsl.Elif.")
        _reject_constant(condition)
        self._negated_upstream_conditions = [copy.copy(op) for op in previous._negated_upstream_conditions]
        self._negated_upstream_conditions.append(_negated(condition))
        conditions = [copy.copy(op) for op in previous._negated_upstream_conditions]
        conditions.append(condition)
        super().__init__(conditions=conditions, name=name)

    def __enter__(self) -> Elif:
        pipeline = _current_pipeline()
        _wrap_in_condition_branches(pipeline)
        self._make_name_unique()
        pipeline.push_tasks_group(self)
        return self


class Else(_ConditionBase):
    """Runs the tasks inside when no earlier branch ran."""

    def __init__(self, name: str | None = None) -> None:
        previous = _current_pipeline().get_last_tasks_group()
        if isinstance(previous, ConditionBranches):
            raise InvalidControlFlowException(
                "Cannot use dsl.Else following another dsl.Else. dsl.Else can only be used following an "
                "upstream dsl.If or dsl.Elif.")
        if not isinstance(previous, If | Elif):
            raise InvalidControlFlowException("dsl.Else can only be used following an upstream dsl.If or dsl.Elif.")
        super().__init__(conditions=previous._negated_upstream_conditions, name=name)

    def __enter__(self) -> Else:
        pipeline = _current_pipeline()
        _wrap_in_condition_branches(pipeline)
        self._make_name_unique()
        pipeline.push_tasks_group(self)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        pipeline = _current_pipeline()
        pipeline.pop_tasks_group()
        pipeline.pop_tasks_group()  # the enclosing ConditionBranches: the chain ends here


class ParallelFor(TasksGroup):
    """Runs the tasks inside once per item (a literal list, a LIST parameter or a task output)."""

    def __init__(self, items: Any, name: str | None = None, parallelism: int | None = None) -> None:
        parallelism = parallelism or 0
        if parallelism < 0:
            raise ValueError(f"ParallelFor parallelism must be >= 0. Got: {parallelism}.")
        super().__init__(group_type=TasksGroupType.FOR_LOOP, name=name)
        self.loop_argument: loops.LoopParameterArgument | loops.LoopArtifactArgument
        if isinstance(items, PipelineParameterChannel):
            self.loop_argument = loops.LoopParameterArgument.from_pipeline_channel(items)
            self.items_is_pipeline_channel = True
        elif isinstance(items, PipelineArtifactChannel):
            self.loop_argument = loops.LoopArtifactArgument.from_pipeline_channel(items)
            self.items_is_pipeline_channel = True
        else:
            self.loop_argument = loops.LoopParameterArgument.from_raw_items(
                raw_items=items, name_code=_current_pipeline().get_next_group_id())
            self.items_is_pipeline_channel = False
        self.parallelism_limit = parallelism

    def __enter__(self) -> Any:
        super().__enter__()
        return self.loop_argument
