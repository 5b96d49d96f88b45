"""The registry and the default profile: kube-scheduler's plugins, order and weights."""

from __future__ import annotations

from collections.abc import Collection

from scheduler_helpers import add_node, bound, node_of, pod, running, until

from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.cluster.scheduler import DEFAULT_PROFILE, IN_TREE
from sandbox.cluster.scheduler.framework import CycleState, NodeInfo, PodInfo


def test_every_plugin_of_the_default_profile_is_registered() -> None:
    assert {spec.name for spec in DEFAULT_PROFILE.plugins} <= set(IN_TREE)
    assert DEFAULT_PROFILE.scheduler_name == "default-scheduler"


def test_the_default_profile_keeps_kube_scheduler_order_and_weights() -> None:
    names = [spec.name for spec in DEFAULT_PROFILE.plugins]
    assert names[:5] == [
        "NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity", "NodeResourcesFit"
    ]
    weights = {spec.name: spec.weight for spec in DEFAULT_PROFILE.plugins}
    assert (weights["TaintToleration"], weights["NodeAffinity"], weights["NodeResourcesFit"]) == (3, 2, 1)


class MostRequested:
    """A replacement scoring plugin: prefer the fullest node (bin packing)."""

    name = "NodeResourcesFit"

    def events_to_register(self) -> Collection[str]:
        return ()

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> None:
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        return min(100, len(node.pods) * 10)


async def test_a_registry_can_replace_a_plugin(client: MemoryClient, clock: FakeClock) -> None:
    await add_node(client, "a")
    await add_node(client, "b")
    registry = {**IN_TREE, "NodeResourcesFit": lambda args, handle: MostRequested()}
    async with running(client, clock, registry=registry):
        for i in range(4):
            await client.create(pod(f"p-{i}"))
            await until(lambda i=i: bound(client, f"p-{i}"))
        assert len({await node_of(client, f"p-{i}") for i in range(4)}) == 1
