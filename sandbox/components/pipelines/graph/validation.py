"""Cross-checks of a parsed pipeline: references, types, cycles, expressions.

:func:`validate` walks every DAG of a :class:`~.pipeline.PipelineGraph` and
returns a :class:`~.problems.Problem` for each thing the KFP backend would
trip over at run time (or the kfp compiler would never have written):

- ``ComponentCycle``: DAG components that contain themselves (infinite nesting);
- ``Cycle``: tasks of one DAG that wait for each other (networkx finds them);
- ``UnknownComponent``: a ``componentRef`` that names no component;
- ``MissingProducer``: ``dependentTasks``, ``taskOutputParameter``,
  ``taskOutputArtifact``, ``taskFinalStatus`` or a DAG output naming a task
  the DAG does not have;
- ``MissingOutput``: the producer exists but has no such output;
- ``MissingInput``: a required input (no default, not optional) the task
  does not give, and that is not the loop item its iterator fills;
- ``UnknownInput``: a task gives an input its component does not declare,
  reads a DAG input (``componentInputParameter``/``componentInputArtifact``)
  the DAG does not declare, or a condition reads an input the task lacks;
- ``TypeMismatch``: a parameter of one type wired into another
  (``STRING`` into ``NUMBER_INTEGER``), a constant that does not fit, an
  artifact of another schema (``system.Artifact`` accepts any) or a list
  into a single artifact;
- ``BadExpression``: a condition or selector outside the CEL subset;
- ``BadIterator``: a loop whose item input or items are wrong.

One relaxation mirrors kfp's compiler: a ``STRING`` loop item (the item of a
``list`` with no element type) may feed any parameter type, because kfp
lets a ``ParallelFor`` item through unchecked when it cannot know its type.
Inputs with a ``parameterExpressionSelector`` are not type-checked: the
selected field's type is only known at run time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

import networkx as nx

from .dag import Dag, find_cycles
from .expressions import ExpressionError, parameter_names, parse
from .model import ComponentSpec, InputSource, Task, TaskInput
from .problems import Problem
from .types import ParameterType, ParameterTypeError, artifact_types_compatible, coerce_parameter

if TYPE_CHECKING:
    from .pipeline import PipelineGraph

__all__ = ["loop_item_inputs", "validate"]

_UNCHECKED = {ParameterType.UNSPECIFIED, ParameterType.TASK_CONFIG}


def loop_item_inputs(components: Mapping[str, ComponentSpec], root: ComponentSpec
                     ) -> dict[str, set[str]]:
    """For each DAG component, the inputs that carry a loop item: the
    ``itemInput`` of the iterator that runs it, and inputs fed from such an
    input of the enclosing DAG (a condition inside a loop)."""
    found: dict[str, set[str]] = {}
    pending = [(root, frozenset[str]())]
    seen: set[tuple[str, frozenset[str]]] = set()
    while pending:
        component, items = pending.pop()
        if (component.name, items) in seen:
            continue
        seen.add((component.name, items))
        for task in component.tasks.values():
            child = components.get(task.component_ref)
            if child is None or not child.is_dag:
                continue
            child_items = {name for name, source in task.parameters.items()
                           if source.source is InputSource.COMPONENT_INPUT_PARAMETER
                           and source.component_input in items}
            if task.item_input:
                child_items.add(task.item_input)
            found.setdefault(child.name, set()).update(child_items)
            pending.append((child, frozenset(child_items)))
    return found


class _Checker:
    def __init__(self, graph: PipelineGraph) -> None:
        self.graph = graph
        self.components = graph.components
        self.problems: list[Problem] = []
        self.loop_items = loop_item_inputs(graph.components, graph.root)

    def add(self, reason: str, message: str, *, dag: str = "", task: str = "",
            input: str = "") -> None:
        self.problems.append(Problem(reason, message, dag=dag, task=task, input=input))

    # ------------------------------------------------------------------ components

    def component_cycles(self) -> None:
        refs: nx.DiGraph = nx.DiGraph()
        for component in [self.graph.root, *self.components.values()]:
            refs.add_node(component.name)
            for task in component.tasks.values():
                target = self.components.get(task.component_ref)
                if target is not None and target.is_dag:
                    refs.add_edge(component.name, target.name)
        for cycle in find_cycles(refs):
            self.add("ComponentCycle", "DAG components contain themselves: "
                     + " → ".join(cycle), dag=cycle[0])

    # ------------------------------------------------------------------ one DAG

    def dag(self, dag: Dag) -> None:
        for cycle in dag.cycles():
            self.add("Cycle", "tasks wait for each other: " + " → ".join(cycle), dag=dag.name,
                     task=cycle[0])
        for task in dag.tasks.values():
            self.task(dag, task)
        self.dag_outputs(dag)

    def task(self, dag: Dag, task: Task) -> None:
        where = {"dag": dag.name, "task": task.name}
        component = self.components.get(task.component_ref)
        if component is None:
            self.add("UnknownComponent", f'componentRef "{task.component_ref}" names no '
                     "component", **where)
        for upstream in task.dependent_tasks:
            if upstream not in dag.tasks:
                self.add("MissingProducer", f'dependentTasks names "{upstream}", which is not a '
                         "task of this DAG", **where)
        for item in task.parameters.values():
            self.parameter_input(dag, task, component, item)
        for item in task.artifacts.values():
            self.artifact_input(dag, task, component, item)
        if component is not None:
            self.required_inputs(dag, task, component)
        self.condition(dag, task)
        self.iterators(dag, task, component)

    def producer(self, dag: Dag, task: Task, item: TaskInput) -> ComponentSpec | None:
        producer = dag.tasks.get(item.producer_task)
        if producer is None:
            self.add("MissingProducer", f'{item.source.value} names producer task '
                     f'"{item.producer_task}", which is not a task of this DAG', dag=dag.name,
                     task=task.name, input=item.name)
            return None
        return self.components.get(producer.component_ref)

    def parameter_input(self, dag: Dag, task: Task, component: ComponentSpec | None,
                        item: TaskInput) -> None:
        where = {"dag": dag.name, "task": task.name, "input": item.name}
        expected = component.inputs.parameters.get(item.name) if component else None
        if component is not None and expected is None:
            self.add("UnknownInput", f'component "{component.name}" declares no input parameter '
                     f'"{item.name}"', **where)
        if item.selector:
            try:
                parse(item.selector)
            except ExpressionError as error:
                self.add("BadExpression", f"parameterExpressionSelector: {error}", **where)
        given_type: ParameterType | None = None
        match item.source:
            case InputSource.COMPONENT_INPUT_PARAMETER:
                source = dag.component.inputs.parameters.get(item.component_input)
                if source is None:
                    self.add("UnknownInput", f'componentInputParameter "{item.component_input}" '
                             "is not an input parameter of this DAG", **where)
                elif not (source.type is ParameterType.STRING
                          and item.component_input in self.loop_items.get(dag.name, ())):
                    given_type = source.type
            case InputSource.TASK_OUTPUT_PARAMETER:
                producer = self.producer(dag, task, item)
                if producer is not None:
                    output = producer.outputs.parameters.get(item.output_key)
                    if output is None:
                        self.add("MissingOutput", f'producer task "{item.producer_task}" has no '
                                 f'output parameter "{item.output_key}"', **where)
                    else:
                        given_type = output.type
            case InputSource.TASK_FINAL_STATUS:
                self.producer(dag, task, item)
                given_type = ParameterType.TASK_FINAL_STATUS
            case InputSource.RUNTIME_VALUE:
                if expected is not None and not item.selector \
                        and expected.type not in _UNCHECKED:
                    try:
                        coerce_parameter(item.constant, expected.type)
                    except ParameterTypeError as error:
                        self.add("TypeMismatch", f"constant: {error}", **where)
        if given_type is None or expected is None or item.selector:
            return
        if given_type in _UNCHECKED or expected.type in _UNCHECKED:
            return
        if given_type is not expected.type:
            self.add("TypeMismatch", f"a {given_type.value} parameter cannot feed a "
                     f"{expected.type.value} input", **where)

    def artifact_input(self, dag: Dag, task: Task, component: ComponentSpec | None,
                       item: TaskInput) -> None:
        where = {"dag": dag.name, "task": task.name, "input": item.name}
        expected = component.inputs.artifacts.get(item.name) if component else None
        if component is not None and expected is None:
            self.add("UnknownInput", f'component "{component.name}" declares no input artifact '
                     f'"{item.name}"', **where)
        given = None
        if item.source is InputSource.COMPONENT_INPUT_ARTIFACT:
            given = dag.component.inputs.artifacts.get(item.component_input)
            if given is None:
                self.add("UnknownInput", f'componentInputArtifact "{item.component_input}" is '
                         "not an input artifact of this DAG", **where)
        else:
            producer = self.producer(dag, task, item)
            if producer is not None:
                given = producer.outputs.artifacts.get(item.output_key)
                if given is None:
                    self.add("MissingOutput", f'producer task "{item.producer_task}" has no '
                             f'output artifact "{item.output_key}"', **where)
        if given is not None and expected is not None \
                and not artifact_types_compatible(given.type_key, expected.type_key):
            self.add("TypeMismatch", f"a {given.type_name} artifact cannot feed a "
                     f"{expected.type_name} input", **where)

    def required_inputs(self, dag: Dag, task: Task, component: ComponentSpec) -> None:
        filled = task.item_input
        for name, spec in component.inputs.parameters.items():
            if spec.required and name not in task.parameters and name != filled:
                self.add("MissingInput", f"required {spec.type.value} input has no value and no "
                         "default", dag=dag.name, task=task.name, input=name)
        for name, spec in component.inputs.artifacts.items():
            if not spec.optional and name not in task.artifacts and name != filled:
                self.add("MissingInput", f"required {spec.type_name} artifact has no source",
                         dag=dag.name, task=task.name, input=name)

    def condition(self, dag: Dag, task: Task) -> None:
        text = task.trigger.condition
        if not text:
            return
        try:
            names = parameter_names(text)
        except ExpressionError as error:
            self.add("BadExpression", f"triggerPolicy.condition: {error}", dag=dag.name,
                     task=task.name)
            return
        for name in sorted(names - set(task.parameters)):
            self.add("UnknownInput", f"triggerPolicy.condition reads "
                     f"inputs.parameter_values['{name}'], which the task does not take",
                     dag=dag.name, task=task.name, input=name)

    def iterators(self, dag: Dag, task: Task, component: ComponentSpec | None) -> None:
        where = {"dag": dag.name, "task": task.name}
        if task.parameter_iterator is not None:
            iterator = task.parameter_iterator
            if component is not None and iterator.item_input not in component.inputs.parameters:
                self.add("BadIterator", f'itemInput "{iterator.item_input}" is not an input '
                         f'parameter of component "{component.name}"', **where)
            if iterator.raw is not None:
                try:
                    items = json.loads(iterator.raw)
                except json.JSONDecodeError as error:
                    self.add("BadIterator", f"items.raw is not JSON: {error.msg}", **where)
                else:
                    if not isinstance(items, list):
                        self.add("BadIterator", "items.raw is not a JSON list", **where)
            elif iterator.input_parameter not in task.parameters:
                self.add("BadIterator", f'items.inputParameter "{iterator.input_parameter}" is '
                         "not an input of the task", **where)
        if task.artifact_iterator is not None:
            iterator_a = task.artifact_iterator
            if component is not None and iterator_a.item_input not in component.inputs.artifacts:
                self.add("BadIterator", f'itemInput "{iterator_a.item_input}" is not an input '
                         f'artifact of component "{component.name}"', **where)
            if iterator_a.input_artifact not in task.artifacts:
                self.add("BadIterator", f'items.inputArtifact "{iterator_a.input_artifact}" is '
                         "not an artifact input of the task", **where)

    def dag_outputs(self, dag: Dag) -> None:
        declared = dag.component.outputs
        for output in dag.component.dag_outputs.values():
            section = declared.artifacts if output.is_artifact else declared.parameters
            if output.name not in section:
                self.add("MissingOutput", f'dag.outputs names "{output.name}", which '
                         "outputDefinitions does not declare", dag=dag.name)
            for subtask, key in output.selectors:
                producer = dag.tasks.get(subtask)
                if producer is None:
                    self.add("MissingProducer", f'dag output "{output.name}" is taken from '
                             f'"{subtask}", which is not a task of this DAG', dag=dag.name)
                    continue
                component = self.components.get(producer.component_ref)
                if component is None:
                    continue
                outputs = component.outputs.artifacts if output.is_artifact \
                    else component.outputs.parameters
                if key not in outputs:
                    self.add("MissingOutput", f'dag output "{output.name}" is taken from output '
                             f'"{key}" of task "{subtask}", which has no such output',
                             dag=dag.name, task=subtask)


def validate(graph: PipelineGraph) -> list[Problem]:
    """Every cross-reference problem of ``graph`` (parse problems are the graph's own)."""
    checker = _Checker(graph)
    checker.component_cycles()
    for dag in graph.dags.values():
        checker.dag(dag)
    return checker.problems
