"""Compiling single components, compile-time options, and the errors the compiler raises — all as kfp does."""

import json
import warnings
from typing import Any, NamedTuple

import pytest
import yaml

pytest.importorskip("kfp")

from kfp import compiler as kfp_compiler
from kfp import components as kfp_components
from kfp import dsl as kfp_dsl

from sandbox.components.pipelines.compiler import compile_to_dict
from sandbox.pipelines import compiler as our_compiler
from sandbox.pipelines import dsl as our_dsl


def python_component(dsl: Any) -> Any:
    @dsl.component(base_image="python:3.11", packages_to_install=["numpy"], pip_index_urls=["https://pypi.example"])
    def make(n: int, data: dsl.Input[dsl.Dataset], out: dsl.Output[dsl.Model],
             scale: float = 1.5) -> NamedTuple("Out", [("total", int), ("label", str)]):
        """Makes a model.

        Args:
            n: How many.
        """
        return (n, "x")

    return make


def container_component(dsl: Any) -> Any:
    @dsl.container_component
    def shout(text: str, out: dsl.OutputPath(str)):
        """Shouts."""
        return dsl.ContainerSpec(image="alpine", command=["sh", "-c", "echo $0 > $1"], args=[text, out])

    return shout


def exit_component(dsl: Any) -> Any:
    @dsl.component(base_image="python:3.11", target_image="registry.local/exit:1")
    def on_exit(status: dsl.PipelineTaskFinalStatus) -> str:
        return status.state

    return on_exit


