"""Kubeflow Pipelines: the graph layer — KFP IR → a validated model and networkx DAGs.

Data flow: a pipeline spec (the IR the kfp compiler writes: a dict, YAML
text, or the KFP API's ``{pipeline_spec, platform_spec}``) goes into
:meth:`PipelineGraph.from_ir`, which parses it into typed, frozen objects
(:mod:`.model`), builds one :class:`Dag` (a ``networkx.DiGraph`` of tasks) per
DAG component — ``root``, conditions, condition branches, loops, exit
handlers and nested pipelines — and validates everything at once
(:mod:`.validation`), raising one :class:`PipelineSpecInvalid` that names
the DAG, task and input of every problem.

The workflow controller then walks the result: :meth:`Dag.ready_tasks` and
:meth:`Dag.blocked_tasks` given the phases of ended tasks,
:meth:`Dag.should_run` for ``dsl.If``/``Elif``/``Else`` conditions
(:mod:`.expressions`, a safe evaluator of the CEL subset kfp emits, also for
``parameterExpressionSelector``), :func:`loop_items` for ``ParallelFor``,
:meth:`PipelineGraph.sub_dag` for the DAG a group task runs, and
:meth:`PipelineGraph.bind_arguments` for a run's parameters.

No kfp import anywhere: the sandbox reads IR as data.
"""

from .dag import FINAL_PHASES, SUCCEEDED, Dag, ExitHandler
from .expressions import ExpressionError, evaluate_condition, select
from .loops import LoopError, loop_items
from .model import (
    ArtifactIterator,
    ArtifactSpec,
    CachingOptions,
    ComponentSpec,
    ContainerSpec,
    DagOutput,
    ExecutorSpec,
    ImporterSpec,
    InputSource,
    Interface,
    ParameterIterator,
    ParameterSpec,
    RetryPolicy,
    Task,
    TaskInput,
    TaskKind,
    TriggerPolicy,
    TriggerStrategy,
    parse_duration,
)
from .pipeline import PipelineGraph, load_ir
from .problems import ROOT_DAG, ArgumentsInvalid, PipelineSpecInvalid, Problem
from .types import ParameterType, ParameterTypeError, coerce_parameter

__all__ = [
    "FINAL_PHASES",
    "ROOT_DAG",
    "SUCCEEDED",
    "ArgumentsInvalid",
    "ArtifactIterator",
    "ArtifactSpec",
    "CachingOptions",
    "ComponentSpec",
    "ContainerSpec",
    "Dag",
    "DagOutput",
    "ExecutorSpec",
    "ExitHandler",
    "ExpressionError",
    "ImporterSpec",
    "InputSource",
    "Interface",
    "LoopError",
    "ParameterIterator",
    "ParameterSpec",
    "ParameterType",
    "ParameterTypeError",
    "PipelineGraph",
    "PipelineSpecInvalid",
    "Problem",
    "RetryPolicy",
    "Task",
    "TaskInput",
    "TaskKind",
    "TriggerPolicy",
    "TriggerStrategy",
    "coerce_parameter",
    "evaluate_condition",
    "load_ir",
    "loop_items",
    "parse_duration",
    "select",
]
