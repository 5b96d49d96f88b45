"""The Deployment controller: ReplicaSets, scaling, rollouts, revisions, conditions."""

from __future__ import annotations

from typing import Any

import pytest
from workloads_helpers import (
    FakeKubelet,
    bind,
    events,
    is_ready,
    pods,
    running,
    settle,
    template,
    until,
)

from sandbox.api.errors import Forbidden
from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.cluster.controllers import deployment, replicaset
from sandbox.cluster.controllers._workloads import template_hash
from sandbox.cluster.controllers.deployment import resolve_fenceposts
from sandbox.store import Store

LABELS = {"app": "web"}


def deploy(replicas: int = 3, *, env: str = "1", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": LABELS},
                 "template": template(LABELS, env=env), **spec},
    }


async def get_deploy(client: MemoryClient) -> dict[str, Any]:
    return await client.get("apps/v1", "Deployment", "web", namespace="default")


async def replicasets(client: MemoryClient) -> list[dict[str, Any]]:
    listed = await client.list("apps/v1", "ReplicaSet", namespace="default")
    return sorted(listed["items"], key=lambda rs: int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]))


async def set_env(client: MemoryClient, value: str) -> None:
    d = await get_deploy(client)
    d["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "VERSION", "value": value}]
    await client.replace(d)


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(c for c in obj["status"]["conditions"] if c["type"] == type_)


async def rolled_out(client: MemoryClient) -> bool:
    """What ``kubectl rollout status`` checks before it says "successfully rolled out"."""
    d = await get_deploy(client)
    status = d.get("status") or {}
    replicas = d["spec"]["replicas"]
    return (
        status.get("observedGeneration", 0) >= d["metadata"]["generation"]
        and status.get("updatedReplicas", 0) == replicas
        and status.get("replicas", 0) == replicas
        and status.get("availableReplicas", 0) == replicas
    )


async def converge(client: MemoryClient, clock: FakeClock, kubelet: FakeKubelet) -> None:
    """Let the kubelet start every pod until the rollout completes."""
    async def done() -> bool:
        await kubelet.run_all()
        return await rolled_out(client)

    await until(done, clock=clock, step=0.01, what="rollout")


async def test_deployment_creates_a_replicaset_named_by_pod_template_hash(client: MemoryClient, clock: FakeClock) -> None:
    async with running(client, clock, deployment.controller, replicaset.controller):
        await client.create(deploy(3))
        await until(lambda: _pod_count(client, 3))
        [rs] = await replicasets(client)
        pod_hash = rs["metadata"]["labels"]["pod-template-hash"]
        assert rs["metadata"]["name"] == f"web-{pod_hash}"
        assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": pod_hash}
        assert rs["spec"]["template"]["metadata"]["labels"] == {"app": "web", "pod-template-hash": pod_hash}
        assert rs["metadata"]["annotations"] == {
            "deployment.kubernetes.io/revision": "1",
            "deployment.kubernetes.io/desired-replicas": "3",
            "deployment.kubernetes.io/max-replicas": "4",
        }
        owner = rs["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["name"], owner["controller"], owner["blockOwnerDeletion"]) == ("Deployment", "web", True, True)
        assert all(p["metadata"]["labels"]["pod-template-hash"] == pod_hash for p in await pods(client))
        d = await get_deploy(client)
        assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
        assert ("ScalingReplicaSet", f"Scaled up replica set web-{pod_hash} from 0 to 3") in await events(client, "web")


async def test_deployment_scales_its_replicaset_up_and_down(client: MemoryClient, clock: FakeClock) -> None:
    kubelet = FakeKubelet(client, clock)
    async with running(client, clock, deployment.controller, replicaset.controller):
        await client.create(deploy(3))
        await converge(client, clock, kubelet)
        await client.patch("apps/v1", "Deployment", "web", {"spec": {"replicas": 5}})
        await converge(client, clock, kubelet)
        assert len(await pods(client)) == 5
        await client.patch("apps/v1", "Deployment", "web", {"spec": {"replicas": 1}})
        await converge(client, clock, kubelet)
        assert len(await pods(client)) == 1
        [rs] = await replicasets(client)
        name = rs["metadata"]["name"]
        assert rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == "1"
        found = await events(client, "web")
        assert ("ScalingReplicaSet", f"Scaled up replica set {name} from 3 to 5") in found
        assert ("ScalingReplicaSet", f"Scaled down replica set {name} from 5 to 1") in found


@pytest.mark.parametrize(("surge", "unavailable"), [(1, 1), (0, 1), ("50%", 0)])
async def test_rolling_update_keeps_replicas_minus_max_unavailable_ready(
    client: MemoryClient, clock: FakeClock, surge: int | str, unavailable: int
) -> None:
    kubelet = FakeKubelet(client, clock)
    replicas = 4
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}}
    async with running(client, clock, deployment.controller, replicaset.controller):
        await client.create(deploy(replicas, strategy=strategy))
        await converge(client, clock, kubelet)
        await set_env(client, "2")
        max_total = replicas + resolve_fenceposts(surge, unavailable, replicas)[0]
        for _ in range(200):
            await settle()
            current = [p for p in await pods(client) if not p["metadata"].get("deletionTimestamp")]
            assert sum(is_ready(p) for p in current) >= replicas - unavailable
            assert len(current) <= max_total
            if await rolled_out(client) and len(current) == replicas:
                break
            # The kubelet starts one pod at a time: the rollout moves in small steps.
            starting = [p for p in current if not is_ready(p)]
            if starting:
                await kubelet.run(starting[0])
            await clock.advance(0.01)
        else:
            pytest.fail("the rollout did not finish")
        old, new = await replicasets(client)
        assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (0, replicas)
        assert all(p["metadata"]["labels"]["pod-template-hash"] == new["metadata"]["labels"]["pod-template-hash"]
                   for p in await pods(client))
        assert new["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
        assert (await get_deploy(client))["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"


async def test_scaling_during_a_rollout_spreads_new_replicas_in_proportion(client: MemoryClient, clock: FakeClock) -> None:
    """The example of the Kubernetes docs ("Proportional scaling"): 10 → 15 replicas
    mid-rollout, maxSurge 3, maxUnavailable 2: 3 more for the old ReplicaSet, 2 for the new."""
    kubelet = FakeKubelet(client, clock)
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}}
    async with running(client, clock, deployment.controller, replicaset.controller):
        await client.create(deploy(10, strategy=strategy))
        await converge(client, clock, kubelet)
        await set_env(client, "broken")  # the new pods never become ready
        await until(lambda: _sizes(client, [8, 5]), clock=clock, step=0.01, what="a stuck rollout")
        await client.patch("apps/v1", "Deployment", "web", {"spec": {"replicas": 15}})
        await until(lambda: _sizes(client, [11, 7]), clock=clock, step=0.01, what="proportional scaling")


