"""PodTopologySpread: system default spreading of owned pods, hard and soft constraints."""

from __future__ import annotations

from typing import Any

import pytest
from scheduler_helpers import (
    add_node,
    bound,
    condition_of,
    node_info,
    node_of,
    pod,
    pod_info,
    running,
    settle,
    until,
)

from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.cluster.scheduler import DEFAULT_PROFILE, IN_TREE
from sandbox.cluster.scheduler.cache import Cache
from sandbox.cluster.scheduler.framework import Code, CycleState, NodeInfo, PodInfo, Snapshot
from sandbox.cluster.scheduler.plugins.pod_topology_spread import (
    ERR_REASON_CONSTRAINTS_NOT_MATCH,
    ERR_REASON_NODE_LABEL_NOT_MATCH,
    NAME,
    PodTopologySpread,
    new,
)

ZONE = "topology.kubernetes.io/zone"
HOST = "kubernetes.io/hostname"


def constraint(
    key: str, *, skew: int = 1, when: str = "DoNotSchedule", app: str | None = "web", **extra: Any
) -> dict[str, Any]:
    c: dict[str, Any] = {"maxSkew": skew, "topologyKey": key, "whenUnsatisfiable": when, **extra}
    if app is not None:
        c["labelSelector"] = {"matchLabels": {"app": app}}
    return c


def owned_by(obj: dict[str, Any], rs: str) -> dict[str, Any]:
    obj["metadata"]["ownerReferences"] = [
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs, "uid": f"uid-{rs}", "controller": True}
    ]
    return obj


def replica_set(name: str, app: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": app}},
            "template": {
                "metadata": {"labels": {"app": app}},
                "spec": {"containers": [{"name": "main", "image": "python:3.11"}]},
            },
        },
    }


async def two_workers_one_busier(client: MemoryClient) -> None:
    """worker-1 and worker-2, equal, but worker-2 already runs a 1-cpu pod of
    another app: least-allocated scoring alone prefers worker-1 every time."""
    await add_node(client, "worker-1", labels={ZONE: "a"})
    await add_node(client, "worker-2", labels={ZONE: "a"})
    await client.create(pod("busy", cpu="1", labels={"app": "other"}, nodeName="worker-2"))


async def place_one_by_one(client: MemoryClient, pods: list[dict[str, Any]]) -> dict[str, int]:
    placed: dict[str, int] = {}
    for obj in pods:
        name = obj["metadata"]["name"]
        await client.create(obj)
        await until(lambda name=name: bound(client, name), what=f"{name} bound")
        node = await node_of(client, name)
        assert node is not None
        placed[node] = placed.get(node, 0) + 1
    return placed


# System defaults, through the scheduler ------------------------------------------------------


async def test_replicas_of_a_replica_set_spread_over_equal_workers(
    client: MemoryClient, clock: FakeClock
) -> None:
    await two_workers_one_busier(client)
    await client.create(replica_set("web-abc", "web"))
    async with running(client, clock):
        replicas = [
            owned_by(pod(f"web-abc-{i}", cpu="100m", labels={"app": "web"}), "web-abc") for i in range(3)
        ]
        placed = await place_one_by_one(client, replicas)
    assert placed == {"worker-1": 2, "worker-2": 1}


async def test_pods_nothing_owns_or_selects_are_not_spread(client: MemoryClient, clock: FakeClock) -> None:
    await two_workers_one_busier(client)
    async with running(client, clock):
        bare = [pod(f"web-{i}", cpu="100m", labels={"app": "web"}) for i in range(3)]
        placed = await place_one_by_one(client, bare)
    assert placed == {"worker-1": 3}


async def test_pods_a_service_selects_are_spread(client: MemoryClient, clock: FakeClock) -> None:
    await two_workers_one_busier(client)
    await client.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
        }
    )
    async with running(client, clock):
        placed = await place_one_by_one(
            client, [pod(f"web-{i}", cpu="100m", labels={"app": "web"}) for i in range(3)]
        )
    assert placed == {"worker-1": 2, "worker-2": 1}


