"""The DaemonSet controller: a pod per eligible node, taints, selectors, updates, status."""

from __future__ import annotations

from typing import Any

from workloads_helpers import FakeKubelet, bind, events, pods, running, settle, template, until

from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.cluster.controllers import daemonset
from sandbox.cluster.controllers._workloads_nodes import matches_node_affinity, tolerates

LABELS = {"app": "agent"}
CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def node(name: str, *, labels: dict[str, str] | None = None, taints: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": {"taints": taints} if taints else {},
    }


def ds(**pod_spec: Any) -> dict[str, Any]:
    tmpl = template(LABELS)
    tmpl["spec"].update(pod_spec)
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "default"},
        "spec": {"selector": {"matchLabels": LABELS}, "template": tmpl},
    }


async def cluster(client: MemoryClient) -> None:
    await client.create(node("control-plane", taints=[CONTROL_PLANE_TAINT]))
    await client.create(node("worker-1", labels={"disk": "ssd"}))
    await client.create(node("worker-2"))


async def nodes_with_pods(client: MemoryClient) -> list[str]:
    found = []
    for pod in await pods(client):
        if pod["metadata"].get("deletionTimestamp"):
            continue
        terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        found.append(terms[0]["matchFields"][0]["values"][0])
    return sorted(found)


async def get_ds(client: MemoryClient) -> dict[str, Any]:
    return await client.get("apps/v1", "DaemonSet", "agent", namespace="default")


