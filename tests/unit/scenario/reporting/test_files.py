"""JUnit XML and the Markdown record, from one run's results."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from sandbox.scenario.reporting import junit_xml, markdown_report, write_junit, write_report
from sandbox.scenario.results import Entry, ScenarioResult, StepResult


def result(name: str = "demo", *, fail: bool = True) -> ScenarioResult:
    run = ScenarioResult(name=name, title="Demo", path=Path("scenarios/demo/scenario.yaml"),
                         cluster="default", namespace=name, started=datetime(2026, 11, 29, tzinfo=UTC),
                         seconds=3.5)
    explain = StepResult(0, "explain", "Nodes", "01-explain", seconds=0.0,
                         entries=[Entry("markdown", "# Nodes\n```yaml\n# not a heading\n```")])
    kubectl = StepResult(1, "kubectl", "kubectl get nodes", "02-kubectl", seconds=0.2,
                         entries=[Entry("command", "kubectl get nodes", "NAME       STATUS\nworker-1   Ready\n")])
    expect = StepResult(2, "expect", "Expect object", "03-expect", seconds=0.1,
                        entries=[Entry("note", "job/pi {.status.succeeded} = 1")])
    skipped = StepResult(3, "wait", "Wait for Job pi", "04-wait", outcome="skipped",
                         message="an earlier step failed")
    if fail:
        expect.outcome, expect.message = "failed", "job/pi {.status.succeeded}: expected '2', found '1'"
        expect.details = "Job demo/pi\n  conditions:\n    Complete=True (CompletionsReached)\n" \
                         "  recent events:\n    Normal Completed: Job completed"
    run.steps = [explain, kubectl, expect, skipped] if fail else [explain, kubectl, expect]
    return run


def test_junit_has_a_suite_per_scenario_and_a_case_per_step_with_diagnostics(tmp_path):
    path = tmp_path / "out.xml"
    write_junit([result(), result("other", fail=False)], path)
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("7", "1", "1")
    first, second = root.findall("testsuite")
    assert first.get("name") == "demo" and first.get("failures") == "1"
    cases = first.findall("testcase")
    assert [c.get("name") for c in cases] == ["01-explain: Nodes", "02-kubectl: kubectl get nodes",
                                              "03-expect: Expect object", "04-wait: Wait for Job pi"]
    assert cases[0].get("classname") == "scenario.demo"
    failure = cases[2].find("failure")
    assert failure is not None and failure.get("message").startswith("job/pi")
    assert "Complete=True (CompletionsReached)" in failure.text
    assert "Normal Completed: Job completed" in failure.text
    assert cases[3].find("skipped").get("message") == "an earlier step failed"
    assert "$ kubectl get nodes\nNAME       STATUS\nworker-1   Ready" in cases[1].find("system-out").text
    assert second.get("failures") == "0" and len(second.findall("testcase")) == 3


def test_a_run_that_could_not_start_is_an_error_case_not_a_pass():
    run = result(fail=False)
    run.steps, run.setup_error = [], "could not start a cluster: no such cluster file"
    root = ET.fromstring(junit_xml([run]).split("\n", 1)[1])
    suite = root.find("testsuite")
    assert suite.get("errors") == "1"
    assert suite.find("testcase/error").get("message").startswith("could not start a cluster")


def test_the_markdown_record_shows_commands_with_output_notes_and_failures(tmp_path):
    path = tmp_path / "run.md"
    write_report([result()], path)
    text = path.read_text()
    assert text.startswith("# Demo\n")
    assert "`kubectl config set-context --current --namespace=demo`" in text
    assert "### 1/4. Nodes\n\n#### Nodes\n```yaml\n# not a heading\n```" in text
    assert "```console\n$ kubectl get nodes\nNAME       STATUS\nworker-1   Ready\n```" in text
    assert "- job/pi {.status.succeeded} = 1" in text
    assert "*❌ failed* in 0.1s: job/pi {.status.succeeded}: expected '2', found '1'" in text
    assert "Normal Completed: Job completed" in text
    assert "*⏭ skipped*" in text
    assert text.rstrip().endswith("**Result:** scenario demo FAILED in 3.5s (2 passed, 1 failed, 1 skipped)")
    assert markdown_report([result()]) == text
