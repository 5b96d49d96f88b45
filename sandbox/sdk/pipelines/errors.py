"""What can go wrong when loading, submitting and inspecting pipeline runs.

Errors that concern the pipeline or its arguments are the graph layer's own
(:class:`PipelineSpecInvalid`, :class:`ArgumentsInvalid`: 400s listing every
problem), raised before anything is created. Errors about a run's tasks are
Kubernetes-shaped too — :class:`TaskNotFound` is a 404, :class:`AmbiguousTask`
and :class:`NoTaskLog` are 400s — and carry what the user can type instead
(``choices``). A pipeline *file* that cannot be loaded is not an API matter:
:class:`PipelineLoadError` is a ``ValueError`` naming the file (and the line
of the user's code that failed). A wait that runs out of time is a
:class:`RunTimeout`, a :class:`~sandbox.client.waiting.WaitTimeout` whose
message is the run's last state.
"""

from __future__ import annotations

from collections.abc import Sequence

from sandbox.api.errors import BadRequest, NotFound
from sandbox.client.waiting import WaitTimeout
from sandbox.components.pipelines.graph import ArgumentsInvalid, PipelineSpecInvalid

__all__ = [
    "AmbiguousTask",
    "ArgumentsInvalid",
    "NoTaskLog",
    "PipelineLoadError",
    "PipelineSpecInvalid",
    "RunTimeout",
    "TaskNotFound",
]


def _listing(choices: Sequence[str]) -> str:
    return ", ".join(choices) if choices else "none"


class PipelineLoadError(ValueError):
    """A pipeline file that cannot be loaded: missing, not importable, no (or no such) pipeline."""


class TaskNotFound(NotFound):
    """No task of the run has that name; ``choices`` lists the names it has."""

    def __init__(self, run: str, task: str, choices: Sequence[str]) -> None:
        self.run, self.task, self.choices = run, task, list(choices)
        super().__init__(f'run "{run}" has no task "{task}"; its tasks: {_listing(self.choices)}',
                         details={"name": task, "kind": "task"})


class AmbiguousTask(BadRequest):
    """Several tasks answer to the name (loop iterations, repeated display names)."""

    def __init__(self, run: str, task: str, choices: Sequence[str]) -> None:
        self.run, self.task, self.choices = run, task, list(choices)
        super().__init__(f'"{task}" names {len(self.choices)} tasks of run "{run}"; '
                         f"choose one of: {_listing(self.choices)}",
                         details={"name": task, "kind": "task"})


class NoTaskLog(BadRequest):
    """The task ran no pod (cached, skipped, an importer, never started), so it has no log."""


class RunTimeout(WaitTimeout):
    """A run did not end in time; the message is its last state (the run goes on)."""
