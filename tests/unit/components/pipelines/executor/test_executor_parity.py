"""Our executor turns an executor input into the executor output kfp's ``executor_main`` produces.

Components are compiled by the real kfp SDK; their module source (the last
element of the IR command) and an executor input built for them are given to
kfp's ``executor_main`` (in a subprocess, with its ``/minio/`` mount prefix
pointed into a temp dir) and to ours (as ``python -m`` in a subprocess with
``$SANDBOX_ARTIFACT_ROOT`` set, and in-process). The artifact URIs are the
same ``minio://`` URIs in both, so the executor outputs must be equal, and so
must every file the component wrote.
"""

# Mutable defaults and functional NamedTuples are what component authors write.

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

pytest.importorskip("kfp")

from kfp import compiler as kfp_compiler
from kfp import dsl

from sandbox.components.pipelines.executor import execute

pytestmark = pytest.mark.slow

URI = "minio://mlpipeline/v2/artifacts/pipe/run-1"


def _components() -> dict[str, Any]:
    """The components under test, defined with the real kfp SDK."""

    @dsl.component(base_image="python:3.11")
    def parameters(text: str, count: int, ratio: float, flag: bool, items: list, mapping: dict,
                   missing: str = "default", maybe: int = 3) -> dict:
        return {"text": text * count, "ratio": ratio * 2, "flag": not flag, "items": [*items, len(items)],
                "mapping": {**mapping, "seen": True}, "missing": missing, "maybe": maybe,
                "types": [type(v).__name__ for v in (text, count, ratio, flag, items, mapping)]}

    @dsl.component(base_image="python:3.11")
    def artifacts(data: dsl.Input[dsl.Dataset], model: dsl.Output[dsl.Model], metrics: dsl.Output[dsl.Metrics],
                  roc: dsl.Output[dsl.ClassificationMetrics], page: dsl.Output[dsl.HTML]) -> str:
        with open(data.path) as f:
            rows = f.read().splitlines()
        with open(model.path, "w") as f:
            f.write(f"model of {len(rows)} rows from {data.name}: {data.metadata}")
        model.metadata["framework"] = "sklearn"
        metrics.log_metric("accuracy", 0.93)
        metrics.log_metric("rows", len(rows))
        roc.log_roc_curve(fpr=[0.0, 0.5, 1.0], tpr=[0.0, 0.8, 1.0], threshold=[1.0, 0.5, 0.0])
        roc.log_confusion_matrix(["cat", "dog"], [[8, 2], [1, 9]])
        roc.log_confusion_matrix_cell("cat", "dog", 3)
        with open(page.path, "w") as f:
            f.write("<h1>hi</h1>")
        return data.uri

    @dsl.component(base_image="python:3.11")
    def paths(raw: dsl.InputPath("Dataset"), out: dsl.OutputPath("Dataset"), number: dsl.OutputPath(int),
              text: dsl.OutputPath(str)):
        with open(raw) as f:
            content = f.read()
        with open(out, "w") as f:
            f.write(content.upper())
        with open(number, "w") as f:
            f.write("42")
        with open(text, "w") as f:
            f.write(content)

    @dsl.component(base_image="python:3.11")
    def named_tuple(x: int) -> NamedTuple("Outputs", [("double", int), ("label", str), ("ratio", float),
                                                      ("values", list), ("model", dsl.Model)]):
        from collections import namedtuple
        outputs = namedtuple("Outputs", ["double", "label", "ratio", "values", "model"])
        return outputs(2 * x, f"x={x}", 1, [x, x], "model-bytes")

    @dsl.component(base_image="python:3.11")
    def returns_artifact(text: str) -> dsl.Model:
        return text.upper()

    @dsl.component(base_image="python:3.11")
    def returns_artifact_object(model: dsl.Output[dsl.Model]) -> dsl.Artifact:
        result = dsl.Artifact(name="made", uri=model.uri + "-extra", metadata={"made": True})
        return result

    @dsl.component(base_image="python:3.11")
    def final_status(status: dsl.PipelineTaskFinalStatus, label: str = "x") -> str:
        return f"{label}:{status.state}:{status.pipeline_task_name}:{status.error_code}:{status.error_message}"

    @dsl.component(base_image="python:3.11")
    def list_of_artifacts(datasets: dsl.Input[list[dsl.Dataset]]) -> list:
        out = []
        for data in datasets:
            with open(data.path) as f:
                out.append([data.name, type(data).__name__, f.read()])
        return out

    @dsl.component(base_image="python:3.11")
    def wrong_type() -> int:
        return "not an int"

    @dsl.component(base_image="python:3.11")
    def no_outputs(text: str):
        print(text)

    return {name: component for name, component in locals().items() if hasattr(component, "component_spec")}


def _artifact(name: str, schema: str, uri: str, metadata: dict | None = None) -> dict:
    return {"artifacts": [{"name": name, "type": {"schemaTitle": schema, "schemaVersion": "0.0.1"}, "uri": uri,
                           "metadata": metadata or {}}]}