async def test_explicit_constraints_replace_the_defaults(client: MemoryClient, clock: FakeClock) -> None:
    await two_workers_one_busier(client)
    await client.create(replica_set("web-abc", "web"))
    # Spread away from app=other's pods only: the replicas' own spreading
    # (the system default) no longer applies, so they all take the emptier node.
    soft = constraint(HOST, when="ScheduleAnyway", app="other")
    async with running(client, clock):
        replicas = [
            owned_by(
                pod(f"web-abc-{i}", cpu="100m", labels={"app": "web"}, topologySpreadConstraints=[soft]),
                "web-abc",
            )
            for i in range(3)
        ]
        placed = await place_one_by_one(client, replicas)
    assert placed == {"worker-1": 3}


# DoNotSchedule, through the scheduler -----------------------------------------------------------


async def test_do_not_schedule_keeps_the_pod_pending_with_the_kubernetes_message(
    client: MemoryClient, clock: FakeClock
) -> None:
    await add_node(client, "node-a", labels={ZONE: "a"})
    await add_node(client, "node-b", labels={ZONE: "b"})
    await client.create(pod("web-0", labels={"app": "web"}, nodeName="node-a"))
    await client.create(pod("filler", cpu="3500m", nodeName="node-b"))
    async with running(client, clock):
        await client.create(
            pod("web-1", cpu="1", labels={"app": "web"}, topologySpreadConstraints=[constraint(ZONE)])
        )
        await until(lambda: condition_of(client, "web-1"), what="PodScheduled condition")
        cond = await condition_of(client, "web-1")
    assert cond is not None and cond["reason"] == "Unschedulable"
    assert cond["message"] == (
        "0/2 nodes are available: 1 Insufficient cpu, "
        "1 node(s) didn't match pod topology spread constraints. "
        "preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."
    )


async def test_do_not_schedule_sends_the_pod_to_the_domain_with_fewer_matches(
    client: MemoryClient, clock: FakeClock
) -> None:
    await add_node(client, "node-a", labels={ZONE: "a"})
    await add_node(client, "node-b", labels={ZONE: "b"})
    await client.create(pod("web-0", labels={"app": "web"}, nodeName="node-b"))
    await client.create(pod("filler", cpu="2", nodeName="node-a"))  # node-b scores better on room
    async with running(client, clock):
        spread = [constraint(ZONE)]
        await client.create(pod("web-1", labels={"app": "web"}, topologySpreadConstraints=spread))
        await until(lambda: bound(client, "web-1"))
        assert await node_of(client, "web-1") == "node-a"


async def test_a_matching_pod_bound_elsewhere_lets_a_rejected_pod_try_again(
    client: MemoryClient, clock: FakeClock
) -> None:
    await add_node(client, "node-a", labels={ZONE: "a"})
    await add_node(client, "node-b", labels={ZONE: "b"})
    await client.create(pod("web-0", labels={"app": "web"}, nodeName="node-a"))
    await client.create(pod("filler", cpu="3500m", nodeName="node-b"))
    async with running(client, clock):
        await client.create(
            pod("web-1", cpu="1", labels={"app": "web"}, topologySpreadConstraints=[constraint(ZONE)])
        )
        await until(lambda: condition_of(client, "web-1"), what="rejected once")
        # Zone b gains a matching pod: zone a is no longer ahead, web-1 fits there.
        await client.create(pod("web-2", labels={"app": "web"}, nodeName="node-b"))
        await settle()
        await clock.advance(1)  # the pod's first backoff, not the 5-minute flush
        await until(lambda: bound(client, "web-1"), what="web-1 bound")
        assert await node_of(client, "web-1") == "node-a"


def test_the_default_profile_scores_topology_spread_with_weight_2() -> None:
    weights = {spec.name: spec.weight for spec in DEFAULT_PROFILE.plugins}
    assert weights[NAME] == 2 and NAME in IN_TREE
    names = [spec.name for spec in DEFAULT_PROFILE.plugins]
    assert names.index("NodeResourcesFit") < names.index(NAME) < names.index("DefaultPreemption")


# The plugin alone ------------------------------------------------------------------------------


