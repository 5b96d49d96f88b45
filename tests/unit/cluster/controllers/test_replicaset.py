"""The ReplicaSet controller: replicas, adoption, deletion order, status."""

from __future__ import annotations

from typing import Any

from workloads_helpers import FakeKubelet, events, pods, running, settle, template, until

from sandbox.api.errors import Forbidden
from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.cluster.controllers import replicaset
from sandbox.cluster.controllers.replicaset import ReplicaSetReconciler, deletion_order
from sandbox.runtime import Manager, Request

LABELS = {"app": "web"}


def rs(name: str = "web", replicas: int = 3, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": LABELS}, "template": template(LABELS), **spec},
    }


def bare_pod(name: str, labels: dict[str, str] = LABELS) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": dict(labels)},
        "spec": {"containers": [{"name": "app", "image": "python:3.11"}]},
    }


async def get_rs(client: MemoryClient, name: str = "web") -> dict[str, Any]:
    return await client.get("apps/v1", "ReplicaSet", name, namespace="default")


async def test_replicaset_creates_pods_from_its_template_owned_by_it(client: MemoryClient, clock: FakeClock) -> None:
    async with running(client, clock, replicaset.controller):
        created = await client.create(rs(replicas=3))
        await until(lambda: _count(client, 3), what="3 pods")
        found = await pods(client)
        assert all(p["metadata"]["name"].startswith("web-") and len(p["metadata"]["name"]) == 9 for p in found)
        for pod in found:
            assert pod["metadata"]["labels"] == LABELS
            assert pod["metadata"]["ownerReferences"] == [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web",
                "uid": created["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True,
            }]
        reasons = await events(client, "web")
        assert sorted(reasons) == sorted(("SuccessfulCreate", f"Created pod: {p['metadata']['name']}") for p in found)
        await until(lambda: _status_is(client, replicas=3))
        status = (await get_rs(client))["status"]
        assert status == {"replicas": 3, "fullyLabeledReplicas": 3, "observedGeneration": 1}


async def test_replicaset_scales_down_deleting_not_ready_pods_first(client: MemoryClient, clock: FakeClock) -> None:
    kubelet = FakeKubelet(client, clock)
    async with running(client, clock, replicaset.controller):
        await client.create(rs(replicas=3))
        await until(lambda: _count(client, 3))
        first, second, third = await pods(client)
        await kubelet.run(first)
        await kubelet.run(third)
        await client.patch("apps/v1", "ReplicaSet", "web", {"spec": {"replicas": 2}})
        await until(lambda: _count(client, 2))
        assert [p["metadata"]["name"] for p in await pods(client)] == [first["metadata"]["name"], third["metadata"]["name"]]
        assert ("SuccessfulDelete", f"Deleted pod: {second['metadata']['name']}") in await events(client, "web")


async def test_replicaset_adopts_matching_orphans_instead_of_creating(client: MemoryClient, clock: FakeClock) -> None:
    await client.create(bare_pod("orphan-1"))
    await client.create(bare_pod("orphan-2"))
    await client.create(bare_pod("other", {"app": "db"}))
    async with running(client, clock, replicaset.controller):
        created = await client.create(rs(replicas=2))
        await until(lambda: _owned(client, created["metadata"]["uid"], 2), what="adoption")
        await settle()
        names = [p["metadata"]["name"] for p in await pods(client)]
        assert names == ["orphan-1", "orphan-2", "other"]
        other = await client.get("v1", "Pod", "other", namespace="default")
        assert "ownerReferences" not in other["metadata"]


async def test_replicaset_releases_a_relabelled_pod_and_replaces_it(client: MemoryClient, clock: FakeClock) -> None:
    async with running(client, clock, replicaset.controller):
        await client.create(rs(replicas=2))
        await until(lambda: _count(client, 2))
        victim = (await pods(client))[0]["metadata"]["name"]
        await client.patch("v1", "Pod", victim, {"metadata": {"labels": {"app": "debug"}}}, namespace="default")
        await until(lambda: _count(client, 2, app="web"), what="a replacement")
        released = await client.get("v1", "Pod", victim, namespace="default")
        await until(lambda: _no_owner(client, victim), what="release")
        assert released["metadata"]["labels"] == {"app": "debug"}


