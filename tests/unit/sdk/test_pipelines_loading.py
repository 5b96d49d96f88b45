"""load_pipeline: .py files written with sandbox.pipelines.dsl or kfp.dsl, and compiled IR files."""


import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from sandbox.pipelines import compiler
from sandbox.sdk.pipelines import PipelineLoadError, load_pipeline
from sandbox.sdk.pipelines.loading import compile_pipeline, dsl_of

SANDBOX_FILE = """\
from sandbox.pipelines import dsl
from helpers import GREETING

@dsl.component(base_image="python:3.11")
def hello(name: str) -> str:
    return GREETING + name

@dsl.pipeline(name="hello-pipeline")
def hello_pipeline(name: str = "world"):
    hello(name=name)
"""

KFP_FILE = """\
from kfp import dsl

@dsl.component(base_image="python:3.11")
def hello(name: str) -> str:
    return "hello " + name

@dsl.pipeline(name="hello-pipeline")
def hello_pipeline(name: str = "world"):
    hello(name=name)
"""

TWO_PIPELINES = """\
from sandbox.pipelines import dsl

@dsl.component(base_image="python:3.11")
def add(a: int, b: int) -> int:
    return a + b

@dsl.pipeline(name="first")
def first(x: int = 1):
    add(a=x, b=1)

@dsl.pipeline(name="second-one")
def second(x: int = 2):
    add(a=x, b=2)
"""

NESTED = """\
from sandbox.pipelines import dsl

@dsl.component(base_image="python:3.11")
def add(a: int, b: int) -> int:
    return a + b

@dsl.pipeline(name="inner")
def inner(x: int = 1) -> int:
    return add(a=x, b=1).output

@dsl.pipeline(name="outer")
def outer(x: int = 1):
    inner(x=x)
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_sandbox_dsl_file_is_imported_with_its_folder_on_the_path(tmp_path: Path) -> None:
    write(tmp_path, "helpers.py", 'GREETING = "hi "\n')
    pipeline = load_pipeline(write(tmp_path, "hello.py", SANDBOX_FILE))
    assert (pipeline.name, pipeline.dsl, pipeline.function) == ("hello-pipeline", "sandbox", "hello_pipeline")
    assert pipeline.spec["pipelineInfo"]["name"] == "hello-pipeline"
    assert "comp-hello" in pipeline.spec["components"]
    assert str(tmp_path) not in sys.path


def test_a_kfp_dsl_file_is_compiled_by_kfp_to_the_same_ir(tmp_path: Path) -> None:
    kfp = load_pipeline(write(tmp_path, "hello_kfp.py", KFP_FILE))
    assert kfp.dsl == "kfp"
    assert kfp.spec["sdkVersion"].startswith("kfp-")
    write(tmp_path, "helpers.py", 'GREETING = "hello "\n')
    ours = load_pipeline(write(tmp_path, "hello_ours.py", SANDBOX_FILE))
    assert kfp.spec["root"] == ours.spec["root"]
    assert kfp.spec["components"] == ours.spec["components"]


def test_loading_a_sandbox_pipeline_never_imports_kfp(tmp_path: Path) -> None:
    write(tmp_path, "helpers.py", 'GREETING = "hi "\n')
    path = write(tmp_path, "hello.py", SANDBOX_FILE)
    code = ("import sys; from sandbox.sdk.pipelines import load_pipeline; "
            f"load_pipeline({str(path)!r}); print('kfp' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_compiled_yaml_and_json_files_load_as_ir(tmp_path: Path) -> None:
    write(tmp_path, "helpers.py", 'GREETING = "hi "\n')
    source = load_pipeline(write(tmp_path, "hello.py", SANDBOX_FILE))
    module = sys.modules[next(n for n in sys.modules if n.startswith("_sandbox_pipeline_hello_"))]
    compiler.Compiler().compile(module.hello_pipeline, str(tmp_path / "hello.yaml"))
    from_yaml = load_pipeline(tmp_path / "hello.yaml")
    assert from_yaml.dsl == "ir" and from_yaml.spec == source.spec
    (tmp_path / "hello.json").write_text(json.dumps(source.spec))
    assert load_pipeline(tmp_path / "hello.json").spec == source.spec


def test_a_yaml_file_without_a_pipeline_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(yaml.safe_dump({"kind": "ConfigMap"}))
    with pytest.raises(PipelineLoadError, match=r"(?s)x.yaml: .*no pipeline spec"):
        load_pipeline(tmp_path / "x.yaml")


def test_function_picks_one_of_several_pipelines_by_python_or_pipeline_name(tmp_path: Path) -> None:
    path = write(tmp_path, "two.py", TWO_PIPELINES)
    with pytest.raises(PipelineLoadError, match=r"defines 2 pipelines \(first, second\).*--function"):
        load_pipeline(path)
    assert load_pipeline(path, function="second").name == "second-one"
    assert load_pipeline(path, function="second-one").function == "second"
    with pytest.raises(PipelineLoadError, match=r"no pipeline named 'third'; its pipelines: first, second"):
        load_pipeline(path, function="third")


def test_a_pipeline_nested_in_another_does_not_count(tmp_path: Path) -> None:
    assert load_pipeline(write(tmp_path, "nested.py", NESTED)).name == "outer"


def test_errors_in_the_users_file_name_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.py", "from sandbox.pipelines import dsl\n\nx = 1\nundefined_name\n")
    with pytest.raises(PipelineLoadError, match=r"broken.py, line 4: NameError: name 'undefined_name'"):
        load_pipeline(path)
    with pytest.raises(PipelineLoadError, match=r"bad.py, line 1: SyntaxError"):
        load_pipeline(write(tmp_path, "bad.py", "def (:\n"))


def test_a_kfp_file_without_kfp_says_which_import_to_change(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "kfp", None)  # as if kfp were not installed
    with pytest.raises(PipelineLoadError, match=r"from sandbox.pipelines import dsl"):
        load_pipeline(write(tmp_path, "hello_kfp.py", KFP_FILE))


def test_files_without_pipelines_or_of_other_kinds_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PipelineLoadError, match="defines no pipeline"):
        load_pipeline(write(tmp_path, "empty.py", "x = 1\n"))
    with pytest.raises(PipelineLoadError, match="no such file"):
        load_pipeline(tmp_path / "missing.py")
    with pytest.raises(PipelineLoadError, match=r"expected a pipeline written in Python"):
        load_pipeline(write(tmp_path, "notes.txt", "hello"))
    (tmp_path / "p.yaml").write_text("a: 1")
    with pytest.raises(PipelineLoadError, match=r"function= applies to \.py files only"):
        load_pipeline(tmp_path / "p.yaml", function="x")


def test_dsl_of_tells_the_two_dsls_apart_and_compile_refuses_other_objects() -> None:
    from kfp import dsl as kfp_dsl

    from sandbox.pipelines import dsl

    @dsl.component(base_image="python:3.11")
    def one() -> int:
        return 1

    @dsl.pipeline(name="p")
    def ours() -> None:
        one()

    @kfp_dsl.component(base_image="python:3.11")
    def two() -> int:
        return 2

    @kfp_dsl.pipeline(name="p")
    def theirs() -> None:
        two()

    assert (dsl_of(ours), dsl_of(theirs), dsl_of(one), dsl_of(42)) == ("sandbox", "kfp", None, None)
    with pytest.raises(TypeError):
        compile_pipeline(one)
