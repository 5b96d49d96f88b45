"""One DAG of a pipeline as a networkx graph, and what a scheduler asks of it.

Every DAG component of the IR — ``root``, ``comp-condition-N``,
``comp-condition-branches-N``, ``comp-for-loop-N``, ``comp-exit-handler-N``
and nested pipelines — becomes one :class:`Dag`: its tasks are the nodes of a
``networkx.DiGraph`` and an edge ``a → b`` says ``b`` waits for ``a``, because
``b`` lists ``a`` in ``dependentTasks`` or reads ``a``'s outputs
(``taskOutputParameter``, ``taskOutputArtifact``) or final status
(``taskFinalStatus``). Edges carry the reasons in ``data["via"]``
(``dependentTasks``, ``parameter:<input>``, ``artifact:<input>``). A task
whose component is itself a DAG is one node here; the workflow controller
runs its sub-DAG (once per item, for a loop) when the node is ready.

Readiness follows what KFP compiles to Argo: by default a task starts when
every upstream task **Succeeded** (Argo's ``depends: a.Succeeded && …``),
and a task that can no longer get there — an upstream task Failed, was
Skipped (a false condition) or Omitted — is *blocked* (the controller marks
it Omitted). A task with ``triggerPolicy.strategy:
ALL_UPSTREAM_TASKS_COMPLETED`` — an ``ExitHandler``'s exit task, or
``ignore_upstream_failure()`` — starts when every upstream task ended in any
phase. Phases are Argo's node phases; only ``Succeeded`` counts as success
(a cache hit is a Succeeded node too).

:class:`ExitHandler` records the structure KFP compiles ``dsl.ExitHandler``
into: a task ``exit-handler-N`` whose component ``comp-exit-handler-N`` is
the guarded sub-DAG, and exit tasks that depend on it with
``ALL_UPSTREAM_TASKS_COMPLETED`` (reading its ``taskFinalStatus``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx

from .expressions import evaluate_condition
from .model import ComponentSpec, Task
from .types import ParameterTypeError, coerce_parameter

__all__ = ["FINAL_PHASES", "SUCCEEDED", "Dag", "ExitHandler", "find_cycles", "sorted_cycle"]

#: The phase that counts as success.
SUCCEEDED = "Succeeded"
#: Argo node phases in which a node has ended.
FINAL_PHASES = frozenset({"Succeeded", "Failed", "Error", "Skipped", "Omitted"})

#: The component-name prefix kfp gives the sub-DAG a ``dsl.ExitHandler`` guards.
EXIT_HANDLER_PREFIX = "comp-exit-handler-"


@dataclass(frozen=True)
class ExitHandler:
    """``dsl.ExitHandler`` in a DAG: ``guard_task`` runs the guarded sub-DAG
    ``guarded_dag``; ``exit_tasks`` run after it, whatever its outcome."""

    dag: str
    guard_task: str
    guarded_dag: str
    exit_tasks: tuple[str, ...]


def _phases(finished: Mapping[str, str] | Collection[str]) -> Mapping[str, str]:
    if isinstance(finished, Mapping):
        return finished
    return dict.fromkeys(finished, SUCCEEDED)


class Dag:
    """The tasks of one DAG component and the graph of their dependencies."""

    def __init__(self, component: ComponentSpec, *,
                 components: Mapping[str, ComponentSpec] | None = None) -> None:
        self.component = component
        #: The pipeline's components, which the tasks' ``componentRef`` name.
        self.components: Mapping[str, ComponentSpec] = components or {}
        self.name = component.name
        self.tasks: Mapping[str, Task] = component.tasks
        graph: nx.DiGraph = nx.DiGraph(name=self.name)
        for name, task in self.tasks.items():
            graph.add_node(name, task=task)
        for name, task in self.tasks.items():
            for upstream, via in self._edges(task):
                # Edges to tasks that do not exist are validation problems,
                # not graph structure.
                if upstream not in self.tasks:
                    continue
                if graph.has_edge(upstream, name):
                    graph.edges[upstream, name]["via"].add(via)
                else:
                    graph.add_edge(upstream, name, via={via})
        #: The dependency graph: nodes are task names (``data["task"]``: the
        #: :class:`Task`), an edge ``a → b`` means ``b`` waits for ``a``.
        self.graph = graph
        self._order: list[str] | None = None

    @staticmethod
    def _edges(task: Task) -> Iterable[tuple[str, str]]:
        for upstream in task.dependent_tasks:
            yield upstream, "dependentTasks"
        for item in task.parameters.values():
            if item.producer_task:
                yield item.producer_task, f"parameter:{item.name}"
        for item in task.artifacts.values():
            if item.producer_task:
                yield item.producer_task, f"artifact:{item.name}"

    def __repr__(self) -> str:
        return f"Dag({self.name!r}, tasks={sorted(self.tasks)})"

    def __contains__(self, task: object) -> bool:
        return task in self.tasks

    def task(self, name: str) -> Task:
        """The task ``name``; ``KeyError`` naming the DAG when there is none."""
        try:
            return self.tasks[name]
        except KeyError:
            raise KeyError(f'DAG "{self.name}" has no task "{name}"') from None

    # ------------------------------------------------------------------ structure

    def cycles(self) -> list[list[str]]:
        """One cycle per knot of tasks that wait for each other, as closed
        task-name lists (``[a, b, a]``); empty for a valid DAG."""
        return find_cycles(self.graph)

    def topological_order(self) -> list[str]:
        """Tasks in an order where each comes after its upstream tasks; ties by
        name. ``networkx.NetworkXUnfeasible`` if the tasks form a cycle."""
        if self._order is None:
            self._order = list(nx.lexicographical_topological_sort(self.graph))
        return list(self._order)

    def dependencies(self, name: str) -> set[str]:
        """Direct upstream tasks of ``name``."""
        self.task(name)
        return set(self.graph.predecessors(name))

    def dependents(self, name: str) -> set[str]:
        """Direct downstream tasks of ``name``."""
        self.task(name)
        return set(self.graph.successors(name))

    def upstream(self, name: str) -> set[str]:
        """Every task ``name`` transitively waits for."""
        self.task(name)
        return set(nx.ancestors(self.graph, name))

    def downstream(self, name: str) -> set[str]:
        """Every task that transitively waits for ``name``."""
        self.task(name)
        return set(nx.descendants(self.graph, name))

    def exit_handlers(self) -> list[ExitHandler]:
        """The ``dsl.ExitHandler`` groups of this DAG (see the module docstring)."""
        handlers = []
        for name in sorted(self.tasks):
            task = self.tasks[name]
            if not task.component_ref.startswith(EXIT_HANDLER_PREFIX):
                continue
            exits = tuple(sorted(
                other for other in self.graph.successors(name)
                if self.tasks[other].trigger.runs_after_failures))
            handlers.append(ExitHandler(dag=self.name, guard_task=name,
                                        guarded_dag=task.component_ref, exit_tasks=exits))
        return handlers

    # ------------------------------------------------------------------ scheduling

    def _can_start(self, name: str, phases: Mapping[str, str]) -> bool | None:
        """True: ready; False: blocked for good; None: still waiting."""
        after_failures = self.tasks[name].trigger.runs_after_failures
        waiting = False
        for upstream in self.graph.predecessors(name):
            phase = phases.get(upstream)
            if phase is None or phase not in FINAL_PHASES:
                waiting = True
            elif phase != SUCCEEDED and not after_failures:
                return False
        return None if waiting else True

    def ready_tasks(self, finished: Mapping[str, str] | Collection[str], *,
                    started: Collection[str] = ()) -> list[str]:
        """Tasks that may start now, in topological order.

        ``finished`` maps ended tasks to their Argo phase (a plain collection
        means they all Succeeded); ``started`` names tasks already running.
        Neither those nor blocked tasks are returned.
        """
        phases = _phases(finished)
        return [name for name in self.topological_order()
                if name not in phases and name not in started
                and self._can_start(name, phases) is True]

    def blocked_tasks(self, finished: Mapping[str, str] | Collection[str], *,
                      started: Collection[str] = ()) -> list[str]:
        """Tasks that can never start: an upstream task ended other than
        Succeeded and their strategy needs success. Once the controller marks
        them Omitted, their own dependents show up here in turn."""
        phases = _phases(finished)
        return [name for name in self.topological_order()
                if name not in phases and name not in started
                and self._can_start(name, phases) is False]

    def is_complete(self, finished: Mapping[str, str] | Collection[str]) -> bool:
        """Whether every task of the DAG has ended."""
        phases = _phases(finished)
        return all(phases.get(name) in FINAL_PHASES for name in self.tasks)

    # ------------------------------------------------------------------ conditions

    def typed_parameters(self, name: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` coerced to the types the task's component declares
        (``3.0`` → ``3`` for ``NUMBER_INTEGER``); undeclared names pass as they are."""
        declared = self.component_of(name).inputs.parameters
        typed = {}
        for key, value in values.items():
            spec = declared.get(key)
            if spec is None:
                typed[key] = value
                continue
            try:
                typed[key] = coerce_parameter(value, spec.type)
            except ParameterTypeError:
                typed[key] = value
        return typed

    def should_run(self, name: str, parameter_values: Mapping[str, Any]) -> bool:
        """Whether task ``name``'s ``triggerPolicy.condition`` holds for its
        resolved parameter inputs (no condition: True). Raises
        :class:`~.expressions.ExpressionError` when it cannot be evaluated,
        which fails the task as KFP's driver does."""
        condition = self.task(name).trigger.condition
        if not condition:
            return True
        return evaluate_condition(condition, self.typed_parameters(name, parameter_values))

    def component_of(self, name: str) -> ComponentSpec:
        """The component task ``name`` runs; ``KeyError`` when its ``componentRef`` is unknown."""
        ref = self.task(name).component_ref
        component = self.components.get(ref)
        if component is None:
            raise KeyError(f'task "{name}" of DAG "{self.name}" names unknown component "{ref}"')
        return component


def sorted_cycle(cycle: list[str]) -> list[str]:
    """A cycle rotated to start at its smallest name, closed: ``[a, b, a]``."""
    start = cycle.index(min(cycle))
    rotated = cycle[start:] + cycle[:start]
    return [*rotated, rotated[0]]


def find_cycles(graph: nx.DiGraph) -> list[list[str]]:
    """One cycle per strongly connected knot of ``graph`` (and per self-loop).

    Listing every elementary cycle can take exponential time on a hostile
    spec; one cycle per knot names the tasks to fix in linear time."""
    found = []
    for knot in nx.strongly_connected_components(graph):
        if len(knot) == 1:
            (node,) = knot
            if graph.has_edge(node, node):
                found.append([node, node])
            continue
        edges = nx.find_cycle(graph.subgraph(knot), source=min(knot))
        found.append(sorted_cycle([edge[0] for edge in edges]))
    return sorted(found)
