"""The scheduler end to end over the in-memory cluster: placement, messages, events, retries."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from typing import Any

import pytest
from scheduler_helpers import (
    add_node,
    bound,
    condition_of,
    default_cluster,
    events_about,
    node_of,
    node_status,
    pod,
    running,
    settle,
    until,
)

from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.cluster.scheduler import DEFAULT_PROFILE, IN_TREE, PluginSpec, Profile
from sandbox.cluster.scheduler.framework import CycleState, NodeInfo, PodInfo, Status
from sandbox.cluster.scheduler.plugins import default_binder
from sandbox.cluster.scheduler.scheduler import num_feasible_nodes_to_find

MESSAGE_100_CPUS = (
    "0/3 nodes are available: 1 node(s) had untolerated taint "
    "{node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are "
    "available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for "
    "incoming pod."
)
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


async def pending_with(client: MemoryClient, name: str, message: str | None = None) -> bool:
    condition = await condition_of(client, name)
    if condition is None or condition["status"] != "False":
        return False
    return message is None or condition["message"] == message


# Placement --------------------------------------------------------------------------------


async def test_pods_spread_over_the_two_workers_by_least_allocated(
    client: MemoryClient, clock: FakeClock
) -> None:
    await default_cluster(client)
    async with running(client, clock):
        for i in range(6):
            await client.create(pod(f"web-{i}", cpu="500m", memory="512Mi"))
        names = [f"web-{i}" for i in range(6)]
        await until(lambda: bound(client, *names), what="all pods bound")
        nodes = [await node_of(client, n) for n in names]
    assert sorted(nodes) == ["worker-1"] * 3 + ["worker-2"] * 3


async def test_the_control_plane_taint_keeps_ordinary_pods_off_it(
    client: MemoryClient, clock: FakeClock
) -> None:
    await default_cluster(client)
    async with running(client, clock):
        for i in range(8):
            await client.create(pod(f"p-{i}", cpu="100m"))
        await until(lambda: bound(client, *[f"p-{i}" for i in range(8)]))
        assert {await node_of(client, f"p-{i}") for i in range(8)} == {"worker-1", "worker-2"}


async def test_a_pod_tolerating_the_control_plane_taint_may_land_there(
    client: MemoryClient, clock: FakeClock
) -> None:
    await default_cluster(client)
    async with running(client, clock):
        await client.create(
            pod(
                "agent",
                nodeSelector={"node-role.kubernetes.io/control-plane": ""},
                tolerations=[{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}],
            )
        )
        await until(lambda: bound(client, "agent"))
        assert await node_of(client, "agent") == "control-plane"


async def test_the_tainted_gpu_node_takes_only_pods_that_tolerate_it_and_request_gpus(
    client: MemoryClient, clock: FakeClock
) -> None:
    await default_cluster(client)
    await add_node(client, "gpu-1", cpu="8", memory="32Gi", extra={"nvidia.com/gpu": "2"},
                   taints=[GPU_TAINT])
    async with running(client, clock):
        await client.create(pod("plain", cpu="100m"))
        await client.create(pod("trainer", gpu="1", tolerations=[GPU_TOLERATION]))
        await client.create(pod("no-toleration", gpu="1"))
        await until(lambda: bound(client, "plain", "trainer"))
        await until(lambda: pending_with(client, "no-toleration"))
        assert await node_of(client, "trainer") == "gpu-1"
        assert await node_of(client, "plain") != "gpu-1"
        condition = await condition_of(client, "no-toleration")
        assert condition is not None and condition["message"].startswith(
            "0/4 nodes are available: 1 node(s) had untolerated taint "
            "{node-role.kubernetes.io/control-plane: }, 1 node(s) had untolerated taint "
            "{nvidia.com/gpu: present}, 2 Insufficient nvidia.com/gpu."
        )


async def test_node_selector_and_required_affinity_choose_the_node(
    client: MemoryClient, clock: FakeClock
) -> None:
    await default_cluster(client)
    await add_node(client, "worker-3", labels={"disktype": "ssd", "generation": "3"})
    async with running(client, clock):
        await client.create(pod("by-selector", nodeSelector={"disktype": "ssd"}))
        await client.create(
            pod(
                "by-affinity",
                affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [
                        {"key": "generation", "operator": "Gt", "values": ["2"]}
                    ]}]
                }}},
            )
        )
        await client.create(pod("nowhere", nodeSelector={"disktype": "nvme"}))
        await until(lambda: bound(client, "by-selector", "by-affinity"))
        await until(lambda: pending_with(client, "nowhere"))
        assert await node_of(client, "by-selector") == "worker-3"
        assert await node_of(client, "by-affinity") == "worker-3"
        condition = await condition_of(client, "nowhere")
        assert condition is not None and condition["message"] == (
            "0/4 nodes are available: 1 node(s) had untolerated taint "
            "{node-role.kubernetes.io/control-plane: }, 3 node(s) didn't match Pod's node "
            "affinity/selector. preemption: 0/4 nodes are available: 4 Preemption is not "
            "helpful for scheduling."
        )


async def test_preferred_affinity_picks_the_preferred_node(
    client: MemoryClient, clock: FakeClock
) -> None:
    await default_cluster(client)
    async with running(client, clock):
        for i in range(3):
            await client.create(
                pod(
                    f"p-{i}",
                    affinity={"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                        {"weight": 100, "preference": {"matchExpressions": [
                            {"key": "kubernetes.io/hostname", "operator": "In", "values": ["worker-2"]}
                        ]}}
                    ]}},
                )
            )
        await until(lambda: bound(client, "p-0", "p-1", "p-2"))
        assert {await node_of(client, f"p-{i}") for i in range(3)} == {"worker-2"}


async def test_the_init_container_rule_decides_whether_a_pod_fits(
    client: MemoryClient, clock: FakeClock
) -> None:
    await add_node(client, "small", cpu="2")
    async with running(client, clock):
        heavy_init = pod("heavy-init", cpu="500m")
        heavy_init["spec"]["initContainers"] = [
            {"name": "warm-up", "image": "x", "resources": {"requests": {"cpu": "3"}}}
        ]
        light_init = pod("light-init", cpu="1")
        light_init["spec"]["initContainers"] = [
            {"name": "warm-up", "image": "x", "resources": {"requests": {"cpu": "1500m"}}}
        ]
        await client.create(heavy_init)
        await client.create(light_init)
        await until(lambda: bound(client, "light-init"))
        await until(lambda: pending_with(client, "heavy-init"))
        condition = await condition_of(client, "heavy-init")
        assert condition is not None
        assert condition["message"].startswith("0/1 nodes are available: 1 Insufficient cpu.")


async def test_a_cordoned_node_is_skipped(client: MemoryClient, clock: FakeClock) -> None:
    await add_node(client, "cordoned", unschedulable=True)
    await add_node(client, "open", cpu="1")
    async with running(client, clock):
        await client.create(pod("small", cpu="500m"))
        await client.create(pod("large", cpu="2"))
        await until(lambda: bound(client, "small"))
        await until(lambda: pending_with(client, "large"))
        assert await node_of(client, "small") == "open"
        condition = await condition_of(client, "large")
        assert condition is not None and condition["message"] == (
            "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) were unschedulable. "
            "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming "
            "pod, 1 Preemption is not helpful for scheduling."
        )


async def test_a_node_that_is_not_ready_is_filtered_by_its_not_ready_taint(
    client: MemoryClient, clock: FakeClock
) -> None:
    await add_node(client, "sick")
    await client.patch_status("v1", "Node", "sick", {"status": node_status(ready="False")})
    async with running(client, clock):
        await client.create(pod("p"))
        await until(lambda: pending_with(client, "p"))
        condition = await condition_of(client, "p")
        assert condition is not None and condition["message"].startswith(
            "0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }."
        )
        await client.patch_status("v1", "Node", "sick", {"status": node_status(ready="True")})
        await clock.advance(1)
        await until(lambda: bound(client, "p"), what="bound once the node is ready")


# Failures, messages, events -------------------------------------------------------------------


async def test_a_pod_asking_for_100_cpus_stays_pending_with_the_kubernetes_message(
    client: MemoryClient, clock: FakeClock
) -> None:
    await default_cluster(client)
    async with running(client, clock):
        await client.create(pod("huge", cpu="100"))
        await until(lambda: pending_with(client, "huge"))
        huge = await client.get("v1", "Pod", "huge", namespace="default")
        condition = next(c for c in huge["status"]["conditions"] if c["type"] == "PodScheduled")
        assert condition["reason"] == "Unschedulable"
        assert condition["message"] == MESSAGE_100_CPUS
        assert "nodeName" not in huge["spec"]
        [event] = await events_about(client, "huge")
        assert (event["type"], event["reason"], event["message"], event["count"]) == (
            "Warning", "FailedScheduling", MESSAGE_100_CPUS, 1,
        )
        assert event["source"]["component"] == "default-scheduler"


async def test_retries_fold_into_one_failed_scheduling_event_with_a_count(
    client: MemoryClient, clock: FakeClock
) -> None:
    await default_cluster(client)
    async with running(client, clock):
        await client.create(pod("huge", cpu="100"))
        await until(lambda: pending_with(client, "huge"))
        for i in range(3):
            # Unrelated nodes come and go; each may help, so the pod is retried.
            await add_node(client, f"tiny-{i}", cpu="1")
            await client.delete("v1", "Node", f"tiny-{i}")
            await clock.advance(20)
            await settle()

        async def counted() -> bool:
            events = await events_about(client, "huge", reason="FailedScheduling")
            return len(events) == 1 and events[0]["count"] == 4

        await until(counted, what="one FailedScheduling event counted four times")
        condition = await condition_of(client, "huge")
        assert condition is not None and condition["message"] == MESSAGE_100_CPUS


async def test_a_node_added_later_makes_the_pending_pod_schedulable(
    client: MemoryClient, clock: FakeClock
) -> None:
    await default_cluster(client)
    async with running(client, clock):
        await client.create(pod("huge", cpu="100"))
        await until(lambda: pending_with(client, "huge"))
        await add_node(client, "big-iron", cpu="128", memory="512Gi")
        await clock.advance(1)  # the pod's first backoff
        await until(lambda: bound(client, "huge"), what="bound to the new node")
        assert await node_of(client, "huge") == "big-iron"
        condition = await condition_of(client, "huge")
        assert condition is not None and condition["status"] == "True"


async def test_a_deleted_pod_frees_room_for_a_pending_one(
    client: MemoryClient, clock: FakeClock
) -> None:
    await add_node(client, "only", cpu="2")
    async with running(client, clock):
        await client.create(pod("first", cpu="2"))
        await until(lambda: bound(client, "first"))
        await client.create(pod("second", cpu="2"))
        await until(lambda: pending_with(client, "second"))
        await client.delete("v1", "Pod", "first", grace_period_seconds=0)
        await clock.advance(1)
        await until(lambda: bound(client, "second"))


async def test_finished_pods_do_not_count_against_their_node(
    client: MemoryClient, clock: FakeClock
) -> None:
    await add_node(client, "only", cpu="2")
    async with running(client, clock):
        await client.create(pod("batch", cpu="2"))
        await until(lambda: bound(client, "batch"))
        await client.create(pod("next", cpu="2"))
        await until(lambda: pending_with(client, "next"))
        await client.patch_status("v1", "Pod", "batch", {"status": {"phase": "Succeeded"}})
        await clock.advance(1)
        await until(lambda: bound(client, "next"), what="bound once the batch pod finished")


async def test_a_successful_binding_records_a_scheduled_event(
    client: MemoryClient, clock: FakeClock
) -> None:
    await add_node(client, "only")
    async with running(client, clock):
        await client.create(pod("web"))

        async def recorded() -> bool:
            return bool(await events_about(client, "web", reason="Scheduled"))

        await until(recorded)
        [event] = await events_about(client, "web", reason="Scheduled")
        assert (event["type"], event["message"]) == ("Normal", "Successfully assigned default/web to only")


async def test_a_cluster_without_nodes_says_so(client: MemoryClient, clock: FakeClock) -> None:
    async with running(client, clock):
        await client.create(pod("p"))
        await until(lambda: pending_with(client, "p", "no nodes available to schedule pods"))
        await add_node(client, "late")
        await clock.advance(1)
        await until(lambda: bound(client, "p"))


# What the scheduler leaves alone or counts ------------------------------------------------------


async def test_pods_for_another_scheduler_are_left_alone(
    client: MemoryClient, clock: FakeClock
) -> None:
    await add_node(client, "only")
    async with running(client, clock):
        await client.create(pod("theirs", schedulerName="volcano"))
        await client.create(pod("ours"))
        await until(lambda: bound(client, "ours"))
        await settle()
        assert await node_of(client, "theirs") is None
        assert await condition_of(client, "theirs") is None


async def test_pods_created_on_a_node_count_against_it(client: MemoryClient, clock: FakeClock) -> None:
    await add_node(client, "a", cpu="2")
    await add_node(client, "b", cpu="2")
    await client.create(pod("static", cpu="2", nodeName="a"))
    async with running(client, clock):
        await client.create(pod("p", cpu="1"))
        await until(lambda: bound(client, "p"))
        assert await node_of(client, "p") == "b"


class GatedBinder:
    """The default binder, held until the test opens the gate: decisions pile up unbound."""

    name = "DefaultBinder"

    def __init__(self, handle: Any) -> None:
        self.inner = default_binder.new({}, handle)
        self.gate = asyncio.Event()
        self.waiting = 0

    def events_to_register(self) -> Collection[str]:
        return ()

    async def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        self.waiting += 1
        await self.gate.wait()
        return await self.inner.bind(state, pod, node_name)


async def test_assumed_pods_prevent_overcommit_when_pods_are_scheduled_back_to_back(
    client: MemoryClient, clock: FakeClock
) -> None:
    await add_node(client, "a", cpu="4")
    await add_node(client, "b", cpu="4")
    binders: list[GatedBinder] = []

    def gated(args: Mapping[str, Any], handle: Any) -> GatedBinder:
        binders.append(GatedBinder(handle))
        return binders[-1]

    names = [f"p-{i}" for i in range(10)]
    async with running(client, clock, registry={**IN_TREE, "DefaultBinder": gated}):
        for name in names:
            await client.create(pod(name, cpu="1"))
        # No binding has reached the API yet: only the assumed pods tell the
        # scheduler that the nodes are filling up.
        await until(lambda: binders[0].waiting == 8, what="eight pods decided")
        await until(lambda: pending_with(client, "p-8"))
        await until(lambda: pending_with(client, "p-9"))
        assert not await bound(client, "p-0")
        binders[0].gate.set()
        await until(lambda: bound(client, *names[:8]), what="the eight decided pods bound")
    placed = [await node_of(client, n) for n in names]
    assert placed.count("a") == 4 and placed.count("b") == 4
    condition = await condition_of(client, "p-9")
    assert condition is not None and condition["message"].startswith(
        "0/2 nodes are available: 2 Insufficient cpu."
    )


# Sampling nodes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nodes", "percentage", "expected"),
    [
        (50, 0, 50),  # small clusters: every node
        (1001, 0, 420),  # adaptive: 50 - 1001/125 = 42 %
        (10_000, 0, 500),  # adaptive, floored at 5 %
        (500, 10, 100),  # at least 100 nodes
        (500, 50, 250),
        (500, 100, 500),
    ],
)
def test_how_many_feasible_nodes_a_cycle_looks_for(nodes: int, percentage: int, expected: int) -> None:
    assert num_feasible_nodes_to_find(nodes, percentage) == expected


class Spy:
    """A Filter plugin that remembers which nodes it was asked about."""

    name = "Spy"

    def __init__(self) -> None:
        self.seen: list[list[str]] = []

    def events_to_register(self) -> Collection[str]:
        return ()

    def pre_filter(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> Status | None:
        self.seen.append([])
        return None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        self.seen[-1].append(node.name)
        return None


async def test_a_cycle_stops_after_enough_feasible_nodes_and_the_next_starts_after_them(
    client: MemoryClient, clock: FakeClock
) -> None:
    for i in range(200):
        await add_node(client, f"n-{i:03d}")
    spy = Spy()
    registry: Mapping[str, Any] = {**IN_TREE, "Spy": lambda args, handle: spy}
    profile = Profile(plugins=(PluginSpec("Spy"), *DEFAULT_PROFILE.plugins))
    async with running(client, clock, registry=registry, profile=profile,
                       percentage_of_nodes_to_score=50):
        await client.create(pod("one"))
        await until(lambda: bound(client, "one"))
        await client.create(pod("two"))
        await until(lambda: bound(client, "two"))
    first, second = spy.seen
    assert len(first) == len(second) == 100
    assert first == [f"n-{i:03d}" for i in range(100)]
    assert second == [f"n-{i:03d}" for i in range(100, 200)]
