"""A whole pipeline spec: components, executors and one :class:`~.dag.Dag` per DAG.

Data flow::

    IR (dict, YAML text, or the KFP API's {pipeline_spec, platform_spec})
      → PipelineGraph.from_ir: parse executors, then components (model.py),
        the root component, one Dag per DAG component (dag.py)
      → validate (validation.py): every problem collected, one
        PipelineSpecInvalid raised that lists them all
      → the workflow controller asks: which DAG does this task run, what is
        ready, should it run (conditions), over which items (loops.py), with
        which run arguments (bind_arguments)

``from_ir`` takes what the real kfp SDK 2.x writes (schemaVersion 2.1.0):
the YAML file with its ``# PIPELINE DEFINITION`` header and, when
``kfp-kubernetes`` is used, a second document holding ``platforms``, kept as
:attr:`PipelineGraph.platform_spec`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

import networkx as nx
import yaml

from .dag import Dag, ExitHandler
from .model import (
    ComponentSpec,
    ExecutorSpec,
    Task,
    TaskKind,
    component_kind,
    parse_component,
    parse_executor,
)
from .problems import ROOT_DAG, ArgumentsInvalid, PipelineSpecInvalid, Problem
from .types import ParameterTypeError, coerce_parameter
from .validation import validate

__all__ = ["PipelineGraph", "load_ir"]


def _malformed(message: str) -> PipelineSpecInvalid:
    return PipelineSpecInvalid([Problem("Malformed", message)])


def load_ir(spec: Mapping[str, Any] | str | bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(pipeline_spec, platform_spec)`` from a dict, YAML/JSON text, or the
    KFP API's ``{"pipeline_spec": …, "platform_spec": …}`` wrapper."""
    platform: dict[str, Any] = {}
    if isinstance(spec, bytes):
        spec = spec.decode("utf-8")
    if isinstance(spec, str):
        try:
            documents = [doc for doc in yaml.safe_load_all(spec) if doc is not None]
        except yaml.YAMLError as error:
            raise _malformed(f"the pipeline spec is not YAML: {error}") from None
        pipeline = next((doc for doc in documents
                         if isinstance(doc, dict) and ("root" in doc or "pipelineInfo" in doc
                                                       or "pipeline_spec" in doc)), None)
        for doc in documents:
            if isinstance(doc, dict) and "platforms" in doc:
                platform = doc
        if pipeline is None:
            raise _malformed("the YAML holds no pipeline spec (no document with root)")
        spec = pipeline
    if not isinstance(spec, Mapping):
        raise _malformed(f"a pipeline spec is a mapping, not {type(spec).__name__}")
    for key in ("pipeline_spec", "pipelineSpec"):
        if key in spec and "root" not in spec:
            inner = spec[key]
            platform = dict(spec.get("platform_spec") or spec.get("platformSpec") or platform)
            if not isinstance(inner, Mapping):
                raise _malformed(f"{key} is not a mapping")
            spec = inner
            break
    return dict(spec), platform


