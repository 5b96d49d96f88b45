"""Task methods and control flow: what they record, and the errors they raise (kfp's, word for word)."""

import warnings
from typing import Any

import pytest

from sandbox.pipelines import dsl

kfp_dsl = pytest.importorskip("kfp.dsl")

IMAGE = "python:3.11"


def _capture(build: Any, module: Any) -> Any:
    """Runs ``build(module, record)`` inside a pipeline and returns what ``record`` got."""
    captured: dict[str, Any] = {}

    @module.component(base_image=IMAGE)
    def step(x: int = 0) -> int:
        return x

    @module.pipeline
    def pipeline(p: int = 1, items: list = [1, 2]):  # noqa: B006
        build(module, step, captured, p, items)

    return captured


def _error(build: Any, module: Any) -> tuple[str, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as raised:
            _capture(build, module)
    return type(raised.value).__name__, str(raised.value)


def test_task_methods_chain_and_record_their_settings():
    def build(module: Any, step: Any, captured: dict[str, Any], p: Any, items: Any) -> None:
        first = step(x=1)
        captured["task"] = (step(x=p).after(first).set_retry(2, backoff_duration="30s").set_caching_options(False)
                            .set_cpu_request("100m").set_memory_limit("1Gi").set_accelerator_type("nvidia.com/gpu")
                            .set_env_variable("A", "1").set_display_name("Step").set_container_image("img:1"))
        captured["first"] = first

    task = _capture(build, dsl)["task"]
    assert isinstance(task, dsl.PipelineTask)
    assert task.name == "step-2"
    assert task.dependent_tasks == ["step"]
    assert task._task_spec.retry_policy.to_ir() == {"maxRetryCount": 2, "backoffDuration": "30s",
                                                    "backoffFactor": 2.0, "backoffMaxDuration": "3600s"}
    assert task._task_spec.enable_caching is False
    assert task._task_spec.display_name == "Step"
    resources = task.container_spec.resources
    assert (resources.cpu_request, resources.memory_limit) == ("100m", "1Gi")
    assert (resources.accelerator_type, resources.accelerator_count) == ("nvidia.com/gpu", "1")
    assert task.container_spec.env == {"A": "1"}
    assert task.container_spec.image == "img:1"
    assert task.output.name == "Output"
    assert task.inputs["x"].name == "p"


def invalid_cpu(module: Any, step: Any, captured: Any, p: Any, items: Any) -> None:
    step().set_cpu_limit("lots")


def invalid_memory(module: Any, step: Any, captured: Any, p: Any, items: Any) -> None:
    step().set_memory_request("1GB")


def invalid_accelerator_limit(module: Any, step: Any, captured: Any, p: Any, items: Any) -> None:
    step().set_accelerator_limit(3)


def resources_on_an_importer(module: Any, step: Any, captured: Any, p: Any, items: Any) -> None:
    module.importer(artifact_uri="gs://b/k", artifact_class=module.Dataset).set_cpu_limit("1")


def ignore_upstream_failure_on_a_required_input(module: Any, step: Any, captured: Any, p: Any, items: Any) -> None:
    @module.component(base_image=IMAGE)
    def need(x: int) -> int:
        return x

    need(x=step().output).ignore_upstream_failure()


def elif_without_if(module: Any, step: Any, captured: Any, p: Any, items: Any) -> None:
    with module.Elif(p == 1):
        step()


def else_after_else(module: Any, step: Any, captured: Any, p: Any, items: Any) -> None:
    with module.If(p == 1):
        step()
    with module.Else():
        step()
    with module.Else():
        step()


def condition_on_a_constant(module: Any, step: Any, captured: Any, p: Any, items: Any) -> None:
    with module.If(1 == 1):
        step()


def negative_parallelism(module: Any, step: Any, captured: Any, p: Any, items: Any) -> None:
    with module.ParallelFor([1, 2], parallelism=-1):
        step()


def loop_over_a_single_parameter(module: Any, step: Any, captured: Any, p: Any, items: Any) -> None:
    with module.ParallelFor(p):
        step()


def loop_over_an_empty_list(module: Any, step: Any, captured: Any, p: Any, items: Any) -> None:
    with module.ParallelFor([]):
        step()


def oneof_without_else(module: Any, step: Any, captured: Any, p: Any, items: Any) -> None:
    with module.If(p == 1):
        a = step()
    with module.Elif(p == 2):
        b = step()
    module.OneOf(a.output, b.output)


def oneof_mixing_types(module: Any, step: Any, captured: Any, p: Any, items: Any) -> None:
    @module.component(base_image=IMAGE)
    def text() -> str:
        return ""

    with module.If(p == 1):
        a = step()
    with module.Else():
        b = text()
    module.OneOf(a.output, b.output)


def collected_of_a_oneof(module: Any, step: Any, captured: Any, p: Any, items: Any) -> None:
    with module.If(p == 1):
        a = step()
    with module.Else():
        b = step()
    module.Collected(module.OneOf(a.output, b.output))


def oneof_in_an_fstring(module: Any, step: Any, captured: Any, p: Any, items: Any) -> None:
    with module.If(p == 1):
        a = step()
    with module.Else():
        b = step()
    f"{module.OneOf(a.output, b.output)}"


def invalid_subvariable(module: Any, step: Any, captured: Any, p: Any, items: Any) -> None:
    with module.ParallelFor([{"a": 1}]) as item:
        step(x=getattr(item, "not-valid"))


def concat_with_a_list_if_present(module: Any, step: Any, captured: Any, p: Any, items: Any) -> None:
    module.ConcatPlaceholder(["a", module.IfPresentPlaceholder(input_name="x", then=["b", "c"])])


@pytest.mark.parametrize("build", [
    invalid_cpu, invalid_memory, invalid_accelerator_limit, resources_on_an_importer,
    ignore_upstream_failure_on_a_required_input, elif_without_if, else_after_else, condition_on_a_constant,
    negative_parallelism, loop_over_a_single_parameter, loop_over_an_empty_list, oneof_without_else,
    oneof_mixing_types, collected_of_a_oneof, oneof_in_an_fstring, invalid_subvariable,
    concat_with_a_list_if_present,
], ids=lambda build: build.__name__)
def test_misuse_raises_the_error_kfp_raises(build):
    assert _error(build, dsl) == _error(build, kfp_dsl)


def test_group_names_follow_kfps_numbering():
    def build(module: Any, step: Any, captured: dict[str, Any], p: Any, items: Any) -> None:
        with module.ParallelFor([1, 2]) as item:
            captured["item"] = item
            step(x=item)
        with module.If(p == 1) as first:
            step()
        with module.Elif(p == 2) as second:
            step()
        with module.Else() as third:
            step()
        with module.ExitHandler(step()) as handler:
            step()
        captured["groups"] = [first, second, third, handler]

    for module in (dsl, kfp_dsl):
        captured = _capture(build, module)
        assert captured["item"].name == "loop-item-param-1"
        assert [group.name for group in captured["groups"]] == ["condition-4", "condition-5", "condition-6",
                                                                "exit-handler-7"]
        assert captured["groups"][0].parent_task_group.name == "condition-branches-3"


def test_conditions_of_elif_and_else_negate_the_earlier_branches():
    def build(module: Any, step: Any, captured: dict[str, Any], p: Any, items: Any) -> None:
        with module.If(p == 1) as first:
            step()
        with module.Elif(p > 5) as second:
            step()
        with module.Else() as third:
            step()
        captured["conditions"] = [[(c.operator, c.right_operand, c.negate) for c in group.conditions]
                                  for group in (first, second, third)]

    assert _capture(build, dsl)["conditions"] == [
        [("==", 1, False)], [("==", 1, True), (">", 5, False)], [("==", 1, True), (">", 5, True)]]
