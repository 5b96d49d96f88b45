"""The KFP REST API v2beta1 through its ASGI app: every endpoint and its error answers.

No controllers run here: a test plays the workflow controller by writing a
Workflow's status itself, and checks what the API makes of it.
"""

# No "from __future__ import annotations": kfp reads the component signatures at decoration time.

import io
import json
import tarfile
import tempfile
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from kfp import compiler, dsl

from sandbox.backends.inprocess.cluster import install_crds
from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.components.pipelines.api import create_app
from sandbox.components.pipelines.storage import ArtifactStore
from sandbox.components.pipelines.workflow.build import workflow_for_run
from sandbox.components.pipelines.workflow.nodes import pod_name
from sandbox.components.registry import load_crds
from sandbox.store import Store

API = "/apis/v2beta1"
WF = ("argoproj.io/v1alpha1", "Workflow")
SWF = ("kubeflow.org/v1beta1", "ScheduledWorkflow")


@dsl.component
def add(a: int, b: int) -> int:
    return a + b


@dsl.pipeline(name="adder")
def adder(x: int = 1, y: int = 2):
    add(a=x, b=y)


def compile_text(pipeline: Any) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.yaml"
        compiler.Compiler().compile(pipeline, str(path))
        return path.read_text()


ADDER_YAML = compile_text(adder)
ADDER = yaml.safe_load(ADDER_YAML)


@pytest.fixture
def store(clock: FakeClock) -> Store:
    store = Store(clock=clock)
    install_crds(store, load_crds("sandbox.components.pipelines"))
    return store