class FakeInformer:
    """The two lookups the plugin makes of an informer."""

    def __init__(self, *objs: dict[str, Any]) -> None:
        self.objs = list(objs)

    def by_index(self, name: str, value: str, *, copy: bool = True) -> list[dict[str, Any]]:
        assert name == "namespace"
        return [o for o in self.objs if o["metadata"].get("namespace") == value]

    def get(self, namespace: str, name: str, *, copy: bool = True) -> dict[str, Any] | None:
        return next(
            (o for o in self.objs if (o["metadata"].get("namespace"), o["metadata"]["name"]) == (namespace, name)),
            None,
        )


class FakeHandle:
    def __init__(self, cache: Cache, **informers: FakeInformer) -> None:
        self.cache = cache
        self.informers = informers

    @property
    def snapshot(self) -> Snapshot:
        return self.cache.snapshot()

    def informer(self, api_version: str, kind: str) -> FakeInformer:
        return self.informers.setdefault(kind, FakeInformer())


def cluster(nodes: list[NodeInfo], pods: dict[str, list[PodInfo]]) -> tuple[Cache, list[NodeInfo]]:
    cache = Cache()
    for info in nodes:
        assert info.node is not None
        cache.add_node(info.node)
    for node_name, infos in pods.items():
        for p in infos:
            cache.assume_pod(p, node_name)
    return cache, cache.snapshot().node_infos


def web(name: str, **kwargs: Any) -> PodInfo:
    return pod_info(name, labels={"app": "web"}, **kwargs)


def feasible(plugin: PodTopologySpread, pod: PodInfo, nodes: list[NodeInfo]) -> dict[str, Any]:
    state = CycleState()
    status = plugin.pre_filter(state, pod, nodes)
    if status is not None:
        assert status.code == Code.Skip
        return {n.name: None for n in nodes}
    return {n.name: plugin.filter(state, pod, n) for n in nodes}


def scores(plugin: PodTopologySpread, pod: PodInfo, nodes: list[NodeInfo]) -> dict[str, int] | None:
    state = CycleState()
    status = plugin.pre_score(state, pod, nodes)
    if status is not None:
        assert status.code == Code.Skip
        return None
    raw = [plugin.score(state, pod, n) for n in nodes]
    plugin.normalize_score(state, pod, raw)
    return {n.name: s for n, s in zip(nodes, raw, strict=True)}


def test_a_node_without_the_topology_key_is_rejected_as_unresolvable() -> None:
    cache, nodes = cluster([node_info("a", labels={ZONE: "a"}), node_info("bare")], {})
    plugin = PodTopologySpread(FakeHandle(cache))
    verdicts = feasible(plugin, web("p", topologySpreadConstraints=[constraint(ZONE)]), nodes)
    assert verdicts["a"] is None
    status = verdicts["bare"]
    assert status.code == Code.UnschedulableAndUnresolvable
    assert status.reasons == (ERR_REASON_NODE_LABEL_NOT_MATCH,)


def test_skew_counts_the_pod_itself_only_when_it_matches_its_selector() -> None:
    cache, nodes = cluster(
        [node_info("a", labels={ZONE: "a"}), node_info("b", labels={ZONE: "b"})],
        {"a": [web("w0")]},
    )
    plugin = PodTopologySpread(FakeHandle(cache))
    matching = feasible(plugin, web("p", topologySpreadConstraints=[constraint(ZONE)]), nodes)
    assert matching["a"] is not None and matching["a"].code == Code.Unschedulable
    assert matching["a"].reasons == (ERR_REASON_CONSTRAINTS_NOT_MATCH,)
    other = pod_info("q", labels={"app": "db"}, topologySpreadConstraints=[constraint(ZONE)])
    assert feasible(plugin, other, nodes) == {"a": None, "b": None}


def test_fewer_domains_than_min_domains_make_the_global_minimum_zero() -> None:
    cache, nodes = cluster(
        [node_info("a", labels={ZONE: "a"}), node_info("b", labels={ZONE: "b"})],
        {"a": [web("w0")], "b": [web("w1")]},
    )
    plugin = PodTopologySpread(FakeHandle(cache))
    plain = web("p", topologySpreadConstraints=[constraint(ZONE)])
    assert feasible(plugin, plain, nodes) == {"a": None, "b": None}
    strict = web("p", topologySpreadConstraints=[constraint(ZONE, minDomains=3)])
    assert all(v is not None and v.code == Code.Unschedulable for v in feasible(plugin, strict, nodes).values())


