"""`sandbox scenario list|run` end to end: exit codes, CI output, JUnit and the Markdown report."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner

from sandbox.cli.main import cli

FAILING = """
name: failing
title: A Job and a wrong expectation
level: beginner
estimatedTime: 1m
tags: [jobs, demo]
steps:
  - explain: "A **Job** runs a pod to completion."
  - apply:
      manifest:
        apiVersion: batch/v1
        kind: Job
        metadata: {name: once}
        spec:
          template:
            spec:
              restartPolicy: Never
              containers:
              - {name: main, image: python:3.11, command: [python, -c, "print('done')"]}
  - wait: {kind: job, name: once, condition: Complete, timeout: 30s}
  - name: wrong
    expect: {object: {kind: job, name: once, jsonpath: "{.status.succeeded}", equals: 2}}
  - kubectl: {args: [get, jobs]}
"""


def write(root: Path, name: str, text: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "scenario.yaml").write_text(text)
    return folder


def invoke(args: list[str], tmp_path: Path, **env: str):
    runner = CliRunner()
    return runner.invoke(cli, args, env={"CI": "1", "SANDBOX_HOME": str(tmp_path / "home"),
                                         "SANDBOX_SCENARIOS": str(tmp_path / "scenarios"), **env},
                         catch_exceptions=False)


def test_a_failing_expect_exits_1_with_conditions_and_events_in_junit_and_report(tmp_path):
    folder = write(tmp_path / "scenarios", "failing", FAILING)
    junit, report = tmp_path / "out.xml", tmp_path / "run.md"
    result = invoke(["scenario", "run", str(folder), "--junit", str(junit), "--report", str(report)],
                    tmp_path)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", line) for line in lines)  # CI: plain
    assert "FAIL" in result.output and "ephemeral in-process cluster" in result.output
    suite = ET.parse(junit).getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == 5 and suite.get("failures") == "1" and suite.get("skipped") == "1"
    failure = cases[3].find("failure")
    assert "expected '2', found '1'" in failure.get("message")
    assert "conditions:" in failure.text and "Complete=True" in failure.text
    assert "recent events:" in failure.text and "Completed" in failure.text
    text = report.read_text()
    assert "# A Job and a wrong expectation" in text and "*❌ failed*" in text


def test_list_shows_scenarios_and_invalid_ones(tmp_path):
    write(tmp_path / "scenarios", "failing", FAILING)
    write(tmp_path / "scenarios", "broken", "name: broken\ntitle: B\nlevel: beginner\nsteps:\n  - wiat: {}\n")
    result = invoke(["scenario", "list"], tmp_path)
    assert result.exit_code == 0
    assert re.search(r"failing\s+beginner\s+1m\s+jobs,demo\s+A Job and a wrong expectation", result.output)
    assert "INVALID" in result.output and "unknown step type 'wiat'" in result.output


def test_run_refuses_unknown_and_invalid_scenarios(tmp_path):
    write(tmp_path / "scenarios", "broken", "name: broken\ntitle: B\nlevel: beginner\nsteps:\n  - wiat: {}\n")
    unknown = invoke(["scenario", "run", "nope"], tmp_path)
    assert unknown.exit_code == 2 and "no scenario 'nope' (known: broken" in unknown.output
    invalid = invoke(["scenario", "run", "broken"], tmp_path)
    assert invalid.exit_code == 1 and "scenario.yaml:5: steps[0].wiat: unknown step type 'wiat'" in invalid.output
    both = invoke(["scenario", "run", "broken", "--all"], tmp_path)
    assert both.exit_code == 2


PASSING = """
name: tiny
title: Tiny
level: beginner
steps:
  - explain: "Nothing to do."
  - explain: "Still nothing."
"""


def test_pause_without_a_terminal_says_so_and_runs_through(tmp_path):
    folder = write(tmp_path / "scenarios", "tiny", PASSING)
    result = invoke(["scenario", "run", str(folder), "--pause"], tmp_path)
    assert result.exit_code == 0, result.output
    assert "--pause needs a terminal on stdin; running without pauses" in result.output
    assert "scenario tiny passed" in result.output
