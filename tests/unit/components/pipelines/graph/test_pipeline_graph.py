"""IR compiled by the real kfp SDK loads into the graph model, DAGs and scheduling helpers."""

# No `from __future__ import annotations`: kfp reads the annotations at decoration time.

import operator
from typing import NamedTuple

import pytest
import yaml
from kfp import dsl

from sandbox.components.pipelines.graph import (
    ArgumentsInvalid,
    InputSource,
    PipelineGraph,
    PipelineSpecInvalid,
    TaskKind,
    TriggerStrategy,
    load_ir,
    loop_items,
    select,
)

IMAGE = "python:3.11"


@dsl.component(base_image=IMAGE)
def add(a: int, b: int = 2) -> int:
    return a + b


@dsl.component(base_image=IMAGE)
def total(xs: list[int]) -> int:
    return sum(xs)


@dsl.component(base_image=IMAGE)
def flip() -> str:
    return "heads"


@dsl.component(base_image=IMAGE)
def number() -> int:
    return 3


@dsl.component(base_image=IMAGE)
def ratio() -> float:
    return 0.5


@dsl.component(base_image=IMAGE)
def truth() -> bool:
    return True


@dsl.component(base_image=IMAGE)
def echo(msg: str) -> str:
    return msg


@dsl.component(base_image=IMAGE)
def make_data(out: dsl.Output[dsl.Dataset]) -> None:
    out.metadata["rows"] = 1


@dsl.component(base_image=IMAGE)
def train(data: dsl.Input[dsl.Dataset], model: dsl.Output[dsl.Model]) -> None:
    model.metadata["fit"] = True


@dsl.component(base_image=IMAGE)
def notify(status: dsl.PipelineTaskFinalStatus) -> None:
    print(status.state)


@dsl.component(base_image=IMAGE)
def fail() -> None:
    raise SystemExit(1)


class Split(NamedTuple):
    left: int
    right: int


@dsl.component(base_image=IMAGE)
def split(n: int) -> Split:
    return Split(n // 2, n - n // 2)


@dsl.container_component
def say(text: str, out: dsl.OutputPath(str)):
    return dsl.ContainerSpec(image="alpine:3.19", command=["sh", "-c", 'echo "$0" > "$1"'],
                             args=[text, out])


@dsl.pipeline
def chain(x: int = 1):
    first = add(a=x)
    second = add(a=first.output)
    add(a=second.output, b=10)


@dsl.pipeline
def fan_in(n: int = 4):
    parts = split(n=n)
    left = add(a=parts.outputs["left"])
    right = add(a=parts.outputs["right"])
    middle = add(a=n).after(parts)
    add(a=left.output, b=right.output).after(middle)


@dsl.pipeline
def branches():
    coin = flip()
    with dsl.If(coin.output == "heads"):
        echo(msg="heads")
    with dsl.Elif(coin.output == "tails"):
        echo(msg="tails")
    with dsl.Else():
        echo(msg="edge")


OPERATORS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
             ">": operator.gt, ">=": operator.ge}
CONSTANTS = {"str": "m", "int": 5, "float": 2.5, "bool": True}


@dsl.pipeline
def comparisons():
    outputs = {"str": flip().output, "int": number().output, "float": ratio().output,
               "bool": truth().output}
    for kind, channel in outputs.items():
        constant = CONSTANTS[kind]
        for symbol in OPERATORS:
            condition = {"==": channel == constant, "!=": channel != constant,
                         "<": channel < constant, "<=": channel <= constant,
                         ">": channel > constant, ">=": channel >= constant}[symbol]
            with dsl.If(condition, name=f"{kind} {symbol}"):
                echo(msg=f"{kind} {symbol}")
    with dsl.If(outputs["int"] > 2.5, name="int > float"):
        echo(msg="mixed")


