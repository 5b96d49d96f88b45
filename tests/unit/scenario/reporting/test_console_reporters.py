"""Plain lines for CI, rich narration for terminals; NO_COLOR honoured."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from sandbox.scenario.reporting import PlainReporter, RichReporter, choose_reporter
from sandbox.scenario.results import Entry, ScenarioResult, StepResult

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ")


def play(reporter) -> ScenarioResult:
    result = ScenarioResult(name="demo", title="Demo [v1]", path=Path("s.yaml"), cluster="default",
                            namespace="demo", started=datetime.now(UTC))
    result.steps = [StepResult(0, "explain", "Nodes", "01-explain"),
                    StepResult(1, "wait", "Wait for Deployment web", "02-wait"),
                    StepResult(2, "kubectl", "kubectl get pods", "03-kubectl")]
    reporter.scenario_started(result, description="Learn *nodes*.", target="an ephemeral cluster")
    first, second, third = result.steps
    reporter.step_started(first)
    entry = Entry("markdown", "## Nodes\nA node runs **pods**.")
    first.entries.append(entry)
    reporter.entry(first, entry)
    reporter.step_finished(first)
    reporter.step_started(second)
    reporter.progress(second, "waiting for deployment/web — now Available=False")
    reporter.progress(second, "waiting for deployment/web — now Available=False (second)")
    second.outcome, second.seconds = "failed", 30.0
    second.message = "timed out after 30s [x]"
    second.details = "  conditions:\n    Available=False (MinimumReplicasUnavailable)"
    reporter.step_finished(second)
    third.outcome, third.message = "skipped", "an earlier step failed"
    reporter.step_finished(third)
    result.seconds = 31.0
    reporter.scenario_finished(result)
    return result


def test_plain_output_is_timestamped_lines_with_verdict_words_and_diagnostics():
    out = io.StringIO()
    play(PlainReporter(out))
    lines = out.getvalue().splitlines()
    assert all(STAMP.match(line) for line in lines)
    text = "\n".join(STAMP.sub("", line) for line in lines)
    assert "scenario demo: Demo [v1]" in text
    assert "[1/3] Nodes" in text and "      ## Nodes\n      A node runs **pods**." in text
    assert "… waiting for deployment/web — now Available=False" in text
    # the state at the failure is shown even when it came within the throttle interval
    assert "now Available=False (second)" in text
    assert "FAIL (30.0s): timed out after 30s [x]" in text
    assert "Available=False (MinimumReplicasUnavailable)" in text
    assert "[3/3] SKIP kubectl get pods (an earlier step failed)" in text
    assert text.splitlines()[-1] == "scenario demo FAILED in 31.0s (1 passed, 1 failed, 1 skipped)"
    assert "\x1b[" not in out.getvalue()


def test_rich_output_renders_markdown_and_has_no_colour_under_no_color(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    play(RichReporter(console))
    raw = out.getvalue()
    assert not re.search(r"\x1b\[[0-9;]*3[0-9]m", raw)  # no foreground colours
    text = re.sub(r"\x1b\[[0-9;]*m", "", raw)
    assert "Step 2/3 Wait for Deployment web" in text
    assert "A node runs pods." in text  # Markdown rendered, not shown raw
    assert "timed out after 30s [x]" in text  # a message with brackets is not taken as markup


def test_auto_mode_is_plain_in_ci_or_a_pipe_and_rich_on_a_terminal(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("CI", raising=False)
    assert isinstance(choose_reporter(stream=io.StringIO()), PlainReporter)
    assert isinstance(choose_reporter(stream=Tty()), RichReporter)
    monkeypatch.setenv("CI", "true")
    assert isinstance(choose_reporter(stream=Tty()), PlainReporter)
    assert isinstance(choose_reporter("rich", stream=io.StringIO()), RichReporter)
