"""A Markdown record of scenario runs, fit for a tutorial handout.

For each scenario: its title, where and when it ran, then every step as a
section — the narration as written, every command in a ``console`` block
with what it printed, notes as a list, and the outcome with its timing. A
failure's diagnostics go in a fenced block under the step, so the record
also serves as a bug report. Commands are shown as a learner would type
them; the scenario's kubeconfig sets the namespace, which the header says.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sandbox.scenario.reporting.console import summary_line
from sandbox.scenario.results import ScenarioResult, StepResult

__all__ = ["markdown_report", "write_report"]

_VERDICT = {"passed": "✅ passed", "failed": "❌ failed", "error": "❌ error", "skipped": "⏭ skipped"}


def _fence(text: str, info: str = "") -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{info}\n{text.rstrip()}\n{fence}"


def _demoted(markdown: str) -> str:
    """Narration headings nested under the step's ``###`` (``#`` → ``####``), code blocks untouched."""
    out: list[str] = []
    fenced = False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            line = "###" + line
        out.append(line)
    return "\n".join(out)


def _step(step: StepResult, total: int) -> list[str]:
    lines = [f"### {step.index + 1}/{total}. {step.title}", ""]
    notes: list[str] = []
    for entry in step.entries:
        if entry.kind == "markdown":
            lines += [_demoted(entry.text.strip()), ""]
        elif entry.kind == "command":
            shown = f"$ {entry.text}"
            if entry.output.strip():
                shown += "\n" + entry.output.rstrip("\n")
            lines += [_fence(shown, "console"), ""]
        else:
            notes.append(entry.text)
    lines += [f"- {note}" for note in notes]
    if notes:
        lines.append("")
    if step.type != "explain" or step.outcome != "passed":
        verdict = f"*{_VERDICT[step.outcome]}* in {step.seconds:.1f}s"
        if step.message:
            verdict += f": {step.message}"
        lines += [verdict, ""]
    if step.details:
        lines += [_fence(step.details), ""]
    return lines


def markdown_report(results: Iterable[ScenarioResult]) -> str:
    out: list[str] = []
    for result in results:
        out += [f"# {result.title}", "",
                f"Scenario `{result.name}` ({result.path}), run {result.started:%Y-%m-%d %H:%M} UTC on "
                f"cluster `{result.cluster}`. Commands ran with the namespace `{result.namespace}` "
                f"set in the kubeconfig's context "
                f"(`kubectl config set-context --current --namespace={result.namespace}`).", ""]
        if result.setup_error:
            out += [f"**Setup failed:** {result.setup_error}", ""]
        for step in result.steps:
            out += _step(step, len(result.steps))
        out += [f"**Result:** {summary_line(result)}", ""]
    return "\n".join(out).rstrip() + "\n"


def write_report(results: Iterable[ScenarioResult], path: str | Path) -> None:
    Path(path).write_text(markdown_report(results), encoding="utf-8")
