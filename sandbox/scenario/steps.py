"""Step types of a scenario: one pydantic model per type, in one registry.

A step in ``scenario.yaml`` is a mapping with an optional ``name``/``title``
and exactly one *step-type key* (``apply:``, ``wait:`` …) whose value is that
type's model. This module holds the models of the built-in types and
:data:`STEP_TYPES`, the registry that maps a key to its model; the scenario
model (:mod:`sandbox.scenario.format`) reads the registry each time it
validates, so a component adds its own step type with :func:`register_step`
and no file here changes. The runner (a later module) maps the same names to
executors.

The models only describe and check the *shape* of a step (which fields, which
combinations, valid durations and regexes); nothing here touches a cluster.
Field names are camelCase in YAML (``expectExitCode``), snake_case in Python.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel

__all__ = [
    "STEP_TYPES",
    "Apply",
    "CountExpectation",
    "Delete",
    "Duration",
    "EventsExpectation",
    "Expect",
    "Explain",
    "Fault",
    "Http",
    "Kubectl",
    "LogsExpectation",
    "ObjectExpectation",
    "Pipeline",
    "Regex",
    "Run",
    "Wait",
    "parse_duration",
    "register_step",
]

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: str | float) -> float:
    """Seconds in a Go duration (``90s``, ``2m``, ``1m30s``, ``500ms``) or a number of seconds.

    Like Go's ``time.ParseDuration`` a string needs a unit on every number
    (``"90"`` is an error, ``90`` the number is 90 seconds); unlike Go,
    negative durations are refused: no step waits for minus a second.
    """
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        parts = _DURATION_PART.findall(value)
        if not parts or "".join(n + u for n, u in parts) != value:
            raise ValueError(f"invalid duration {value!r} (e.g. 90s, 2m, 1m30s, 500ms)")
        seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    if seconds < 0:
        raise ValueError(f"duration {value!r} is negative")
    return seconds


def _check_regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as err:
        raise ValueError(f"invalid regular expression {pattern!r}: {err}") from None
    return pattern


#: A duration in seconds, written like Go (``90s``, ``1m30s``) or as a number.
Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema({
        "anyOf": [
            {"type": "string", "pattern": r"^((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$"},
            {"type": "number", "minimum": 0},
        ],
        "examples": ["90s", "2m", "1m30s"],
    }),
]

#: A Python regular expression, checked to compile; kept as text.
Regex = Annotated[str, AfterValidator(_check_regex), WithJsonSchema({"type": "string", "format": "regex"})]

#: A label selector in kubectl's syntax (``app=web,tier!=db``).
Selector = str

#: A Kubernetes manifest (one object) or a list of them.
Manifest = dict[str, Any] | list[dict[str, Any]]


class StepModel(BaseModel):
    """Base of the step-type models: unknown fields are errors; YAML names are camelCase."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, alias_generator=to_camel)


def _exactly_one(model: BaseModel, *fields: str, required: bool = True) -> None:
    given = [f for f in fields if getattr(model, f) is not None]
    names = ", ".join(to_camel(f) for f in fields)
    if len(given) > 1:
        raise ValueError(f"give only one of {names} (got {', '.join(to_camel(f) for f in given)})")
    if required and not given:
        raise ValueError(f"give one of {names}")


class Explain(RootModel[str]):
    """``explain: <markdown>`` — narration shown to the learner; no cluster action."""

    root: str = Field(min_length=1, description="Markdown text.")


class Apply(StepModel):
    """``apply`` — create or update objects from manifest files or inline manifests.

    Strings in the manifests may use the scenario's variables as ``{{ name }}``.
    """

    files: list[str] | None = Field(default=None, min_length=1,
                                    description="Manifest files, relative to the scenario folder.")
    manifest: Manifest | None = Field(default=None, description="One inline object or a list of them.")
    namespace: str | None = Field(default=None, description="Namespace for objects that name none.")

    @model_validator(mode="after")
    def _source(self) -> Apply:
        _exactly_one(self, "files", "manifest")
        return self


class Delete(Apply):
    """``delete`` — delete the objects of manifest files or inline manifests."""

    ignore_not_found: bool = Field(default=False, description="An object already gone is not an error.")