@dsl.pipeline
def loops(xs: list[int] = [1, 2, 3]):  # noqa: B006 - kfp defaults are literals
    with dsl.ParallelFor([{"label": "a", "scale": "1"}, {"label": "b", "scale": "2"}],
                         parallelism=2) as config:
        with dsl.ParallelFor(xs) as x:
            inner = add(a=x, b=x)
        echo(msg=config.label)
    total(xs=dsl.Collected(inner.output))


@dsl.pipeline
def guarded(msg: str = "hi"):
    done = notify()
    with dsl.ExitHandler(done, name="guard"):
        echo(msg=msg)
        fail()


@dsl.pipeline
def inner_pipeline(data: dsl.Input[dsl.Dataset], a: int) -> dsl.Model:
    add(a=a)
    return train(data=data).outputs["model"]


@dsl.pipeline
def outer_pipeline(a: int = 1):
    data = make_data()
    nested = inner_pipeline(data=data.outputs["out"], a=a)
    train(data=data.outputs["out"]).after(nested)


@dsl.pipeline
def retries():
    flaky = add(a=1).set_retry(num_retries=3, backoff_duration="5s", backoff_factor=1.5,
                               backoff_max_duration="60s")
    flaky.set_caching_options(False)
    add(a=flaky.output).set_retry(num_retries=1)
    say(text="hello").set_display_name("Say hello").set_caching_options(True, cache_key="K")
    imported = dsl.importer(artifact_uri="minio://mlpipeline/data/x.csv",
                            artifact_class=dsl.Dataset)
    train(data=imported.output)
    fin = notify().after(flaky).ignore_upstream_failure()
    fin.set_display_name("always")


# --------------------------------------------------------------------------- chain / fan-in


def test_a_chain_is_a_dag_whose_edges_come_from_dependencies_and_outputs(compile_ir):
    graph = PipelineGraph.from_ir(compile_ir(chain))
    root = graph.root_dag
    assert graph.name == "chain" and set(graph.dags) == {"root"}
    assert root.topological_order() == ["add", "add-2", "add-3"]
    assert root.graph.edges["add", "add-2"]["via"] == {"dependentTasks", "parameter:a"}
    assert root.upstream("add-3") == {"add", "add-2"}
    assert root.downstream("add") == {"add-2", "add-3"}
    assert root.dependencies("add-3") == {"add-2"} and root.dependents("add-2") == {"add-3"}
    task = root.task("add-3")
    assert task.kind is TaskKind.CONTAINER and task.component_ref == "comp-add-3"
    assert task.parameters["a"].source is InputSource.TASK_OUTPUT_PARAMETER
    assert (task.parameters["a"].producer_task, task.parameters["a"].output_key) == \
        ("add-2", "Output")
    assert task.parameters["b"].source is InputSource.RUNTIME_VALUE
    assert root.typed_parameters("add-3", {"b": task.parameters["b"].constant}) == {"b": 10}
    first = root.task("add").parameters["a"]
    assert (first.source, first.component_input) == (InputSource.COMPONENT_INPUT_PARAMETER, "x")
    assert task.caching.enable_cache and task.retry is None and not task.is_loop


def test_ready_tasks_follow_the_chain_one_success_at_a_time(compile_ir):
    root = PipelineGraph.from_ir(compile_ir(chain)).root_dag
    assert root.ready_tasks(set()) == ["add"]
    assert root.ready_tasks(set(), started={"add"}) == []
    assert root.ready_tasks({"add"}) == ["add-2"]
    assert root.ready_tasks({"add", "add-2"}) == ["add-3"]
    assert root.ready_tasks({"add", "add-2", "add-3"}) == []
    assert root.is_complete({"add", "add-2", "add-3"})
    assert not root.is_complete({"add": "Succeeded", "add-2": "Running"})


def test_fan_in_releases_independent_tasks_together_and_the_sink_waits_for_all(compile_ir):
    root = PipelineGraph.from_ir(compile_ir(fan_in)).root_dag
    assert root.ready_tasks(set()) == ["split"]
    assert root.ready_tasks({"split"}) == ["add", "add-2", "add-3"]
    assert root.ready_tasks({"split", "add", "add-2"}, started={"add-3"}) == []
    assert root.ready_tasks({"split", "add", "add-2", "add-3"}) == ["add-4"]
    sink = root.task("add-4")
    assert sink.producers == {"add", "add-2"} and "add-3" in sink.dependent_tasks
    assert root.dependencies("add-4") == {"add", "add-2", "add-3"}


