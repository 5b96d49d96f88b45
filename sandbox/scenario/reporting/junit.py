"""JUnit XML of scenario runs: a ``<testsuite>`` per scenario, a ``<testcase>`` per step.

The shape CI systems read (Jenkins, GitLab, GitHub Actions' test reporters)::

    <testsuites tests failures errors skipped time>
      <testsuite name="k8s-basics" tests failures errors skipped time timestamp hostname>
        <properties> cluster, namespace, file </properties>
        <testcase classname="scenario.k8s-basics" name="07-wait: Wait for Deployment web" time>
          <failure message="timed out …" type="StepFailed">diagnostics: conditions, events, logs</failure>
          <system-out>the commands the step ran and what they printed</system-out>
        </testcase>
        <testcase …><skipped message="an earlier step failed"/></testcase>

A run that could not start (no namespace) gets one extra ``setup`` testcase
with the error, so the file never claims success for a run that did not happen.
"""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from sandbox.scenario.results import ScenarioResult, StepResult

__all__ = ["junit_xml", "step_output", "write_junit"]


def step_output(step: StepResult) -> str:
    """What a step showed, as text: narration, ``$ command`` and output, notes."""
    parts: list[str] = []
    for entry in step.entries:
        if entry.kind == "command":
            parts.append(f"$ {entry.text}")
            if entry.output.strip():
                parts.append(entry.output.rstrip("\n"))
        else:
            parts.append(entry.text.rstrip("\n"))
    return "\n".join(parts)


def _suite(result: ScenarioResult) -> ET.Element:
    cases = len(result.steps) + (1 if result.setup_error else 0)
    errors = result.count("error") + (1 if result.setup_error else 0)
    suite = ET.Element("testsuite", {
        "name": result.name, "tests": str(cases), "failures": str(result.count("failed")),
        "errors": str(errors), "skipped": str(result.count("skipped")),
        "time": f"{result.seconds:.3f}", "timestamp": result.started.strftime("%Y-%m-%dT%H:%M:%S"),
        "hostname": socket.gethostname(),
    })
    properties = ET.SubElement(suite, "properties")
    for name, value in (("title", result.title), ("cluster", result.cluster),
                        ("namespace", result.namespace), ("file", str(result.path))):
        ET.SubElement(properties, "property", {"name": name, "value": value})
    classname = f"scenario.{result.name}"
    if result.setup_error:
        case = ET.SubElement(suite, "testcase", {"classname": classname, "name": "setup", "time": "0"})
        ET.SubElement(case, "error", {"message": result.setup_error, "type": "SetupError"}).text = \
            result.setup_error
    for step in result.steps:
        case = ET.SubElement(suite, "testcase", {
            "classname": classname, "name": f"{step.name}: {step.title}", "time": f"{step.seconds:.3f}"})
        if step.outcome in ("failed", "error"):
            tag = "failure" if step.outcome == "failed" else "error"
            element = ET.SubElement(case, tag, {"message": step.message,
                                                "type": "StepFailed" if tag == "failure" else "StepError"})
            element.text = "\n".join(p for p in (step.message, step.details) if p)
        elif step.outcome == "skipped":
            ET.SubElement(case, "skipped", {"message": step.message})
        output = step_output(step)
        if output:
            ET.SubElement(case, "system-out").text = output
    return suite


def junit_xml(results: Iterable[ScenarioResult]) -> str:
    """The JUnit XML document of these runs."""
    root = ET.Element("testsuites", {"name": "kf-sandbox scenarios"})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    seconds = 0.0
    for result in results:
        suite = _suite(result)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
        seconds += result.seconds
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{seconds:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(results: Iterable[ScenarioResult], path: str | Path) -> None:
    Path(path).write_text(junit_xml(results), encoding="utf-8")