class Wait(StepModel):
    """``wait`` — until objects have a condition, a phase or a JSONPath value, or until a count holds.

    The objects are the one called ``name``, or those of ``kind`` that
    ``selector`` picks (all of the namespace when neither is given, with
    ``count``). Without ``count`` the wait ends when there is at least one
    object and every one satisfies the predicate (like ``kubectl wait -l``);
    with ``count`` when exactly that many satisfy it (or exist, if no
    predicate is given).
    """

    kind: str = Field(description="Kind as kubectl takes it: Deployment, pods, jobs.batch …")
    name: str | None = Field(default=None, description="One object by name.")
    selector: Selector | None = Field(default=None, description="Objects by label selector.")
    namespace: str | None = None
    condition: str | None = Field(default=None, description="A condition type, e.g. Available.")
    status: Literal["True", "False", "Unknown"] = Field(default="True", description="The condition's status.")
    reason: str | None = Field(default=None, description="The condition's reason, e.g. Unschedulable.")
    phase: str | None = Field(default=None, description="status.phase, e.g. Running, Succeeded.")
    jsonpath: str | None = Field(default=None, description="A kubectl JSONPath, e.g. {.status.readyReplicas}.")
    value: Any = Field(default=None, description="The value jsonpath must reach (compared as text).")
    count: int | None = Field(default=None, ge=0, description="How many objects must match.")
    timeout: Duration = 60.0

    @model_validator(mode="after")
    def _predicate(self) -> Wait:
        _exactly_one(self, "condition", "phase", "jsonpath", required=self.count is None)
        if self.jsonpath is not None and self.value is None:
            raise ValueError("jsonpath needs a value to wait for")
        if self.reason is not None and self.condition is None:
            raise ValueError("reason goes with condition")
        _exactly_one(self, "name", "selector", required=self.count is None)
        if self.count is not None and self.name is not None:
            raise ValueError("count goes with selector, not name")
        return self


class _ObjectRef(StepModel):
    kind: str
    name: str
    namespace: str | None = None


class ObjectExpectation(_ObjectRef):
    """An object's field, read by JSONPath: equals a value, matches a regex, or exists (or not)."""

    jsonpath: str = Field(description="A kubectl JSONPath, e.g. {.spec.replicas}.")
    equals: Any = None
    matches: Regex | None = None
    exists: bool | None = None

    @model_validator(mode="after")
    def _assertion(self) -> ObjectExpectation:
        _exactly_one(self, "equals", "matches", "exists")
        return self


class CountExpectation(StepModel):
    """How many objects of a kind (matching a selector) exist."""

    kind: str
    namespace: str | None = None
    selector: Selector | None = None
    equals: int = Field(ge=0)


class EventsExpectation(_ObjectRef):
    """An Event about an object with this reason, type and message (regex)."""

    reason: str | None = None
    type: Literal["Normal", "Warning"] | None = None
    message: Regex | None = None


class LogsExpectation(StepModel):
    """Log lines of a pod (or of the pods a selector picks) match a regex."""

    pod: str | None = None
    selector: Selector | None = None
    namespace: str | None = None
    container: str | None = None
    previous: bool = Field(default=False, description="The previous (crashed) container's logs.")
    matches: Regex

    @model_validator(mode="after")
    def _source(self) -> LogsExpectation:
        _exactly_one(self, "pod", "selector")
        return self


class Expect(StepModel):
    """``expect`` — assertions checked once (use ``wait`` to wait): at least one of the four."""

    object: ObjectExpectation | None = None
    count: CountExpectation | None = None
    events: EventsExpectation | None = None
    logs: LogsExpectation | None = None

    @model_validator(mode="after")
    def _some(self) -> Expect:
        if all(getattr(self, f) is None for f in ("object", "count", "events", "logs")):
            raise ValueError("give at least one of object, count, events, logs")
        return self


class Run(StepModel):
    """``run`` — a Python script or module, with ``KUBECONFIG`` set to the sandbox's."""

    script: str | None = Field(default=None, description="A .py file, relative to the scenario folder.")
    module: str | None = Field(default=None, description="A module run like python -m.")
    args: list[str] = Field(default_factory=list)
    expect_exit_code: int = 0
    expect_output: Regex | None = Field(default=None, description="A regex searched in stdout+stderr.")
    timeout: Duration = 60.0

    @model_validator(mode="after")
    def _target(self) -> Run:
        _exactly_one(self, "script", "module")
        return self


class Kubectl(StepModel):
    """``kubectl`` — real kubectl with the sandbox's kubeconfig; its output is shown to the learner."""

    args: list[str] = Field(min_length=1, description="Arguments after kubectl, e.g. [get, pods, -A].")
    expect_exit_code: int = 0
    expect_output: Regex | None = Field(default=None, description="A regex searched in the output.")
    timeout: Duration = 60.0