CASES: dict[str, dict[str, Any]] = {
    "parameters": {"inputs": {"parameterValues": {"text": "ab", "count": 2, "ratio": 1.25, "flag": True,
                                                  "items": [1, "x", None], "mapping": {"k": [1, 2]}, "maybe": 7}},
                   "outputs": {"parameters": {"Output": "Output"}}},
    "artifacts": {"inputs": {"artifacts": {"data": _artifact("data-1", "system.Dataset", f"{URI}/make/data",
                                                             {"rows": 2})}},
                  "outputs": {"parameters": {"Output": "Output"},
                              "artifacts": {"model": _artifact("model-1", "system.Model", f"{URI}/t/model"),
                                            "metrics": _artifact("m-1", "system.Metrics", f"{URI}/t/metrics"),
                                            "roc": _artifact("roc-1", "system.ClassificationMetrics", f"{URI}/t/roc"),
                                            "page": _artifact("page-1", "system.HTML", f"{URI}/t/page")}}},
    "paths": {"inputs": {"artifacts": {"raw": _artifact("raw-1", "system.Dataset", f"{URI}/make/data")}},
              "outputs": {"parameters": {"number": "number", "text": "text"},
                          "artifacts": {"out": _artifact("out-1", "system.Dataset", f"{URI}/t/out")}}},
    "named_tuple": {"inputs": {"parameterValues": {"x": 21}},
                    "outputs": {"parameters": {"double": "double", "label": "label", "ratio": "ratio",
                                               "values": "values"},
                                "artifacts": {"model": _artifact("model-2", "system.Model", f"{URI}/t/model")}}},
    "returns_artifact": {"inputs": {"parameterValues": {"text": "weights"}},
                         "outputs": {"artifacts": {"Output": _artifact("o-1", "system.Model", f"{URI}/t/Output")}}},
    "returns_artifact_object": {
        "inputs": {}, "outputs": {"artifacts": {"model": _artifact("m-2", "system.Model", f"{URI}/t/model"),
                                                "Output": _artifact("o-2", "system.Artifact", f"{URI}/t/Output")}}},
    "final_status": {"inputs": {"parameterValues": {"status": {
        "state": "FAILED", "pipelineJobResourceName": "run-1", "pipelineTaskName": "train",
        "error": {"code": 2, "message": "boom"}}}},
        "outputs": {"parameters": {"Output": "Output"}}},
    "list_of_artifacts": {"inputs": {"artifacts": {"datasets": {"artifacts": [
        _artifact("d-1", "system.Dataset", f"{URI}/make/data")["artifacts"][0],
        _artifact("d-2", "system.Dataset", f"{URI}/make-2/data")["artifacts"][0]]}}},
        "outputs": {"parameters": {"Output": "Output"}}},
    "no_outputs": {"inputs": {"parameterValues": {"text": "hello"}}, "outputs": {}},
}

INPUT_FILES = {"minio/mlpipeline/v2/artifacts/pipe/run-1/make/data": "row 1\nrow 2\n",
               "minio/mlpipeline/v2/artifacts/pipe/run-1/make-2/data": "other\n"}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str]]:
    """Component name → (module source, function name), from the IR kfp compiles."""
    directory = tmp_path_factory.mktemp("compiled")
    result = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, component in _components().items():
            path = directory / f"{name}.yaml"
            kfp_compiler.Compiler().compile(component, str(path))
            executor = next(iter(yaml.safe_load(path.read_text())["deploymentSpec"]["executors"].values()))
            container = executor["container"]
            result[name] = (container["command"][-1], container["args"][-1])
    return result


def executor_input(case: str, root: Path) -> dict[str, Any]:
    """The case's executor input, with output files under ``root/out``."""
    spec = json.loads(json.dumps(CASES[case]))
    outputs = spec["outputs"]
    outputs["parameters"] = {name: {"outputFile": str(root / "out" / file)}
                             for name, file in outputs.get("parameters", {}).items()}
    outputs["outputFile"] = str(root / "out" / "executor_output.json")
    return spec


def seed(root: Path) -> None:
    for relative, text in INPUT_FILES.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)


def files_written(root: Path) -> dict[str, str]:
    """Every file under ``root`` except the executor output, by relative path."""
    return {str(path.relative_to(root)): path.read_text() for path in sorted(root.rglob("*"))
            if path.is_file() and path.name != "executor_output.json"}


def run_kfp(source: str, function: str, case: str, root: Path) -> subprocess.CompletedProcess[str]:
    """kfp's executor_main, with kfp's /minio/ mount moved under ``root``."""
    seed(root)
    module = root.parent / f"{root.name}_component.py"
    module.write_text(source)
    wrapper = ("import kfp.dsl.types.artifact_types as artifact_types\n"
               f"artifact_types._MINIO_LOCAL_MOUNT_PREFIX = {str(root / 'minio') + '/'!r}\n"
               "from kfp.dsl.executor_main import executor_main\n"
               "executor_main()\n")
    return subprocess.run(
        [sys.executable, "-c", wrapper, "--component_module_path", str(module), "--executor_input",
         json.dumps(executor_input(case, root)), "--function_to_execute", function],
        env={**os.environ, "_KFP_RUNTIME": "true"}, capture_output=True, text=True, timeout=60)


