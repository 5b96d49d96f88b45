"""The items a ``dsl.ParallelFor`` task iterates over.

KFP compiles ``ParallelFor`` into a DAG task with an iterator; the workflow
controller runs the task's sub-DAG once per item, passing the item as the
sub-DAG input ``itemInput`` (at most ``iteratorPolicy.parallelismLimit``
iterations at a time, 0 meaning no limit). The items come from:

- ``parameterIterator.items.raw``: a JSON list written by the compiler for
  a Python list literal (``ParallelFor([1, 2, 3])``);
- ``parameterIterator.items.inputParameter``: one of the task's own
  parameter inputs — a pipeline ``LIST`` parameter or a task output — whose
  resolved value is a list, or (as KFP's driver also accepts) a JSON string
  of one;
- ``artifactIterator.items.inputArtifact``: one of the task's artifact
  inputs, a list of artifacts (``ParallelFor`` over ``Input[List[Dataset]]``).

The caller resolves the task's inputs first (parameterExpressionSelectors
applied), then asks :func:`loop_items`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .model import Task

__all__ = ["LoopError", "loop_items"]


class LoopError(ValueError):
    """A loop whose items are missing or not a list."""


def _as_list(value: Any, what: str) -> list[Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise LoopError(f"{what} is not a JSON list: {error.msg}") from None
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, list):
        raise LoopError(f"{what} is a {type(value).__name__}, not a list")
    return value


def loop_items(task: Task, *, parameters: Mapping[str, Any] | None = None,
               artifacts: Mapping[str, Any] | None = None) -> list[Any]:
    """The items of loop task ``task``, given its resolved parameter inputs
    (``parameters``) or artifact inputs (``artifacts``, each a list)."""
    if task.parameter_iterator is not None:
        iterator = task.parameter_iterator
        if iterator.raw is not None:
            return _as_list(iterator.raw, f'task "{task.name}" items.raw')
        name = iterator.input_parameter or ""
        if parameters is None or name not in parameters:
            raise LoopError(f'task "{task.name}" iterates over input "{name}", which has no value')
        return _as_list(parameters[name], f'task "{task.name}" input "{name}"')
    if task.artifact_iterator is not None:
        name = task.artifact_iterator.input_artifact
        if artifacts is None or name not in artifacts:
            raise LoopError(f'task "{task.name}" iterates over artifact input "{name}", which '
                            "has no value")
        return _as_list(artifacts[name], f'task "{task.name}" artifact input "{name}"')
    raise LoopError(f'task "{task.name}" is not a loop')
