"""Acceptance: the real kfp.Client against the sandbox's KFP API, served over HTTP beside a running cluster.

``kfp.Client(host="http://127.0.0.1:<port>/pipeline")`` is synchronous, so
each test's client code runs in a thread while the cluster, its controllers
and the web server run in the test's event loop.
"""

# No "from __future__ import annotations": kfp reads the component signatures at decoration time.

import asyncio
import tempfile
import time
import warnings
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import kfp
import kfp_server_api
import pytest
from kfp import compiler, dsl
from kfp.dsl import Dataset, Input, Metrics, Model, Output

from sandbox.backends.inprocess.cluster import InProcessCluster
from sandbox.backends.inprocess.web import WebServer, create_web_app

T = TypeVar("T")
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


@dsl.component
def make_data(rows: int, data: Output[Dataset]) -> int:
    with open(data.path, "w") as f:
        for i in range(rows):
            f.write(f"{i},{i * 2}\n")
    return rows


@dsl.component
def train(data: Input[Dataset], model: Output[Model], metrics: Output[Metrics]) -> float:
    with open(data.path) as f:
        rows = f.read().splitlines()
    with open(model.path, "w") as f:
        f.write(f"trained on {len(rows)} rows")
    metrics.log_metric("rows", len(rows))
    return float(len(rows))


@dsl.pipeline(name="client-train")
def train_pipeline(rows: int = 3):
    data = make_data(rows=rows)
    train(data=data.outputs["data"])


@dsl.component
def add(a: int, b: int) -> int:
    return a + b


@dsl.pipeline(name="client-adder")
def adder(x: int = 1, y: int = 2):
    add(a=x, b=y)


@dsl.component
def nap(seconds: int) -> int:
    import time

    time.sleep(seconds)
    return seconds


@dsl.pipeline(name="client-sleeper")
def sleeper(seconds: int = 60):
    nap(seconds=seconds)


@dsl.component
def flaky(marker: str) -> str:
    import os

    if not os.path.exists(marker):
        open(marker, "w").close()
        raise SystemExit("first attempt fails on purpose")
    return "second time lucky"


@dsl.pipeline(name="client-flaky")
def flaky_pipeline(marker: str):
    flaky(marker=marker)


@pytest.fixture
async def kfp_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """The KFP API's URL on a web port beside a running in-process cluster."""
    monkeypatch.setattr(kfp.Client, "_LOCAL_KFP_CONTEXT", str(tmp_path / "kfp-context.json"))
    async with InProcessCluster.start("default", home=tmp_path / "home") as cluster:
        web = WebServer(create_web_app(index=lambda: {"cluster": "test"}, routes=cluster.web_routes()))
        await web.start()
        try:
            yield f"{web.url}/pipeline"
        finally:
            await web.stop()


async def in_thread(host: str, body: Callable[[kfp.Client], T]) -> T:
    def run() -> T:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            client = kfp.Client(host=host)
        return body(client)

    return await asyncio.to_thread(run)


def package(pipeline: Any, folder: str) -> str:
    path = str(Path(folder) / "pipeline.yaml")
    compiler.Compiler().compile(pipeline, path)
    return path


def wait(client: kfp.Client, run_id: str) -> Any:
    return client.wait_for_run_completion(run_id, timeout=90, sleep_duration=0.2)


def poll(what: str, check: Callable[[], T | None], timeout: float = 60) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def test_create_run_from_pipeline_func_runs_to_completion_with_artifacts(kfp_host: str) -> None:
    def body(client: kfp.Client) -> None:
        assert client.get_kfp_healthz().multi_user is False
        result = client.create_run_from_pipeline_func(train_pipeline, arguments={"rows": 4},
                                                      experiment_name="client-tests", run_name="train it")
        run = wait(client, result.run_id)
        assert run.state == "SUCCEEDED", run.error
        assert run.display_name == "train it" and run.runtime_config.parameters == {"rows": 4}
        tasks = {t.display_name: t for t in run.run_details.task_details}
        assert tasks["make-data"].state == "SUCCEEDED" and tasks["train"].state == "SUCCEEDED"
        assert tasks["train"].pod_name and tasks["train"].execution_id
        assert set(tasks["train"].outputs) == {"model", "metrics"}
        assert tasks["train"].inputs["data"].artifact_ids == tasks["make-data"].outputs["data"].artifact_ids
        assert run.run_details.pipeline_run_context_id
        assert [h.state for h in run.state_history] == ["PENDING", "RUNNING", "SUCCEEDED"]

        experiment = client.get_experiment(experiment_name="client-tests")
        assert run.experiment_id == experiment.experiment_id
        fetched = client.get_run(result.run_id)
        assert fetched.run_id == result.run_id and fetched.finished_at is not None
        listed = client.list_runs(experiment_id=experiment.experiment_id)
        assert [r.run_id for r in listed.runs] == [result.run_id] and listed.total_size == 1
        assert client.list_runs(page_size=5, sort_by="created_at desc").runs[0].run_id == result.run_id

        with pytest.raises(kfp_server_api.ApiException) as missing:
            client.get_run("no-such-run")
        assert missing.value.status == 404

    await in_thread(kfp_host, body)


