"""The typed model of a KFP PipelineSpec (the IR the kfp compiler writes).

Data flow: :meth:`PipelineGraph.from_ir <.pipeline.PipelineGraph.from_ir>`
hands the raw dicts of ``components``, ``deploymentSpec.executors`` and
``root`` to the ``parse_*`` functions here, which turn them into frozen
dataclasses and record a :class:`~.problems.Problem` for every piece that is
malformed (a task without ``componentRef``, a parameter of an unknown type,
an input with no source) instead of raising, so that validation can report
every problem at once. Nothing here looks across objects (whether a producer
task exists is :mod:`.validation`'s business); the one cross-reference
resolved while parsing is a task's :class:`TaskKind`, looked up from the
component its ``componentRef`` names.

What the IR spells and where it lands:

- ``inputDefinitions`` / ``outputDefinitions`` → :class:`Interface` of
  :class:`ParameterSpec` (``parameterType``, ``defaultValue`` normalised by
  type, ``isOptional``) and :class:`ArtifactSpec` (``schemaTitle``,
  ``schemaVersion``, ``isArtifactList``);
- ``dag.tasks.<name>`` → :class:`Task`: ``taskInfo.name`` (the display name,
  which KFP also uses in artifact URIs), ``componentRef``,
  ``dependentTasks``, inputs as :class:`TaskInput` (one of
  ``componentInputParameter``, ``taskOutputParameter``, ``runtimeValue``,
  ``taskFinalStatus``, ``componentInputArtifact``, ``taskOutputArtifact``,
  plus an optional ``parameterExpressionSelector``), ``triggerPolicy``,
  ``parameterIterator`` / ``artifactIterator`` and
  ``iteratorPolicy.parallelismLimit``, ``retryPolicy`` (durations parsed to
  seconds), ``cachingOptions``;
- ``dag.outputs`` → :class:`DagOutput` selectors (``valueFromParameter``,
  ``valueFromOneof``, ``artifactSelectors``);
- ``deploymentSpec.executors.<label>`` → :class:`ExecutorSpec` with a
  :class:`ContainerSpec` or an :class:`ImporterSpec`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from .problems import Problem
from .types import ParameterType, ParameterTypeError, coerce_parameter

__all__ = [
    "ArtifactIterator",
    "ArtifactSpec",
    "CachingOptions",
    "ComponentSpec",
    "ContainerSpec",
    "DagOutput",
    "ExecutorSpec",
    "ImporterSpec",
    "InputSource",
    "Interface",
    "ParameterIterator",
    "ParameterSpec",
    "RetryPolicy",
    "Task",
    "TaskInput",
    "TaskKind",
    "TriggerPolicy",
    "TriggerStrategy",
    "component_kind",
    "parse_component",
    "parse_duration",
    "parse_executor",
]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _frozen(mapping: dict[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(mapping)


# --------------------------------------------------------------------------- interfaces


@dataclass(frozen=True)
class ParameterSpec:
    """One parameter of an ``inputDefinitions``/``outputDefinitions``."""

    name: str
    type: ParameterType
    default: Any = None
    has_default: bool = False
    optional: bool = False
    description: str = ""

    @property
    def required(self) -> bool:
        """A caller must give it: no default and not ``isOptional``."""
        return not self.has_default and not self.optional


@dataclass(frozen=True)
class ArtifactSpec:
    """One artifact of an ``inputDefinitions``/``outputDefinitions``."""

    name: str
    schema_title: str
    schema_version: str = ""
    is_list: bool = False
    optional: bool = False
    description: str = ""

    @property
    def type_key(self) -> tuple[str, str, bool]:
        """``(schemaTitle, schemaVersion, isArtifactList)`` for compatibility checks."""
        return (self.schema_title, self.schema_version, self.is_list)

    @property
    def type_name(self) -> str:
        """``system.Dataset@0.0.1`` or ``List[system.Dataset@0.0.1]``, as messages name it."""
        name = f"{self.schema_title}@{self.schema_version}" if self.schema_version \
            else self.schema_title
        return f"List[{name}]" if self.is_list else name


@dataclass(frozen=True)
class Interface:
    """The parameters and artifacts a component takes (or gives)."""

    parameters: Mapping[str, ParameterSpec] = field(default_factory=lambda: _EMPTY)
    artifacts: Mapping[str, ArtifactSpec] = field(default_factory=lambda: _EMPTY)

    def __contains__(self, name: object) -> bool:
        return name in self.parameters or name in self.artifacts


# --------------------------------------------------------------------------- tasks


class TaskKind(StrEnum):
    """What a task's component is: a sub-DAG or an executor (container, importer …)."""

    DAG = "dag"
    CONTAINER = "container"
    IMPORTER = "importer"
    RESOLVER = "resolver"
    UNKNOWN = "unknown"