def test_a_failed_upstream_blocks_its_dependents_for_good(compile_ir):
    root = PipelineGraph.from_ir(compile_ir(fan_in)).root_dag
    finished = {"split": "Succeeded", "add": "Failed", "add-2": "Succeeded", "add-3": "Skipped"}
    assert root.ready_tasks(finished) == []
    assert root.blocked_tasks(finished) == ["add-4"]
    assert root.blocked_tasks({"split": "Succeeded"}) == []


# --------------------------------------------------------------------------- conditions


def test_if_elif_else_runs_exactly_one_branch(compile_ir):
    graph = PipelineGraph.from_ir(compile_ir(branches))
    group = graph.root_dag.task("condition-branches-1")
    assert group.kind is TaskKind.DAG and not group.trigger.condition
    branches_dag = graph.sub_dag(group)
    assert branches_dag is not None and branches_dag.name == "comp-condition-branches-1"
    names = ["condition-2", "condition-3", "condition-4"]
    assert branches_dag.task("condition-4").trigger.condition.startswith("!(")
    for coin, taken in (("heads", "condition-2"), ("tails", "condition-3"),
                        ("edge", "condition-4")):
        runs = [name for name in names
                if branches_dag.should_run(name, {"pipelinechannel--flip-Output": coin})]
        assert runs == [taken], coin
    assert [t.display_name for _, t in graph.walk()] == [
        "flip", "condition-branches-1", "condition-2", "condition-3", "condition-4",
        "echo", "echo-2", "echo-3"]


@pytest.mark.parametrize("kind,values", [
    ("str", ["a", "m", "z"]), ("int", [4.0, 5.0, 6]), ("float", [2.0, 2.5, 3]),
    ("bool", [False, True]),
])
def test_compiled_comparisons_evaluate_like_python(compile_ir, kind, values):
    graph = PipelineGraph.from_ir(compile_ir(comparisons))
    root = graph.root_dag
    by_display = {task.display_name: task for task in root.tasks.values()}
    for symbol, compare in OPERATORS.items():
        task = by_display[f"{kind} {symbol}"]
        (channel,) = task.parameters
        for value in values:
            assert root.should_run(task.name, {channel: value}) == \
                compare(value, CONSTANTS[kind]), (kind, symbol, value, task.trigger.condition)


def test_a_mixed_int_float_comparison_compiles_to_double_and_evaluates(compile_ir):
    root = PipelineGraph.from_ir(compile_ir(comparisons)).root_dag
    task = next(t for t in root.tasks.values() if t.display_name == "int > float")
    assert task.trigger.condition.startswith("double(int(")
    assert root.should_run(task.name, {"pipelinechannel--number-Output": 3.0})
    assert not root.should_run(task.name, {"pipelinechannel--number-Output": 2})


# --------------------------------------------------------------------------- loops


def test_nested_parallel_for_with_collected(compile_ir):
    graph = PipelineGraph.from_ir(compile_ir(loops))
    root = graph.root_dag
    outer = root.task("for-loop-2")
    assert outer.is_loop and outer.kind is TaskKind.DAG and outer.parallelism_limit == 2
    assert outer.parameter_iterator is not None and outer.parameter_iterator.raw is not None
    items = loop_items(outer)
    assert items == [{"label": "a", "scale": "1"}, {"label": "b", "scale": "2"}]

    outer_dag = graph.sub_dag(outer)
    inner = outer_dag.task("for-loop-3")
    assert inner.parameter_iterator.input_parameter == "pipelinechannel--xs"
    assert inner.item_input == "pipelinechannel--xs-loop-item"
    assert inner.parallelism_limit == 0
    assert loop_items(inner, parameters={"pipelinechannel--xs": [1, 2, 3]}) == [1, 2, 3]
    assert loop_items(inner, parameters={"pipelinechannel--xs": "[4, 5]"}) == [4, 5]

    echo_input = outer_dag.task("echo").parameters["msg"]
    assert echo_input.component_input == outer.item_input
    assert select(echo_input.selector, items[1]) == "b"

    collected = root.task("total").parameters["xs"]
    assert (collected.producer_task, collected.output_key) == ("for-loop-2",
                                                              "pipelinechannel--add-Output")
    assert root.ready_tasks(set()) == ["for-loop-2"]
    assert root.ready_tasks({"for-loop-2"}) == ["total"]
    adds = graph.sub_dag(inner)
    assert adds.task("add").parameters["a"].component_input == inner.item_input