async def test_replicaset_expectations_prevent_double_creation_before_the_cache_catches_up(
    client: MemoryClient, clock: FakeClock
) -> None:
    manager = Manager(client, clock=clock)
    reconciler = ReplicaSetReconciler(manager)
    await manager.start()
    try:
        await client.create(rs(replicas=3))
        await until(lambda: reconciler.replicasets.get("default", "web") is not None)
        request = Request("apps/v1", "ReplicaSet", "default", "web")
        await reconciler.pods.stop()  # the pod cache now lags behind the cluster
        await reconciler.reconcile(request)
        await reconciler.reconcile(request)
        assert len(await pods(client)) == 3
        reconciler.pods.start()
        await until(lambda: len(reconciler.pods) == 3)
        await reconciler.reconcile(request)
        assert len(await pods(client)) == 3
    finally:
        await manager.stop(timeout=0)


async def test_replicaset_status_counts_available_pods_after_min_ready_seconds(
    client: MemoryClient, clock: FakeClock
) -> None:
    kubelet = FakeKubelet(client, clock)
    async with running(client, clock, replicaset.controller):
        await client.create(rs(replicas=2, minReadySeconds=10))
        await until(lambda: _count(client, 2))
        await kubelet.run_all()
        await until(lambda: _status_is(client, readyReplicas=2))
        assert "availableReplicas" not in (await get_rs(client))["status"]
        await clock.advance(10)
        await until(lambda: _status_is(client, availableReplicas=2), what="available after 10s")


async def test_replicaset_reports_failed_creates_as_replica_failure(store: Any, clock: FakeClock) -> None:
    class QuotaClient(MemoryClient):
        async def create(self, obj: Any, **kwargs: Any) -> dict[str, Any]:
            if obj.get("kind") == "Pod":
                raise Forbidden('pods "web-x" is forbidden: exceeded quota: compute, requested: pods=1')
            return await super().create(obj, **kwargs)

    client = QuotaClient(store)
    async with running(client, clock, replicaset.controller):
        await client.create(rs(replicas=2))
        await until(lambda: _has_condition(client), clock=clock, step=0.01, what="ReplicaFailure")
        cond = (await get_rs(client))["status"]["conditions"][0]
        assert (cond["type"], cond["status"], cond["reason"]) == ("ReplicaFailure", "True", "FailedCreate")
        assert "exceeded quota" in cond["message"]
        assert ("FailedCreate", 'Error creating: pods "web-x" is forbidden: exceeded quota: compute, requested: pods=1') in await events(client, "web")


def test_deletion_order_prefers_unscheduled_pending_unready_then_newest() -> None:
    def pod(name: str, *, node: str = "n1", phase: str = "Running", ready: bool = True, created: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
        conditions = [{"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": created}]
        return {"metadata": {"name": name, "creationTimestamp": created},
                "spec": {"nodeName": node}, "status": {"phase": phase, "conditions": conditions}}

    ordered = deletion_order([
        pod("old-ready"),
        pod("new-ready", created="2026-01-01T00:05:00Z"),
        pod("not-ready", ready=False),
        pod("pending", phase="Pending", ready=False),
        pod("unscheduled", node="", phase="Pending", ready=False),
    ])
    assert [p["metadata"]["name"] for p in ordered] == ["unscheduled", "pending", "not-ready", "new-ready", "old-ready"]


async def _count(client: MemoryClient, n: int, **selector: str) -> bool:
    return len(await pods(client, **(selector or LABELS))) == n


async def _owned(client: MemoryClient, uid: str, n: int) -> bool:
    return sum(
        any(r["uid"] == uid for r in p["metadata"].get("ownerReferences") or ())
        for p in await pods(client)
    ) == n


async def _no_owner(client: MemoryClient, name: str) -> bool:
    pod = await client.get("v1", "Pod", name, namespace="default")
    return not pod["metadata"].get("ownerReferences")


async def _status_is(client: MemoryClient, **fields: int) -> bool:
    status = (await get_rs(client)).get("status") or {}
    return all(status.get(k) == v for k, v in fields.items())


async def _has_condition(client: MemoryClient) -> bool:
    return bool(((await get_rs(client)).get("status") or {}).get("conditions"))