class InputSource(StrEnum):
    """Where a task input's value comes from (the IR's field names)."""

    COMPONENT_INPUT_PARAMETER = "componentInputParameter"
    TASK_OUTPUT_PARAMETER = "taskOutputParameter"
    RUNTIME_VALUE = "runtimeValue"
    TASK_FINAL_STATUS = "taskFinalStatus"
    COMPONENT_INPUT_ARTIFACT = "componentInputArtifact"
    TASK_OUTPUT_ARTIFACT = "taskOutputArtifact"


@dataclass(frozen=True)
class TaskInput:
    """One ``inputs.parameters.<name>`` or ``inputs.artifacts.<name>`` of a task.

    ``component_input`` names an input of the enclosing DAG; ``producer_task``
    and ``output_key`` name a sibling task's output (``producer_task`` alone
    for ``taskFinalStatus``); ``constant`` is a ``runtimeValue``;
    ``selector`` is the ``parameterExpressionSelector`` applied to the value.
    """

    name: str
    source: InputSource
    component_input: str = ""
    producer_task: str = ""
    output_key: str = ""
    constant: Any = None
    selector: str = ""

    @property
    def is_artifact(self) -> bool:
        return self.source in (InputSource.COMPONENT_INPUT_ARTIFACT,
                               InputSource.TASK_OUTPUT_ARTIFACT)


class TriggerStrategy(StrEnum):
    """``triggerPolicy.strategy``: which upstream states let a task start."""

    UNSPECIFIED = "TRIGGER_STRATEGY_UNSPECIFIED"
    ALL_UPSTREAM_TASKS_SUCCEEDED = "ALL_UPSTREAM_TASKS_SUCCEEDED"
    ALL_UPSTREAM_TASKS_COMPLETED = "ALL_UPSTREAM_TASKS_COMPLETED"


@dataclass(frozen=True)
class TriggerPolicy:
    """``triggerPolicy``: a CEL-like ``condition`` and a ``strategy``."""

    condition: str = ""
    strategy: TriggerStrategy = TriggerStrategy.UNSPECIFIED

    @property
    def runs_after_failures(self) -> bool:
        """Exit tasks and ``ignore_upstream_failure()``: upstream may end in any state."""
        return self.strategy is TriggerStrategy.ALL_UPSTREAM_TASKS_COMPLETED


