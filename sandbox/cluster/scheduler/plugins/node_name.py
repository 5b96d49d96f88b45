"""NodeName: a pod that names its node in ``spec.nodeName`` fits only that node.

In a real cluster a pod created with ``spec.nodeName`` never reaches the
scheduler: it is already bound and the kubelet of that node runs it. The
scheduler therefore never queues such pods (it only adds them to its cache,
so they count against the node's resources). The plugin still checks the
field on every node, as kube-scheduler's does, for the pods that do carry
it when filtered (e.g. by another profile); a PreFilter Skip spares the
per-node call for the usual pod without a node name.
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

__all__ = ["ERR_REASON", "NAME", "NodeName", "new"]

NAME = "NodeName"
ERR_REASON = "node(s) didn't match the requested node name"


class NodeName:
    name = NAME

    def events_to_register(self) -> Collection[ClusterEvent]:
        return ("NodeAdd", "NodeUpdate")

    def pre_filter(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> Status | None:
        return None if pod.node_name else Status(Code.Skip)

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if not pod.node_name or pod.node_name == node.name:
            return None
        return Status(Code.UnschedulableAndUnresolvable, ERR_REASON)


def new(args: Mapping[str, Any], handle: Handle) -> NodeName:
    return NodeName()
