"""The pipeline being defined: a registry of tasks and a stack of task groups.

While a ``@pipeline`` function runs (at decoration time, as in kfp), a
:class:`Pipeline` is the default pipeline: every component call registers its
task here under a unique Kubernetes-style name (``train``, ``train-2`` …) and
into the innermost open group (``If``, ``ParallelFor``, ``ExitHandler``);
groups get ids from one counter (``condition-3``, ``for-loop-4``) in the
order they are opened. The compiler later walks ``tasks`` and ``groups``.

There is at most one default pipeline at a time (kfp forbids nesting the
*definition* of pipelines; nested pipelines are compiled first and used as
components). Outside a pipeline, tasks are only built by the compiler for a
lone component (``compile(component)``), where they keep their component name.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from sandbox.components.pipelines.dsl.structures import (
    make_name_unique_by_adding_index,
    maybe_rename_for_k8s,
)

if TYPE_CHECKING:
    from sandbox.components.pipelines.dsl.groups import TasksGroup
    from sandbox.components.pipelines.dsl.tasks import PipelineTask

__all__ = ["Pipeline", "get_default_pipeline"]

_default_pipeline: Pipeline | None = None


def get_default_pipeline() -> Pipeline | None:
    """The pipeline whose function is running, if any."""
    return _default_pipeline


def execution_caching_default() -> bool:
    """Caching is on unless ``KFP_DISABLE_EXECUTION_CACHING_BY_DEFAULT`` says otherwise (as in kfp)."""
    value = str(os.getenv("KFP_DISABLE_EXECUTION_CACHING_BY_DEFAULT")).strip().lower()
    return value not in {"1", "true", "t", "yes", "y", "on"}


class Pipeline:
    """The tasks and groups of one pipeline definition; a context manager making it the default."""

    def __init__(self, name: str) -> None:
        from sandbox.components.pipelines.dsl.groups import TasksGroup, TasksGroupType

        self.name = name
        self.tasks: dict[str, PipelineTask] = {}
        self.groups: list[TasksGroup] = [TasksGroup(group_type=TasksGroupType.PIPELINE, name=name, is_root=True)]
        self._group_id = 0

    def __enter__(self) -> Pipeline:
        global _default_pipeline
        if _default_pipeline is not None:
            raise Exception("Nested pipelines are not allowed.")
        _default_pipeline = self
        return self

    def __exit__(self, *exc_info: Any) -> None:
        global _default_pipeline
        _default_pipeline = None

    def add_task(self, task: PipelineTask, *, add_to_group: bool) -> str:
        """Registers ``task`` under a unique name; the exit task of an ExitHandler joins no group."""
        task_name = maybe_rename_for_k8s(task.component_spec.name)
        task_name = make_name_unique_by_adding_index(task_name, list(self.tasks), "-")
        if task_name == "":
            task_name = make_name_unique_by_adding_index("task", list(self.tasks), "-")
        self.tasks[task_name] = task
        if add_to_group:
            task.parent_task_group = self.groups[-1]
            self.groups[-1].tasks.append(task)
        return task_name

    def push_tasks_group(self, group: TasksGroup) -> None:
        group.parent_task_group = self.groups[-1]
        self.groups[-1].groups.append(group)
        self.groups.append(group)

    def pop_tasks_group(self) -> None:
        del self.groups[-1]

    def get_last_tasks_group(self) -> TasksGroup | None:
        """The last group opened at the current level (what an ``Elif``/``Else`` follows)."""
        groups = self.groups[-1].groups
        return groups[-1] if groups else None

    def remove_task_from_groups(self, task: PipelineTask) -> None:
        for group in self.groups:
            group.remove_task_recursive(task)

    def get_next_group_id(self) -> str:
        self._group_id += 1
        return str(self._group_id)