async def test_recreate_waits_for_old_pods_to_terminate_before_creating_new_ones(
    client: MemoryClient, clock: FakeClock
) -> None:
    kubelet = FakeKubelet(client, clock)
    async with running(client, clock, deployment.controller, replicaset.controller):
        await client.create(deploy(2, strategy={"type": "Recreate"}))
        await converge(client, clock, kubelet)
        old_pods = await pods(client)
        for pod in old_pods:
            await bind(client, pod, "node-1")  # bound pods terminate gracefully
        await set_env(client, "2")
        await until(lambda: _terminating(client, 2), what="old pods terminating")
        await settle()
        assert len(await replicasets(client)) == 1  # the new ReplicaSet waits
        for pod in old_pods:  # the kubelet finishes the termination
            await client.delete("v1", "Pod", pod["metadata"]["name"], namespace="default", grace_period_seconds=0)
        await converge(client, clock, kubelet)
        old, new = await replicasets(client)
        assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (0, 2)
        names = {p["metadata"]["name"] for p in await pods(client)}
        assert names.isdisjoint({p["metadata"]["name"] for p in old_pods})


async def test_revision_history_limit_deletes_the_oldest_empty_replicasets(client: MemoryClient, clock: FakeClock) -> None:
    kubelet = FakeKubelet(client, clock)
    async with running(client, clock, deployment.controller, replicaset.controller):
        await client.create(deploy(1, revisionHistoryLimit=1))
        await converge(client, clock, kubelet)
        for version in ("2", "3", "4"):
            await set_env(client, version)
            await converge(client, clock, kubelet)
        await until(lambda: _rs_count(client, 2), clock=clock, step=0.01, what="history cleanup")
        revisions = [rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] for rs in await replicasets(client)]
        assert revisions == ["3", "4"]


