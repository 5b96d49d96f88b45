"""What a scenario run produced: one :class:`StepResult` per step, in a :class:`ScenarioResult`.

The runner fills these in as it goes and hands each to the reporters
(terminal, JUnit, Markdown), so every face tells the same story from the
same record. An :class:`Entry` is one thing a step showed the learner: a
line of narration, a command with its output, or a note.

Outcomes, as JUnit counts them:

- ``passed``;
- ``failed`` — the step ran and its expectation did not hold (a wait timed
  out, an ``expect`` was false, kubectl exited 1, the API refused a manifest);
  ``message`` says what, ``details`` carries the diagnostics (conditions,
  events, logs);
- ``error`` — the step could not run at all (a bug, a missing tool);
- ``skipped`` — an earlier step failed, so this one did not run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

__all__ = ["Entry", "Outcome", "ScenarioResult", "StepError", "StepFailed", "StepResult"]

Outcome = Literal["passed", "failed", "error", "skipped"]


class StepFailed(Exception):
    """A step's expectation did not hold: ``message`` in one line, ``details`` the diagnostics."""

    def __init__(self, message: str, *, details: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class StepError(StepFailed):
    """The step could not run at all (a missing tool, a file that is not there)."""


@dataclass(frozen=True)
class Entry:
    """One thing shown to the learner.

    ``kind``: ``markdown`` (narration), ``command`` (``text`` is the command
    line, ``output`` what it printed), ``note`` (a line of what happened).
    """

    kind: Literal["markdown", "command", "note"]
    text: str
    output: str = ""


@dataclass
class StepResult:
    """One step of a run."""

    index: int
    type: str
    title: str
    name: str
    outcome: Outcome = "passed"
    seconds: float = 0.0
    message: str = ""
    details: str = ""
    entries: list[Entry] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome in ("passed", "skipped")


@dataclass
class ScenarioResult:
    """A whole run of one scenario."""

    name: str
    title: str
    path: Path
    cluster: str
    namespace: str
    started: datetime
    seconds: float = 0.0
    steps: list[StepResult] = field(default_factory=list)
    #: Set when the run could not start at all (no cluster, bad namespace).
    setup_error: str = ""

    @property
    def ok(self) -> bool:
        return not self.setup_error and all(step.ok for step in self.steps)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for step in self.steps if step.outcome == outcome)

    @property
    def first_failure(self) -> StepResult | None:
        return next((s for s in self.steps if s.outcome in ("failed", "error")), None)
