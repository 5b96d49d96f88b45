"""The Job controller: pods from the template, counting, retries, deadlines, suspend, TTL."""

from __future__ import annotations

from typing import Any

import pytest
from batchnet_helpers import running, set_pod_status, settle

from sandbox.api.errors import NotFound
from sandbox.api.objects import find_condition
from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.cluster.controllers import job as job_controller

JOB = ("batch/v1", "Job")


def job(name: str = "pi", *, restart: str = "Never", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "template": {"spec": {"restartPolicy": restart,
                                  "containers": [{"name": "main", "image": "python"}]}},
            **spec,
        },
    }


async def pods_of(client: MemoryClient, name: str = "pi") -> list[dict[str, Any]]:
    listed = await client.list("v1", "Pod", namespace="default",
                               label_selector=f"batch.kubernetes.io/job-name={name}")
    return listed["items"]


async def get_job(client: MemoryClient, name: str = "pi") -> dict[str, Any]:
    return await client.get(*JOB, name, namespace="default")


async def events(client: MemoryClient, reason: str) -> list[str]:
    listed = await client.list("v1", "Event", namespace="default")
    return [e["message"] for e in listed["items"] if e["reason"] == reason]


async def finish(client: MemoryClient, clock: FakeClock, pod: dict[str, Any], code: int) -> None:
    await set_pod_status(client, pod["metadata"]["name"], phase="Succeeded" if code == 0 else "Failed",
                         exit_code=code, now=clock.now())


def conditions(obj: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c.get("reason", "")) for c in obj.get("status", {}).get("conditions", [])}


async def test_a_job_runs_a_labelled_owned_pod_and_completes_when_it_succeeds(
    client: MemoryClient, clock: FakeClock
) -> None:
    async with running(client, clock, job_controller.controller):
        created = await client.create(job())
        await settle(clock)
        [pod] = await pods_of(client)
        uid = created["metadata"]["uid"]
        labels = pod["metadata"]["labels"]
        assert labels["batch.kubernetes.io/controller-uid"] == uid
        assert labels["controller-uid"] == uid
        assert labels["job-name"] == "pi"
        assert pod["metadata"]["generateName"] == "pi-"
        assert pod["metadata"]["ownerReferences"][0]["uid"] == uid
        assert pod["metadata"]["finalizers"] == ["batch.kubernetes.io/job-tracking"]
        status = (await get_job(client))["status"]
        assert status["active"] == 1 and status["startTime"]

        await finish(client, clock, pod, 0)
        await settle(clock)
        done = await get_job(client)
        assert conditions(done) == {"SuccessCriteriaMet": ("True", ""), "Complete": ("True", "")}
        assert done["status"]["succeeded"] == 1
        assert done["status"]["active"] == 0
        assert done["status"]["completionTime"]
        assert done["status"]["uncountedTerminatedPods"] == {}
        [pod] = await pods_of(client)
        assert "finalizers" not in pod["metadata"]
        assert await events(client, "SuccessfulCreate") == [f"Created pod: {pod['metadata']['name']}"]
        assert await events(client, "Completed") == ["Job completed"]


async def test_failed_pods_are_retried_with_backoff_until_the_backoff_limit(
    client: MemoryClient, clock: FakeClock
) -> None:
    async with running(client, clock, job_controller.controller):
        await client.create(job(backoffLimit=2))
        await settle(clock)
        for attempt in range(3):
            active = [p for p in await pods_of(client) if p.get("status", {}).get("phase") != "Failed"]
            assert len(active) == 1, f"attempt {attempt}"
            await finish(client, clock, active[0], 1)
            await settle(clock)
            if attempt < 2:
                # The replacement waits for the pod failure backoff: 1 s, then 2 s.
                assert all(p.get("status", {}).get("phase") == "Failed" for p in await pods_of(client))
                await settle(clock, 2.0 ** attempt + 0.1)
        failed = await get_job(client)
        assert conditions(failed) == {
            "FailureTarget": ("True", "BackoffLimitExceeded"),
            "Failed": ("True", "BackoffLimitExceeded"),
        }
        assert find_condition(failed, "Failed")["message"] == "Job has reached the specified backoff limit"
        assert failed["status"]["failed"] == 3
        assert len(await pods_of(client)) == 3
        assert await events(client, "BackoffLimitExceeded") == [
            "Job has reached the specified backoff limit"
        ]


async def test_container_restarts_count_against_the_backoff_limit_with_on_failure(
    client: MemoryClient, clock: FakeClock
) -> None:
    async with running(client, clock, job_controller.controller):
        await client.create(job(restart="OnFailure", backoffLimit=2))
        await settle(clock)
        [pod] = await pods_of(client)
        await set_pod_status(client, pod["metadata"]["name"], phase="Running", restarts=1)
        await settle(clock)
        assert "Failed" not in conditions(await get_job(client))
        await set_pod_status(client, pod["metadata"]["name"], phase="Running", restarts=2)
        await settle(clock)
        failed = await get_job(client)
        assert conditions(failed)["Failed"] == ("True", "BackoffLimitExceeded")
        assert await pods_of(client) == []  # the running pod was deleted


async def test_parallelism_caps_active_pods_until_completions_are_reached(
    client: MemoryClient, clock: FakeClock
) -> None:
    async with running(client, clock, job_controller.controller):
        await client.create(job(parallelism=2, completions=5))
        done: set[str] = set()
        while "Complete" not in conditions(await get_job(client)):
            await settle(clock)
            active = [p for p in await pods_of(client) if p["metadata"]["name"] not in done]
            assert 1 <= len(active) <= 2
            assert len(active) == min(2, 5 - len(done))
            for pod in active:
                await finish(client, clock, pod, 0)
                done.add(pod["metadata"]["name"])
            await settle(clock)
        assert len(done) == 5
        assert (await get_job(client))["status"]["succeeded"] == 5


