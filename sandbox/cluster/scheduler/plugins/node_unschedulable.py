"""NodeUnschedulable: a cordoned node (``spec.unschedulable: true``) takes no new pods.

``kubectl cordon`` sets ``spec.unschedulable``; the node keeps its running
pods, but the scheduler rejects it for new ones with ``node(s) were
unschedulable`` — unless the pod tolerates the taint Kubernetes pairs with
a cordon, ``node.kubernetes.io/unschedulable:NoSchedule`` (DaemonSet pods
do). The rejection is UnschedulableAndUnresolvable: preemption cannot
uncordon a node.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sandbox.cluster.scheduler.framework import (
    ClusterEvent,
    Code,
    CycleState,
    Handle,
    NodeInfo,
    PodInfo,
    Status,
)
from sandbox.cluster.scheduler.plugins.taint_toleration import tolerations_tolerate_taint

__all__ = ["ERR_REASON", "NAME", "UNSCHEDULABLE_TAINT", "NodeUnschedulable", "new"]

NAME = "NodeUnschedulable"
ERR_REASON = "node(s) were unschedulable"
UNSCHEDULABLE_TAINT: Mapping[str, str] = {
    "key": "node.kubernetes.io/unschedulable",
    "effect": "NoSchedule",
}


class NodeUnschedulable:
    name = NAME

    def events_to_register(self) -> Collection[ClusterEvent]:
        return ("NodeAdd", "NodeUpdate")

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if not node.unschedulable:
            return None
        if tolerations_tolerate_taint(pod.tolerations, UNSCHEDULABLE_TAINT):
            return None
        return Status(Code.UnschedulableAndUnresolvable, ERR_REASON)

    def filter_nodes(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]
    ) -> list[Status | None]:
        return [self.filter(state, pod, node) if node.unschedulable else None for node in nodes]


def new(args: Mapping[str, Any], handle: Handle) -> NodeUnschedulable:
    return NodeUnschedulable()