class PipelineGraph:
    """A parsed (and by default validated) pipeline spec."""

    def __init__(self, spec: Mapping[str, Any], *, platform_spec: Mapping[str, Any] | None = None
                 ) -> None:
        problems: list[Problem] = []
        info = spec.get("pipelineInfo") if isinstance(spec.get("pipelineInfo"), Mapping) else {}
        #: ``pipelineInfo.name``: the name KFP uses in artifact URIs and contexts.
        self.name: str = str(info.get("name", ""))
        self.display_name: str = str(info.get("displayName") or self.name)
        self.description: str = str(info.get("description", ""))
        self.schema_version: str = str(spec.get("schemaVersion", ""))
        self.sdk_version: str = str(spec.get("sdkVersion", ""))
        #: ``defaultPipelineRoot``, when the pipeline was compiled with ``pipeline_root=``.
        self.default_pipeline_root: str | None = spec.get("defaultPipelineRoot") or None
        self.spec: Mapping[str, Any] = spec
        self.platform_spec: Mapping[str, Any] = MappingProxyType(dict(platform_spec or {}))
        if not self.name:
            problems.append(Problem("Malformed", "pipelineInfo.name is missing"))

        deployment = spec.get("deploymentSpec") or {}
        raw_executors = deployment.get("executors") if isinstance(deployment, Mapping) else None
        executors: dict[str, ExecutorSpec] = {}
        for label, raw in (raw_executors if isinstance(raw_executors, Mapping) else {}).items():
            executors[str(label)] = parse_executor(str(label), raw, problems)
        self.executors: Mapping[str, ExecutorSpec] = MappingProxyType(executors)

        raw_components = spec.get("components") or {}
        if not isinstance(raw_components, Mapping):
            problems.append(Problem("Malformed", "components must be a mapping"))
            raw_components = {}
        if ROOT_DAG in raw_components:
            problems.append(Problem("Malformed", f'a component may not be named "{ROOT_DAG}"'))
        kinds = {str(name): component_kind(raw, executors) for name, raw in raw_components.items()}
        components = {str(name): parse_component(str(name), raw, problems, executors=executors,
                                                 kinds=kinds)
                      for name, raw in raw_components.items() if name != ROOT_DAG}
        self.components: Mapping[str, ComponentSpec] = MappingProxyType(components)

        root = parse_component(ROOT_DAG, spec.get("root"), problems, executors=executors,
                               kinds=kinds)
        if not root.is_dag:
            problems.append(Problem("Malformed", "root has no dag", dag=ROOT_DAG))
        self.root: ComponentSpec = root

        dags = {ROOT_DAG: Dag(root, components=self.components)}
        for name, component in components.items():
            if component.is_dag:
                dags[name] = Dag(component, components=self.components)
        #: One :class:`Dag` per DAG component, the pipeline's own under ``"root"``.
        self.dags: Mapping[str, Dag] = MappingProxyType(dags)
        self._parse_problems = problems

    # ------------------------------------------------------------------ loading

    @classmethod
    def from_ir(cls, spec: Mapping[str, Any] | str | bytes, *, validate: bool = True
                ) -> PipelineGraph:
        """Parse IR (see :func:`load_ir`); with ``validate`` (the default) raise
        :class:`~.problems.PipelineSpecInvalid` listing every problem."""
        pipeline, platform = load_ir(spec)
        if "root" not in pipeline:
            raise _malformed("the pipeline spec has no root")
        graph = cls(pipeline, platform_spec=platform)
        if validate:
            graph.validate()
        return graph

    def problems(self) -> list[Problem]:
        """Parse problems, then cross-reference problems (empty when the spec is valid)."""
        return [*self._parse_problems, *validate(self)]

    def validate(self) -> None:
        """Raise :class:`~.problems.PipelineSpecInvalid` unless :meth:`problems` is empty."""
        problems = self.problems()
        if problems:
            raise PipelineSpecInvalid(problems, pipeline=self.name)

    def __repr__(self) -> str:
        return f"PipelineGraph({self.name!r}, dags={sorted(self.dags)})"

    # ------------------------------------------------------------------ lookups

    @property
    def root_dag(self) -> Dag:
        return self.dags[ROOT_DAG]

    def dag(self, name: str = ROOT_DAG) -> Dag:
        """The DAG of component ``name`` (``"root"``: the pipeline's own)."""
        try:
            return self.dags[name]
        except KeyError:
            raise KeyError(f'pipeline "{self.name}" has no DAG "{name}"') from None

    def component(self, name: str) -> ComponentSpec:
        """Component ``name`` (``"root"``: the pipeline's own)."""
        if name == ROOT_DAG:
            return self.root
        try:
            return self.components[name]
        except KeyError:
            raise KeyError(f'pipeline "{self.name}" has no component "{name}"') from None

    def sub_dag(self, task: Task) -> Dag | None:
        """The DAG a DAG task runs (a condition, loop, exit handler or nested
        pipeline); ``None`` for executor tasks."""
        if task.kind is not TaskKind.DAG:
            return None
        return self.dags.get(task.component_ref)

    def executor(self, task: Task) -> ExecutorSpec | None:
        """The executor (container or importer) an executor task runs."""
        component = self.components.get(task.component_ref)
        if component is None or not component.executor_label:
            return None
        return self.executors.get(component.executor_label)

    def walk(self, dag: str = ROOT_DAG) -> Iterator[tuple[Dag, Task]]:
        """Every ``(dag, task)`` reachable from ``dag``, parents before their sub-DAGs."""
        seen: set[str] = set()
        pending = [dag]
        while pending:
            name = pending.pop(0)
            if name in seen or name not in self.dags:
                continue
            seen.add(name)
            current = self.dags[name]
            acyclic = nx.is_directed_acyclic_graph(current.graph)
            for task_name in current.topological_order() if acyclic else sorted(current.tasks):
                task = current.tasks[task_name]
                yield current, task
                if task.kind is TaskKind.DAG:
                    pending.append(task.component_ref)

    def exit_handlers(self) -> list[ExitHandler]:
        """Every ``dsl.ExitHandler`` of the pipeline, in any DAG."""
        return [handler for dag in self.dags.values() for handler in dag.exit_handlers()]

    # ------------------------------------------------------------------ run arguments

    def bind_arguments(self, arguments: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The root DAG's parameter values for a run: ``arguments`` coerced to
        their declared types, defaults for the rest. Raises
        :class:`ArgumentsInvalid` listing unknown names, missing required
        parameters and values of the wrong type."""
        arguments = dict(arguments or {})
        declared = self.root.inputs.parameters
        problems: list[Problem] = []
        values: dict[str, Any] = {}
        for name in sorted(set(arguments) - set(declared)):
            problems.append(Problem("UnknownInput", "the pipeline has no such parameter",
                                    dag=ROOT_DAG, input=name))
        for name, spec in declared.items():
            if name in arguments:
                try:
                    values[name] = coerce_parameter(arguments[name], spec.type)
                except ParameterTypeError as error:
                    problems.append(Problem("TypeMismatch", str(error), dag=ROOT_DAG, input=name))
            elif spec.has_default:
                values[name] = spec.default
            elif spec.required:
                problems.append(Problem("MissingInput", f"required {spec.type.value} parameter "
                                        "has no value and no default", dag=ROOT_DAG, input=name))
        if problems:
            raise ArgumentsInvalid(problems, pipeline=self.name)
        return values