@dataclass(frozen=True)
class RetryPolicy:
    """``retryPolicy``, with durations in seconds (``None``: no limit).

    Argo semantics, which KFP compiles to: the wait before the retry that
    follows the n-th failure is ``backoff_duration * backoff_factor**(n-1)``
    (a factor of 0 or less — also a missing one — means no growth), and no
    retry may start later than ``backoff_max_duration`` after the first
    attempt started.
    """

    max_retry_count: int = 0
    backoff_duration: float = 0.0
    backoff_factor: float = 0.0
    backoff_max_duration: float | None = None

    def backoff(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failed attempt (1 = the first)."""
        factor = self.backoff_factor if self.backoff_factor > 0 else 1.0
        return self.backoff_duration * factor ** max(failures - 1, 0)

    def next_attempt_at(self, *, failures: int, first_started: float,
                        last_finished: float) -> float | None:
        """When the next attempt may start (same clock as the arguments), or
        ``None`` when there is none: retries used up, or the wait would end
        past ``first_started + backoff_max_duration``."""
        if failures < 1 or failures > self.max_retry_count:
            return None
        at = last_finished + self.backoff(failures)
        if self.backoff_max_duration is not None and \
                at > first_started + self.backoff_max_duration:
            return None
        return at


@dataclass(frozen=True)
class CachingOptions:
    """``cachingOptions``: ``{}`` (or absent) means caching is off."""

    enable_cache: bool = False
    cache_key: str = ""


@dataclass(frozen=True)
class ParameterIterator:
    """``parameterIterator``: iterate ``raw`` JSON or the task input ``input_parameter``."""

    item_input: str
    raw: str | None = None
    input_parameter: str | None = None


@dataclass(frozen=True)
class ArtifactIterator:
    """``artifactIterator``: iterate the artifact list of task input ``input_artifact``."""

    item_input: str
    input_artifact: str


@dataclass(frozen=True)
class Task:
    """One task of a DAG (``dag.tasks.<name>``); ``name`` is the key others reference."""

    name: str
    display_name: str
    component_ref: str
    kind: TaskKind
    parameters: Mapping[str, TaskInput] = field(default_factory=lambda: _EMPTY)
    artifacts: Mapping[str, TaskInput] = field(default_factory=lambda: _EMPTY)
    dependent_tasks: tuple[str, ...] = ()
    trigger: TriggerPolicy = field(default_factory=TriggerPolicy)
    retry: RetryPolicy | None = None
    caching: CachingOptions = field(default_factory=CachingOptions)
    parameter_iterator: ParameterIterator | None = None
    artifact_iterator: ArtifactIterator | None = None
    parallelism_limit: int = 0

    @property
    def inputs(self) -> list[TaskInput]:
        """Parameter inputs, then artifact inputs."""
        return [*self.parameters.values(), *self.artifacts.values()]

    @property
    def producers(self) -> set[str]:
        """Sibling tasks whose outputs (or final status) this task reads."""
        return {i.producer_task for i in self.inputs if i.producer_task}

    @property
    def is_loop(self) -> bool:
        return self.parameter_iterator is not None or self.artifact_iterator is not None

    @property
    def item_input(self) -> str | None:
        """The sub-DAG input an iterator fills with each item, if this is a loop."""
        iterator = self.parameter_iterator or self.artifact_iterator
        return iterator.item_input if iterator else None

    @property
    def is_dag(self) -> bool:
        return self.kind is TaskKind.DAG


# --------------------------------------------------------------------------- components


@dataclass(frozen=True)
class DagOutput:
    """``dag.outputs.parameters|artifacts.<name>``: the subtask outputs it is taken from.

    ``oneof`` marks ``valueFromOneof`` (the first selector whose task ran
    wins, as ``dsl.OneOf`` means); artifacts list ``artifactSelectors``.
    """

    name: str
    selectors: tuple[tuple[str, str], ...]
    is_artifact: bool = False
    oneof: bool = False


@dataclass(frozen=True)
class ComponentSpec:
    """A component: an executor (``executor_label``) or a DAG (``tasks``)."""

    name: str
    kind: TaskKind
    inputs: Interface = field(default_factory=Interface)
    outputs: Interface = field(default_factory=Interface)
    executor_label: str = ""
    tasks: Mapping[str, Task] = field(default_factory=lambda: _EMPTY)
    dag_outputs: Mapping[str, DagOutput] = field(default_factory=lambda: _EMPTY)

    @property
    def is_dag(self) -> bool:
        return self.kind is TaskKind.DAG


# --------------------------------------------------------------------------- executors


@dataclass(frozen=True)
class ContainerSpec:
    """``executors.<label>.container``; ``resources`` stays the IR's dict."""

    image: str
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    resources: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True)
class ImporterSpec:
    """``executors.<label>.importer``: ``artifact_uri`` is the constant, if there is one,
    else ``uri_parameter`` names the runtime parameter that carries it."""

    artifact_uri: str | None
    schema_title: str
    schema_version: str = ""
    uri_parameter: str = ""
    metadata: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    reimport: bool = False


@dataclass(frozen=True)
class ExecutorSpec:
    """One ``deploymentSpec.executors`` entry; ``raw`` keeps the IR's dict."""

    label: str
    kind: TaskKind
    container: ContainerSpec | None = None
    importer: ImporterSpec | None = None
    raw: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)


# --------------------------------------------------------------------------- parsing

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0,
                   "h": 3600.0}


