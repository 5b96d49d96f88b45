"""The scenario format: models of each step type, line-numbered problems, the registry, the schema."""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from sandbox.scenario.format import (
    ScenarioError,
    load_scenario,
    parse_scenario,
    scenario_json_schema,
)
from sandbox.scenario.steps import (
    STEP_TYPES,
    Apply,
    Delete,
    Expect,
    Explain,
    Fault,
    Http,
    Kubectl,
    Run,
    Wait,
    parse_duration,
    register_step,
)

ROOT = Path(__file__).resolve().parents[3]

VALID = textwrap.dedent("""\
    name: hello-web
    title: A web server
    level: beginner
    tags: [deployment]
    estimatedTime: 2m
    variables: {replicas: "3"}
    steps:
      - explain: "A **Deployment** keeps pods running."
      - apply: {files: [deployment.yaml]}
      - wait: {kind: Deployment, name: web, condition: Available, timeout: 1m30s}
      - expect:
          object: {kind: Deployment, name: web, jsonpath: "{.spec.replicas}", equals: 3}
      - run: {module: json.tool, args: [--help]}
      - kubectl: {args: [get, pods]}
      - http: {service: web, port: 80}
      - fault: {action: killProcess, selector: app=web}
      - name: cleanup
        delete: {files: [deployment.yaml], ignoreNotFound: true}
    """)


def _problems(text: str) -> list[tuple[int, str, str]]:
    scenario, problems = parse_scenario(textwrap.dedent(text))
    assert scenario is None
    return [(p.line, p.path, p.message) for p in problems]


def test_a_valid_scenario_loads_with_typed_steps(tmp_path: Path) -> None:
    (tmp_path / "scenario.yaml").write_text(VALID)
    scenario = load_scenario(tmp_path / "scenario.yaml")
    assert scenario.estimated_time == 120
    assert scenario.cluster == "default"
    assert [s.type for s in scenario.steps] == [
        "explain", "apply", "wait", "expect", "run", "kubectl", "http", "fault", "delete"]
    wait = scenario.steps[2].spec
    assert isinstance(wait, Wait) and wait.timeout == 90
    assert scenario.steps[8].name == "cleanup"
    assert isinstance(scenario.steps[8].spec, Delete) and scenario.steps[8].spec.ignore_not_found


def test_misspelt_step_type_and_missing_field_are_both_reported_with_lines() -> None:
    problems = _problems("""\
        name: demo
        title: Demo
        level: beginner
        steps:
          - explain: hi
          - aply:
              files: [a.yaml]
          - wait:
              name: web
              phase: Running
        """)
    assert problems[0][:2] == (6, "steps[1].aply")
    assert problems[0][2].startswith("unknown step type 'aply' (known: explain, apply, delete")
    assert problems[1] == (8, "steps[2].wait.kind", "required field missing")


def test_a_bad_value_is_reported_at_its_key_line() -> None:
    problems = _problems("""\
        name: demo
        title: Demo
        level: beginner
        steps:
          - wait:
              kind: Pod
              name: web
              phase: Running
              timeout: 5x
        """)
    assert problems == [(9, "steps[0].wait.timeout", "invalid duration '5x' (e.g. 90s, 2m, 1m30s, 500ms)")]


def test_header_problems_unknown_fields_and_duplicate_keys_are_reported() -> None:
    problems = _problems("""\
        name: Not_A_Label
        title: Demo
        level: expert
        colour: red
        steps:
          - explain: a
            explain: b
        """)
    assert [(line, path) for line, path, _ in problems] == [
        (1, "name"), (3, "level"), (4, "colour"), (7, "steps[0].explain")]
    assert problems[2][2] == "unknown field 'colour'"
    assert problems[3][2] == "duplicate key 'explain'"


def test_a_step_with_two_types_or_none_is_an_error() -> None:
    problems = _problems("""\
        name: demo
        title: Demo
        level: beginner
        steps:
          - {apply: {files: [a.yaml]}, kubectl: {args: [get, pods]}}
          - title: nothing
        """)
    assert problems[0][:2] == (5, "steps[0]") and problems[0][2].endswith("found apply, kubectl")
    assert problems[1][:2] == (6, "steps[1]") and problems[1][2].endswith("found none")


def test_empty_steps_and_invalid_yaml_are_problems() -> None:
    assert _problems("name: a\ntitle: A\nlevel: beginner\nsteps: []\n")[0][:2] == (4, "steps")
    assert _problems("name: a\n  bad: [\n")[0][2].startswith("invalid YAML")


