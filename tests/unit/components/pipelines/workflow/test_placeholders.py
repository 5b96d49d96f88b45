"""Container placeholders resolve as KFP's driver resolves them."""

from __future__ import annotations

import json

import pytest

from sandbox.components.pipelines.workflow.placeholders import PlaceholderError, resolve_command

EI = {
    "inputs": {
        "parameterValues": {"name": "world", "n": 3, "flag": True, "items": [1, 2]},
        "artifacts": {"data": {"artifacts": [{"name": "data", "uri": "minio://mlpipeline/a/data",
                                              "metadata": {"rows": 3}}]}},
    },
    "outputs": {
        "parameters": {"count": {"outputFile": "/run/t/count"}},
        "artifacts": {"model": {"artifacts": [{"name": "model", "uri": "minio://mlpipeline/a/model"}]}},
        "outputFile": "/run/t/executor_output.json",
    },
}


def resolve(items):
    return resolve_command(items, EI, path_of=lambda uri: "/store/" + uri.split("://", 1)[1],
                           context={"pipeline_job_name": "demo-abc"})


def test_parameters_artifacts_outputs_and_context():
    assert resolve([
        "echo", "hello {{$.inputs.parameters['name']}}", "{{$.inputs.parameters['n']}}",
        "{{$.inputs.parameters['flag']}}", "{{$.inputs.parameters['items']}}",
        "{{$.inputs.artifacts['data'].path}}", "{{$.inputs.artifacts['data'].uri}}",
        "{{$.inputs.artifacts['data'].metadata}}", "{{$.outputs.parameters['count'].output_file}}",
        "{{$.outputs.artifacts['model'].path}}", "{{$.outputs.output_file}}", "{{$.pipeline_job_name}}",
    ]) == ["echo", "hello world", "3", "true", "[1, 2]", "/store/mlpipeline/a/data",
           "minio://mlpipeline/a/data", '{"rows": 3}', "/run/t/count", "/store/mlpipeline/a/model",
           "/run/t/executor_output.json", "demo-abc"]


def test_the_whole_executor_input():
    assert json.loads(resolve(["{{$}}"])[0]) == EI


def test_if_present_and_concat_structs_are_spliced():
    if_present = json.dumps({"IfPresent": {"InputName": "name", "Then": ["--name", "{{$.inputs.parameters['name']}}"]}})
    absent = json.dumps({"IfPresent": {"InputName": "missing", "Then": ["--x"], "Else": ["--none"]}})
    concat = json.dumps({"Concat": ["--n=", "{{$.inputs.parameters['n']}}"]})
    assert resolve(["run", if_present, absent, concat]) == ["run", "--name", "world", "--none", "--n=3"]


@pytest.mark.parametrize(("item", "message"), [
    ("{{$.inputs.parameters['nope']}}", "input parameter 'nope'"),
    ("{{$.outputs.parameters['nope'].output_file}}", "output parameter 'nope'"),
    ("{{$.inputs.artifacts['nope'].path}}", "input artifact 'nope'"),
    ("{{$.unknown}}", "unknown placeholder"),
])
def test_a_placeholder_the_task_cannot_fill_is_an_error_naming_it(item, message):
    with pytest.raises(PlaceholderError, match=message):
        resolve([item])