def parse_duration(value: Any) -> float:
    """Seconds in a protobuf ``Duration`` (``"5s"``, ``"0.5s"``), a Go duration
    (``"1m30s"``) or a plain number of seconds; ``ValueError`` otherwise."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            pass
        else:
            if number >= 0:
                return number
        position, total = 0, 0.0
        while text and position < len(text):
            match = _DURATION_PART.match(text, position)
            if match is None:
                break
            total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
            position = match.end()
        else:
            if text:
                return total
    raise ValueError(f"invalid duration {value!r}")


class _Sink:
    """Collects problems at one location while a component is parsed."""

    def __init__(self, problems: list[Problem], dag: str) -> None:
        self.problems = problems
        self.dag = dag

    def add(self, reason: str, message: str, *, task: str = "", input: str = "") -> None:
        self.problems.append(Problem(reason, message, dag=self.dag, task=task, input=input))


def _mapping(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def _parse_interface(raw: Any, sink: _Sink, *, where: str, outputs: bool) -> Interface:
    section = _mapping(raw) if raw is not None else _EMPTY
    if section is None:
        sink.add("Malformed", f"{where} must be a mapping")
        return Interface()
    parameters: dict[str, ParameterSpec] = {}
    for name, spec in (_mapping(section.get("parameters")) or {}).items():
        spec = _mapping(spec) or {}
        raw_type = spec.get("parameterType", spec.get("type"))
        try:
            kind = ParameterType.parse(raw_type)
        except ParameterTypeError as error:
            sink.add("Malformed", f"{where} parameter {name!r}: {error}", input=name)
            continue
        has_default = "defaultValue" in spec and not outputs
        default = spec.get("defaultValue")
        if has_default:
            try:
                default = coerce_parameter(default, kind)
            except ParameterTypeError as error:
                sink.add("TypeMismatch", f"{where} parameter {name!r} defaultValue: {error}",
                         input=name)
        parameters[name] = ParameterSpec(
            name=name, type=kind, default=default if has_default else None,
            has_default=has_default, optional=bool(spec.get("isOptional", False)),
            description=str(spec.get("description", "")))
    artifacts: dict[str, ArtifactSpec] = {}
    for name, spec in (_mapping(section.get("artifacts")) or {}).items():
        spec = _mapping(spec) or {}
        schema = _mapping(spec.get("artifactType")) or {}
        title = schema.get("schemaTitle")
        if not isinstance(title, str) or not title:
            sink.add("Malformed", f"{where} artifact {name!r} has no artifactType.schemaTitle",
                     input=name)
            continue
        artifacts[name] = ArtifactSpec(
            name=name, schema_title=title, schema_version=str(schema.get("schemaVersion", "")),
            is_list=bool(spec.get("isArtifactList", False)),
            optional=bool(spec.get("isOptional", False)),
            description=str(spec.get("description", "")))
    return Interface(parameters=_frozen(parameters), artifacts=_frozen(artifacts))


def _legacy_constant(value: Mapping[str, Any]) -> Any:
    for key, convert in (("intValue", int), ("doubleValue", float), ("stringValue", str)):
        if key in value:
            return convert(value[key])
    raise ValueError("constantValue names no intValue, doubleValue or stringValue")


def _parse_parameter_input(name: str, spec: Any, sink: _Sink, task: str) -> TaskInput | None:
    spec = _mapping(spec)
    if spec is None:
        sink.add("Malformed", "a parameter input must be a mapping", task=task, input=name)
        return None
    selector = spec.get("parameterExpressionSelector", "")
    if not isinstance(selector, str):
        sink.add("Malformed", "parameterExpressionSelector must be a string", task=task,
                 input=name)
        selector = ""
    if "componentInputParameter" in spec:
        return TaskInput(name, InputSource.COMPONENT_INPUT_PARAMETER,
                         component_input=str(spec["componentInputParameter"]), selector=selector)
    if "taskOutputParameter" in spec:
        ref = _mapping(spec["taskOutputParameter"]) or {}
        producer, key = ref.get("producerTask"), ref.get("outputParameterKey")
        if not producer or not key:
            sink.add("Malformed", "taskOutputParameter needs producerTask and outputParameterKey",
                     task=task, input=name)
            return None
        return TaskInput(name, InputSource.TASK_OUTPUT_PARAMETER, producer_task=str(producer),
                         output_key=str(key), selector=selector)
    if "runtimeValue" in spec:
        value = _mapping(spec["runtimeValue"]) or {}
        if "constant" in value:
            constant = value["constant"]
        elif "constantValue" in value:
            try:
                constant = _legacy_constant(_mapping(value["constantValue"]) or {})
            except (TypeError, ValueError) as error:
                sink.add("Malformed", f"runtimeValue: {error}", task=task, input=name)
                return None
        else:
            sink.add("Malformed", "runtimeValue has no constant", task=task, input=name)
            return None
        return TaskInput(name, InputSource.RUNTIME_VALUE, constant=constant, selector=selector)
    if "taskFinalStatus" in spec:
        producer = (_mapping(spec["taskFinalStatus"]) or {}).get("producerTask")
        if not producer:
            sink.add("Malformed", "taskFinalStatus needs producerTask", task=task, input=name)
            return None
        return TaskInput(name, InputSource.TASK_FINAL_STATUS, producer_task=str(producer))
    sink.add("Malformed", "a parameter input needs componentInputParameter, "
             "taskOutputParameter, runtimeValue or taskFinalStatus", task=task, input=name)
    return None


def _parse_artifact_input(name: str, spec: Any, sink: _Sink, task: str) -> TaskInput | None:
    spec = _mapping(spec) or {}
    if "componentInputArtifact" in spec:
        return TaskInput(name, InputSource.COMPONENT_INPUT_ARTIFACT,
                         component_input=str(spec["componentInputArtifact"]))
    if "taskOutputArtifact" in spec:
        ref = _mapping(spec["taskOutputArtifact"]) or {}
        producer, key = ref.get("producerTask"), ref.get("outputArtifactKey")
        if not producer or not key:
            sink.add("Malformed", "taskOutputArtifact needs producerTask and outputArtifactKey",
                     task=task, input=name)
            return None
        return TaskInput(name, InputSource.TASK_OUTPUT_ARTIFACT, producer_task=str(producer),
                         output_key=str(key))
    sink.add("Malformed", "an artifact input needs componentInputArtifact or "
             "taskOutputArtifact", task=task, input=name)
    return None


def _parse_retry(raw: Mapping[str, Any], sink: _Sink, task: str) -> RetryPolicy | None:
    try:
        count = int(raw.get("maxRetryCount", 0))
        duration = parse_duration(raw.get("backoffDuration", 0))
        factor = float(raw.get("backoffFactor", 0.0))
        max_duration = parse_duration(raw["backoffMaxDuration"]) \
            if "backoffMaxDuration" in raw else None
    except (TypeError, ValueError) as error:
        sink.add("Malformed", f"retryPolicy: {error}", task=task)
        return None
    if count < 0:
        sink.add("Malformed", f"retryPolicy.maxRetryCount {count} is negative", task=task)
        return None
    return RetryPolicy(max_retry_count=count, backoff_duration=duration, backoff_factor=factor,
                       backoff_max_duration=max_duration)


def _parse_iterators(raw: Mapping[str, Any], sink: _Sink, task: str
                     ) -> tuple[ParameterIterator | None, ArtifactIterator | None, int]:
    parameter_iterator = artifact_iterator = None
    if "parameterIterator" in raw:
        spec = _mapping(raw["parameterIterator"]) or {}
        items = _mapping(spec.get("items")) or {}
        item_input = spec.get("itemInput")
        raw_items, input_parameter = items.get("raw"), items.get("inputParameter")
        if not item_input or (raw_items is None) == (input_parameter is None):
            sink.add("BadIterator", "parameterIterator needs itemInput and exactly one of "
                     "items.raw and items.inputParameter", task=task)
        else:
            parameter_iterator = ParameterIterator(
                item_input=str(item_input), raw=None if raw_items is None else str(raw_items),
                input_parameter=None if input_parameter is None else str(input_parameter))
    if "artifactIterator" in raw:
        spec = _mapping(raw["artifactIterator"]) or {}
        items = _mapping(spec.get("items")) or {}
        if not spec.get("itemInput") or not items.get("inputArtifact"):
            sink.add("BadIterator", "artifactIterator needs itemInput and items.inputArtifact",
                     task=task)
        else:
            artifact_iterator = ArtifactIterator(item_input=str(spec["itemInput"]),
                                                 input_artifact=str(items["inputArtifact"]))
    if parameter_iterator and artifact_iterator:
        sink.add("BadIterator", "a task has one iterator, not both parameterIterator and "
                 "artifactIterator", task=task)
    policy = _mapping(raw.get("iteratorPolicy")) or {}
    try:
        limit = int(policy.get("parallelismLimit", 0))
    except (TypeError, ValueError):
        sink.add("BadIterator", "iteratorPolicy.parallelismLimit must be an integer", task=task)
        limit = 0
    return parameter_iterator, artifact_iterator, max(limit, 0)


def _parse_task(name: str, raw: Any, sink: _Sink, kinds: Mapping[str, TaskKind]) -> Task | None:
    raw = _mapping(raw)
    if raw is None:
        sink.add("Malformed", "a task must be a mapping", task=name)
        return None
    ref = (_mapping(raw.get("componentRef")) or {}).get("name")
    if not isinstance(ref, str) or not ref:
        sink.add("Malformed", "task has no componentRef.name", task=name)
        return None
    inputs = _mapping(raw.get("inputs")) or {}
    parameters = {}
    for input_name, spec in (_mapping(inputs.get("parameters")) or {}).items():
        parsed = _parse_parameter_input(input_name, spec, sink, name)
        if parsed is not None:
            parameters[input_name] = parsed
    artifacts = {}
    for input_name, spec in (_mapping(inputs.get("artifacts")) or {}).items():
        parsed = _parse_artifact_input(input_name, spec, sink, name)
        if parsed is not None:
            artifacts[input_name] = parsed
    dependent = raw.get("dependentTasks") or []
    if not isinstance(dependent, list) or not all(isinstance(d, str) for d in dependent):
        sink.add("Malformed", "dependentTasks must be a list of task names", task=name)
        dependent = []
    trigger_raw = _mapping(raw.get("triggerPolicy")) or {}
    try:
        strategy = TriggerStrategy(trigger_raw.get("strategy", TriggerStrategy.UNSPECIFIED))
    except ValueError:
        sink.add("Malformed", f"unknown triggerPolicy.strategy {trigger_raw.get('strategy')!r}",
                 task=name)
        strategy = TriggerStrategy.UNSPECIFIED
    condition = trigger_raw.get("condition", "")
    if not isinstance(condition, str):
        sink.add("Malformed", "triggerPolicy.condition must be a string", task=name)
        condition = ""
    retry = _parse_retry(raw["retryPolicy"], sink, name) \
        if _mapping(raw.get("retryPolicy")) is not None else None
    caching_raw = _mapping(raw.get("cachingOptions")) or {}
    parameter_iterator, artifact_iterator, limit = _parse_iterators(raw, sink, name)
    info = _mapping(raw.get("taskInfo")) or {}
    return Task(
        name=name,
        display_name=str(info.get("name") or name),
        component_ref=ref,
        kind=kinds.get(ref, TaskKind.UNKNOWN),
        parameters=_frozen(parameters),
        artifacts=_frozen(artifacts),
        dependent_tasks=tuple(dependent),
        trigger=TriggerPolicy(condition=condition, strategy=strategy),
        retry=retry,
        caching=CachingOptions(enable_cache=bool(caching_raw.get("enableCache", False)),
                               cache_key=str(caching_raw.get("cacheKey", ""))),
        parameter_iterator=parameter_iterator,
        artifact_iterator=artifact_iterator,
        parallelism_limit=limit,
    )


def _parse_dag_outputs(raw: Any, sink: _Sink) -> dict[str, DagOutput]:
    raw = _mapping(raw) or {}
    outputs: dict[str, DagOutput] = {}
    for name, spec in (_mapping(raw.get("parameters")) or {}).items():
        spec = _mapping(spec) or {}
        if "valueFromParameter" in spec:
            selectors, oneof = [spec["valueFromParameter"]], False
        elif "valueFromOneof" in spec:
            selectors = (_mapping(spec["valueFromOneof"]) or {}).get("parameterSelectors") or []
            oneof = True
        else:
            sink.add("Malformed", f"DAG output parameter {name!r} has no valueFromParameter or "
                     "valueFromOneof")
            continue
        pairs = [(str(s.get("producerSubtask", "")), str(s.get("outputParameterKey", "")))
                 for s in selectors if isinstance(s, Mapping)]
        outputs[name] = DagOutput(name=name, selectors=tuple(pairs), oneof=oneof)
    for name, spec in (_mapping(raw.get("artifacts")) or {}).items():
        selectors = (_mapping(spec) or {}).get("artifactSelectors") or []
        pairs = [(str(s.get("producerSubtask", "")), str(s.get("outputArtifactKey", "")))
                 for s in selectors if isinstance(s, Mapping)]
        outputs[name] = DagOutput(name=name, selectors=tuple(pairs), is_artifact=True)
    return outputs


def component_kind(raw: Any, executors: Mapping[str, ExecutorSpec]) -> TaskKind:
    """A raw component's kind: ``dag``, its executor's kind, or ``unknown``."""
    raw = _mapping(raw) or {}
    if "dag" in raw:
        return TaskKind.DAG
    executor = executors.get(str(raw.get("executorLabel", "")))
    return executor.kind if executor is not None else TaskKind.UNKNOWN


def parse_component(name: str, raw: Any, problems: list[Problem], *,
                    executors: Mapping[str, ExecutorSpec],
                    kinds: Mapping[str, TaskKind]) -> ComponentSpec:
    """A ``components.<name>`` (or ``root``) entry; problems are appended, never raised."""
    sink = _Sink(problems, name)
    spec = _mapping(raw)
    if spec is None:
        sink.add("Malformed", "a component must be a mapping")
        return ComponentSpec(name=name, kind=TaskKind.UNKNOWN)
    inputs = _parse_interface(spec.get("inputDefinitions"), sink, where="inputDefinitions",
                              outputs=False)
    outputs = _parse_interface(spec.get("outputDefinitions"), sink, where="outputDefinitions",
                               outputs=True)
    dag = _mapping(spec.get("dag"))
    if dag is not None:
        tasks: dict[str, Task] = {}
        raw_tasks = dag.get("tasks") or {}
        if not isinstance(raw_tasks, Mapping):
            sink.add("Malformed", "dag.tasks must be a mapping")
            raw_tasks = {}
        for task_name, task_raw in raw_tasks.items():
            task = _parse_task(str(task_name), task_raw, sink, kinds)
            if task is not None:
                tasks[task.name] = task
        return ComponentSpec(name=name, kind=TaskKind.DAG, inputs=inputs, outputs=outputs,
                             tasks=_frozen(tasks),
                             dag_outputs=_frozen(_parse_dag_outputs(dag.get("outputs"), sink)))
    label = spec.get("executorLabel")
    if not isinstance(label, str) or not label:
        sink.add("Malformed", "a component needs a dag or an executorLabel")
        return ComponentSpec(name=name, kind=TaskKind.UNKNOWN, inputs=inputs, outputs=outputs)
    executor = executors.get(label)
    if executor is None:
        sink.add("UnknownExecutor", f"executorLabel {label!r} names no "
                 "deploymentSpec.executors entry")
    return ComponentSpec(name=name, kind=executor.kind if executor else TaskKind.UNKNOWN,
                         inputs=inputs, outputs=outputs, executor_label=label)


def parse_executor(label: str, raw: Any, problems: list[Problem]) -> ExecutorSpec:
    """A ``deploymentSpec.executors.<label>`` entry; problems are appended, never raised."""
    spec = _mapping(raw) or {}
    where = f"deploymentSpec.executors.{label}"
    container = _mapping(spec.get("container"))
    if container is not None:
        image = container.get("image")
        if not isinstance(image, str) or not image:
            problems.append(Problem("Malformed", f"{where}.container has no image"))
        env = []
        for item in container.get("env") or []:
            if isinstance(item, Mapping) and "name" in item:
                env.append((str(item["name"]), str(item.get("value", ""))))
        return ExecutorSpec(
            label=label, kind=TaskKind.CONTAINER, raw=spec,
            container=ContainerSpec(
                image=str(image or ""),
                command=tuple(str(c) for c in container.get("command") or []),
                args=tuple(str(a) for a in container.get("args") or []),
                env=tuple(env),
                resources=_frozen(dict(_mapping(container.get("resources")) or {}))))
    importer = _mapping(spec.get("importer"))
    if importer is not None:
        uri = _mapping(importer.get("artifactUri")) or {}
        schema = _mapping(importer.get("typeSchema")) or {}
        constant = uri.get("constant")
        return ExecutorSpec(
            label=label, kind=TaskKind.IMPORTER, raw=spec,
            importer=ImporterSpec(
                artifact_uri=str(constant) if constant is not None else None,
                uri_parameter=str(uri.get("runtimeParameter", "")),
                schema_title=str(schema.get("schemaTitle", "system.Artifact")),
                schema_version=str(schema.get("schemaVersion", "")),
                metadata=_frozen(dict(_mapping(importer.get("metadata")) or {})),
                reimport=bool(importer.get("reimport", False))))
    if "resolver" in spec:
        return ExecutorSpec(label=label, kind=TaskKind.RESOLVER, raw=spec)
    problems.append(Problem("Malformed", f"{where} is neither a container nor an importer"))
    return ExecutorSpec(label=label, kind=TaskKind.UNKNOWN, raw=spec)