async def test_an_indexed_job_runs_each_index_once_and_retries_a_failed_index(
    client: MemoryClient, clock: FakeClock
) -> None:
    async with running(client, clock, job_controller.controller):
        await client.create(job(completionMode="Indexed", completions=3, parallelism=3))
        await settle(clock)
        pods = {p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]: p
                for p in await pods_of(client)}
        assert sorted(pods) == ["0", "1", "2"]
        one = pods["1"]
        assert one["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"] == "1"
        assert one["metadata"]["generateName"] == "pi-1-"
        assert one["spec"]["hostname"] == "pi-1"
        assert {"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {
            "apiVersion": "v1",
            "fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}} \
            in one["spec"]["containers"][0]["env"]

        await finish(client, clock, pods["0"], 0)
        await finish(client, clock, pods["2"], 0)
        await finish(client, clock, pods["1"], 1)
        await settle(clock)
        status = (await get_job(client))["status"]
        assert status["completedIndexes"] == "0,2"
        assert status["failed"] == 1
        await settle(clock, 1.0)
        retry = [p for p in await pods_of(client) if "phase" not in p.get("status", {})
                 or p["status"]["phase"] == "Pending"]
        assert [p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]
                for p in retry] == ["1"]
        await finish(client, clock, retry[0], 0)
        await settle(clock)
        done = await get_job(client)
        assert done["status"]["completedIndexes"] == "0-2"
        assert done["status"]["succeeded"] == 3
        assert conditions(done)["Complete"] == ("True", "")


async def test_active_deadline_fails_the_job_and_kills_its_pods(
    client: MemoryClient, clock: FakeClock
) -> None:
    async with running(client, clock, job_controller.controller):
        await client.create(job(activeDeadlineSeconds=10))
        await settle(clock)
        [pod] = await pods_of(client)
        await set_pod_status(client, pod["metadata"]["name"], phase="Running", ready=True)
        await settle(clock, 9.0)
        assert "Failed" not in conditions(await get_job(client))
        await settle(clock, 1.5)
        failed = await get_job(client)
        assert conditions(failed)["Failed"] == ("True", "DeadlineExceeded")
        assert find_condition(failed, "Failed")["message"] == "Job was active longer than specified deadline"
        assert failed["status"]["failed"] == 1
        assert await pods_of(client) == []
        assert await events(client, "DeadlineExceeded") == ["Job was active longer than specified deadline"]
        assert len(await events(client, "SuccessfulDelete")) == 1


async def test_suspending_deletes_active_pods_and_resuming_recreates_them(
    client: MemoryClient, clock: FakeClock
) -> None:
    async with running(client, clock, job_controller.controller):
        await client.create(job(parallelism=2, completions=2))
        await settle(clock)
        assert len(await pods_of(client)) == 2
        await client.patch(*JOB, "pi", {"spec": {"suspend": True}}, namespace="default")
        await settle(clock)
        suspended = await get_job(client)
        assert conditions(suspended)["Suspended"] == ("True", "JobSuspended")
        assert suspended["status"]["active"] == 0
        assert suspended["status"].get("failed", 0) == 0
        assert await pods_of(client) == []
        assert await events(client, "Suspended") == ["Job suspended"]

        await client.patch(*JOB, "pi", {"spec": {"suspend": False}}, namespace="default")
        await settle(clock)
        resumed = await get_job(client)
        assert conditions(resumed)["Suspended"] == ("False", "JobResumed")
        assert len(await pods_of(client)) == 2
        assert await events(client, "Resumed") == ["Job resumed"]


async def test_a_job_created_suspended_starts_no_pod(client: MemoryClient, clock: FakeClock) -> None:
    async with running(client, clock, job_controller.controller):
        await client.create(job(suspend=True))
        await settle(clock)
        assert await pods_of(client) == []
        status = (await get_job(client))["status"]
        assert "startTime" not in status
        assert conditions(await get_job(client))["Suspended"] == ("True", "JobSuspended")


async def test_a_finished_job_is_deleted_when_its_ttl_expires(
    client: MemoryClient, clock: FakeClock
) -> None:
    async with running(client, clock, job_controller.controller):
        await client.create(job(ttlSecondsAfterFinished=30))
        await settle(clock)
        [pod] = await pods_of(client)
        await finish(client, clock, pod, 0)
        await settle(clock)
        assert conditions(await get_job(client))["Complete"] == ("True", "")
        await settle(clock, 29.0)
        await get_job(client)
        await settle(clock, 1.5)
        with pytest.raises(NotFound):
            await get_job(client)


async def test_pods_of_a_deleted_job_lose_the_tracking_finalizer(
    client: MemoryClient, clock: FakeClock
) -> None:
    async with running(client, clock, job_controller.controller):
        await client.create(job())
        await client.create(job("other"))
        await settle(clock)
        await client.delete(*JOB, "pi", namespace="default", propagation_policy="Orphan")
        await settle(clock)
        [pod] = await pods_of(client)
        assert "finalizers" not in pod["metadata"]  # the Job is being deleted
        await client.delete(*JOB, "other", namespace="default")
        await settle(clock)
        [pod] = await pods_of(client, "other")
        assert "finalizers" not in pod["metadata"]  # the Job is gone
