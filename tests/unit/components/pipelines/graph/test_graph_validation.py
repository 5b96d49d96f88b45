"""Broken IR is refused with every problem named by DAG, task and input; kfp's own IR passes."""

# No `from __future__ import annotations`: kfp reads the annotations at decoration time.

import copy
from collections.abc import Callable
from typing import Any

import pytest
from kfp import dsl

from sandbox.api.errors import BadRequest
from sandbox.components.pipelines.graph import PipelineGraph, PipelineSpecInvalid, Problem

IMAGE = "python:3.11"


@dsl.component(base_image=IMAGE)
def produce() -> int:
    return 1


@dsl.component(base_image=IMAGE)
def consume(n: int) -> str:
    return str(n)


@dsl.component(base_image=IMAGE)
def make(out: dsl.Output[dsl.Dataset]) -> None:
    out.metadata["rows"] = 0


@dsl.component(base_image=IMAGE)
def use(d: dsl.Input[dsl.Dataset]) -> None:
    print(d.path)


@dsl.component(base_image=IMAGE)
def use_any(a: dsl.Input[dsl.Artifact]) -> None:
    print(a.path)


@dsl.component(base_image=IMAGE)
def use_many(ds: dsl.Input[list[dsl.Dataset]]) -> None:
    print(len(ds))


@dsl.pipeline
def wired(x: int = 1):
    p = produce()
    consume(n=p.output)
    m = make()
    use(d=m.outputs["out"])
    use_any(a=m.outputs["out"])
    with dsl.If(p.output > 1):
        consume(n=x)
    with dsl.ParallelFor([1, 2]) as i:
        consume(n=i)


@dsl.pipeline
def untyped_items(xs: list = ["1", "2"]):  # noqa: B006 - kfp defaults are literals
    with dsl.ParallelFor(xs) as x:
        consume(n=x)
        with dsl.If(x == "2"):
            consume(n=x)


@dsl.pipeline
def gathered():
    with dsl.ParallelFor([1, 2]):
        m = make()
    use_many(ds=dsl.Collected(m.outputs["out"]))


@dsl.pipeline
def nested_inner(d: dsl.Input[dsl.Dataset]) -> int:
    use(d=d)
    return produce().output


@dsl.pipeline
def nested_outer():
    m = make()
    inner = nested_inner(d=m.outputs["out"])
    consume(n=inner.output)