# --------------------------------------------------------------------------- exit handler


def test_exit_handler_runs_its_exit_task_whatever_the_guarded_dag_did(compile_ir):
    graph = PipelineGraph.from_ir(compile_ir(guarded))
    (handler,) = graph.exit_handlers()
    assert handler.guard_task == "exit-handler-1"
    assert handler.guarded_dag == "comp-exit-handler-1"
    assert handler.exit_tasks == ("notify",)
    root = graph.root_dag
    assert root.task("exit-handler-1").display_name == "guard"
    exit_task = root.task("notify")
    assert exit_task.trigger.strategy is TriggerStrategy.ALL_UPSTREAM_TASKS_COMPLETED
    status = exit_task.parameters["status"]
    assert (status.source, status.producer_task) == (InputSource.TASK_FINAL_STATUS,
                                                     "exit-handler-1")
    assert root.ready_tasks(set()) == ["exit-handler-1"]
    assert root.ready_tasks({"exit-handler-1": "Running"}) == []
    for phase in ("Failed", "Succeeded", "Error"):
        assert root.ready_tasks({"exit-handler-1": phase}) == ["notify"]
        assert root.blocked_tasks({"exit-handler-1": phase}) == []
    guarded_dag = graph.dag("comp-exit-handler-1")
    assert set(guarded_dag.tasks) == {"echo", "fail"}


# --------------------------------------------------------------------------- nested pipelines


def test_a_nested_pipeline_is_a_dag_task_with_its_own_dag(compile_ir):
    graph = PipelineGraph.from_ir(compile_ir(outer_pipeline))
    root = graph.root_dag
    nested = root.task("inner-pipeline")
    assert nested.kind is TaskKind.DAG
    inner = graph.sub_dag(nested)
    assert inner is not None and inner.name == "comp-inner-pipeline"
    assert inner.task("train").artifacts["data"].component_input == "data"
    assert nested.artifacts["data"].source is InputSource.TASK_OUTPUT_ARTIFACT
    assert graph.component("comp-inner-pipeline").dag_outputs["Output"].selectors == \
        (("train", "model"),)
    assert root.topological_order() == ["make-data", "inner-pipeline", "train"]
    walked = [(dag.name, task.name) for dag, task in graph.walk()]
    assert walked.index(("root", "inner-pipeline")) < walked.index(("comp-inner-pipeline",
                                                                    "train"))
    assert graph.sub_dag(root.task("make-data")) is None
    assert graph.executor(root.task("make-data")).container.image == IMAGE


# --------------------------------------------------------------------------- retries, executors


