"""kfp's lightweight-component command in IR → the sandbox executor's arguments, for every way kfp writes it."""

import json
import warnings
from typing import Any

import pytest
import yaml

pytest.importorskip("kfp")

from kfp import compiler as kfp_compiler
from kfp import dsl as kfp_dsl

from sandbox.components.pipelines.executor import (
    LightweightCall,
    execute,
    executor_argv,
    parse_args,
    parse_lightweight_command,
)
from sandbox.components.pipelines.executor.command import imports_only_stdlib
from sandbox.pipelines import compiler as our_compiler
from sandbox.pipelines import dsl as our_dsl


def _container(component: Any, compiler: Any, tmp_path: Any) -> dict[str, Any]:
    path = tmp_path / "component.yaml"
    compiler.Compiler().compile(component, str(path))
    return next(iter(yaml.safe_load(path.read_text())["deploymentSpec"]["executors"].values()))["container"]


OPTIONS = {
    "no packages": ({}, []),
    "packages": ({"packages_to_install": ["numpy", "scikit-learn>=1.4", "it's"]},
                 ["numpy", "scikit-learn>=1.4", "it's"]),
    "index urls": ({"packages_to_install": ["pandas"], "pip_index_urls": ["https://a/simple", "https://b"],
                    "pip_trusted_hosts": ["a"]}, ["pandas"]),
    "no kfp install": ({"packages_to_install": ["numpy"], "install_kfp_package": False}, ["numpy"]),
    "no kfp install, no packages": ({"install_kfp_package": False}, []),
    "user pins kfp": ({"packages_to_install": ["kfp==2.15.2", "numpy"]}, ["kfp==2.15.2", "numpy"]),
    "venv": ({"packages_to_install": ["numpy"], "use_venv": True}, ["numpy"]),
}


@pytest.mark.parametrize("sdk", ["kfp", "ours"])
@pytest.mark.parametrize("case", sorted(OPTIONS))
def test_the_call_is_recovered_from_the_compiled_command(case, sdk, tmp_path):
    options, packages = OPTIONS[case]
    dsl, compiler = (kfp_dsl, kfp_compiler) if sdk == "kfp" else (our_dsl, our_compiler)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        @dsl.component(base_image="python:3.11", **options)
        def greet(name: str) -> str:
            return f"hi {name}"

    container = _container(greet, compiler, tmp_path)
    call = parse_lightweight_command(container["command"], container["args"])
    assert call == LightweightCall(source=container["command"][-1], function_to_execute="greet",
                                   packages_to_install=packages)


def test_containerized_and_container_components_are_not_lightweight(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        @kfp_dsl.component(base_image="python:3.11", target_image="registry.local/greet:1")
        def greet(name: str) -> str:
            return name

        @kfp_dsl.container_component
        def shell(text: str):
            return kfp_dsl.ContainerSpec(image="alpine", command=["sh", "-ec", "echo kfp.dsl.executor_main"],
                                         args=[text])

    for component in (greet, shell):
        container = _container(component, kfp_compiler, tmp_path)
        assert parse_lightweight_command(container.get("command", []), container.get("args", [])) is None


def test_the_recovered_call_runs_in_the_executor(tmp_path, monkeypatch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        @kfp_dsl.component(base_image="python:3.11", packages_to_install=["pyyaml"])
        def greet(name: str) -> str:
            return f"hi {name}"

    container = _container(greet, kfp_compiler, tmp_path)
    call = parse_lightweight_command(container["command"], container["args"])
    executor_input = json.dumps({"inputs": {"parameterValues": {"name": "sandbox"}},
                                 "outputs": {"outputFile": str(tmp_path / "out.json")}})
    args = parse_args(executor_argv(call, executor_input))
    assert args.packages_to_install == ["pyyaml"]
    monkeypatch.setenv("SANDBOX_ARTIFACT_ROOT", str(tmp_path))
    execute(args.executor_input, function_to_execute=args.function_to_execute,
            component_source=args.component_source, packages_to_install=args.packages_to_install)
    assert json.loads((tmp_path / "out.json").read_text()) == {"parameterValues": {"Output": "hi sandbox"}}


@pytest.mark.parametrize(("source", "expected"), [
    ("import json\nfrom kfp import dsl\nfrom typing import *\ndef f():\n    import os.path\n", True),
    ("def f():\n    from collections import abc\n    return abc\n", True),
    ("def f():\n    import numpy as np\n", False),
    ("def f():\n    from sklearn.metrics import f1_score\n", False),
    ("import json, pandas\n", False),
    ("from . import helpers\n", False),
    ("def f(:\n", False),  # does not parse: no sure answer
])
def test_imports_only_stdlib_looks_at_every_import_in_the_module(source, expected):
    assert imports_only_stdlib(source) is expected