async def test_upload_pipeline_then_run_a_version_of_it(kfp_host: str) -> None:
    def body(client: kfp.Client) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = package(adder, folder)
            pipeline = client.upload_pipeline(path, pipeline_name="uploaded adder", description="sums")
            listed = client.list_pipelines()
            assert [p.display_name for p in listed.pipelines] == ["uploaded adder"]
            assert client.get_pipeline_id("uploaded adder") == pipeline.pipeline_id
            [version] = client.list_pipeline_versions(pipeline.pipeline_id).pipeline_versions
            assert version.pipeline_spec["pipelineInfo"]["name"] == "client-adder"
            second = client.upload_pipeline_version(path, "v2", pipeline_name="uploaded adder")
            assert client.get_pipeline_version(pipeline.pipeline_id, second.pipeline_version_id).display_name == "v2"

        experiment = client.create_experiment("versions")
        run = client.run_pipeline(experiment.experiment_id, "from a version", params={"x": 40},
                                  pipeline_id=pipeline.pipeline_id, version_id=version.pipeline_version_id)
        assert run.pipeline_version_reference.pipeline_version_id == version.pipeline_version_id
        finished = wait(client, run.run_id)
        assert finished.state == "SUCCEEDED"

        client.delete_pipeline_version(pipeline.pipeline_id, second.pipeline_version_id)
        with pytest.raises(kfp_server_api.ApiException) as refused:
            client.delete_pipeline(pipeline.pipeline_id)  # it still has a version
        assert refused.value.status == 400

    await in_thread(kfp_host, body)


async def test_experiments_are_created_listed_archived_and_deleted(kfp_host: str) -> None:
    def body(client: kfp.Client) -> None:
        created = client.create_experiment("lr sweep", description="learning rates")
        assert client.create_experiment("lr sweep").experiment_id == created.experiment_id
        names = [e.display_name for e in client.list_experiments().experiments]
        assert names == ["Default", "lr sweep"]
        client.archive_experiment(created.experiment_id)
        assert client.get_experiment(experiment_id=created.experiment_id).storage_state == "ARCHIVED"
        client.unarchive_experiment(created.experiment_id)
        client.delete_experiment(created.experiment_id)
        with pytest.raises(kfp_server_api.ApiException) as gone:
            client.get_experiment(experiment_id=created.experiment_id)
        assert gone.value.status == 404

    await in_thread(kfp_host, body)


async def test_terminate_run_stops_a_running_run(kfp_host: str) -> None:
    def body(client: kfp.Client) -> None:
        result = client.create_run_from_pipeline_func(sleeper, arguments={"seconds": 120})
        poll("the task to run", lambda: any(
            t.display_name == "nap" and t.state == "RUNNING"
            for t in (client.get_run(result.run_id).run_details.task_details or [])))
        client.terminate_run(result.run_id)
        run = poll("the run to be canceled", lambda: (r := client.get_run(result.run_id)).state == "CANCELED" and r)
        assert run.error.message == "Stopped with strategy 'Terminate'"

    await in_thread(kfp_host, body)


async def test_a_failed_run_is_retried_and_succeeds(kfp_host: str, tmp_path: Path) -> None:
    marker = str(tmp_path / "tried-once")

    def body(client: kfp.Client) -> None:
        result = client.create_run_from_pipeline_func(flaky_pipeline, arguments={"marker": marker})
        assert wait(client, result.run_id).state == "FAILED"
        client.runs.run_service_retry_run(run_id=result.run_id)
        run = wait(client, result.run_id)
        assert run.state == "SUCCEEDED", run.error

    await in_thread(kfp_host, body)


async def test_a_recurring_run_creates_runs_until_disabled_and_deleted(kfp_host: str) -> None:
    def body(client: kfp.Client) -> None:
        with tempfile.TemporaryDirectory() as folder:
            pipeline = client.upload_pipeline(package(adder, folder), pipeline_name="scheduled adder")
        [version] = client.list_pipeline_versions(pipeline.pipeline_id).pipeline_versions
        experiment = client.create_experiment("schedules")
        recurring = client.create_recurring_run(
            experiment.experiment_id, "every second", interval_second=1, max_concurrency=1, params={"x": 5},
            pipeline_id=pipeline.pipeline_id, version_id=version.pipeline_version_id)
        rid = recurring.recurring_run_id
        assert recurring.status == "ENABLED" and recurring.trigger.periodic_schedule.interval_second == "1"

        def made() -> list[Any]:
            runs = client.list_runs(experiment_id=experiment.experiment_id).runs or []
            return [r for r in runs if r.recurring_run_id == rid]

        first = poll("a run of the recurring run", made)[0]
        assert wait(client, first.run_id).state == "SUCCEEDED"
        assert first.runtime_config.parameters == {"x": 5}

        client.disable_recurring_run(rid)
        assert client.get_recurring_run(rid).status == "DISABLED"
        listed = client.list_recurring_runs(experiment_id=experiment.experiment_id)
        assert [r.recurring_run_id for r in listed.recurring_runs] == [rid]
        count = len(made())
        time.sleep(2.5)
        assert len(made()) == count, "a disabled recurring run makes no runs"

        client.delete_recurring_run(rid)
        with pytest.raises(kfp_server_api.ApiException) as gone:
            client.get_recurring_run(rid)
        assert gone.value.status == 404
        assert len(made()) == count, "the runs it made stay"

    await in_thread(kfp_host, body)