def test_retry_caching_and_executor_kinds_are_parsed(compile_ir):
    graph = PipelineGraph.from_ir(compile_ir(retries))
    root = graph.root_dag
    flaky = root.task("add")
    assert flaky.retry is not None
    assert (flaky.retry.max_retry_count, flaky.retry.backoff_duration, flaky.retry.backoff_factor,
            flaky.retry.backoff_max_duration) == (3, 5.0, 1.5, 60.0)
    assert not flaky.caching.enable_cache
    defaults = root.task("add-2").retry
    assert (defaults.max_retry_count, defaults.backoff_duration, defaults.backoff_factor,
            defaults.backoff_max_duration) == (1, 0.0, 2.0, 3600.0)

    said = root.task("say")
    assert said.display_name == "Say hello"
    assert (said.caching.enable_cache, said.caching.cache_key) == (True, "K")
    container = graph.executor(said).container
    assert container.image == "alpine:3.19" and container.command[:2] == ("sh", "-c")
    assert container.args == ("{{$.inputs.parameters['text']}}",
                              "{{$.outputs.parameters['out'].output_file}}")

    importer = root.task("importer")
    assert importer.kind is TaskKind.IMPORTER
    spec = graph.executor(importer).importer
    assert spec.artifact_uri == "minio://mlpipeline/data/x.csv"
    assert spec.schema_title == "system.Dataset"

    always = next(t for t in root.tasks.values() if t.display_name == "always")
    assert always.trigger.runs_after_failures
    assert root.ready_tasks({"add": "Failed", "importer": "Succeeded", "say": "Succeeded",
                             "train": "Succeeded"}) == [always.name]
    assert root.blocked_tasks({"add": "Failed"}) == ["add-2"]


# --------------------------------------------------------------------------- run arguments


def test_run_arguments_bind_to_typed_parameters_with_defaults(compile_ir):
    graph = PipelineGraph.from_ir(compile_ir(loops))
    assert graph.root.inputs.parameters["xs"].default == [1.0, 2.0, 3.0]
    assert graph.bind_arguments() == {"xs": [1.0, 2.0, 3.0]}
    assert graph.bind_arguments({"xs": (4, 5)}) == {"xs": [4, 5]}
    chained = PipelineGraph.from_ir(compile_ir(chain))
    assert chained.root.inputs.parameters["x"].default == 1
    assert chained.bind_arguments({"x": 7.0}) == {"x": 7}


def test_bad_run_arguments_are_all_reported(compile_ir):
    graph = PipelineGraph.from_ir(compile_ir(outer_pipeline))
    with pytest.raises(ArgumentsInvalid) as caught:
        graph.bind_arguments({"a": "one", "b": 2})
    assert caught.value.reasons() == ["UnknownInput", "TypeMismatch"]
    assert 'input "b"' in str(caught.value) and "invalid run arguments" in str(caught.value)
    spec = compile_ir(chain)
    del spec["root"]["inputDefinitions"]["parameters"]["x"]["defaultValue"]
    spec["root"]["inputDefinitions"]["parameters"]["x"]["isOptional"] = False
    with pytest.raises(ArgumentsInvalid, match='input "x": required NUMBER_INTEGER'):
        PipelineGraph.from_ir(spec).bind_arguments({})


# --------------------------------------------------------------------------- loading


def test_ir_loads_from_yaml_text_bytes_and_the_kfp_api_wrapper(compile_ir):
    spec = compile_ir(chain)
    text = "# PIPELINE DEFINITION\n# Name: chain\n" + yaml.safe_dump(spec)
    platform = {"platforms": {"kubernetes": {"deploymentSpec": {"executors": {}}}}}
    two_documents = text + "---\n" + yaml.safe_dump(platform)
    for source in (text, text.encode(), {"pipeline_spec": spec, "platform_spec": platform},
                   two_documents):
        graph = PipelineGraph.from_ir(source)
        assert graph.name == "chain" and graph.schema_version == "2.1.0"
        assert graph.sdk_version == "kfp-2.15.2"
    assert dict(PipelineGraph.from_ir(two_documents).platform_spec) == platform
    assert load_ir({"pipelineSpec": spec})[0] == spec


@pytest.mark.parametrize("source", ["root: [unclosed", "- 1\n- 2\n", "just text", 42,
                                    {"pipelineInfo": {"name": "x"}}])
def test_what_is_not_a_pipeline_spec_is_refused(source):
    with pytest.raises(PipelineSpecInvalid) as caught:
        PipelineGraph.from_ir(source)
    assert caught.value.reasons() == ["Malformed"]
    assert caught.value.code == 400
