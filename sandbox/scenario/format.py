"""The scenario file format: ``scenarios/<name>/scenario.yaml`` as a pydantic model.

Data flow::

    scenario.yaml ──yaml.compose──▶ node tree (line numbers)
                  └─yaml.safe_load─▶ dict ──Scenario model (steps via STEP_TYPES)──▶ Scenario
                                                └─ pydantic errors ─▶ ValidationProblem(line, path, message)

The header fields (name, title, level …) are fixed here; the step types are
not: a step's model is built from the registry :data:`~sandbox.scenario.steps.STEP_TYPES`
each time a file is validated (cached while the registry is unchanged), as a
model with one optional field per registered type and a check that exactly
one is given. A misspelt step key is then pydantic's "extra field" error at
that key, which is reworded into "unknown step type", and every error in
every step is reported in one pass.

Pydantic reports a field path (``steps.3.wait.timeout``); the composed YAML
nodes give the line of each key, so a problem is printed like a compiler's:
``scenario.yaml:14: steps[3].wait.timeout: invalid duration '5x'``. A
missing field is reported at the line of the mapping that lacks it.

:func:`scenario_json_schema` publishes the same models as JSON Schema, with
the registered step types as ``oneOf`` (``tools/gen_scenario_schema.py``
writes it into ``docs/reference/scenario-format.md``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator
from pydantic.alias_generators import to_camel

from sandbox.scenario.steps import STEP_TYPES, Duration

__all__ = [
    "Scenario",
    "ScenarioError",
    "Step",
    "ValidationProblem",
    "load_scenario",
    "parse_scenario",
    "scenario_json_schema",
    "validate_file",
]

_STEP_HEADER = ("name", "title")


class Step(BaseModel):
    """One step: an optional name/title and exactly one step-type field (see :data:`STEP_TYPES`).

    The step-type fields are added per registry by :func:`_step_model`;
    :attr:`type` and :attr:`spec` read whichever one is set.
    """

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, description="A short id, shown in JUnit and reports.")
    title: str | None = Field(default=None, description="The heading shown to the learner.")

    @property
    def type(self) -> str:
        """The step-type key, e.g. ``"apply"``."""
        return next(k for k in type(self).model_fields if k not in _STEP_HEADER
                    and getattr(self, k) is not None)

    @property
    def spec(self) -> BaseModel:
        """The step type's model instance (for ``explain`` a RootModel holding the text)."""
        spec: BaseModel = getattr(self, self.type)
        return spec

    @model_validator(mode="after")
    def _exactly_one_type(self) -> Step:
        known = [k for k in type(self).model_fields if k not in _STEP_HEADER]
        given = [k for k in known if getattr(self, k) is not None]
        if len(given) != 1:
            found = f"found {', '.join(given)}" if given else "found none"
            raise ValueError(f"a step needs exactly one step type ({', '.join(known)}); {found}")
        return self


