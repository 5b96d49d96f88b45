"""What an executor gets: the cluster, the scenario's namespace and variables, and a voice.

An executor (``sandbox.scenario.executors``) runs one step. It acts on the
cluster through ``ctx.client`` (any kind name through ``ctx.kinds``), and
tells the learner what happened through the context, never by printing:

- ``ctx.say(markdown)`` — narration;
- ``ctx.command(line, output)`` — a command as a learner would type it, and
  what it printed (kubectl steps, the kubectl-equivalent of an apply);
- ``ctx.note(text)`` — one line of what happened ("deployment.apps/web created");
- ``ctx.progress(text)`` — the current state of something being waited on:
  a spinner on a terminal, a line per change in CI; not recorded.

Each call lands in the step's :class:`~sandbox.scenario.results.StepResult`
and goes to the reporter at once, so the terminal shows a step as it runs
and the JUnit/Markdown reports get the same record afterwards.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sandbox.client.kinds import Kinds
from sandbox.client.kube import KubeClient
from sandbox.clock import Clock, SystemClock
from sandbox.scenario.results import Entry, ScenarioResult, StepResult
from sandbox.scenario.target import Target

__all__ = ["Reporter", "StepContext"]


class Reporter(Protocol):
    """Receives a run as it happens (the terminal faces implement it)."""

    def scenario_started(self, result: ScenarioResult, *, description: str, target: str) -> None: ...

    def step_started(self, step: StepResult) -> None: ...

    def entry(self, step: StepResult, entry: Entry) -> None: ...

    def progress(self, step: StepResult, text: str) -> None: ...

    def step_finished(self, step: StepResult) -> None: ...

    def scenario_finished(self, result: ScenarioResult) -> None: ...


@dataclass
class StepContext:
    """One step's view of the run (see the module docstring)."""

    target: Target
    kinds: Kinds
    namespace: str
    scenario_dir: Path
    #: The run's kubeconfig: the target's, with the scenario namespace as the context's.
    kubeconfig: Path
    #: The run's variables; an executor may add one (``saveAs``) for the steps after it.
    variables: dict[str, str]
    step: StepResult
    reporter: Reporter
    clock: Clock = field(default_factory=SystemClock)

    @property
    def client(self) -> KubeClient:
        return self.target.client

    def path(self, relative: str) -> Path:
        """A file named in the scenario, relative to the scenario's folder."""
        return (self.scenario_dir / relative).resolve()

    def child_env(self) -> dict[str, str]:
        """The environment of a kubectl or script step: ours, with the run's KUBECONFIG."""
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig),
                "SANDBOX_NAMESPACE": self.namespace}

    def say(self, markdown: str) -> None:
        self._add(Entry("markdown", markdown))

    def note(self, text: str) -> None:
        self._add(Entry("note", text))

    def command(self, line: str, output: str) -> None:
        self._add(Entry("command", line, output))

    def progress(self, text: str) -> None:
        self.reporter.progress(self.step, text)

    def _add(self, entry: Entry) -> None:
        self.step.entries.append(entry)
        self.reporter.entry(self.step, entry)
