"""The DSL's decorators: kfp's names, interfaces, messages — and no local execution."""

import subprocess
import sys
import warnings
from typing import Any

import pytest

from sandbox.components.pipelines.dsl.factory import parse_docstring
from sandbox.pipelines import dsl

kfp_dsl = pytest.importorskip("kfp.dsl")

# kfp.dsl names the sandbox deliberately leaves out (see the package docstring of the DSL).
NOT_PROVIDED = {"notebook_component", "run_notebook", "PipelineConfig", "WorkspaceConfig",
                "KubernetesWorkspaceConfig", "TaskConfigField", "TaskConfigPassthrough"}


def test_the_dsl_exports_kfp_dsl_names():
    missing = set(kfp_dsl.__all__) - NOT_PROVIDED - set(dir(dsl))
    assert not missing
    assert dsl.PIPELINE_JOB_NAME_PLACEHOLDER == kfp_dsl.PIPELINE_JOB_NAME_PLACEHOLDER
    assert dsl.PIPELINE_ROOT_PLACEHOLDER == kfp_dsl.PIPELINE_ROOT_PLACEHOLDER
    assert dsl.WORKSPACE_PATH_PLACEHOLDER == kfp_dsl.WORKSPACE_PATH_PLACEHOLDER


def test_the_facade_mirrors_kfps_import_forms():
    from sandbox.pipelines.compiler import Compiler
    from sandbox.pipelines.dsl import Input, Output, component

    assert component is dsl.component
    assert Input is dsl.Input and Output is dsl.Output
    assert Compiler.__name__ == "Compiler"


