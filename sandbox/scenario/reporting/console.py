"""Telling a run as it happens: rich on a terminal, plain timestamped lines in CI.

:func:`choose_reporter` follows DESIGN.md §7: plain when ``CI`` is set or
the output is not a terminal, rich otherwise; ``NO_COLOR`` (any value)
turns colour off in either (rich honours it itself; plain never colours).

Plain output is made for CI logs — one line per fact, each with a UTC
timestamp, greppable ``PASS``/``FAIL``/``ERROR``/``SKIP`` words, the
Markdown narration as text, a wait's state each time it changes (at most
once a second), and a failure's diagnostics in full::

    2026-11-29T03:12:04Z [ 7/21] Wait for Deployment web
    2026-11-29T03:12:04Z         … waiting for deployment/web: condition Available=True — now Available=False
    2026-11-29T03:12:05Z         deployment/web condition met
    2026-11-29T03:12:05Z         PASS (1.2s)

The rich reporter shows the same record with step headers, rendered
Markdown, commands and their output, and a live spinner while a step runs.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime
from typing import IO

from rich.console import Console, Group
from rich.markdown import Markdown
from rich.markup import escape
from rich.padding import Padding
from rich.rule import Rule
from rich.status import Status
from rich.text import Text

from sandbox.scenario.context import Reporter
from sandbox.scenario.results import Entry, ScenarioResult, StepResult

__all__ = ["PlainReporter", "RichReporter", "choose_reporter", "summary_line"]

_WORD = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "skipped": "SKIP"}
_MARK = {"passed": "[green]✓[/]", "failed": "[red]✗[/]", "error": "[red]![/]", "skipped": "[dim]-[/]"}


def choose_reporter(mode: str = "auto", *, stream: IO[str] | None = None) -> Reporter:
    """``auto`` (plain under CI or a pipe), ``rich`` or ``plain``."""
    out = stream or sys.stdout
    if mode == "auto":
        mode = "plain" if os.environ.get("CI") or not out.isatty() else "rich"
    if mode == "plain":
        return PlainReporter(out)
    return RichReporter(Console(file=out, no_color="NO_COLOR" in os.environ or None,
                                highlight=False))


def summary_line(result: ScenarioResult) -> str:
    verdict = "passed" if result.ok else "FAILED"
    counts = ", ".join(f"{result.count(o)} {o}" for o in ("passed", "failed", "error", "skipped")
                       if result.count(o))
    return f"scenario {result.name} {verdict} in {result.seconds:.1f}s ({counts or 'no steps'})"


class PlainReporter:
    """Timestamped lines for CI logs (see the module docstring)."""

    #: Real seconds between two progress lines of one step.
    PROGRESS_INTERVAL = 1.0

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self._total = 0
        self._last_progress = 0.0
        self._pending = ""

    def _line(self, text: str = "", *, indent: int = 0) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for line in (text.splitlines() or [""]):
            self.stream.write(f"{stamp} {' ' * indent}{line}".rstrip() + "\n")
        self.stream.flush()

    def scenario_started(self, result: ScenarioResult, *, description: str, target: str) -> None:
        self._total = len(result.steps)
        self._line(f"scenario {result.name}: {result.title}")
        self._line(f"running on {target}; namespace {result.namespace}", indent=2)

    def _prefix(self, step: StepResult) -> str:
        width = len(str(self._total))
        return f"[{step.index + 1:>{width}}/{self._total}]"

    def step_started(self, step: StepResult) -> None:
        self._last_progress, self._pending = 0.0, ""
        self._line(f"{self._prefix(step)} {step.title}")

    def _indent(self, step: StepResult) -> int:
        return len(self._prefix(step)) + 1

    def entry(self, step: StepResult, entry: Entry) -> None:
        indent = self._indent(step)
        if entry.kind == "command":
            self._line(f"$ {entry.text}", indent=indent)
            if entry.output.strip():
                self._line(entry.output.rstrip("\n"), indent=indent)
        else:
            self._line(entry.text.rstrip("\n"), indent=indent)

    def progress(self, step: StepResult, text: str) -> None:
        now = time.monotonic()
        if now - self._last_progress >= self.PROGRESS_INTERVAL:
            self._line(f"… {text}", indent=self._indent(step))
            self._last_progress, self._pending = now, ""
        else:
            self._pending = text

    def step_finished(self, step: StepResult) -> None:
        indent = self._indent(step)
        if step.outcome == "skipped":
            self._line(f"{self._prefix(step)} SKIP {step.title} ({step.message})")
            return
        if self._pending and step.outcome != "passed":
            self._line(f"… {self._pending}", indent=indent)
        verdict = f"{_WORD[step.outcome]} ({step.seconds:.1f}s)"
        self._line(verdict + (f": {step.message}" if step.message else ""), indent=indent)
        if step.details:
            self._line(step.details.rstrip("\n"), indent=indent + 2)

    def scenario_finished(self, result: ScenarioResult) -> None:
        if result.setup_error:
            self._line(f"ERROR: {result.setup_error}")
        self._line(summary_line(result))


class RichReporter:
    """Narration on a terminal (see the module docstring)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._total = 0
        self._status: Status | None = None

    def scenario_started(self, result: ScenarioResult, *, description: str, target: str) -> None:
        self._total = len(result.steps)
        self.console.print(Rule(f"[bold]{escape(result.title)}[/]"))
        if description.strip():
            self.console.print(Markdown(description))
        self.console.print(f"[dim]running on {escape(target)}; namespace {result.namespace}[/]\n")

    def step_started(self, step: StepResult) -> None:
        header = Text.assemble((f"Step {step.index + 1}/{self._total} ", "bold cyan"),
                               (step.title, "bold"))
        self.console.print(header)
        self._status = self.console.status(f"{step.title}…", spinner="dots")
        self._status.start()

    def entry(self, step: StepResult, entry: Entry) -> None:
        if entry.kind == "markdown":
            self.console.print(Padding(Markdown(entry.text), (0, 0, 0, 2)))
        elif entry.kind == "command":
            body = [Text(f"$ {entry.text}", style="bold")]
            if entry.output.strip():
                body.append(Text(entry.output.rstrip("\n"), style="dim"))
            self.console.print(Padding(Group(*body), (0, 0, 0, 2)))
        else:
            self.console.print(Padding(Text(entry.text), (0, 0, 0, 2)))

    def progress(self, step: StepResult, text: str) -> None:
        if self._status is not None:
            self._status.update(Text(text))

    def step_finished(self, step: StepResult) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
        if step.outcome == "skipped":
            self.console.print(f"[dim]- skipped {escape(step.title)}: {escape(step.message)}[/]")
            return
        line = f"  {_MARK[step.outcome]} [dim]{step.seconds:.1f}s[/]"
        if step.message:
            line += f" {escape(step.message)}"
        self.console.print(line, highlight=False)
        if step.details:
            self.console.print(Padding(Text(step.details.rstrip("\n")), (0, 0, 0, 4)))
        self.console.print()

    def scenario_finished(self, result: ScenarioResult) -> None:
        if result.setup_error:
            self.console.print(f"[red]{escape(result.setup_error)}[/]")
        style = "green" if result.ok else "red"
        self.console.print(Rule(f"[{style}]{escape(summary_line(result))}[/]"))
