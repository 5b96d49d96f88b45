"""After runs, ML Metadata answers where a model came from and which runs used a dataset."""

# No "from __future__ import annotations": kfp reads the component signatures at decoration time.

import pytest
from kfp import dsl
from kfp.dsl import Dataset, Input, Model, Output
from pipeline_runs import nodes_by_display, run

from sandbox.backends.inprocess.cluster import InProcessCluster
from sandbox.components.metadata import MetadataStore, downstream, runs_using_uri, upstream


@pytest.fixture
async def cluster(tmp_path):
    async with InProcessCluster.start("default", home=tmp_path) as running:
        yield running


@dsl.component
def make(rows: int, data: Output[Dataset]):
    with open(data.path, "w") as f:
        f.write("x\n" * rows)


@dsl.component
def fit(data: Input[Dataset], model: Output[Model]):
    with open(data.path) as f:
        lines = f.read().count("\n")
    with open(model.path, "w") as f:
        f.write(f"rows={lines}")
    model.metadata["rows"] = lines


@dsl.pipeline(name="lineage")
def lineage_pipeline(rows: int = 3):
    data = make(rows=rows)
    fit(data=data.outputs["data"])


async def test_lineage_of_a_model_and_the_runs_that_used_a_dataset(cluster, tmp_path):
    first = await run(cluster, lineage_pipeline, arguments={"rows": 3})
    second = await run(cluster, lineage_pipeline, arguments={"rows": 3})  # from the cache
    assert first["status"]["phase"] == second["status"]["phase"] == "Succeeded"
    model_uri = nodes_by_display(first)["fit"]["outputs"]["artifacts"][0]["artifacts"][0]["uri"]
    data_uri = nodes_by_display(first)["make"]["outputs"]["artifacts"][0]["artifacts"][0]["uri"]
    store = MetadataStore(tmp_path / "metadata" / "metadata.sqlite")
    model = store.get_artifacts(uri=model_uri)[0]
    assert model.type == "system.Model"
    graph = upstream(store, model.id)
    steps = [(s.depth, s.execution.custom_properties.get("task_name")) for s in graph.steps]
    assert steps == [(1, "fit"), (2, "make")]
    assert graph.steps[0].inputs["data"][0].uri == data_uri
    dataset = store.get_artifacts(uri=data_uri)[0]
    used_by = downstream(store, dataset.id)
    assert {s.execution.custom_properties.get("task_name") for s in used_by.steps} == {"fit"}
    runs = {c.name for c in runs_using_uri(store, data_uri)}
    assert runs == {first["metadata"]["labels"]["pipeline/runid"], second["metadata"]["labels"]["pipeline/runid"]}
