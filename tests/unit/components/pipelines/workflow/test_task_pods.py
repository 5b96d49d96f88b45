"""Task containers: kfp's launcher becomes the sandbox executor; other commands get placeholders filled."""

# No "from __future__ import annotations": kfp reads the component signatures at decoration time.


import json

import yaml
from kfp import compiler, dsl

from sandbox.components.pipelines.executor.command import EXECUTOR_MODULE, parse_lightweight_command
from sandbox.components.pipelines.workflow.pods import task_container


@dsl.component(base_image="python:3.11", packages_to_install=["numpy", "scikit-learn==1.5.0"])
def train(lr: float) -> float:
    return lr * 2


@dsl.component(base_image="python:3.11")
def stamp(text: str) -> str:
    import json
    import time

    return json.dumps({"text": text, "at": time.time()})


@dsl.component(base_image="python:3.11")
def mean(values: list) -> float:
    import numpy as np

    return float(np.mean(values))


@dsl.container_component
def say(name: str, out: dsl.OutputPath(str)):
    return dsl.ContainerSpec(image="busybox:1.36", command=["sh", "-c"],
                             args=["echo hello $0 > $1", name, out])


@dsl.pipeline(name="p")
def pipeline(lr: float = 0.1):
    train(lr=lr).set_cpu_limit("500m").set_memory_request("256Mi").set_accelerator_type(
        "nvidia.com/gpu").set_accelerator_limit(1).set_env_variable("MODE", "fast")
    say(name="world")
    stamp(text="x")
    mean(values=[1, 2])


def executors(tmp_path) -> dict:
    path = tmp_path / "p.yaml"
    compiler.Compiler().compile(pipeline, str(path))
    return yaml.safe_load(path.read_text())["deploymentSpec"]["executors"]


EI = {"inputs": {"parameterValues": {"lr": 0.1, "name": "world"}},
      "outputs": {"parameters": {"Output": {"outputFile": "/r/Output"}, "out": {"outputFile": "/r/out"}},
                  "outputFile": "/r/executor_output.json"}}


def test_kfp_launcher_is_recognised_with_its_function_and_packages(tmp_path):
    spec = executors(tmp_path)["exec-train"]["container"]
    launcher = parse_lightweight_command(spec["command"], spec["args"])
    assert launcher is not None
    assert launcher.function_to_execute == "train"
    assert launcher.packages_to_install == ["numpy", "scikit-learn==1.5.0"]
    assert "def train(lr: float) -> float:" in launcher.source


def test_a_lightweight_task_runs_the_sandbox_executor_with_resources_and_env(tmp_path):
    container, annotations = task_container(executors(tmp_path)["exec-train"], EI, artifact_root="/art",
                                            path_of=str, context={})
    command = container["command"]
    assert command[:3] == ["python", "-m", EXECUTOR_MODULE]
    assert json.loads(command[command.index("--executor_input") + 1]) == EI
    assert command[command.index("--function_to_execute") + 1] == "train"
    assert command.count("--packages_to_install") == 2
    assert container["resources"] == {"requests": {"memory": "256Mi"},
                                      "limits": {"cpu": "500m", "nvidia.com/gpu": "1"}}
    assert {"name": "MODE", "value": "fast"} in container["env"]
    assert {"name": "SANDBOX_ARTIFACT_ROOT", "value": "/art"} in container["env"]
    assert "pip install" in json.loads(annotations["pipelines.kubeflow.org/kfp-command"])["command"][2]


def test_a_container_component_runs_as_written_with_placeholders_filled(tmp_path):
    container, annotations = task_container(executors(tmp_path)["exec-say"], EI, artifact_root="/art",
                                            path_of=str, context={})
    assert container["image"] == "busybox:1.36"
    assert container["command"] == ["sh", "-c"]
    assert container["args"] == ["echo hello $0 > $1", "world", "/r/out"]
    assert annotations == {}


def test_a_task_whose_component_imports_only_the_standard_library_forks_from_the_minimal_zygote(tmp_path):
    found = executors(tmp_path)
    _, light = task_container(found["exec-stamp"], EI, artifact_root="/art", path_of=str, context={})
    assert light["sandbox.local/zygote"] == "minimal"
    for heavy in ("exec-mean", "exec-train"):  # imports numpy; has packages to install
        _, annotations = task_container(found[heavy], EI, artifact_root="/art", path_of=str, context={})
        assert "sandbox.local/zygote" not in annotations
