"""The runner: steps in order, outcomes, skipping after a failure, the namespace and kubeconfig."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from scenario_recorder import Recorder  # type: ignore[import-not-found]

from sandbox.api.errors import Invalid
from sandbox.scenario.format import parse_scenario
from sandbox.scenario.results import StepError, StepFailed
from sandbox.scenario.runner import SCENARIO_LABEL, run_scenario, step_title


def scenario(text: str) -> Any:
    parsed, problems = parse_scenario(text)
    assert parsed is not None, problems
    return parsed


FOUR_STEPS = """
name: demo
title: Demo
level: beginner
namespace: lesson
variables: {greeting: hello}
steps:
  - explain: "{{ greeting }} from {{ namespace }}"
  - name: check
    kubectl: {args: [get, pods]}
  - kubectl: {args: [get, nodes]}
  - explain: never
"""


async def run(text: str, target, tmp_path: Path, executors: dict, **kwargs: Any):
    recorder = Recorder()
    result = await run_scenario(scenario(text), path=tmp_path / "scenario.yaml", target=target,
                                reporter=recorder, executors=executors, **kwargs)
    return result, recorder


async def _explain(spec, ctx) -> None:
    ctx.say(spec.root)


async def test_steps_run_in_order_with_variables_and_a_failure_skips_the_rest(memory_target, tmp_path):
    seen: list[list[str]] = []

    async def kubectl(spec, ctx) -> None:
        seen.append(spec.args)
        if spec.args == ["get", "nodes"]:
            raise StepFailed("no nodes", details="none at all")

    result, recorder = await run(FOUR_STEPS, memory_target, tmp_path,
                                 {"explain": _explain, "kubectl": kubectl})
    assert seen == [["get", "pods"], ["get", "nodes"]]
    assert [s.outcome for s in result.steps] == ["passed", "passed", "failed", "skipped"]
    assert result.steps[0].entries[0].text == "hello from lesson"
    assert result.steps[1].name == "check" and result.steps[2].name == "03-kubectl"
    assert (result.steps[2].message, result.steps[2].details) == ("no nodes", "none at all")
    assert result.steps[3].message == "an earlier step failed"
    assert not result.ok and result.first_failure is result.steps[2]
    assert recorder.events[0] == ("scenario_started", "demo")
    assert recorder.events[-1] == ("scenario_finished", False)


@pytest.mark.parametrize(("raised", "outcome", "message"), [
    (StepError("kubectl is not installed"), "error", "kubectl is not installed"),
    (Invalid.of("Pod", "p", []), "failed", "the API server answered: "),
    (KeyError("boom"), "error", "KeyError: 'boom'"),
])
async def test_how_an_exception_becomes_an_outcome(memory_target, tmp_path, raised, outcome, message):
    async def kubectl(spec, ctx) -> None:
        raise raised

    result, _ = await run(FOUR_STEPS, memory_target, tmp_path, {"explain": _explain, "kubectl": kubectl})
    assert result.steps[1].outcome == outcome
    assert result.steps[1].message.startswith(message)
    if outcome == "error" and isinstance(raised, KeyError):
        assert "Traceback" in result.steps[1].details


async def test_an_unknown_variable_or_a_step_type_without_executor_fails_the_step(memory_target, tmp_path):
    text = FOUR_STEPS.replace("{{ greeting }}", "{{ greting }}")
    result, _ = await run(text, memory_target, tmp_path, {"explain": _explain})
    assert result.steps[0].outcome == "failed"
    assert "unknown variable {{ greting }}" in result.steps[0].message
    # (another namespace: nothing here finalizes the first one's deletion)
    text = FOUR_STEPS.replace("namespace: lesson", "namespace: lesson-2")
    result, _ = await run(text, memory_target, tmp_path, {"explain": _explain})
    assert result.steps[1].outcome == "error"
    assert result.steps[1].message == "no executor is registered for step type 'kubectl'"


async def test_overrides_win_over_the_scenario_variables(memory_target, tmp_path):
    result, _ = await run(FOUR_STEPS, memory_target, tmp_path,
                          {"explain": _explain, "kubectl": _explain_args}, variables={"greeting": "hi"})
    assert result.steps[0].entries[0].text == "hi from lesson"


async def _explain_args(spec, ctx) -> None:
    ctx.note(" ".join(spec.args))


async def test_the_namespace_is_made_labelled_and_set_in_the_run_kubeconfig(memory_target, client, tmp_path):
    contexts: list[dict] = []

    async def kubectl(spec, ctx) -> None:
        contexts.append(yaml.safe_load(ctx.kubeconfig.read_text())["contexts"][0]["context"])
        assert ctx.child_env()["KUBECONFIG"] == str(ctx.kubeconfig)
        assert ctx.kubeconfig.stat().st_mode & 0o777 == 0o600

    text = FOUR_STEPS.replace("namespace: lesson", "namespace: lesson-1")
    result, _ = await run(text, memory_target, tmp_path, {"explain": _explain, "kubectl": kubectl})
    assert result.ok and result.namespace == "lesson-1"
    assert contexts[0]["namespace"] == "lesson-1"
    namespace = await client.get("v1", "Namespace", "lesson-1")
    assert namespace["metadata"]["labels"][SCENARIO_LABEL] == "demo"


async def test_a_namespace_the_scenario_did_not_make_is_never_deleted(memory_target, client, tmp_path):
    # The fixture's namespace "demo" has no scenario label: a user's namespace.
    text = FOUR_STEPS.replace("namespace: lesson", "namespace: demo")
    result, _ = await run(text, memory_target, tmp_path,
                          {"explain": _explain, "kubectl": _explain_args})
    assert not result.ok
    assert "namespace 'demo' exists and was not created by scenario 'demo'" in result.setup_error
    assert {s.outcome for s in result.steps} == {"skipped"}
    assert await client.get("v1", "Namespace", "demo")  # still there
    text = FOUR_STEPS.replace("namespace: lesson", "namespace: default")
    result, _ = await run(text, memory_target, tmp_path, {"explain": _explain})
    assert "system namespace 'default'" in result.setup_error


async def test_pause_is_called_between_steps_only(memory_target, tmp_path):
    paused: list[int] = []

    async def pause(step) -> None:
        paused.append(step.index)

    text = FOUR_STEPS
    result, _ = await run(text, memory_target, tmp_path, {"explain": _explain, "kubectl": _explain_args},
                          pause=pause)
    assert result.ok and paused == [0, 1, 2]


def test_steps_without_a_title_get_one_from_what_they_do():
    parsed = scenario("""
name: t
title: T
level: beginner
steps:
  - explain: "## Nodes and capacity\\nmore"
  - apply: {files: [a.yaml, b.yaml]}
  - wait: {kind: Deployment, name: web, condition: Available}
  - wait: {kind: pods, selector: app=web, count: 2}
  - expect: {count: {kind: pods, equals: 1}}
  - http: {service: web, port: 80, path: /healthz}
  - fault: {action: cordon, node: worker-1}
  - title: Mine
    kubectl: {args: [get, pods]}
""")
    assert [step_title(s) for s in parsed.steps] == [
        "Nodes and capacity", "Apply a.yaml, b.yaml", "Wait for Deployment web",
        "Wait for pods -l app=web", "Expect count", "GET web:80/healthz", "Fault: cordon worker-1", "Mine"]