@pytest.mark.parametrize("build", [python_component, container_component, exit_component])
def test_a_single_component_compiles_to_the_component_yaml_kfp_writes_and_loads(build, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kfp_compiler.Compiler().compile(build(kfp_dsl), str(tmp_path / "kfp.yaml"))
        ours = build(our_dsl)
    our_compiler.Compiler().compile(ours, str(tmp_path / "ours.yaml"))
    theirs_text, ours_text = (tmp_path / "kfp.yaml").read_text(), (tmp_path / "ours.yaml").read_text()
    assert ours_text == theirs_text
    loaded = kfp_components.load_component_from_file(str(tmp_path / "ours.yaml"))
    assert loaded.name == ours.name
    assert loaded.component_spec.inputs.keys() == ours.component_spec.inputs.keys()


def test_compiling_to_json_is_deprecated_but_writes_the_same_json_as_kfp(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kfp_compiler.Compiler().compile(python_component(kfp_dsl), str(tmp_path / "kfp.json"))
        ours = python_component(our_dsl)
    with pytest.warns(DeprecationWarning, match="Compiling to JSON is deprecated"):
        our_compiler.Compiler().compile(ours, str(tmp_path / "ours.json"))
    assert json.loads((tmp_path / "ours.json").read_text()) == json.loads((tmp_path / "kfp.json").read_text())


def test_output_component_file_writes_the_component_yaml(tmp_path):
    path = tmp_path / "component.yaml"
    with pytest.warns(DeprecationWarning, match="output_component_file parameter is deprecated"):
        @our_dsl.component(base_image="python:3.11", output_component_file=str(path))
        def add(a: int, b: int) -> int:
            return a + b
    assert yaml.safe_load(path.read_text()) == compile_to_dict(add)


def test_the_compiler_refuses_what_kfp_refuses(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        component = python_component(our_dsl)

        @our_dsl.pipeline
        def pipeline(x: int = 1, data: our_dsl.Input[our_dsl.Dataset] = None):
            component(n=x, data=data)

    with pytest.raises(ValueError, match=r'should end with "\.yaml"'):
        our_compiler.Compiler().compile(component, str(tmp_path / "out.txt"))
    with pytest.raises(ValueError, match="Unsupported pipeline_func type"):
        our_compiler.Compiler().compile(lambda: None, str(tmp_path / "out.yaml"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Pipeline parameter nope does not match any known pipeline input\."):
        our_compiler.Compiler().compile(pipeline, str(tmp_path / "out.yaml"), pipeline_parameters={"nope": 1})
    with pytest.raises(NotImplementedError, match=r"Default value for artifact input is not supported\."):
        our_compiler.Compiler().compile(pipeline, str(tmp_path / "out.yaml"), pipeline_parameters={"data": "x"})


# --- errors: the same exception, with the same message, from both SDKs -----------------------------

def cross_condition_dependency(dsl: Any) -> Any:
    @dsl.component(base_image="python:3.11")
    def step(x: int) -> int:
        return x

    @dsl.pipeline
    def pipeline(x: int = 1):
        with dsl.If(x == 1):
            inside = step(x=x)
        step(x=inside.output)

    return pipeline


def loop_output_without_collected(dsl: Any) -> Any:
    @dsl.component(base_image="python:3.11")
    def step(x: int) -> int:
        return x

    @dsl.pipeline
    def pipeline():
        with dsl.ParallelFor([1, 2]) as item:
            inside = step(x=item)
        step(x=inside.output)

    return pipeline


def collected_outside_a_loop(dsl: Any) -> Any:
    @dsl.component(base_image="python:3.11")
    def step(x: int) -> int:
        return x

    @dsl.component(base_image="python:3.11")
    def total(xs: list) -> int:
        return 0

    @dsl.pipeline
    def pipeline():
        total(xs=dsl.Collected(step(x=1).output))

    return pipeline


def final_status_outside_an_exit_handler(dsl: Any) -> Any:
    @dsl.component(base_image="python:3.11")
    def report(status: dsl.PipelineTaskFinalStatus):
        pass

    @dsl.pipeline
    def pipeline():
        report()

    return pipeline


def exit_handler_inside_a_condition(dsl: Any) -> Any:
    @dsl.component(base_image="python:3.11")
    def step(x: int):
        pass

    @dsl.pipeline
    def pipeline(x: int = 1):
        with dsl.If(x == 1), dsl.ExitHandler(step(x=0)):
            step(x=1)

    return pipeline


def exit_task_with_an_upstream(dsl: Any) -> Any:
    @dsl.component(base_image="python:3.11")
    def step(x: int) -> int:
        return x

    @dsl.pipeline
    def pipeline():
        first = step(x=1)
        with dsl.ExitHandler(step(x=first.output)):
            step(x=2)

    return pipeline


def output_returned_from_a_loop(dsl: Any) -> Any:
    @dsl.component(base_image="python:3.11")
    def step(x: int) -> int:
        return x

    @dsl.pipeline
    def pipeline() -> int:
        with dsl.ParallelFor([1]) as item:
            inner = step(x=item)
        return inner.output

    return pipeline


def missing_pipeline_output(dsl: Any) -> Any:
    @dsl.component(base_image="python:3.11")
    def step(x: int) -> int:
        return x

    @dsl.pipeline
    def pipeline() -> int:
        step(x=1)

    return pipeline


def condition_on_a_list(dsl: Any) -> Any:
    @dsl.component(base_image="python:3.11")
    def step(x: int) -> int:
        return x

    @dsl.pipeline
    def pipeline(values: list = []):  # noqa: B006
        with dsl.If(values == [1]):
            step(x=1)

    return pipeline


def ignore_upstream_failure_with_final_status_but_no_upstream(dsl: Any) -> Any:
    @dsl.component(base_image="python:3.11")
    def report(status: dsl.PipelineTaskFinalStatus):
        pass

    @dsl.pipeline
    def pipeline():
        report().ignore_upstream_failure()

    return pipeline


@pytest.mark.parametrize("build", [
    cross_condition_dependency, loop_output_without_collected, collected_outside_a_loop,
    final_status_outside_an_exit_handler, exit_handler_inside_a_condition, exit_task_with_an_upstream,
    output_returned_from_a_loop, missing_pipeline_output, condition_on_a_list,
    ignore_upstream_failure_with_final_status_but_no_upstream,
], ids=lambda build: build.__name__)
def test_topology_errors_match_kfp(build):
    raised = []
    for dsl in (kfp_dsl, our_dsl):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(Exception) as error:
                build(dsl)
        raised.append((type(error.value).__name__, str(error.value)))
    assert raised[1] == raised[0]