async def test_daemonset_runs_one_pod_per_schedulable_node_pinned_by_affinity(client: MemoryClient, clock: FakeClock) -> None:
    await cluster(client)
    async with running(client, clock, daemonset.controller):
        await client.create(ds())
        await until(lambda: _on_nodes(client, ["worker-1", "worker-2"]), what="pods on the workers")
        pod = (await pods(client))[0]
        assert pod["metadata"]["name"].startswith("agent-")
        assert pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == {
            "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [_pinned(pod)]}]}]
        }
        assert {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"} in pod["spec"]["tolerations"]
        assert "controller-revision-hash" in pod["metadata"]["labels"]
        await until(lambda: _status(client, desiredNumberScheduled=2, currentNumberScheduled=2))
        assert ("SuccessfulCreate", f"Created pod: {pod['metadata']['name']}") in await events(client, "agent")


async def test_daemonset_with_a_toleration_also_runs_on_the_tainted_node(client: MemoryClient, clock: FakeClock) -> None:
    await cluster(client)
    async with running(client, clock, daemonset.controller):
        await client.create(ds(tolerations=[{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}]))
        await until(lambda: _on_nodes(client, ["control-plane", "worker-1", "worker-2"]))


async def test_daemonset_follows_node_labels_its_selector_asks_for(client: MemoryClient, clock: FakeClock) -> None:
    await cluster(client)
    async with running(client, clock, daemonset.controller):
        await client.create(ds(nodeSelector={"disk": "ssd"}))
        await until(lambda: _on_nodes(client, ["worker-1"]))
        await client.patch("v1", "Node", "worker-2", {"metadata": {"labels": {"disk": "ssd"}}})
        await until(lambda: _on_nodes(client, ["worker-1", "worker-2"]), what="a pod on the relabelled node")
        await client.patch("v1", "Node", "worker-1", {"metadata": {"labels": {"disk": None}}})
        await until(lambda: _on_nodes(client, ["worker-2"]), what="the pod leaving worker-1")


async def test_a_no_execute_taint_evicts_the_daemon_pod_but_no_schedule_does_not(client: MemoryClient, clock: FakeClock) -> None:
    await cluster(client)
    async with running(client, clock, daemonset.controller):
        await client.create(ds())
        await until(lambda: _on_nodes(client, ["worker-1", "worker-2"]))
        await client.patch("v1", "Node", "worker-1", {"spec": {"taints": [{"key": "maintenance", "effect": "NoSchedule"}]}})
        await client.patch("v1", "Node", "worker-2", {"spec": {"taints": [{"key": "broken", "effect": "NoExecute"}]}})
        await until(lambda: _on_nodes(client, ["worker-1"]), what="eviction from worker-2")
        await until(lambda: _status(client, desiredNumberScheduled=0, numberMisscheduled=1))


async def test_daemonset_status_counts_ready_available_and_updated_pods(client: MemoryClient, clock: FakeClock) -> None:
    await cluster(client)
    kubelet = FakeKubelet(client, clock)
    async with running(client, clock, daemonset.controller):
        await client.create(ds())
        await until(lambda: _on_nodes(client, ["worker-1", "worker-2"]))
        for pod in await pods(client):
            await bind(client, pod, _pinned(pod))
            await kubelet.run(await client.get("v1", "Pod", pod["metadata"]["name"], namespace="default"))
        await until(lambda: _status(client, numberReady=2))
        status = (await get_ds(client))["status"]
        assert status == {
            "currentNumberScheduled": 2, "numberMisscheduled": 0, "desiredNumberScheduled": 2, "numberReady": 2,
            "observedGeneration": 1, "updatedNumberScheduled": 2, "numberAvailable": 2,
        }


async def test_rolling_update_replaces_at_most_max_unavailable_pods_at_a_time(client: MemoryClient, clock: FakeClock) -> None:
    await cluster(client)
    await client.create(node("worker-3"))
    kubelet = FakeKubelet(client, clock)
    async with running(client, clock, daemonset.controller):
        await client.create(ds())
        await until(lambda: _on_nodes(client, ["worker-1", "worker-2", "worker-3"]))
        await kubelet.run_all()
        await until(lambda: _status(client, numberAvailable=3))
        old_hash = (await pods(client))[0]["metadata"]["labels"]["controller-revision-hash"]
        current = await get_ds(client)
        current["spec"]["template"] = template(LABELS, env="2")
        await client.replace(current)
        for _ in range(100):
            await settle()
            found = [p for p in await pods(client) if not p["metadata"].get("deletionTimestamp")]
            ready = [p for p in found if (p.get("status") or {}).get("phase") == "Running"]
            assert len(ready) >= 2  # maxUnavailable: 1 of 3 nodes
            if all(p["metadata"]["labels"]["controller-revision-hash"] != old_hash for p in ready) and len(ready) == 3:
                break
            await kubelet.run_all()
            await clock.advance(0.01)
        else:
            raise AssertionError("the update did not finish")
        await until(lambda: _status(client, updatedNumberScheduled=3, observedGeneration=2))


async def test_surging_update_starts_the_new_pod_before_deleting_the_old_one(client: MemoryClient, clock: FakeClock) -> None:
    await cluster(client)
    kubelet = FakeKubelet(client, clock)
    async with running(client, clock, daemonset.controller):
        spec = ds()
        spec["spec"]["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
        await client.create(spec)
        await until(lambda: _on_nodes(client, ["worker-1", "worker-2"]))
        await kubelet.run_all()
        await until(lambda: _status(client, numberAvailable=2))
        old_hash = (await pods(client))[0]["metadata"]["labels"]["controller-revision-hash"]
        current = await get_ds(client)
        current["spec"]["template"] = template(LABELS, env="2")
        await client.replace(current)
        surged = False
        for _ in range(100):
            await settle()
            found = [p for p in await pods(client) if not p["metadata"].get("deletionTimestamp")]
            running_on = sorted(_pinned(p) for p in found if (p.get("status") or {}).get("phase") == "Running")
            assert set(running_on) == {"worker-1", "worker-2"}  # never a node without a running daemon
            surged = surged or len(found) == 3
            assert len(found) <= 3  # maxSurge: one extra pod at a time
            if len(found) == 2 and all(p["metadata"]["labels"]["controller-revision-hash"] != old_hash for p in found):
                break
            await kubelet.run_all()
            await clock.advance(0.01)
        else:
            raise AssertionError("the update did not finish")
        assert surged


def test_tolerations_match_taints_like_kubernetes() -> None:
    taint = {"key": "gpu", "value": "a100", "effect": "NoSchedule"}
    assert tolerates({"key": "gpu", "operator": "Exists"}, taint)
    assert tolerates({"key": "gpu", "value": "a100"}, taint)  # the default operator is Equal
    assert not tolerates({"key": "gpu", "value": "t4"}, taint)
    assert not tolerates({"key": "gpu", "operator": "Exists", "effect": "NoExecute"}, taint)
    assert tolerates({"operator": "Exists"}, taint)  # an empty key with Exists tolerates everything


def test_node_affinity_terms_are_ored_and_requirements_anded() -> None:
    n = node("worker-1", labels={"zone": "a", "cores": "8"})
    def spec(*terms: dict[str, Any]) -> dict[str, Any]:
        return {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}}}
    zone_b = {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]}
    big = {"matchExpressions": [{"key": "cores", "operator": "Gt", "values": ["4"]},
                                {"key": "gpu", "operator": "DoesNotExist"}]}
    assert matches_node_affinity(spec(zone_b, big), n)
    assert not matches_node_affinity(spec(zone_b), n)
    assert not matches_node_affinity(spec({}), n)  # an empty term matches nothing
    assert not matches_node_affinity({"nodeSelector": {"zone": "b"}}, n)


def _pinned(pod: dict[str, Any]) -> str:
    terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    return terms[0]["matchFields"][0]["values"][0]


async def _on_nodes(client: MemoryClient, expected: list[str]) -> bool:
    return await nodes_with_pods(client) == expected


async def _status(client: MemoryClient, **fields: int) -> bool:
    status = (await get_ds(client)).get("status") or {}
    return all(status.get(k, 0) == v for k, v in fields.items())