def test_importing_the_dsl_and_executor_pulls_in_nothing_heavy():
    code = ("import sys\n"
            "import sandbox.components.pipelines.dsl, sandbox.components.pipelines.executor\n"
            "heavy = [m for m in ('kfp', 'networkx', 'httpx', 'starlette', 'uvicorn', 'sandbox.client', "
            "'sandbox.runtime', 'sandbox.cluster', 'sandbox.store', 'sandbox.components.pipelines.compiler') "
            "if m in sys.modules]\n"
            "print(heavy)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr


def test_calling_a_component_outside_a_pipeline_is_a_clear_error():
    @dsl.component(base_image="python:3.11")
    def add(a: int, b: int) -> int:
        return a + b

    with pytest.raises(dsl.LocalExecutionNotSupported, match=r"outside a pipeline.*does not implement kfp.local"):
        add(a=1, b=2)

    @dsl.pipeline
    def pipeline():
        add(a=1, b=2)

    with pytest.raises(dsl.LocalExecutionNotSupported):
        pipeline()
    with pytest.raises(dsl.LocalExecutionNotSupported):
        dsl.importer(artifact_uri="minio://b/k", artifact_class=dsl.Dataset)


def test_component_defaults_and_recorded_packages():
    with pytest.warns(FutureWarning, match="python:3.12"):
        @dsl.component(packages_to_install=["numpy", "scikit-learn>=1.4"])
        def train(x: int) -> float:
            return 0.0

    assert train.base_image == "python:3.11"
    assert train.packages_to_install == ["numpy", "scikit-learn>=1.4"]
    container = train.component_spec.implementation.container
    assert container.image == "python:3.11"
    assert "'numpy' 'scikit-learn>=1.4'" in container.command[2]
    assert "'kfp==2.15.2'" in container.command[2]
    assert container.command[3:5] == ["sh", "-ec"]
    assert container.command[-1].startswith("\nimport kfp\nfrom kfp import dsl\nfrom kfp.dsl import *\n")
    assert "def train(x: int) -> float:" in container.command[-1]
    assert container.args == ["--executor_input", "{{$}}", "--function_to_execute", "train"]


def _error(build: Any, module: Any) -> tuple[str, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as raised:
            build(module)
    # A message naming an artifact class names its module, which differs between the SDKs.
    message = str(raised.value).replace("sandbox.components.pipelines.dsl.artifacts.", "")
    return type(raised.value).__name__, message.replace("kfp.dsl.types.artifact_types.", "")


def positional_arguments(dsl: Any) -> Any:
    @dsl.component(base_image="python:3.11")
    def add(a: int, b: int) -> int:
        return a + b

    @dsl.pipeline
    def pipeline():
        add(1, 2)

    return pipeline


def unexpected_argument(dsl: Any) -> Any:
    @dsl.component(base_image="python:3.11")
    def add(a: int, b: int) -> int:
        return a + b

    @dsl.pipeline
    def pipeline():
        add(a=1, b=2, c=3)

    return pipeline


def missing_arguments(dsl: Any) -> Any:
    @dsl.component(base_image="python:3.11")
    def add(a: int, b_value: int) -> int:
        return a

    @dsl.pipeline
    def pipeline():
        add()

    return pipeline


def int_for_a_float(dsl: Any) -> Any:
    @dsl.component(base_image="python:3.11")
    def scale(x: float) -> float:
        return x

    @dsl.pipeline
    def pipeline():
        scale(x=1)

    return pipeline


def artifact_for_a_parameter(dsl: Any) -> Any:
    @dsl.component(base_image="python:3.11")
    def make(out: dsl.Output[dsl.Dataset]):
        pass

    @dsl.component(base_image="python:3.11")
    def use(x: str):
        pass

    @dsl.pipeline
    def pipeline():
        use(x=make().output)

    return pipeline


def wrong_artifact_type(dsl: Any) -> Any:
    @dsl.component(base_image="python:3.11")
    def make(out: dsl.Output[dsl.Dataset]):
        pass

    @dsl.component(base_image="python:3.11")
    def use(model: dsl.Input[dsl.Model]):
        pass

    @dsl.pipeline
    def pipeline():
        use(model=make().output)

    return pipeline


def missing_annotation(dsl: Any) -> Any:
    @dsl.component(base_image="python:3.11")
    def bad(x):
        pass

    return bad


def output_as_a_parameter_name(dsl: Any) -> Any:
    @dsl.component(base_image="python:3.11")
    def bad(Output: int):
        pass

    return bad


def artifact_default_other_than_none(dsl: Any) -> Any:
    @dsl.component(base_image="python:3.11")
    def bad(data: dsl.Input[dsl.Dataset] = "x"):
        pass

    return bad


def container_component_bare_artifact(dsl: Any) -> Any:
    @dsl.container_component
    def bad(data: dsl.Dataset):
        return dsl.ContainerSpec(image="alpine")

    return bad


def container_component_whole_artifact(dsl: Any) -> Any:
    @dsl.container_component
    def bad(data: dsl.Input[dsl.Dataset]):
        return dsl.ContainerSpec(image="alpine", args=[data])

    return bad


def multiple_outputs_as_output(dsl: Any) -> Any:
    @dsl.component(base_image="python:3.11")
    def two(a: dsl.OutputPath(str), b: dsl.OutputPath(str)):
        pass

    @dsl.component(base_image="python:3.11")
    def use(x: str):
        pass

    @dsl.pipeline
    def pipeline():
        use(x=two().output)

    return pipeline


def empty_pipeline(dsl: Any) -> Any:
    @dsl.pipeline
    def pipeline():
        pass

    return pipeline


def invalid_pipeline_name(dsl: Any) -> Any:
    @dsl.component(base_image="python:3.11")
    def step():
        pass

    @dsl.pipeline(name="x" * 200)
    def pipeline():
        step()

    return pipeline


@pytest.mark.parametrize("build", [
    positional_arguments, unexpected_argument, missing_arguments, int_for_a_float, artifact_for_a_parameter,
    wrong_artifact_type, missing_annotation, output_as_a_parameter_name, artifact_default_other_than_none,
    container_component_bare_artifact, container_component_whole_artifact, multiple_outputs_as_output,
    empty_pipeline, invalid_pipeline_name,
], ids=lambda build: build.__name__)
def test_definition_errors_match_kfp(build):
    assert _error(build, dsl) == _error(build, kfp_dsl)


@pytest.mark.parametrize("docstring, expected", [
    ("Short.\n\nLong text\nover lines.\n\nArgs:\n    a: First\n        continued.\n    b (int): Second.\n\n"
     "Returns:\n    The result.", ("Short.", "Long text\nover lines.", {"a": "First\ncontinued.", "b": "Second."})),
    ("Only a line.", ("Only a line.", None, {})),
    (":param a: Alpha\n:param int b: Beta", (None, None, {"a": "Alpha", "b": "Beta"})),
    ("Summary\n\nParameters\n----------\na : int\n    The a.\nb : str\n    The b.\n",
     ("Summary", None, {"a": "The a.", "b": "The b."})),
    (None, (None, None, {})),
])
def test_docstrings_of_the_common_styles_give_descriptions(docstring, expected):
    assert parse_docstring(docstring) == expected


def test_component_interface_reads_descriptions_like_kfp():
    def build(module: Any) -> Any:
        @module.component(base_image="python:3.11")
        def described(a: int, b: str = "x", out: module.OutputPath(str) = None) -> int:
            """Does things.

            Args:
                a: The a input.
                b: The b
                    input.
                out: Where it goes.

            Returns:
                Output: The result.
            """
            return a

        return described

    theirs = build(kfp_dsl)
    ours = build(dsl)
    for name, spec in ours.component_spec.inputs.items():
        assert spec.description == theirs.component_spec.inputs[name].description
    for name, spec in ours.component_spec.outputs.items():
        assert spec.description == theirs.component_spec.outputs[name].description
    assert ours.description == theirs.description == "Does things."