@pytest.fixture
async def api(client: MemoryClient, clock: FakeClock, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(client, artifacts=ArtifactStore(tmp_path / "artifacts"), metadata_path=None, clock=clock,
                     database=tmp_path / "pipelines" / "api.sqlite")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://web") as http:
        yield http


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def failed(response: httpx.Response, status: int, code: int) -> dict[str, Any]:
    """An error answer in KFP's shape; its body."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["error"] == body["message"]
    assert body["details"][0]["@type"] == "type.googleapis.com/api.Error"
    assert body["details"][0]["error_details"] == body["message"]
    return body


def name_filter(name: str) -> str:
    return json.dumps({"predicates": [{"operation": 1, "key": "display_name", "stringValue": name}]})


async def create_run(api: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {"display_name": "my run", "pipeline_spec": ADDER, **fields}
    return ok(await api.post(f"{API}/runs", json=body))


async def workflow_of(client: MemoryClient, run_id: str) -> dict[str, Any]:
    listed = await client.list(*WF, label_selector={"matchLabels": {"pipeline/runid": run_id}})
    [workflow] = listed["items"]
    return workflow


async def set_status(client: MemoryClient, workflow: dict[str, Any], status: dict[str, Any]) -> None:
    meta = workflow["metadata"]
    await client.patch(*WF, meta["name"], {"status": status}, namespace=meta["namespace"])


def upload_files(text: str | bytes, filename: str = "adder.yaml") -> dict[str, Any]:
    return {"uploadfile": (filename, text.encode() if isinstance(text, str) else text)}


# healthz and paths ------------------------------------------------------------------------------------


async def test_healthz_says_single_user(api: httpx.AsyncClient) -> None:
    assert ok(await api.get(f"{API}/healthz")) == {"multi_user": False, "pipeline_store": "kubernetes"}


async def test_an_unknown_path_and_a_body_that_is_not_json_answer_in_kfps_error_shape(api: httpx.AsyncClient) -> None:
    failed(await api.get(f"{API}/widgets"), 404, 5)
    body = failed(await api.post(f"{API}/experiments", content=b"{nope"), 400, 3)
    assert body["message"].startswith("Failed to create experiment: InvalidInputError: the request body is not JSON")


# experiments ------------------------------------------------------------------------------------------


async def test_the_default_experiment_exists_and_others_are_created_listed_and_fetched(api: httpx.AsyncClient) -> None:
    listed = ok(await api.get(f"{API}/experiments"))
    assert [e["display_name"] for e in listed["experiments"]] == ["Default"]
    created = ok(await api.post(f"{API}/experiments", json={"display_name": "tuning", "description": "lr sweep"}))
    assert created["storage_state"] == "AVAILABLE" and created["created_at"] == "2026-01-01T00:00:00Z"
    assert ok(await api.get(f"{API}/experiments/{created['experiment_id']}")) == created
    found = ok(await api.get(f"{API}/experiments", params={"filter": name_filter("tuning")}))
    assert found == {"experiments": [created], "total_size": 1}
    body = failed(await api.post(f"{API}/experiments", json={"display_name": "tuning"}), 409, 6)
    assert "already exists" in body["message"]
    failed(await api.post(f"{API}/experiments", json={"display_name": " "}), 400, 3)
    failed(await api.get(f"{API}/experiments/nope"), 404, 5)


async def test_archiving_an_experiment_archives_its_runs_and_disables_its_recurring_runs(
        api: httpx.AsyncClient, client: MemoryClient) -> None:
    experiment = ok(await api.post(f"{API}/experiments", json={"display_name": "old"}))
    eid = experiment["experiment_id"]
    run = await create_run(api, experiment_id=eid)
    other = await create_run(api)
    recurring = ok(await api.post(f"{API}/recurringruns", json={
        "display_name": "nightly", "pipeline_spec": ADDER, "experiment_id": eid,
        "trigger": {"periodic_schedule": {"interval_second": 3600}}, "mode": "ENABLE"}))
    ok(await api.post(f"{API}/experiments/{eid}:archive"))
    assert ok(await api.get(f"{API}/experiments/{eid}"))["storage_state"] == "ARCHIVED"
    assert ok(await api.get(f"{API}/runs/{run['run_id']}"))["storage_state"] == "ARCHIVED"
    assert ok(await api.get(f"{API}/runs/{other['run_id']}"))["storage_state"] == "AVAILABLE"
    assert ok(await api.get(f"{API}/recurringruns/{recurring['recurring_run_id']}"))["status"] == "DISABLED"
    body = failed(await api.post(f"{API}/runs", json={"display_name": "x", "pipeline_spec": ADDER,
                                                      "experiment_id": eid}), 400, 9)
    assert "archived" in body["message"]
    ok(await api.post(f"{API}/experiments/{eid}:unarchive"))
    assert ok(await api.get(f"{API}/experiments/{eid}"))["storage_state"] == "AVAILABLE"
    failed(await api.post(f"{API}/experiments/nope:archive"), 404, 5)


async def test_a_deleted_experiment_is_gone(api: httpx.AsyncClient) -> None:
    eid = ok(await api.post(f"{API}/experiments", json={"display_name": "tmp"}))["experiment_id"]
    ok(await api.delete(f"{API}/experiments/{eid}"))
    failed(await api.get(f"{API}/experiments/{eid}"), 404, 5)
    failed(await api.delete(f"{API}/experiments/{eid}"), 404, 5)


async def test_experiments_survive_a_new_app_on_the_same_database(
        client: MemoryClient, clock: FakeClock, tmp_path: Path, api: httpx.AsyncClient) -> None:
    created = ok(await api.post(f"{API}/experiments", json={"display_name": "kept"}))
    again = create_app(client, artifacts=ArtifactStore(tmp_path / "artifacts"), metadata_path=None, clock=clock,
                       database=tmp_path / "pipelines" / "api.sqlite")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(again), base_url="http://web") as http:
        assert ok(await http.get(f"{API}/experiments/{created['experiment_id']}")) == created


# pipelines ---------------------------------------------------------------------------------------------


async def test_a_pipeline_and_its_versions_are_kubernetes_objects(api: httpx.AsyncClient, client: MemoryClient) -> None:
    pipeline = ok(await api.post(f"{API}/pipelines", json={"display_name": "My Adder", "description": "adds"}))
    assert pipeline["name"] == "My Adder" and pipeline["display_name"] == "My Adder"
    [obj] = (await client.list("pipelines.kubeflow.org/v2beta1", "Pipeline", namespace="kubeflow"))["items"]
    assert obj["metadata"]["name"] == "my-adder" and obj["metadata"]["uid"] == pipeline["pipeline_id"]
    assert obj["spec"] == {"displayName": "My Adder", "description": "adds"}

    pid = pipeline["pipeline_id"]
    version = ok(await api.post(f"{API}/pipelines/{pid}/versions", json={"display_name": "v1", "pipeline_spec": ADDER}))
    assert version["pipeline_id"] == pid and version["name"] == "v1" and version["pipeline_spec"] == ADDER
    [vobj] = (await client.list("pipelines.kubeflow.org/v2beta1", "PipelineVersion", namespace="kubeflow"))["items"]
    assert vobj["spec"]["pipelineName"] == "my-adder" and vobj["spec"]["pipelineSpec"] == ADDER
    assert vobj["metadata"]["ownerReferences"][0]["uid"] == pid
    assert ok(await api.get(f"{API}/pipelines/{pid}/versions/{version['pipeline_version_id']}")) == version
    assert ok(await api.get(f"{API}/pipelines/{pid}/versions"))["pipeline_versions"] == [version]
    assert ok(await api.get(f"{API}/pipelines/{pid}")) == pipeline
    assert ok(await api.get(f"{API}/pipelines/names/My Adder")) == pipeline

    failed(await api.post(f"{API}/pipelines", json={"name": "My Adder"}), 409, 6)
    failed(await api.post(f"{API}/pipelines/{pid}/versions", json={"name": "v1", "pipeline_spec": ADDER}), 409, 6)
    failed(await api.post(f"{API}/pipelines", json={}), 400, 3)
    failed(await api.get(f"{API}/pipelines/nope"), 404, 5)
    failed(await api.get(f"{API}/pipelines/names/nope"), 404, 5)
    failed(await api.get(f"{API}/pipelines/{pid}/versions/nope"), 404, 5)
    failed(await api.post(f"{API}/pipelines/nope/versions", json={"pipeline_spec": ADDER}), 404, 5)


async def test_an_invalid_pipeline_spec_is_a_400_listing_its_problems(api: httpx.AsyncClient) -> None:
    pid = ok(await api.post(f"{API}/pipelines", json={"name": "broken"}))["pipeline_id"]
    spec = json.loads(json.dumps(ADDER))
    spec["root"]["dag"]["tasks"]["add"]["componentRef"]["name"] = "comp-missing"
    spec["root"]["dag"]["tasks"]["add"]["dependentTasks"] = ["ghost"]
    body = failed(await api.post(f"{API}/pipelines/{pid}/versions", json={"pipeline_spec": spec}), 400, 3)
    assert "problems" in body["message"] and "comp-missing" in body["message"]
    violations = body["details"][1]["field_violations"]
    assert body["details"][1]["@type"] == "type.googleapis.com/google.rpc.BadRequest" and len(violations) >= 2
    failed(await api.post(f"{API}/pipelines/{pid}/versions", json={"name": "x"}), 400, 3)
    body = failed(await api.post(f"{API}/pipelines/{pid}/versions", json={
        "name": "x", "package_url": {"pipeline_url": "https://example.com/p.yaml"}}), 400, 3)
    assert "no network calls" in body["message"]


async def test_pipelines_list_with_filter_sort_and_pages(api: httpx.AsyncClient) -> None:
    for name in ("b-pipe", "a-pipe", "c-pipe"):
        ok(await api.post(f"{API}/pipelines", json={"name": name}))
    listed = ok(await api.get(f"{API}/pipelines", params={"page_size": 2, "sort_by": "name desc"}))
    assert [p["name"] for p in listed["pipelines"]] == ["c-pipe", "b-pipe"] and listed["total_size"] == 3
    rest = ok(await api.get(f"{API}/pipelines", params={"page_size": 2, "page_token": listed["next_page_token"]}))
    assert [p["name"] for p in rest["pipelines"]] == ["a-pipe"] and "next_page_token" not in rest
    found = ok(await api.get(f"{API}/pipelines", params={"filter": name_filter("a-pipe")}))
    assert [p["name"] for p in found["pipelines"]] == ["a-pipe"]
    assert ok(await api.get(f"{API}/pipelines", params={"filter": name_filter("zzz")})) == {"total_size": 0}
    failed(await api.get(f"{API}/pipelines", params={"sort_by": "colour"}), 400, 3)


async def test_upload_makes_a_pipeline_and_its_first_version_and_upload_version_adds_one(
        api: httpx.AsyncClient) -> None:
    pipeline = ok(await api.post(f"{API}/pipelines/upload", params={"name": "adder", "description": "d"},
                                 files=upload_files(ADDER_YAML)))
    assert pipeline["name"] == "adder" and pipeline["description"] == "d"
    [first] = ok(await api.get(f"{API}/pipelines/{pipeline['pipeline_id']}/versions"))["pipeline_versions"]
    assert first["name"] == "adder" and first["pipeline_spec"] == ADDER

    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        info = tarfile.TarInfo("pipeline.yaml")
        info.size = len(ADDER_YAML.encode())
        tar.addfile(info, io.BytesIO(ADDER_YAML.encode()))
    version = ok(await api.post(f"{API}/pipelines/upload_version",
                                params={"pipelineid": pipeline["pipeline_id"], "name": "v2"},
                                files=upload_files(archive.getvalue(), "adder.tar.gz")))
    assert version["name"] == "v2" and version["pipeline_id"] == pipeline["pipeline_id"]

    named_by_file = ok(await api.post(f"{API}/pipelines/upload", files=upload_files(ADDER_YAML, "my-adder.yml")))
    assert named_by_file["name"] == "my-adder"

    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("notes/readme.txt", "not the pipeline")
        archive.writestr("pipeline.yaml", ADDER_YAML)
    zipped = ok(await api.post(f"{API}/pipelines/upload", files=upload_files(packed.getvalue(), "z.zip")))
    as_json = ok(await api.post(f"{API}/pipelines/upload", files=upload_files(json.dumps(ADDER), "j.json")))
    for made in (zipped, as_json):
        [only] = ok(await api.get(f"{API}/pipelines/{made['pipeline_id']}/versions"))["pipeline_versions"]
        assert only["pipeline_spec"] == ADDER


async def test_bad_uploads_are_400s(api: httpx.AsyncClient) -> None:
    failed(await api.post(f"{API}/pipelines/upload", files=upload_files(ADDER_YAML, "adder.exe")), 400, 3)
    failed(await api.post(f"{API}/pipelines/upload", files={"other": ("a.yaml", b"x")}), 400, 3)
    failed(await api.post(f"{API}/pipelines/upload", json={"a": 1}), 400, 3)
    failed(await api.post(f"{API}/pipelines/upload", files=upload_files("root: [unclosed", "x.yaml")), 400, 3)
    failed(await api.post(f"{API}/pipelines/upload_version", files=upload_files(ADDER_YAML)), 400, 3)
    assert ok(await api.get(f"{API}/pipelines")) == {"total_size": 0}, "a failed upload leaves nothing behind"


async def test_create_pipeline_and_version_at_once(api: httpx.AsyncClient) -> None:
    pipeline = ok(await api.post(f"{API}/pipelines/create", json={
        "pipeline": {"display_name": "both"}, "pipeline_version": {"pipeline_spec": ADDER}}))
    [version] = ok(await api.get(f"{API}/pipelines/{pipeline['pipeline_id']}/versions"))["pipeline_versions"]
    assert version["name"] == "both"
    failed(await api.post(f"{API}/pipelines/create", json={
        "pipeline": {"display_name": "bad"}, "pipeline_version": {"pipeline_spec": {"root": {}}}}), 400, 3)
    failed(await api.get(f"{API}/pipelines/names/bad"), 404, 5)


async def test_a_pipeline_with_versions_is_deleted_only_with_cascade(api: httpx.AsyncClient, client: MemoryClient) -> None:
    pipeline = ok(await api.post(f"{API}/pipelines/upload", params={"name": "adder"}, files=upload_files(ADDER_YAML)))
    pid = pipeline["pipeline_id"]
    failed(await api.delete(f"{API}/pipelines/{pid}"), 400, 9)
    extra = ok(await api.post(f"{API}/pipelines/{pid}/versions", json={"name": "v2", "pipeline_spec": ADDER}))
    ok(await api.delete(f"{API}/pipelines/{pid}/versions/{extra['pipeline_version_id']}"))
    failed(await api.get(f"{API}/pipelines/{pid}/versions/{extra['pipeline_version_id']}"), 404, 5)
    ok(await api.delete(f"{API}/pipelines/{pid}", params={"cascade": "true"}))
    failed(await api.get(f"{API}/pipelines/{pid}"), 404, 5)
    assert (await client.list("pipelines.kubeflow.org/v2beta1", "PipelineVersion"))["items"] == []


# runs ---------------------------------------------------------------------------------------------------


async def test_a_run_is_a_workflow_in_kubeflow_with_the_apis_fields(api: httpx.AsyncClient, client: MemoryClient) -> None:
    run = await create_run(api, description="first", runtime_config={"parameters": {"x": 5},
                                                                     "pipeline_root": "minio://mlpipeline/mine"})
    default = ok(await api.get(f"{API}/experiments"))["experiments"][0]["experiment_id"]
    assert run["state"] == "PENDING" and run["display_name"] == "my run" and run["description"] == "first"
    assert run["experiment_id"] == default and run["storage_state"] == "AVAILABLE"
    assert run["runtime_config"] == {"parameters": {"x": 5}, "pipeline_root": "minio://mlpipeline/mine"}
    assert run["pipeline_spec"] == ADDER and run["created_at"] == "2026-01-01T00:00:00Z"
    assert run["state_history"] == [{"update_time": "2026-01-01T00:00:00Z", "state": "PENDING"}]
    workflow = await workflow_of(client, run["run_id"])
    assert workflow["metadata"]["namespace"] == "kubeflow"
    annotations = workflow["metadata"]["annotations"]
    assert annotations["pipelines.kubeflow.org/run_name"] == "my run"
    assert annotations["pipelines.kubeflow.org/experiment_id"] == default
    assert annotations["pipelines.kubeflow.org/run_description"] == "first"
    assert ok(await api.get(f"{API}/experiments/{default}"))["last_run_created_at"] == "2026-01-01T00:00:00Z"
    assert ok(await api.get(f"{API}/runs/{run['run_id']}")) == run


async def test_a_run_from_a_stored_version_references_it(api: httpx.AsyncClient) -> None:
    pipeline = ok(await api.post(f"{API}/pipelines/upload", params={"name": "adder"}, files=upload_files(ADDER_YAML)))
    pid = pipeline["pipeline_id"]
    [version] = ok(await api.get(f"{API}/pipelines/{pid}/versions"))["pipeline_versions"]
    reference = {"pipeline_id": pid, "pipeline_version_id": version["pipeline_version_id"]}
    run = ok(await api.post(f"{API}/runs", json={"display_name": "from version",
                                                  "pipeline_version_reference": reference}))
    assert run["pipeline_version_reference"] == reference and "pipeline_spec" not in run
    latest = ok(await api.post(f"{API}/runs", json={"display_name": "latest",
                                                     "pipelineVersionReference": {"pipelineId": pid}}))
    assert latest["pipeline_version_reference"] == reference
    failed(await api.post(f"{API}/runs", json={"display_name": "x", "pipeline_version_reference": {
        "pipeline_id": pid, "pipeline_version_id": "nope"}}), 404, 5)


@pytest.mark.parametrize(("fields", "status", "code", "words"), [
    ({"display_name": ""}, 400, 3, "display name is empty"),
    ({"pipeline_spec": None}, 400, 3, "has no pipeline"),
    ({"runtime_config": {"parameters": {"z": 1}}}, 400, 3, "input \"z\": the pipeline has no such parameter"),
    ({"runtime_config": {"parameters": {"x": "five"}}}, 400, 3, "is not a NUMBER_INTEGER"),
    ({"runtime_config": {"pipeline_root": "minio://bucket/../../etc"}}, 400, 3, "pipeline root"),
    ({"experiment_id": "nope"}, 404, 5, "Experiment nope not found"),
    ({"pipeline_spec": {"pipelineInfo": {"name": "x"}}}, 400, 3, "no root"),
])
async def test_a_bad_run_request_is_refused(api: httpx.AsyncClient, fields: dict[str, Any], status: int, code: int,
                                            words: str) -> None:
    body = {"display_name": "r", "pipeline_spec": ADDER, **fields}
    if body["pipeline_spec"] is None:
        del body["pipeline_spec"]
    assert words in failed(await api.post(f"{API}/runs", json=body), status, code)["message"]


async def test_a_runs_state_and_task_details_come_from_its_workflow(api: httpx.AsyncClient, client: MemoryClient) -> None:
    run = await create_run(api)
    workflow = await workflow_of(client, run["run_id"])
    name = workflow["metadata"]["name"]
    nodes = {
        name: {"id": name, "name": name, "displayName": name, "type": "DAG", "templateName": "entrypoint",
               "phase": "Running", "startedAt": "2026-01-01T00:00:01Z", "children": [f"{name}-1"]},
        f"{name}-1": {"id": f"{name}-1", "name": f"{name}.add", "displayName": "add", "type": "Pod",
                      "templateName": "comp-add", "phase": "Running", "startedAt": "2026-01-01T00:00:02Z",
                      "boundaryID": name, "executionID": 7},
    }
    await set_status(client, workflow, {"phase": "Running", "startedAt": "2026-01-01T00:00:01Z", "nodes": nodes})
    running = ok(await api.get(f"{API}/runs/{run['run_id']}"))
    assert running["state"] == "RUNNING" and "finished_at" not in running
    root, task = running["run_details"]["task_details"]
    assert root["task_id"] == name and root["state"] == "RUNNING"
    assert root["child_tasks"] == [{"task_id": f"{name}-1", "pod_name": task["pod_name"]}]
    assert task["display_name"] == "add" and task["parent_task_id"] == name and task["execution_id"] == "7"
    assert task["pod_name"].startswith(f"{name}-comp-add-") and task["start_time"] == "2026-01-01T00:00:02Z"

    for node in nodes.values():
        node.update(phase="Failed", finishedAt="2026-01-01T00:00:09Z", message="boom")
    await set_status(client, workflow, {"phase": "Failed", "finishedAt": "2026-01-01T00:00:09Z", "message": "boom",
                                        "nodes": nodes})
    done = ok(await api.get(f"{API}/runs/{run['run_id']}"))
    assert done["state"] == "FAILED" and done["finished_at"] == "2026-01-01T00:00:09Z"
    assert done["error"] == {"code": 2, "message": "boom"}
    assert [h["state"] for h in done["state_history"]] == ["PENDING", "RUNNING", "FAILED"]
    assert done["run_details"]["task_details"][1]["end_time"] == "2026-01-01T00:00:09Z"


async def test_runs_list_by_experiment_and_state_and_include_workflows_made_outside_the_api(
        api: httpx.AsyncClient, client: MemoryClient, clock: FakeClock) -> None:
    experiment = ok(await api.post(f"{API}/experiments", json={"display_name": "e"}))
    mine = await create_run(api, experiment_id=experiment["experiment_id"], display_name="mine")
    await clock.advance(1)
    await create_run(api, display_name="theirs")
    await clock.advance(1)
    outside = workflow_for_run(ADDER, run_id="outside-1", run_name="by kubectl")
    await client.create(outside, namespace="default")
    not_a_run = {"apiVersion": WF[0], "kind": WF[1], "metadata": {"name": "plain-argo", "namespace": "default"},
                 "spec": {"entrypoint": "main", "templates": []}}
    await client.create(not_a_run, namespace="default")

    listed = ok(await api.get(f"{API}/runs"))
    assert [r["display_name"] for r in listed["runs"]] == ["mine", "theirs", "by kubectl"]
    default = ok(await api.get(f"{API}/experiments", params={"filter": name_filter("Default")}))
    assert listed["runs"][2]["experiment_id"] == default["experiments"][0]["experiment_id"]
    assert listed["runs"][2]["run_id"] == "outside-1"
    by_experiment = ok(await api.get(f"{API}/runs", params={"experiment_id": experiment["experiment_id"]}))
    assert [r["run_id"] for r in by_experiment["runs"]] == [mine["run_id"]]
    newest = ok(await api.get(f"{API}/runs", params={"sort_by": "created_at desc", "page_size": 1}))
    assert [r["display_name"] for r in newest["runs"]] == ["by kubectl"] and newest["total_size"] == 3

    workflow = await workflow_of(client, mine["run_id"])
    await set_status(client, workflow, {"phase": "Succeeded", "finishedAt": "2026-01-01T00:00:05Z"})
    succeeded = json.dumps({"predicates": [{"operation": "EQUALS", "key": "state", "string_value": "SUCCEEDED"}]})
    assert [r["display_name"] for r in ok(await api.get(f"{API}/runs", params={"filter": succeeded}))["runs"]] == ["mine"]
    assert ok(await api.get(f"{API}/runs/outside-1"))["display_name"] == "by kubectl"


async def test_terminate_asks_the_workflow_to_stop_and_the_run_ends_canceled(
        api: httpx.AsyncClient, client: MemoryClient) -> None:
    run = await create_run(api)
    ok(await api.post(f"{API}/runs/{run['run_id']}:terminate"))
    workflow = await workflow_of(client, run["run_id"])
    assert workflow["spec"]["shutdown"] == "Terminate"
    assert ok(await api.get(f"{API}/runs/{run['run_id']}"))["state"] == "CANCELING"
    await set_status(client, workflow, {"phase": "Failed", "message": "Stopped with strategy 'Terminate'",
                                        "finishedAt": "2026-01-01T00:00:05Z"})
    assert ok(await api.get(f"{API}/runs/{run['run_id']}"))["state"] == "CANCELED"
    failed(await api.post(f"{API}/runs/{run['run_id']}:terminate"), 400, 9)


async def test_retry_resets_the_failed_workflow_and_deletes_the_failed_tasks_pods(
        api: httpx.AsyncClient, client: MemoryClient) -> None:
    run = await create_run(api)
    failed(await api.post(f"{API}/runs/{run['run_id']}:retry"), 400, 9)
    workflow = await workflow_of(client, run["run_id"])
    name = workflow["metadata"]["name"]
    pod = pod_name(name, "comp-add", f"{name}.add")
    await client.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod, "namespace": "kubeflow"},
                         "spec": {"containers": [{"name": "main", "image": "python"}]}})
    nodes = {
        name: {"id": name, "name": name, "displayName": name, "type": "DAG", "phase": "Failed",
               "children": [f"{name}-1"], "finishedAt": "2026-01-01T00:00:09Z"},
        f"{name}-1": {"id": f"{name}-1", "name": f"{name}.add", "displayName": "add", "type": "Pod",
                      "templateName": "comp-add", "phase": "Failed", "finishedAt": "2026-01-01T00:00:09Z"},
    }
    await set_status(client, workflow, {"phase": "Failed", "finishedAt": "2026-01-01T00:00:09Z", "nodes": nodes})
    ok(await api.post(f"{API}/runs/{run['run_id']}:retry"))
    retried = await workflow_of(client, run["run_id"])
    assert retried["status"]["phase"] == "Running" and list(retried["status"]["nodes"]) == [name]
    assert retried["metadata"]["labels"]["workflows.argoproj.io/completed"] == "false"
    assert (await client.list("v1", "Pod", namespace="kubeflow"))["items"] == []
    assert ok(await api.get(f"{API}/runs/{run['run_id']}"))["state"] == "RUNNING"


async def test_archive_unarchive_and_delete_a_run(api: httpx.AsyncClient, client: MemoryClient) -> None:
    run = await create_run(api)
    ok(await api.post(f"{API}/runs/{run['run_id']}:archive"))
    assert ok(await api.get(f"{API}/runs/{run['run_id']}"))["storage_state"] == "ARCHIVED"
    ok(await api.post(f"{API}/runs/{run['run_id']}:unarchive"))
    assert ok(await api.get(f"{API}/runs/{run['run_id']}"))["storage_state"] == "AVAILABLE"
    ok(await api.delete(f"{API}/runs/{run['run_id']}"))
    assert (await client.list(*WF))["items"] == []
    for method, path in [("GET", ""), ("DELETE", ""), ("POST", ":terminate"), ("POST", ":retry"),
                         ("POST", ":archive"), ("POST", ":unarchive")]:
        failed(await api.request(method, f"{API}/runs/{run['run_id']}{path}"), 404, 5)


# recurring runs ------------------------------------------------------------------------------------------


async def test_a_recurring_run_is_a_scheduled_workflow(api: httpx.AsyncClient, client: MemoryClient) -> None:
    created = ok(await api.post(f"{API}/recurringruns", json={
        "display_name": "Every hour", "description": "hourly sums", "pipeline_spec": ADDER,
        "runtime_config": {"parameters": {"x": 3}}, "max_concurrency": "2", "no_catchup": True, "mode": "ENABLE",
        "trigger": {"periodic_schedule": {"interval_second": "3600", "start_time": "2026-01-02T00:00:00Z"}}}))
    assert created["display_name"] == "Every hour" and created["status"] == "ENABLED" and created["mode"] == "ENABLE"
    assert created["trigger"] == {"periodic_schedule": {"interval_second": "3600",
                                                        "start_time": "2026-01-02T00:00:00Z"}}
    assert created["max_concurrency"] == "2" and created["no_catchup"] is True
    assert created["runtime_config"]["parameters"] == {"x": 3} and created["pipeline_spec"] == ADDER
    [swf] = (await client.list(*SWF, namespace="kubeflow"))["items"]
    assert swf["metadata"]["uid"] == created["recurring_run_id"]
    assert swf["metadata"]["name"].startswith("every-hour-")
    spec = swf["spec"]
    assert spec["enabled"] is True and spec["maxConcurrency"] == 2 and spec["noCatchup"] is True
    assert spec["trigger"] == {"periodicSchedule": {"intervalSecond": 3600, "startTime": "2026-01-02T00:00:00Z"}}
    assert spec["workflow"]["parameters"] == [{"name": "x", "value": "3"}]
    assert spec["workflow"]["spec"]["kind"] == "Workflow" and "pipeline/runid" not in spec["workflow"]["spec"][
        "metadata"]["labels"]
    assert ok(await api.get(f"{API}/recurringruns/{created['recurring_run_id']}")) == created

    rid = created["recurring_run_id"]
    ok(await api.post(f"{API}/recurringruns/{rid}:disable"))
    assert (await client.get(*SWF, swf["metadata"]["name"], namespace="kubeflow"))["spec"]["enabled"] is False
    assert ok(await api.get(f"{API}/recurringruns/{rid}"))["status"] == "DISABLED"
    ok(await api.post(f"{API}/recurringruns/{rid}:enable"))
    assert ok(await api.get(f"{API}/recurringruns/{rid}"))["mode"] == "ENABLE"


async def test_recurring_runs_from_a_version_with_cron_list_and_delete(api: httpx.AsyncClient) -> None:
    pipeline = ok(await api.post(f"{API}/pipelines/upload", params={"name": "adder"}, files=upload_files(ADDER_YAML)))
    [version] = ok(await api.get(f"{API}/pipelines/{pipeline['pipeline_id']}/versions"))["pipeline_versions"]
    experiment = ok(await api.post(f"{API}/experiments", json={"display_name": "sched"}))
    reference = {"pipeline_id": pipeline["pipeline_id"], "pipeline_version_id": version["pipeline_version_id"]}
    cron = ok(await api.post(f"{API}/recurringruns", json={
        "display_name": "weekday mornings", "pipeline_version_reference": reference, "mode": "DISABLE",
        "experiment_id": experiment["experiment_id"], "trigger": {"cron_schedule": {"cron": "0 0 9 ? * 1-5"}}}))
    assert cron["pipeline_version_reference"] == reference and cron["status"] == "DISABLED"
    assert cron["trigger"] == {"cron_schedule": {"cron": "0 0 9 ? * 1-5"}}
    other = ok(await api.post(f"{API}/recurringruns", json={
        "display_name": "other", "pipeline_spec": ADDER, "trigger": {"cron_schedule": {"cron": "@daily"}}}))
    by_experiment = ok(await api.get(f"{API}/recurringruns", params={"experiment_id": experiment["experiment_id"]}))
    assert [r["recurring_run_id"] for r in by_experiment["recurringRuns"]] == [cron["recurring_run_id"]]
    assert ok(await api.get(f"{API}/recurringruns"))["total_size"] == 2
    ok(await api.delete(f"{API}/recurringruns/{other['recurring_run_id']}"))
    failed(await api.get(f"{API}/recurringruns/{other['recurring_run_id']}"), 404, 5)
    assert ok(await api.get(f"{API}/recurringruns"))["total_size"] == 1
    for method, path in [("GET", ""), ("DELETE", ""), ("POST", ":enable"), ("POST", ":disable")]:
        failed(await api.request(method, f"{API}/recurringruns/nope{path}"), 404, 5)


@pytest.mark.parametrize(("trigger", "extra", "words"), [
    ({"cron_schedule": {"cron": "every day"}}, {}, "invalid cron expression"),
    ({}, {}, "needs a trigger"),
    ({"periodic_schedule": {"interval_second": 0}}, {}, "positive"),
    ({"periodic_schedule": {"interval_second": 60}}, {"max_concurrency": 11}, "between 1 and 10"),
    ({"periodic_schedule": {"interval_second": 60, "start_time": "2026-02-01T00:00:00Z",
                            "end_time": "2026-01-01T00:00:00Z"}}, {}, "before its end_time"),
    ({"cron_schedule": {"cron": "@daily"}, "periodic_schedule": {"interval_second": 5}}, {}, "not both"),
    ({"periodic_schedule": {"interval_second": 60, "start_time": "tomorrow"}}, {}, "RFC 3339"),
])
async def test_a_bad_recurring_run_is_refused(api: httpx.AsyncClient, trigger: dict[str, Any],
                                              extra: dict[str, Any], words: str) -> None:
    body = {"display_name": "r", "pipeline_spec": ADDER, "trigger": trigger, **extra}
    assert words in failed(await api.post(f"{API}/recurringruns", json=body), 400, 3)["message"]


async def test_pipelines_made_with_kubectl_are_served_and_their_versions_found_by_pipeline_name(
        api: httpx.AsyncClient, client: MemoryClient) -> None:
    await client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    pipeline = await client.create({"apiVersion": "pipelines.kubeflow.org/v2beta1", "kind": "Pipeline",
                                    "metadata": {"name": "hand-made", "namespace": "team"}, "spec": {}})
    await client.create({"apiVersion": "pipelines.kubeflow.org/v2beta1", "kind": "PipelineVersion",
                         "metadata": {"name": "hand-made-v1", "namespace": "team"},
                         "spec": {"pipelineName": "hand-made", "pipelineSpec": ADDER}})
    pid = pipeline["metadata"]["uid"]
    assert ok(await api.get(f"{API}/pipelines/names/hand-made"))["pipeline_id"] == pid
    [version] = ok(await api.get(f"{API}/pipelines/{pid}/versions"))["pipeline_versions"]
    assert version["name"] == "hand-made-v1" and version["pipeline_spec"] == ADDER
    run = ok(await api.post(f"{API}/runs", json={"display_name": "r", "pipeline_version_id":
                                                  version["pipeline_version_id"]}))
    assert run["pipeline_version_reference"] == {"pipeline_id": pid,
                                                 "pipeline_version_id": version["pipeline_version_id"]}
    added = ok(await api.post(f"{API}/pipelines/{pid}/versions", json={"name": "v2", "pipeline_spec": ADDER}))
    obj = await client.get("pipelines.kubeflow.org/v2beta1", "PipelineVersion", "v2", namespace="team")
    assert obj["metadata"]["uid"] == added["pipeline_version_id"]