async def test_rolling_back_to_an_old_template_reuses_its_replicaset_with_a_new_revision(
    client: MemoryClient, clock: FakeClock
) -> None:
    kubelet = FakeKubelet(client, clock)
    async with running(client, clock, deployment.controller, replicaset.controller):
        await client.create(deploy(1))
        await converge(client, clock, kubelet)
        first = (await replicasets(client))[0]["metadata"]["name"]
        await set_env(client, "2")
        await converge(client, clock, kubelet)
        await set_env(client, "1")
        await converge(client, clock, kubelet)
        _, reused = await replicasets(client)
        assert reused["metadata"]["name"] == first
        assert reused["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
        assert reused["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "1"


async def test_a_rollback_whose_template_says_null_for_absent_fields_reuses_the_replicaset(
    client: MemoryClient, clock: FakeClock
) -> None:
    # kubectl rollout undo replaces the template by JSON patch, with metadata.creationTimestamp: null.
    kubelet = FakeKubelet(client, clock)
    async with running(client, clock, deployment.controller, replicaset.controller):
        await client.create(deploy(1))
        await converge(client, clock, kubelet)
        first = (await replicasets(client))[0]
        await set_env(client, "2")
        await converge(client, clock, kubelet)
        template = first["spec"]["template"]
        template["metadata"]["creationTimestamp"] = None
        template["metadata"]["labels"].pop("pod-template-hash")
        await client.patch("apps/v1", "Deployment", "web",
                           [{"op": "replace", "path": "/spec/template", "value": template}],
                           namespace="default", patch_type="json")
        await converge(client, clock, kubelet)
        names = sorted(rs["metadata"]["name"] for rs in await replicasets(client))
        assert len(names) == 2 and first["metadata"]["name"] in names


def test_template_hash_treats_null_as_absent() -> None:
    assert template_hash({"metadata": {"creationTimestamp": None, "labels": {"a": "b"}}}) == \
        template_hash({"metadata": {"labels": {"a": "b"}}})


async def test_status_and_conditions_say_what_rollout_status_reads(client: MemoryClient, clock: FakeClock) -> None:
    kubelet = FakeKubelet(client, clock)
    async with running(client, clock, deployment.controller, replicaset.controller):
        await client.create(deploy(2))
        await until(lambda: _pod_count(client, 2))
        await until(lambda: _has_conditions(client), what="conditions")
        d = await get_deploy(client)
        [rs] = await replicasets(client)
        progressing = condition(d, "Progressing")
        assert (progressing["status"], progressing["reason"]) == ("True", "NewReplicaSetCreated")
        assert progressing["message"] == f'Created new replica set "{rs["metadata"]["name"]}"'
        available = condition(d, "Available")
        assert (available["status"], available["reason"], available["message"]) == (
            "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.")
        assert d["status"]["unavailableReplicas"] == 2
        await converge(client, clock, kubelet)
        await until(lambda: _progress_reason(client, "NewReplicaSetAvailable"), clock=clock, step=0.01)
        d = await get_deploy(client)
        assert [c["type"] for c in d["status"]["conditions"]] == ["Available", "Progressing"]
        assert condition(d, "Available")["reason"] == "MinimumReplicasAvailable"
        assert condition(d, "Progressing")["message"] == f'ReplicaSet "{rs["metadata"]["name"]}" has successfully progressed.'
        assert {k: v for k, v in d["status"].items() if k != "conditions"} == {
            "observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2,
        }


async def test_a_rollout_without_progress_exceeds_its_deadline(client: MemoryClient, clock: FakeClock) -> None:
    async with running(client, clock, deployment.controller, replicaset.controller):
        await client.create(deploy(2, progressDeadlineSeconds=30))
        await until(lambda: _pod_count(client, 2))
        await until(lambda: _progress_reason(client, "NewReplicaSetCreated"))
        await clock.advance(20)
        assert condition(await get_deploy(client), "Progressing")["status"] == "True"
        await until(lambda: _progress_reason(client, "ProgressDeadlineExceeded"), clock=clock, step=1, what="timeout")
        d = await get_deploy(client)
        [rs] = await replicasets(client)
        progressing = condition(d, "Progressing")
        assert progressing["status"] == "False"
        assert progressing["message"] == f'ReplicaSet "{rs["metadata"]["name"]}" has timed out progressing.'


async def test_a_name_collision_bumps_collision_count_and_renames_the_replicaset(
    client: MemoryClient, clock: FakeClock
) -> None:
    created = await client.create(deploy(1))
    taken = f"web-{template_hash(created['spec']['template'])}"
    other = {"app": "other"}
    await client.create({
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": taken, "namespace": "default"},
        "spec": {"replicas": 0, "selector": {"matchLabels": other}, "template": template(other)},
    })
    async with running(client, clock, deployment.controller):
        await until(lambda: _rs_count(client, 2), clock=clock, step=0.01, what="a renamed ReplicaSet")
        d = await get_deploy(client)
        assert d["status"]["collisionCount"] == 1
        ours = [rs for rs in (await client.list("apps/v1", "ReplicaSet", namespace="default"))["items"]
                if rs["metadata"]["name"] != taken]
        assert ours[0]["metadata"]["ownerReferences"][0]["uid"] == created["metadata"]["uid"]


async def test_a_paused_deployment_does_not_roll_out_until_resumed(client: MemoryClient, clock: FakeClock) -> None:
    kubelet = FakeKubelet(client, clock)
    async with running(client, clock, deployment.controller, replicaset.controller):
        await client.create(deploy(1))
        await converge(client, clock, kubelet)
        await client.patch("apps/v1", "Deployment", "web", {"spec": {"paused": True}})
        await set_env(client, "2")
        await until(lambda: _progress_reason(client, "DeploymentPaused"), what="the paused condition")
        await settle()
        assert len(await replicasets(client)) == 1
        paused = condition(await get_deploy(client), "Progressing")
        assert (paused["status"], paused["message"]) == ("Unknown", "Deployment is paused")
        await client.patch("apps/v1", "Deployment", "web", {"spec": {"paused": False}})
        await converge(client, clock, kubelet)
        assert len(await replicasets(client)) == 2


async def test_pods_the_replicaset_cannot_create_show_as_replica_failure(store: Store, clock: FakeClock) -> None:
    class QuotaClient(MemoryClient):
        async def create(self, obj: Any, **kwargs: Any) -> dict[str, Any]:
            if obj.get("kind") == "Pod":
                raise Forbidden('pods "web-x" is forbidden: exceeded quota: compute')
            return await super().create(obj, **kwargs)

    client = QuotaClient(store)
    async with running(client, clock, deployment.controller, replicaset.controller):
        await client.create(deploy(1))
        async def failing() -> bool:
            d = await get_deploy(client)
            return any(c["type"] == "ReplicaFailure" for c in (d.get("status") or {}).get("conditions") or ())
        await until(failing, clock=clock, step=0.01, what="ReplicaFailure on the Deployment")
        failure = condition(await get_deploy(client), "ReplicaFailure")
        assert (failure["status"], failure["reason"]) == ("True", "FailedCreate")
        assert failure["message"] == 'pods "web-x" is forbidden: exceeded quota: compute'


def test_fenceposts_round_surge_up_and_unavailable_down() -> None:
    assert resolve_fenceposts("25%", "25%", 1) == (1, 0)
    assert resolve_fenceposts("25%", "25%", 10) == (3, 2)
    assert resolve_fenceposts(0, "10%", 5) == (0, 1)  # both zero: one may be unavailable
    assert resolve_fenceposts("50%", 2, 5) == (3, 2)


async def _pod_count(client: MemoryClient, n: int) -> bool:
    return len(await pods(client)) == n


async def _rs_count(client: MemoryClient, n: int) -> bool:
    return len((await client.list("apps/v1", "ReplicaSet", namespace="default"))["items"]) == n


async def _sizes(client: MemoryClient, sizes: list[int]) -> bool:
    return [rs["spec"]["replicas"] for rs in await replicasets(client)] == sizes


async def _terminating(client: MemoryClient, n: int) -> bool:
    return sum(bool(p["metadata"].get("deletionTimestamp")) for p in await pods(client)) == n


async def _has_conditions(client: MemoryClient) -> bool:
    d = await get_deploy(client)
    return len((d.get("status") or {}).get("conditions") or ()) == 2


async def _progress_reason(client: MemoryClient, reason: str) -> bool:
    d = await get_deploy(client)
    return any(c["type"] == "Progressing" and c["reason"] == reason for c in (d.get("status") or {}).get("conditions") or ())