def test_node_affinity_policy_honor_leaves_excluded_nodes_out_of_the_count() -> None:
    # Zone c holds no matching pod but the pod's nodeSelector excludes it:
    # under Honor (the default) it is no domain, so the minimum is zone b's 1.
    cache, nodes = cluster(
        [
            node_info("a", labels={ZONE: "a", "pool": "x"}),
            node_info("b", labels={ZONE: "b", "pool": "x"}),
            node_info("c", labels={ZONE: "c"}),
        ],
        {"a": [web("w0")], "b": [web("w1")]},
    )
    plugin = PodTopologySpread(FakeHandle(cache))
    honor = web("p", nodeSelector={"pool": "x"}, topologySpreadConstraints=[constraint(ZONE)])
    assert feasible(plugin, honor, nodes)["a"] is None
    ignore = web(
        "p", nodeSelector={"pool": "x"},
        topologySpreadConstraints=[constraint(ZONE, nodeAffinityPolicy="Ignore")],
    )
    assert feasible(plugin, ignore, nodes)["a"] is not None


def test_node_taints_policy_honor_leaves_untolerated_nodes_out_of_the_count() -> None:
    taint = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
    cache, nodes = cluster(
        [
            node_info("a", labels={ZONE: "a"}),
            node_info("b", labels={ZONE: "b"}),
            node_info("c", labels={ZONE: "c"}, taints=[taint]),
        ],
        {"a": [web("w0")], "b": [web("w1")]},
    )
    plugin = PodTopologySpread(FakeHandle(cache))
    ignore = web("p", topologySpreadConstraints=[constraint(ZONE)])
    assert feasible(plugin, ignore, nodes)["a"] is not None  # zone c (0 pods) counts
    honor = web("p", topologySpreadConstraints=[constraint(ZONE, nodeTaintsPolicy="Honor")])
    assert feasible(plugin, honor, nodes)["a"] is None


def test_match_label_keys_narrow_the_selector_to_the_pods_own_values() -> None:
    cache, nodes = cluster(
        [node_info("a", labels={ZONE: "a"}), node_info("b", labels={ZONE: "b"})],
        {"a": [pod_info("old", labels={"app": "web", "rev": "1"})]},
    )
    plugin = PodTopologySpread(FakeHandle(cache))
    by_rev = constraint(ZONE, matchLabelKeys=["rev"])
    new_rev = pod_info("p", labels={"app": "web", "rev": "2"}, topologySpreadConstraints=[by_rev])
    assert feasible(plugin, new_rev, nodes) == {"a": None, "b": None}
    same_rev = pod_info("p", labels={"app": "web", "rev": "1"}, topologySpreadConstraints=[by_rev])
    assert feasible(plugin, same_rev, nodes)["a"] is not None