@pytest.fixture
def spec(compile_ir: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    return copy.deepcopy(compile_ir(wired))


def problems_of(spec: dict[str, Any]) -> list[Problem]:
    with pytest.raises(PipelineSpecInvalid) as caught:
        PipelineGraph.from_ir(spec)
    return caught.value.problems


def root_tasks(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["root"]["dag"]["tasks"]


@pytest.mark.parametrize("pipeline", [wired, untyped_items, gathered, nested_outer])
def test_ir_the_kfp_compiler_writes_has_no_problems(compile_ir, pipeline):
    assert PipelineGraph.from_ir(compile_ir(pipeline)).problems() == []


def test_a_string_loop_item_may_feed_an_int_input_as_kfp_allows(compile_ir):
    spec = compile_ir(untyped_items)
    loop = spec["components"]["comp-for-loop-1"]
    assert loop["inputDefinitions"]["parameters"]["pipelinechannel--xs-loop-item"][
        "parameterType"] == "STRING"
    assert PipelineGraph.from_ir(spec).problems() == []


def test_a_cycle_is_refused_naming_its_tasks(spec):
    root_tasks(spec)["produce"]["dependentTasks"] = ["consume"]
    (problem,) = problems_of(spec)
    assert (problem.reason, problem.dag, problem.task) == ("Cycle", "root", "consume")
    assert problem.message == "tasks wait for each other: consume → produce → consume"


def test_a_task_waiting_for_itself_is_a_cycle(spec):
    root_tasks(spec)["make"]["dependentTasks"] = ["make"]
    (problem,) = problems_of(spec)
    assert problem.reason == "Cycle" and "make → make" in problem.message


def test_a_missing_producer_task_is_named(spec):
    root_tasks(spec)["consume"]["inputs"]["parameters"]["n"]["taskOutputParameter"][
        "producerTask"] = "nowhere"
    root_tasks(spec)["use"]["dependentTasks"] = ["make", "ghost"]
    found = problems_of(spec)
    assert [(p.reason, p.task, p.input) for p in found] == [
        ("MissingProducer", "consume", "n"), ("MissingProducer", "use", "")]
    assert '"nowhere"' in found[0].message and '"ghost"' in found[1].message


def test_a_missing_output_key_is_named(spec):
    root_tasks(spec)["consume"]["inputs"]["parameters"]["n"]["taskOutputParameter"][
        "outputParameterKey"] = "Result"
    root_tasks(spec)["use"]["inputs"]["artifacts"]["d"]["taskOutputArtifact"][
        "outputArtifactKey"] = "data"
    found = problems_of(spec)
    assert [(p.reason, p.task, p.input) for p in found] == [
        ("MissingOutput", "consume", "n"), ("MissingOutput", "use", "d")]
    assert 'no output parameter "Result"' in found[0].message
    assert 'no output artifact "data"' in found[1].message


def test_a_missing_required_input_is_named(spec):
    del root_tasks(spec)["consume"]["inputs"]
    del root_tasks(spec)["use"]["inputs"]
    found = problems_of(spec)
    assert [(p.reason, p.dag, p.task, p.input) for p in found] == [
        ("MissingInput", "root", "consume", "n"), ("MissingInput", "root", "use", "d")]
    assert found[0].message == "required NUMBER_INTEGER input has no value and no default"


def test_an_input_with_a_default_or_marked_optional_may_be_left_out(spec):
    parameter = spec["components"]["comp-consume"]["inputDefinitions"]["parameters"]["n"]
    parameter["defaultValue"] = 3
    del root_tasks(spec)["consume"]["inputs"]
    spec["components"]["comp-use"]["inputDefinitions"]["artifacts"]["d"]["isOptional"] = True
    del root_tasks(spec)["use"]["inputs"]
    assert PipelineGraph.from_ir(spec).problems() == []


def test_a_component_ref_or_executor_label_to_nothing_is_named(spec):
    root_tasks(spec)["produce"]["componentRef"]["name"] = "comp-nothing"
    spec["components"]["comp-make"]["executorLabel"] = "exec-nothing"
    found = problems_of(spec)
    reasons = {(p.reason, p.dag, p.task) for p in found}
    assert ("UnknownComponent", "root", "produce") in reasons
    assert ("UnknownExecutor", "comp-make", "") in reasons


def test_a_parameter_type_mismatch_is_named(spec):
    spec["components"]["comp-produce"]["outputDefinitions"]["parameters"]["Output"][
        "parameterType"] = "STRING"
    found = problems_of(spec)
    assert [(p.reason, p.task, p.input) for p in found] == [
        ("TypeMismatch", "condition-1", "pipelinechannel--produce-Output"),
        ("TypeMismatch", "consume", "n")]
    assert found[1].message == "a STRING parameter cannot feed a NUMBER_INTEGER input"


def test_a_dag_input_of_another_type_is_a_mismatch_outside_loops(spec):
    spec["root"]["inputDefinitions"]["parameters"]["x"] = {"parameterType": "STRING",
                                                           "defaultValue": "1"}
    (problem,) = problems_of(spec)
    assert (problem.reason, problem.task, problem.input) == ("TypeMismatch", "condition-1",
                                                             "pipelinechannel--x")


def test_a_constant_that_does_not_fit_is_a_mismatch(spec):
    root_tasks(spec)["consume"]["inputs"]["parameters"]["n"] = {
        "runtimeValue": {"constant": "three"}}
    (problem,) = problems_of(spec)
    assert (problem.reason, problem.input) == ("TypeMismatch", "n")
    assert "string value 'three' is not a NUMBER_INTEGER" in problem.message


def test_an_artifact_schema_mismatch_is_named_but_system_artifact_takes_any(spec):
    make_out = spec["components"]["comp-make"]["outputDefinitions"]["artifacts"]["out"]
    make_out["artifactType"]["schemaTitle"] = "system.Model"
    (problem,) = problems_of(spec)
    assert (problem.reason, problem.task, problem.input) == ("TypeMismatch", "use", "d")
    assert problem.message == ("a system.Model@0.0.1 artifact cannot feed a "
                               "system.Dataset@0.0.1 input")


def test_a_list_of_artifacts_cannot_feed_a_single_artifact(compile_ir):
    spec = copy.deepcopy(compile_ir(gathered))
    spec["components"]["comp-use-many"]["inputDefinitions"]["artifacts"]["ds"].pop(
        "isArtifactList")
    (problem,) = problems_of(spec)
    assert problem.reason == "TypeMismatch"
    assert "List[system.Dataset@0.0.1] artifact cannot feed a system.Dataset@0.0.1" in \
        problem.message


def test_inputs_nobody_declares_are_named(spec):
    root_tasks(spec)["consume"]["inputs"]["parameters"]["extra"] = {
        "runtimeValue": {"constant": 1}}
    condition = spec["components"]["comp-condition-1"]["dag"]["tasks"]["consume-2"]
    condition["inputs"]["parameters"]["n"]["componentInputParameter"] = "pipelinechannel--y"
    found = problems_of(spec)
    assert [(p.reason, p.dag, p.task, p.input) for p in found] == [
        ("UnknownInput", "root", "consume", "extra"),
        ("UnknownInput", "comp-condition-1", "consume-2", "n")]


def test_conditions_and_selectors_outside_the_cel_subset_are_refused(spec):
    root_tasks(spec)["condition-1"]["triggerPolicy"]["condition"] = \
        "__import__('os').system('true')"
    root_tasks(spec)["consume"]["inputs"]["parameters"]["n"]["parameterExpressionSelector"] = \
        "parseJson(string_value)["
    found = problems_of(spec)
    assert sorted((p.reason, p.task) for p in found) == [("BadExpression", "condition-1"),
                                                         ("BadExpression", "consume")]
    assert any("unknown function __import__()" in p.message for p in found)


def test_a_condition_reading_an_input_the_task_lacks_is_named(spec):
    root_tasks(spec)["condition-1"]["triggerPolicy"]["condition"] = \
        "inputs.parameter_values['pipelinechannel--nope'] == 1"
    (problem,) = problems_of(spec)
    assert (problem.reason, problem.task, problem.input) == ("UnknownInput", "condition-1",
                                                             "pipelinechannel--nope")


def test_a_condition_kfp_writes_for_int_against_str_is_refused_up_front(spec):
    # kfp compiles `dsl.If(int_output == "3")` into a quoted operand CEL cannot parse.
    root_tasks(spec)["condition-1"]["triggerPolicy"]["condition"] = (
        "'int(inputs.parameter_values['pipelinechannel--produce-Output'])' == '3'")
    (problem,) = problems_of(spec)
    assert problem.reason == "BadExpression"


def test_broken_iterators_are_named(spec):
    loop = root_tasks(spec)["for-loop-3"]
    loop["parameterIterator"]["items"]["raw"] = '{"not": "a list"}'
    loop["iteratorPolicy"] = {"parallelismLimit": 2}
    spec["components"]["comp-for-loop-3"]["inputDefinitions"]["parameters"] = {}
    found = problems_of(spec)
    assert {(p.reason, p.task) for p in found} == {("BadIterator", "for-loop-3"),
                                                   ("UnknownInput", "consume-3")}
    assert any("items.raw is not a JSON list" in p.message for p in found)
    assert any('itemInput "pipelinechannel--loop-item-param-2" is not an input' in p.message
               for p in found)


def test_a_dag_component_containing_itself_is_refused(spec):
    body = spec["components"]["comp-condition-1"]["dag"]["tasks"]
    body["again"] = {"taskInfo": {"name": "again"}, "componentRef": {"name": "comp-condition-1"},
                     "inputs": {"parameters": {
                         "pipelinechannel--x": {"componentInputParameter": "pipelinechannel--x"},
                         "pipelinechannel--produce-Output": {"runtimeValue": {"constant": 2}}}}}
    (problem,) = problems_of(spec)
    assert (problem.reason, problem.dag) == ("ComponentCycle", "comp-condition-1")


def test_dag_outputs_taken_from_nothing_are_named(compile_ir):
    spec = copy.deepcopy(compile_ir(nested_outer))
    outputs = spec["components"]["comp-nested-inner"]["dag"]["outputs"]["parameters"]
    outputs["Output"]["valueFromParameter"]["producerSubtask"] = "gone"
    (problem,) = problems_of(spec)
    assert (problem.reason, problem.dag) == ("MissingProducer", "comp-nested-inner")


def test_malformed_pieces_are_problems_not_crashes(spec):
    root_tasks(spec)["odd"] = {"taskInfo": {"name": "odd"}}
    root_tasks(spec)["consume"]["inputs"]["parameters"]["n"] = {"mystery": 1}
    root_tasks(spec)["produce"]["retryPolicy"] = {"maxRetryCount": 1, "backoffDuration": "soon"}
    spec["components"]["comp-use"]["inputDefinitions"]["artifacts"]["d"]["artifactType"] = {}
    spec["components"]["comp-make"]["outputDefinitions"]["artifacts"]["out"]["artifactType"][
        "schemaTitle"] = "system.Dataset"
    spec["root"]["inputDefinitions"]["parameters"]["x"]["parameterType"] = "COMPLEX"
    reasons = [p.reason for p in problems_of(spec)]
    assert reasons.count("Malformed") == 5


def test_every_problem_is_listed_in_one_bad_request(spec):
    root_tasks(spec)["produce"]["dependentTasks"] = ["consume"]
    root_tasks(spec)["use"]["componentRef"]["name"] = "comp-nothing"
    del root_tasks(spec)["use-any"]["inputs"]
    spec["components"]["comp-produce"]["outputDefinitions"]["parameters"]["Output"][
        "parameterType"] = "STRING"
    with pytest.raises(PipelineSpecInvalid) as caught:
        PipelineGraph.from_ir(spec)
    error = caught.value
    assert isinstance(error, BadRequest) and error.status["code"] == 400
    assert sorted(set(error.reasons())) == ["Cycle", "MissingInput", "TypeMismatch",
                                            "UnknownComponent"]
    text = str(error)
    assert text.startswith('pipeline spec "wired" is invalid (')
    assert 'DAG "root", task "use-any", input "a": required system.Artifact@0.0.1 artifact' \
        in text
    assert PipelineGraph.from_ir(spec, validate=False).problems() == error.problems
    causes = error.status["details"]["causes"]
    assert len(causes) == len(error.problems)
    assert {"reason": "MissingInput",
            "message": "required system.Artifact@0.0.1 artifact has no source",
            "field": 'DAG "root", task "use-any", input "a"'} in causes


def test_a_dense_knot_of_tasks_is_reported_once_without_listing_every_cycle(spec):
    names = [f"t{i}" for i in range(14)]
    for name in names:
        root_tasks(spec)[name] = {"taskInfo": {"name": name}, "componentRef": {"name": "comp-make"},
                                  "dependentTasks": [n for n in names if n != name]}
    (problem,) = [p for p in problems_of(spec) if p.reason == "Cycle"]
    assert problem.message.startswith("tasks wait for each other: t0 → ")