class Scenario(BaseModel):
    """A scenario: what it teaches (header) and what it does (steps)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, alias_generator=to_camel)

    name: str = Field(max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
                      description="A DNS label; by convention the scenario's folder name.")
    title: str = Field(min_length=1)
    description: str = Field(default="", description="Markdown; what the learner will see and learn.")
    level: Literal["beginner", "intermediate", "advanced"]
    tags: list[str] = Field(default_factory=list)
    estimated_time: Duration | None = Field(default=None, description="How long a run takes, e.g. 3m.")
    cluster: str = Field(default="default", description="A shipped cluster file's name, or a path.")
    namespace: str | None = Field(
        default=None, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        description="The namespace the steps work in (default: the scenario's name); "
                    "created afresh for each run.")
    variables: dict[str, str] = Field(default_factory=dict,
                                      description="Substituted into manifests as {{ name }}.")
    steps: list[Step] = Field(min_length=1)

    @model_validator(mode="after")
    def _variable_names(self) -> Scenario:
        bad = [v for v in self.variables if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v)]
        if bad:
            raise ValueError(f"variable names must be identifiers: {', '.join(bad)}")
        return self


_MODELS: dict[tuple[tuple[str, type[BaseModel]], ...], type[Scenario]] = {}


def _scenario_model(registry: Mapping[str, type[BaseModel]]) -> type[Scenario]:
    """The Scenario model whose steps accept exactly the registered step types."""
    key = tuple(registry.items())
    if key not in _MODELS:
        fields: dict[str, Any] = {name: (model | None, None) for name, model in registry.items()}
        step = create_model("Step", __base__=Step, **fields)
        _MODELS[key] = create_model("Scenario", __base__=Scenario,
                                    steps=(list[step], Field(min_length=1)))  # type: ignore[valid-type]
    return _MODELS[key]


@dataclass(frozen=True)
class ValidationProblem:
    """One thing wrong in a scenario file: where (line, field path) and what."""

    line: int
    path: str
    message: str

    def format(self, file: str | Path) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{file}:{self.line}: {where}{self.message}"


class ScenarioError(Exception):
    """A scenario file that does not validate; ``problems`` lists everything wrong."""

    def __init__(self, path: str | Path, problems: list[ValidationProblem]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(p.format(path) for p in problems))


def parse_scenario(text: str, *,
                   registry: Mapping[str, type[BaseModel]] | None = None,
                   ) -> tuple[Scenario | None, list[ValidationProblem]]:
    """Validate YAML text: the scenario when valid, else ``None`` and every problem found."""
    types = STEP_TYPES if registry is None else registry
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        return None, [ValidationProblem(mark.line + 1 if mark else 1, "", f"invalid YAML: {err}")]
    problems = _duplicate_keys(root, ())
    if not isinstance(data, dict):
        return None, [ValidationProblem(1, "", "a scenario file is a mapping (name, title, steps …)")]
    try:
        scenario = _scenario_model(types).model_validate(data)
    except ValidationError as err:
        merged: dict[tuple[int, str], list[str]] = {}
        for e in err.errors():  # a union reports one error per member: one problem, all messages
            p = _problem(e, root, types)
            merged.setdefault((p.line, p.path), []).append(p.message)
        problems += [ValidationProblem(line, path, "; ".join(dict.fromkeys(msgs)))
                     for (line, path), msgs in merged.items()]
        scenario = None
    problems.sort(key=lambda p: p.line)
    return (None if problems else scenario), problems


def validate_file(path: str | Path) -> list[ValidationProblem]:
    """Every problem in a scenario file, in line order; empty when it is valid."""
    return parse_scenario(Path(path).read_text(encoding="utf-8"))[1]


def load_scenario(path: str | Path) -> Scenario:
    """The scenario in ``path``; :class:`ScenarioError` lists the problems when it is invalid."""
    scenario, problems = parse_scenario(Path(path).read_text(encoding="utf-8"))
    if scenario is None:
        raise ScenarioError(path, problems)
    return scenario


def _problem(error: Any, root: yaml.Node | None, types: Mapping[str, type[BaseModel]]) -> ValidationProblem:
    loc: tuple[int | str, ...] = error["loc"]
    node, at = root, root  # ``at``: the key node (or item) whose line the problem gets
    matched: list[int | str] = []
    missing: str | None = None
    for part in loc:
        found = _child(node, part)
        if found is not None:
            at, node = found
            matched.append(part)
        elif isinstance(part, str) and re.fullmatch(r"[A-Za-z_]\w*", part):
            missing = part  # a field absent from the file (or a union member's tag)
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing" and missing is not None:
        matched.append(missing)
        message = "required field missing"
    elif error["type"] == "extra_forbidden":
        key = loc[-1]
        if len(loc) == 3 and loc[0] == "steps":
            message = f"unknown step type {key!r} (known: {', '.join(types)})"
        else:
            message = f"unknown field {key!r}"
    line = at.start_mark.line + 1 if at is not None else 1
    return ValidationProblem(line, _path(matched), message)


def _child(node: yaml.Node | None, part: int | str) -> tuple[yaml.Node, yaml.Node] | None:
    """(node to report the line of, node to descend into) for one step of a field path."""
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        return next(((k, v) for k, v in node.value if k.value == part), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part], node.value[part]
    return None


def _path(parts: list[int | str]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _duplicate_keys(node: yaml.Node | None, at: tuple[int | str, ...]) -> list[ValidationProblem]:
    """YAML keeps the last of two equal keys silently; a scenario file must not say a field twice."""
    problems: list[ValidationProblem] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for k, v in node.value:
            if k.value in seen:
                problems.append(ValidationProblem(k.start_mark.line + 1, _path([*at, k.value]),
                                                  f"duplicate key {k.value!r}"))
            seen.add(k.value)
            problems += _duplicate_keys(v, (*at, k.value))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            problems += _duplicate_keys(v, (*at, i))
    return problems


def scenario_json_schema(registry: Mapping[str, type[BaseModel]] | None = None) -> dict[str, Any]:
    """JSON Schema (2020-12) of a scenario file, the registered step types as ``oneOf``."""
    types = STEP_TYPES if registry is None else registry
    schema = Scenario.model_json_schema(ref_template="#/$defs/{model}")
    defs: dict[str, Any] = schema.pop("$defs", {})
    defs.pop("Step", None)
    header = Step.model_json_schema()["properties"]
    variants = []
    for name, model in sorted(types.items()):
        step_schema = model.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(step_schema.pop("$defs", {}))
        defs[model.__name__] = step_schema
        variants.append({
            "title": name,
            "type": "object",
            "properties": {**header, name: {"$ref": f"#/$defs/{model.__name__}"}},
            "required": [name],
            "additionalProperties": False,
        })
    schema["properties"]["steps"]["items"] = {"oneOf": variants}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema,
            "$defs": dict(sorted(defs.items()))}
