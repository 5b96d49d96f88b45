"""A reporter that keeps what it is told, for runner and executor tests."""

from __future__ import annotations

from typing import Any

from sandbox.scenario.results import Entry, ScenarioResult, StepResult


class Recorder:
    """A reporter that keeps what it is told."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def scenario_started(self, result: ScenarioResult, *, description: str, target: str) -> None:
        self.events.append(("scenario_started", result.name))

    def step_started(self, step: StepResult) -> None:
        self.events.append(("step_started", step.index))

    def entry(self, step: StepResult, entry: Entry) -> None:
        self.events.append(("entry", entry))

    def progress(self, step: StepResult, text: str) -> None:
        self.events.append(("progress", text))

    def step_finished(self, step: StepResult) -> None:
        self.events.append(("step_finished", (step.index, step.outcome)))

    def scenario_finished(self, result: ScenarioResult) -> None:
        self.events.append(("scenario_finished", result.ok))

    def progress_texts(self) -> list[str]:
        return [text for kind, text in self.events if kind == "progress"]
