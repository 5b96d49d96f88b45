"""The StatefulSet controller: ordered pods, stable names and claims, rolling updates."""

from __future__ import annotations

from typing import Any

from workloads_helpers import FakeKubelet, bind, events, pods, running, settle, template, until

from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.cluster.controllers import statefulset

LABELS = {"app": "db"}


def sts(replicas: int = 3, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "serviceName": "web",
            "selector": {"matchLabels": LABELS},
            "template": template(LABELS),
            "volumeClaimTemplates": [{
                "metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
            }],
            **spec,
        },
    }


async def names(client: MemoryClient, *, live_only: bool = False) -> list[str]:
    return [
        p["metadata"]["name"] for p in await pods(client)
        if not (live_only and p["metadata"].get("deletionTimestamp"))
    ]


async def get_sts(client: MemoryClient) -> dict[str, Any]:
    return await client.get("apps/v1", "StatefulSet", "web", namespace="default")


async def start_all(client: MemoryClient, clock: FakeClock, kubelet: FakeKubelet, count: int) -> None:
    async def step() -> bool:
        await kubelet.run_all()
        status = (await get_sts(client)).get("status") or {}
        return status.get("readyReplicas", 0) == count and len(await names(client)) == count

    await until(step, clock=clock, step=0.01, what=f"{count} ready pods")


async def test_statefulset_creates_pods_one_at_a_time_in_ordinal_order(client: MemoryClient, clock: FakeClock) -> None:
    kubelet = FakeKubelet(client, clock)
    async with running(client, clock, statefulset.controller):
        await client.create(sts(3))
        await until(lambda: _names_are(client, ["web-0"]))
        await settle()
        assert await names(client) == ["web-0"]  # web-1 waits for web-0 to be Ready
        await kubelet.run((await pods(client))[0])
        await until(lambda: _names_are(client, ["web-0", "web-1"]))
        await kubelet.run((await pods(client))[1])
        await until(lambda: _names_are(client, ["web-0", "web-1", "web-2"]))
        pod = (await pods(client))[2]
        assert pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == "web-2"
        assert pod["metadata"]["labels"]["apps.kubernetes.io/pod-index"] == "2"
        assert (pod["spec"]["hostname"], pod["spec"]["subdomain"]) == ("web-2", "web")
        assert pod["spec"]["volumes"] == [{"name": "data", "persistentVolumeClaim": {"claimName": "data-web-2"}}]
        assert ("SuccessfulCreate", "create Pod web-0 in StatefulSet web successful") in await events(client, "web")


async def test_statefulset_creates_claims_from_templates_before_the_pod(client: MemoryClient, clock: FakeClock) -> None:
    async with running(client, clock, statefulset.controller):
        await client.create(sts(1))
        await until(lambda: _names_are(client, ["web-0"]))
        claim = await client.get("v1", "PersistentVolumeClaim", "data-web-0", namespace="default")
        assert claim["metadata"]["labels"] == LABELS
        assert claim["spec"]["resources"] == {"requests": {"storage": "1Gi"}}
        assert "ownerReferences" not in claim["metadata"]  # Retain: the claim outlives the set
        assert (await events(client, "web"))[:2] == [
            ("SuccessfulCreate", "create Claim data-web-0 Pod web-0 in StatefulSet web success"),
            ("SuccessfulCreate", "create Pod web-0 in StatefulSet web successful"),
        ]


async def test_statefulset_scales_down_from_the_highest_ordinal_one_at_a_time_keeping_claims(
    client: MemoryClient, clock: FakeClock
) -> None:
    kubelet = FakeKubelet(client, clock)
    async with running(client, clock, statefulset.controller):
        await client.create(sts(3))
        await start_all(client, clock, kubelet, 3)
        for pod in await pods(client):
            await bind(client, pod, "node-1")  # bound pods terminate gracefully
        await client.patch("apps/v1", "StatefulSet", "web", {"spec": {"replicas": 1}})
        await until(lambda: _names_are(client, ["web-0", "web-1"], live_only=True), what="web-2 terminating")
        await settle()
        assert await names(client, live_only=True) == ["web-0", "web-1"]  # web-1 waits for web-2 to go
        await client.delete("v1", "Pod", "web-2", namespace="default", grace_period_seconds=0)
        await until(lambda: _names_are(client, ["web-0"], live_only=True), what="web-1 terminating")
        claims = await client.list("v1", "PersistentVolumeClaim", namespace="default")
        assert sorted(c["metadata"]["name"] for c in claims["items"]) == ["data-web-0", "data-web-1", "data-web-2"]
        assert ("SuccessfulDelete", "delete Pod web-2 in StatefulSet web successful") in await events(client, "web")


async def test_parallel_statefulset_creates_every_pod_at_once(client: MemoryClient, clock: FakeClock) -> None:
    async with running(client, clock, statefulset.controller):
        await client.create(sts(3, podManagementPolicy="Parallel"))
        await until(lambda: _names_are(client, ["web-0", "web-1", "web-2"]))