def test_terminating_pods_and_other_namespaces_do_not_count() -> None:
    obj = pod("w0", labels={"app": "web"})
    obj["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    leaving = PodInfo(obj)
    cache, nodes = cluster(
        [node_info("a", labels={ZONE: "a"}), node_info("b", labels={ZONE: "b"})],
        {"a": [leaving, pod_info("w1", namespace="other", labels={"app": "web"})]},
    )
    plugin = PodTopologySpread(FakeHandle(cache))
    assert feasible(plugin, web("p", topologySpreadConstraints=[constraint(ZONE)]), nodes) == {
        "a": None, "b": None,
    }


def test_soft_constraints_prefer_the_domain_with_fewer_matching_pods() -> None:
    cache, nodes = cluster(
        [node_info("a", labels={ZONE: "a"}), node_info("b", labels={ZONE: "b"}), node_info("c")],
        {"a": [web("w0"), web("w1")], "b": [web("w2")]},
    )
    plugin = PodTopologySpread(FakeHandle(cache))
    soft = web("p", topologySpreadConstraints=[constraint(ZONE, when="ScheduleAnyway")])
    # a: 2*log(4)+0 = 2.77 -> 3; b: 1*log(4) = 1.39 -> 1; c lacks the key: ignored, 0.
    assert scores(plugin, soft, nodes) == {"a": 33, "b": 100, "c": 0}
    hard_only = web("p", topologySpreadConstraints=[constraint(ZONE)])
    assert scores(plugin, hard_only, nodes) is None


def test_system_defaults_spread_by_host_even_on_nodes_without_a_zone() -> None:
    rs = replica_set("web-abc", "web")
    cache, nodes = cluster([node_info("a"), node_info("b")], {"a": [web("w0")]})
    plugin = PodTopologySpread(FakeHandle(cache, ReplicaSet=FakeInformer(rs)))
    replica = owned_by(pod_info("p", labels={"app": "web"}).pod, "web-abc")
    # hostname (maxSkew 3): a = 1*log(4) + 2 = 3.39 -> 3, b = 2; no zone labels: no zone term.
    assert scores(plugin, PodInfo(replica), nodes) == {"a": 66, "b": 100}
    assert feasible(plugin, PodInfo(replica), nodes) == {"a": None, "b": None}  # no hard defaults
    orphan = pod_info("q", labels={"app": "web"})
    assert scores(plugin, orphan, nodes) is None


def test_the_default_selector_merges_services_and_the_owner() -> None:
    service = {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"tier": "front"}},
    }
    rs = replica_set("web-abc", "web")
    cache, nodes = cluster(
        [node_info("a"), node_info("b")],
        {"a": [pod_info("front-only", labels={"tier": "front"})], "b": [pod_info("both", labels={"app": "web", "tier": "front"})]},
    )
    plugin = PodTopologySpread(
        FakeHandle(cache, Service=FakeInformer(service), ReplicaSet=FakeInformer(rs))
    )
    replica = PodInfo(owned_by(pod_info("p", labels={"app": "web", "tier": "front"}).pod, "web-abc"))
    # Only "both" matches tier=front AND app=web: b is the fuller node.
    assert scores(plugin, replica, nodes) == {"a": 100, "b": 66}


def test_list_defaulting_replaces_the_system_defaults() -> None:
    cache, nodes = cluster([node_info("a"), node_info("b")], {})
    handle = FakeHandle(cache)
    listed = new(
        {"defaultingType": "List",
         "defaultConstraints": [{"maxSkew": 1, "topologyKey": HOST, "whenUnsatisfiable": "DoNotSchedule"}]},
        handle,  # type: ignore[arg-type]
    )
    rs = replica_set("web-abc", "web")
    handle.informers["ReplicaSet"].objs.append(rs)
    replica = PodInfo(owned_by(pod_info("p", labels={"app": "web"}).pod, "web-abc"))
    assert scores(listed, replica, nodes) is None  # no soft defaults any more
    state = CycleState()
    assert listed.pre_filter(state, replica, nodes) is None  # a hard default instead
    with pytest.raises(ValueError, match="labelSelector"):
        new({"defaultingType": "List", "defaultConstraints": [constraint(HOST)]}, handle)  # type: ignore[arg-type]


def test_the_cache_counts_pods_per_namespace_label_set_and_node() -> None:
    leaving = pod("gone", labels={"app": "web"})
    leaving["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    cache, _ = cluster(
        [node_info("a"), node_info("b")],
        {"a": [web("w0"), web("w1"), pod_info("x", namespace="other"), PodInfo(leaving)], "b": [web("w2")]},
    )
    sets = cache.snapshot().label_sets
    assert {ns: [g.nodes for g in groups.values()] for ns, groups in sets.items()} == {
        "default": [{"a": 2, "b": 1}], "other": [{"a": 1}],
    }
    cache.forget_pod("default/w0")
    cache.remove_pod("default/w2")
    cache.remove_pod("default/gone")
    assert [g.nodes for g in sets["default"].values()] == [{"a": 1}]
    cache.remove_pod("default/w1")
    cache.remove_pod("other/x")
    assert sets == {}
