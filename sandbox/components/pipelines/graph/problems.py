"""What is wrong with a pipeline spec, said where it is wrong.

Loading and validating IR never stops at the first problem: every check adds
a :class:`Problem` (a reason, a message, and the DAG, task and input it is
about) to one list, and :class:`PipelineSpecInvalid` carries the whole list,
so an author fixes a hand-edited or generated spec in one round trip. The
error is a 400 ``BadRequest`` of the sandbox's Kubernetes-shaped error family,
each problem one ``details.causes`` entry (reason, message, and the location as
``field``): the KFP API answers an invalid upload with it unchanged.

Reasons are CamelCase, as Kubernetes names them: ``Malformed``,
``UnknownComponent``, ``UnknownExecutor``, ``ComponentCycle``, ``Cycle``,
``MissingProducer``, ``MissingOutput``, ``MissingInput``, ``UnknownInput``,
``TypeMismatch``, ``BadExpression``, ``BadIterator``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.api.errors import BadRequest

__all__ = ["ROOT_DAG", "ArgumentsInvalid", "PipelineSpecInvalid", "Problem"]

#: The name the graph layer gives the pipeline's own DAG (``root`` in the IR).
ROOT_DAG = "root"


@dataclass(frozen=True)
class Problem:
    """One problem in a spec: ``reason`` and ``message``, located by DAG, task and input."""

    reason: str
    message: str
    dag: str = ""
    task: str = ""
    input: str = ""

    @property
    def location(self) -> str:
        """``DAG "root", task "train", input "lr"`` (the parts that are known)."""
        parts = []
        if self.dag:
            parts.append(f'DAG "{self.dag}"')
        if self.task:
            parts.append(f'task "{self.task}"')
        if self.input:
            parts.append(f'input "{self.input}"')
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class PipelineSpecInvalid(BadRequest):
    """The spec has problems; ``problems`` lists every one of them."""

    headline = "pipeline spec{name} is invalid"

    def __init__(self, problems: list[Problem], *, pipeline: str = "") -> None:
        self.problems = list(problems)
        self.pipeline = pipeline
        head = self.headline.format(name=f' "{pipeline}"' if pipeline else "")
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        causes = [{"reason": problem.reason, "message": problem.message,
                   "field": problem.location} for problem in self.problems]
        super().__init__(f"{head} ({count} {noun}):\n{lines}", details={"causes": causes})

    def reasons(self) -> list[str]:
        """The reasons of all problems, in order (handy in tests and UIs)."""
        return [problem.reason for problem in self.problems]


class ArgumentsInvalid(PipelineSpecInvalid):
    """Run arguments that do not fit the pipeline's parameters (same shape, own headline)."""

    headline = "invalid run arguments for pipeline{name}"