async def test_rolling_update_replaces_pods_from_the_highest_ordinal_down_to_the_partition(
    client: MemoryClient, clock: FakeClock
) -> None:
    kubelet = FakeKubelet(client, clock)
    async with running(client, clock, statefulset.controller):
        await client.create(sts(3, updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}))
        await start_all(client, clock, kubelet, 3)
        old_revision = (await get_sts(client))["status"]["currentRevision"]
        current = await get_sts(client)
        current["spec"]["template"] = template(LABELS, env="2")
        await client.replace(current)
        await until(lambda: _updated(client, kubelet, 2), clock=clock, step=0.01, what="two pods updated")
        await start_all(client, clock, kubelet, 3)
        status = (await get_sts(client))["status"]
        revisions = {p["metadata"]["name"]: p["metadata"]["labels"]["controller-revision-hash"] for p in await pods(client)}
        assert revisions["web-0"] == old_revision == status["currentRevision"]
        assert revisions["web-1"] == revisions["web-2"] == status["updateRevision"] != old_revision
        assert (status["currentReplicas"], status["updatedReplicas"]) == (1, 2)
        history = await client.list("apps/v1", "ControllerRevision", namespace="default")
        assert sorted((r["metadata"]["name"], r["revision"]) for r in history["items"]) == sorted(
            [(old_revision, 1), (status["updateRevision"], 2)])
        await client.patch("apps/v1", "StatefulSet", "web", {"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}})
        await until(lambda: _updated(client, kubelet, 3), clock=clock, step=0.01, what="all pods updated")
        await start_all(client, clock, kubelet, 3)
        await until(lambda: _current_is_update(client), clock=clock, step=0.01)
        assert (await get_sts(client))["status"]["currentReplicas"] == 3


async def test_statefulset_keeps_revision_history_limit_old_revisions(client: MemoryClient, clock: FakeClock) -> None:
    kubelet = FakeKubelet(client, clock)
    async with running(client, clock, statefulset.controller):
        await client.create(sts(1, revisionHistoryLimit=1))
        await start_all(client, clock, kubelet, 1)
        for version in ("2", "3", "4"):
            current = await get_sts(client)
            current["spec"]["template"] = template(LABELS, env=version)
            await client.replace(current)
            await until(lambda: _rolled_out(client, kubelet), clock=clock, step=0.01, what=f"version {version}")
        async def two_left() -> bool:
            history = await client.list("apps/v1", "ControllerRevision", namespace="default")
            return sorted(r["revision"] for r in history["items"]) == [3, 4]
        await until(two_left, clock=clock, step=0.01, what="history truncated to the limit")


async def test_statefulset_recreates_a_failed_pod_with_the_same_name(client: MemoryClient, clock: FakeClock) -> None:
    kubelet = FakeKubelet(client, clock)
    async with running(client, clock, statefulset.controller):
        await client.create(sts(1))
        await start_all(client, clock, kubelet, 1)
        first = (await pods(client))[0]
        await kubelet.finish(first, phase="Failed")
        await until(lambda: _recreated(client, first["metadata"]["uid"]), what="recreated web-0")
        assert ("RecreatingFailedPod", "StatefulSet default/web is recreating failed Pod web-0") in await events(client, "web")


async def test_statefulset_status_counts_ready_and_available_replicas(client: MemoryClient, clock: FakeClock) -> None:
    kubelet = FakeKubelet(client, clock)
    async with running(client, clock, statefulset.controller):
        await client.create(sts(2, minReadySeconds=5, podManagementPolicy="Parallel"))
        await until(lambda: _names_are(client, ["web-0", "web-1"]))
        await kubelet.run_all()
        await until(lambda: _status_field(client, "readyReplicas", 2))
        status = (await get_sts(client))["status"]
        assert (status["replicas"], status["availableReplicas"], status["observedGeneration"]) == (2, 0, 1)
        await clock.advance(5)
        await until(lambda: _status_field(client, "availableReplicas", 2), what="available after minReadySeconds")


async def _names_are(client: MemoryClient, expected: list[str], *, live_only: bool = False) -> bool:
    return await names(client, live_only=live_only) == expected


async def _updated(client: MemoryClient, kubelet: FakeKubelet, n: int) -> bool:
    await kubelet.run_all()
    status = (await get_sts(client)).get("status") or {}
    return status.get("updatedReplicas", 0) == n


async def _rolled_out(client: MemoryClient, kubelet: FakeKubelet) -> bool:
    await kubelet.run_all()
    found = await get_sts(client)
    status = found.get("status") or {}
    return (
        status.get("observedGeneration") == found["metadata"]["generation"]
        and status.get("currentRevision") == status.get("updateRevision")
        and status.get("updatedReplicas") == status.get("readyReplicas") == found["spec"]["replicas"]
    )


async def _current_is_update(client: MemoryClient) -> bool:
    status = (await get_sts(client)).get("status") or {}
    return status.get("currentRevision") == status.get("updateRevision")


async def _recreated(client: MemoryClient, old_uid: str) -> bool:
    found = await pods(client)
    return len(found) == 1 and found[0]["metadata"]["uid"] != old_uid


async def _status_field(client: MemoryClient, field: str, value: int) -> bool:
    return ((await get_sts(client)).get("status") or {}).get(field) == value