class Http(StepModel):
    """``http`` — a request to a Service (through the sandbox's proxy) or to a URL."""

    service: str | None = None
    namespace: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    path: str = "/"
    url: str | None = None
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    body: Any = Field(default=None, description="Sent as JSON.")
    expect_status: int = Field(default=200, ge=100, le=599)
    expect_json: dict[str, Any] | None = Field(default=None,
                                               description="JSONPath of the response → expected value.")
    timeout: Duration = 10.0

    @model_validator(mode="after")
    def _target(self) -> Http:
        _exactly_one(self, "service", "url")
        if self.service is not None and self.port is None:
            raise ValueError("service needs a port")
        return self


_FAULT_NEEDS: dict[str, tuple[str, ...]] = {
    "killProcess": ("pod", "selector"),
    "deletePod": ("pod", "selector"),
    "cordon": ("node",),
    "uncordon": ("node",),
    "drain": ("node",),
    "pauseController": ("controller",),
}


class Fault(StepModel):
    """``fault`` — break something on purpose, to watch the platform heal."""

    action: Literal["killProcess", "deletePod", "cordon", "uncordon", "drain", "pauseController"]
    pod: str | None = None
    selector: Selector | None = None
    namespace: str | None = None
    node: str | None = None
    controller: str | None = Field(default=None, description="A controller's name, e.g. deployment.")
    duration: Duration | None = Field(default=None, description="How long pauseController pauses.")

    @model_validator(mode="after")
    def _target(self) -> Fault:
        needs = _FAULT_NEEDS[self.action]
        if len(needs) > 1:
            _exactly_one(self, *needs)
        elif getattr(self, needs[0]) is None:
            raise ValueError(f"{self.action} needs {needs[0]}")
        if self.action == "pauseController" and self.duration is None:
            raise ValueError("pauseController needs a duration")
        return self


_PHASES = Literal["Succeeded", "Failed", "Error", "Skipped", "Omitted"]


class Pipeline(StepModel):
    """``pipeline`` — run a Kubeflow pipeline (a ``.py`` file with a ``@dsl.pipeline``, or compiled IR).

    The run is a ``Workflow``; the step waits for it and shows its task tree.
    ``saveAs`` keeps the Workflow's name in a variable for later steps
    (``kubectl get workflow {{ run }}``).
    """

    file: str = Field(description="A pipeline .py file or compiled .yaml, relative to the scenario folder.")
    function: str | None = Field(default=None, description="The @dsl.pipeline function, when the file has several.")
    arguments: dict[str, Any] = Field(default_factory=dict, description="The run's parameters.")
    run_name: str | None = None
    namespace: str | None = None
    caching: bool = Field(default=True, description="false: run every task, as enable_caching=False.")
    parallelism: int | None = Field(default=None, ge=1, description="At most this many task pods at once.")
    timeout: Duration = 300.0
    expect_state: Literal["Succeeded", "Failed"] = "Succeeded"
    expect_tasks: dict[str, _PHASES] | None = Field(
        default=None, description="Task display name → the phase it must end in.")
    expect_cached: int | None = Field(default=None, ge=0,
                                      description="How many tasks must have reused cached outputs.")
    save_as: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                                description="A variable that receives the run's Workflow name.")


#: Step-type key → model of its value. Read at validation time; see :func:`register_step`.
STEP_TYPES: dict[str, type[BaseModel]] = {
    "explain": Explain,
    "apply": Apply,
    "delete": Delete,
    "wait": Wait,
    "expect": Expect,
    "run": Run,
    "kubectl": Kubectl,
    "http": Http,
    "fault": Fault,
    "pipeline": Pipeline,
}

_RESERVED = frozenset({"name", "title"})


def register_step(name: str, model: type[BaseModel], *,
                  registry: dict[str, type[BaseModel]] | None = None) -> None:
    """Add a step type: ``name`` becomes a valid step key whose value ``model`` validates.

    ``registry`` defaults to :data:`STEP_TYPES`; tests pass a copy. A name
    already taken, or one of the step's own fields, is an error, so two
    components cannot silently claim the same key.
    """
    target = STEP_TYPES if registry is None else registry
    if name in _RESERVED or not re.fullmatch(r"[a-z][A-Za-z0-9]*", name):
        raise ValueError(f"invalid step type name {name!r}")
    if name in target:
        raise ValueError(f"step type {name!r} is already registered ({target[name].__name__})")
    target[name] = model