def run_ours(source: str, function: str, case: str, root: Path) -> subprocess.CompletedProcess[str]:
    seed(root)
    return subprocess.run(
        [sys.executable, "-m", "sandbox.components.pipelines.executor", "--component_source", source,
         "--executor_input", json.dumps(executor_input(case, root)), "--function_to_execute", function],
        env={**os.environ, "SANDBOX_ARTIFACT_ROOT": str(root)}, capture_output=True, text=True, timeout=60)


def output_of(root: Path) -> dict[str, Any]:
    return json.loads((root / "out" / "executor_output.json").read_text())


@pytest.fixture(scope="module")
def kfp_results(compiled, tmp_path_factory) -> dict[str, tuple[dict[str, Any], dict[str, str]]]:
    """Case → (kfp's executor output, the files kfp's run wrote)."""
    results = {}
    for case in CASES:
        root = tmp_path_factory.mktemp(f"kfp-{case}")
        done = run_kfp(*compiled[case], case, root)
        assert done.returncode == 0, done.stderr
        results[case] = (output_of(root), files_written(root))
    return results


@pytest.mark.parametrize("case", sorted(CASES))
def test_executor_subprocess_writes_what_kfp_executor_main_writes(case, compiled, kfp_results, tmp_path):
    done = run_ours(*compiled[case], case, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    expected_output, expected_files = kfp_results[case]
    assert output_of(tmp_path) == expected_output
    assert files_written(tmp_path) == expected_files
    assert "[KFP Executor" in done.stdout


@pytest.mark.parametrize("case", sorted(CASES))
def test_executor_in_process_writes_what_kfp_executor_main_writes(case, compiled, kfp_results, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setenv("SANDBOX_ARTIFACT_ROOT", str(tmp_path))
    seed(tmp_path)
    real_kfp = sys.modules["kfp"]
    source, function = compiled[case]
    written = execute(executor_input(case, tmp_path), function_to_execute=function, component_source=source)
    assert written == str(tmp_path / "out" / "executor_output.json")
    expected_output, expected_files = kfp_results[case]
    assert output_of(tmp_path) == expected_output
    assert files_written(tmp_path) == expected_files
    assert sys.modules["kfp"] is real_kfp, "the kfp alias must not outlive the run"
    assert "ephemeral_component" not in sys.modules


def test_a_return_value_of_the_wrong_type_fails_like_kfp(compiled, tmp_path):
    source, function = compiled["wrong_type"]
    spec = {"inputs": {}, "outputs": {"parameters": {"Output": "Output"}}}
    CASES["wrong_type"] = spec
    try:
        theirs = run_kfp(source, function, "wrong_type", tmp_path / "kfp")
        ours = run_ours(source, function, "wrong_type", tmp_path / "ours")
    finally:
        del CASES["wrong_type"]
    assert theirs.returncode == ours.returncode == 1
    message = "Function `wrong_type` returned value of type <class 'str'>; want type <class 'int'>"
    assert message in theirs.stderr
    assert message in ours.stderr
    assert not (tmp_path / "ours" / "out" / "executor_output.json").exists()


def test_the_kfp_launcher_module_path_form_works_without_the_real_kfp(compiled, tmp_path):
    """``--component_module_path`` as kfp's launcher passes it; ``import kfp`` is blocked to prove
    the component only ever sees the sandbox's kfp.dsl."""
    source, function = compiled["artifacts"]
    module = tmp_path / "ephemeral_component.py"
    module.write_text(source)
    root = tmp_path / "root"
    seed(root)
    blocker = ("import sys\n"
               "class Block:\n"
               "    def find_spec(self, name, path=None, target=None):\n"
               "        if name == 'kfp' or name.startswith('kfp.'):\n"
               "            raise ImportError('real kfp must not be imported')\n"
               "sys.meta_path.insert(0, Block())\n"
               "from sandbox.components.pipelines.executor import main\n"
               "sys.exit(main())\n")
    done = subprocess.run(
        [sys.executable, "-c", blocker, "--component_module_path", str(module), "--executor_input",
         json.dumps(executor_input("artifacts", root)), "--function_to_execute", function],
        env={**os.environ, "SANDBOX_ARTIFACT_ROOT": str(root)}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    output = output_of(root)
    assert output["artifacts"]["metrics"]["artifacts"][0]["metadata"] == {"accuracy": 0.93, "rows": 2}
    assert (root / "minio/mlpipeline/v2/artifacts/pipe/run-1/t/model").read_text().startswith("model of 2 rows")