def test_load_scenario_raises_with_every_problem(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("name: a\ntitle: A\nsteps: [{aply: {}}]\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(tmp_path / "s.yaml")
    assert len(err.value.problems) == 2
    assert f"{tmp_path / 's.yaml'}:3: steps[0].aply" in str(err.value)


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90), ("2m", 120), ("1m30s", 90), ("500ms", 0.5), ("1h", 3600), ("1.5s", 1.5), (7, 7)])
def test_durations_parse_like_go(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["90", "1x", "m", "1m 30s", "", "-1s"])
def test_invalid_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(("model", "value"), [
    (Explain, "text"),
    (Apply, {"manifest": [{"kind": "Pod"}], "namespace": "x"}),
    (Delete, {"files": ["a.yaml"], "ignoreNotFound": True}),
    (Wait, {"kind": "Job", "name": "j", "jsonpath": "{.status.succeeded}", "value": 1}),
    (Wait, {"kind": "Pod", "count": 2, "selector": "app=web"}),
    (Wait, {"kind": "Pod", "count": 2, "selector": "app=web", "phase": "Running"}),
    (Wait, {"kind": "Pod", "selector": "app=web", "condition": "Ready"}),
    (Wait, {"kind": "Pod", "name": "p", "condition": "PodScheduled", "status": "False",
            "reason": "Unschedulable"}),
    (Expect, {"count": {"kind": "Pod", "equals": 3},
              "events": {"kind": "Pod", "name": "p", "reason": "Killing", "type": "Normal", "message": "Stop.*"},
              "logs": {"selector": "app=web", "matches": "ready", "previous": True}}),
    (Run, {"script": "train.py", "expectExitCode": 2, "expectOutput": "acc"}),
    (Kubectl, {"args": ["get", "pods"], "expectOutput": "Running"}),
    (Http, {"url": "http://x/", "method": "POST", "expectJson": {"{.ok}": True}}),
    (Fault, {"action": "pauseController", "controller": "deployment", "duration": "20s"}),
    (Fault, {"action": "drain", "node": "worker-1"}),
])
def test_each_step_type_accepts_its_documented_shape(model: type[BaseModel], value: object) -> None:
    model.model_validate(value)


@pytest.mark.parametrize(("model", "value", "message"), [
    (Explain, "", "at least 1 character"),
    (Apply, {}, "give one of files, manifest"),
    (Apply, {"files": ["a"], "manifest": {}}, "give only one of files, manifest"),
    (Wait, {"kind": "Pod", "name": "p"}, "give one of condition, phase, jsonpath"),
    (Wait, {"kind": "Pod", "name": "p", "jsonpath": "{.x}"}, "jsonpath needs a value"),
    (Wait, {"kind": "Pod", "phase": "Running"}, "give one of name, selector"),
    (Wait, {"kind": "Pod", "name": "p", "count": 1}, "count goes with selector"),
    (Wait, {"kind": "Pod", "name": "p", "phase": "Running", "reason": "X"}, "reason goes with condition"),
    (Expect, {}, "at least one of object, count, events, logs"),
    (Expect, {"object": {"kind": "Pod", "name": "p", "jsonpath": "{.x}", "matches": "("}},
     "invalid regular expression"),
    (Run, {"args": []}, "give one of script, module"),
    (Kubectl, {"args": []}, "at least 1 item"),
    (Http, {"service": "web"}, "service needs a port"),
    (Fault, {"action": "cordon"}, "cordon needs node"),
    (Fault, {"action": "pauseController", "controller": "x"}, "needs a duration"),
    (Fault, {"action": "explode"}, "Input should be"),
    (Run, {"module": "m", "expect_output": "x", "shell": True}, "Extra inputs"),
])
def test_each_step_type_refuses_bad_shapes(model: type[BaseModel], value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        model.model_validate(value)


class Notebook(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str


def test_a_registered_step_type_validates_and_joins_the_schema() -> None:
    registry = dict(STEP_TYPES)
    register_step("notebook", Notebook, registry=registry)
    text = "name: a\ntitle: A\nlevel: beginner\nsteps:\n  - notebook: {path: x.ipynb}\n  - notebook: {}\n"
    assert parse_scenario(text)[1][0].message.startswith("unknown step type 'notebook'")
    scenario, problems = parse_scenario(text, registry=registry)
    assert [(p.line, p.path) for p in problems] == [(6, "steps[1].notebook.path")]
    scenario, _ = parse_scenario(text.rsplit("  - notebook: {}", 1)[0], registry=registry)
    assert scenario is not None and isinstance(scenario.steps[0].spec, Notebook)
    variants = scenario_json_schema(registry)["properties"]["steps"]["items"]["oneOf"]
    assert "notebook" in [v["title"] for v in variants]


def test_register_step_refuses_a_taken_or_reserved_name() -> None:
    registry = dict(STEP_TYPES)
    with pytest.raises(ValueError, match="already registered"):
        register_step("apply", Notebook, registry=registry)
    with pytest.raises(ValueError, match="invalid step type name"):
        register_step("title", Notebook, registry=registry)


def test_schema_lists_every_registered_step_type_as_one_of() -> None:
    schema = scenario_json_schema()
    variants = schema["properties"]["steps"]["items"]["oneOf"]
    assert sorted(v["title"] for v in variants) == sorted(STEP_TYPES)
    assert all(v["additionalProperties"] is False for v in variants)
    assert "estimatedTime" in schema["properties"]


def test_the_published_schema_is_current() -> None:
    spec = importlib.util.spec_from_file_location("gen_scenario_schema", ROOT / "tools" / "gen_scenario_schema.py")
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    doc = tool.DOC.read_text(encoding="utf-8")
    assert doc == tool.render(doc), "run .venv/bin/python tools/gen_scenario_schema.py"
