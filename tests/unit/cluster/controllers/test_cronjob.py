"""CronJobs: Jobs at scheduled times, time zones, concurrency policies, history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from batchnet_helpers import running, settle

from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock, format_time
from sandbox.cluster.controllers import cronjob as cronjob_controller

CRONJOB = ("batch/v1", "CronJob")
JOB = ("batch/v1", "Job")
T0 = datetime(2026, 1, 1, tzinfo=UTC)  # the FakeClock's start, a Thursday


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def cronjob(name: str = "tick", schedule: str = "*/5 * * * *", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "schedule": schedule,
            "jobTemplate": {
                "metadata": {"labels": {"app": "tick"}},
                "spec": {"template": {"spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "main", "image": "python"}],
                }}},
            },
            **spec,
        },
    }


async def jobs(client: MemoryClient) -> list[dict[str, Any]]:
    return sorted((await client.list(*JOB, namespace="default"))["items"],
                  key=lambda j: j["metadata"]["name"])


async def get_cronjob(client: MemoryClient) -> dict[str, Any]:
    return await client.get(*CRONJOB, "tick", namespace="default")


async def events(client: MemoryClient, reason: str) -> list[str]:
    listed = await client.list("v1", "Event", namespace="default")
    return [e["message"] for e in listed["items"] if e["reason"] == reason]


async def finish(client: MemoryClient, clock: FakeClock, name: str, kind: str = "Complete") -> None:
    """Mark a Job finished as the job controller would (it does not run here)."""
    now = format_time(clock.now())
    status: dict[str, Any] = {"startTime": now, "conditions": [
        {"type": kind, "status": "True", "lastTransitionTime": now, "lastProbeTime": now}]}
    if kind == "Complete":
        status["completionTime"] = now
    await client.patch_status(*JOB, name, {"status": status}, namespace="default")


def minutes(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


async def test_a_job_is_created_at_each_scheduled_time_and_named_after_it(
    client: MemoryClient, clock: FakeClock
) -> None:
    async with running(client, clock, cronjob_controller.controller):
        await client.create(cronjob())
        await settle(clock, 299.0)
        assert await jobs(client) == []
        await settle(clock, 1.5)
        [job] = await jobs(client)
        first = at("2026-01-01T00:05:00")
        assert job["metadata"]["name"] == f"tick-{minutes(first)}"
        assert job["metadata"]["labels"]["app"] == "tick"
        assert job["metadata"]["annotations"][cronjob_controller.SCHEDULED_TIMESTAMP] == \
            "2026-01-01T00:05:00+00:00"
        assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
        status = (await get_cronjob(client))["status"]
        assert status["lastScheduleTime"] == "2026-01-01T00:05:00Z"
        assert [ref["name"] for ref in status["active"]] == [job["metadata"]["name"]]
        assert await events(client, "SuccessfulCreate") == [f"Created job {job['metadata']['name']}"]

        await finish(client, clock, job["metadata"]["name"])
        await settle(clock)
        status = (await get_cronjob(client))["status"]
        assert "active" not in status
        assert status["lastSuccessfulTime"] == "2026-01-01T00:05:00Z"
        assert await events(client, "SawCompletedJob") == [
            f"Saw completed job: {job['metadata']['name']}, condition: Complete"]

        await settle(clock, 300.0)
        assert len(await jobs(client)) == 2


async def test_forbid_skips_a_time_while_a_job_runs_and_starts_it_when_the_job_ends(
    client: MemoryClient, clock: FakeClock
) -> None:
    async with running(client, clock, cronjob_controller.controller):
        await client.create(cronjob(concurrencyPolicy="Forbid"))
        await settle(clock, 300.5)
        [first] = await jobs(client)
        await settle(clock, 300.0)
        assert len(await jobs(client)) == 1
        assert await events(client, "JobAlreadyActive") == [
            "Not starting job because prior execution is running and concurrency policy is Forbid"]
        await settle(clock, 60.0)
        await finish(client, clock, first["metadata"]["name"])
        await settle(clock)
        names = [j["metadata"]["name"] for j in await jobs(client)]
        assert names == [first["metadata"]["name"], f"tick-{minutes(at('2026-01-01T00:10:00'))}"]


async def test_replace_deletes_the_running_job_for_the_new_one(
    client: MemoryClient, clock: FakeClock
) -> None:
    async with running(client, clock, cronjob_controller.controller):
        await client.create(cronjob(concurrencyPolicy="Replace"))
        await settle(clock, 300.5)
        [first] = await jobs(client)
        await settle(clock, 300.0)
        [second] = await jobs(client)
        assert second["metadata"]["name"] != first["metadata"]["name"]
        status = (await get_cronjob(client))["status"]
        assert [ref["name"] for ref in status["active"]] == [second["metadata"]["name"]]
        assert await events(client, "SuccessfulDelete") == [f"Deleted job {first['metadata']['name']}"]


async def test_allow_runs_jobs_side_by_side(client: MemoryClient, clock: FakeClock) -> None:
    async with running(client, clock, cronjob_controller.controller):
        await client.create(cronjob())
        await settle(clock, 300.5)
        await settle(clock, 300.0)
        assert len((await get_cronjob(client))["status"]["active"]) == 2


async def test_history_limits_keep_only_the_newest_finished_jobs(
    client: MemoryClient, clock: FakeClock
) -> None:
    async with running(client, clock, cronjob_controller.controller):
        await client.create(cronjob(successfulJobsHistoryLimit=1, failedJobsHistoryLimit=1))
        names = []
        await settle(clock, 0.5)
        for kind in ("Complete", "Complete", "Failed", "Failed"):
            await settle(clock, 300.0)
            job = (await jobs(client))[-1]
            names.append(job["metadata"]["name"])
            await finish(client, clock, job["metadata"]["name"], kind)
            await settle(clock)
        assert [j["metadata"]["name"] for j in await jobs(client)] == [names[1], names[3]]


async def test_a_time_missed_beyond_the_starting_deadline_is_skipped_with_an_event(
    client: MemoryClient, clock: FakeClock
) -> None:
    await client.create(cronjob(startingDeadlineSeconds=10))
    await clock.advance(400.0)  # the controller was down at 00:05
    async with running(client, clock, cronjob_controller.controller):
        await settle(clock)
        assert await jobs(client) == []
        assert await events(client, "MissSchedule") == [
            "Missed scheduled time to start a job: Thu, 01 Jan 2026 00:05:00 +0000"]
        await settle(clock, 200.5)
        assert len(await jobs(client)) == 1


async def test_a_suspended_cronjob_creates_nothing(client: MemoryClient, clock: FakeClock) -> None:
    async with running(client, clock, cronjob_controller.controller):
        await client.create(cronjob(suspend=True))
        await settle(clock, 900.0)
        assert await jobs(client) == []


async def test_a_schedule_runs_on_the_wall_clock_of_its_time_zone(
    client: MemoryClient, clock: FakeClock
) -> None:
    async with running(client, clock, cronjob_controller.controller):
        await client.create(cronjob(schedule="30 1 * * *", timeZone="Europe/Berlin"))
        await settle(clock, 1799.0)
        assert await jobs(client) == []
        await settle(clock, 1.5)  # 01:30 in Berlin is 00:30 UTC in winter
        [job] = await jobs(client)
        assert job["metadata"]["name"] == f"tick-{minutes(at('2026-01-01T00:30:00'))}"
        assert (await get_cronjob(client))["status"]["lastScheduleTime"] == "2026-01-01T00:30:00Z"
