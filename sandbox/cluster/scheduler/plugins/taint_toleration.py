"""TaintToleration: a node's taints repel pods that do not tolerate them.

Filter: a node with a ``NoSchedule`` or ``NoExecute`` taint that none of the
pod's tolerations tolerates is rejected, with the first such taint in the
reason, formatted as kube-scheduler does: ``node(s) had untolerated taint
{node-role.kubernetes.io/control-plane: }`` (key, colon, space, value).
The rejection is UnschedulableAndUnresolvable: evicting pods cannot remove
a taint.

Score: ``PreferNoSchedule`` taints are soft. Each node scores the number of
such taints the pod does not tolerate; the normalisation reverses it, so
the node with the fewest untolerated soft taints scores 100.

Most nodes have no taints at all; :class:`~sandbox.cluster.scheduler.framework.NodeInfo`
splits a node's taints by effect when the node changes, so for them Filter
is one truth test. Scoring is skipped for a pod when no feasible node has
a ``PreferNoSchedule`` taint (every node would score the same).

The toleration rules (``Toleration.ToleratesTaint``) are exported for
NodeUnschedulable, which asks whether a pod tolerates the cordon taint.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sandbox.api.tolerations import (
    find_untolerated_taint,
    tolerates,
    tolerations_tolerate_taint,
)
from sandbox.cluster.scheduler.framework import (
    ClusterEvent,
    Code,
    CycleState,
    Handle,
    NodeInfo,
    PodInfo,
    Status,
    default_normalize_score,
)

__all__ = [
    "NAME",
    "TaintToleration",
    "find_untolerated_taint",
    "new",
    "tolerates",
    "tolerations_tolerate_taint",
    "untolerated_taint_reason",
]

NAME = "TaintToleration"
_PRE_SCORE_KEY = "PreScore" + NAME


def untolerated_taint_reason(taint: Mapping[str, Any]) -> str:
    return f"node(s) had untolerated taint {{{taint.get('key', '')}: {taint.get('value') or ''}}}"


class TaintToleration:
    name = NAME

    def events_to_register(self) -> Collection[ClusterEvent]:
        return ("NodeAdd", "NodeUpdate")

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if not node.no_schedule_taints:
            return None
        taint = find_untolerated_taint(node.no_schedule_taints, pod.tolerations)
        if taint is None:
            return None
        return Status(Code.UnschedulableAndUnresolvable, untolerated_taint_reason(taint))

    def filter_nodes(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]
    ) -> list[Status | None]:
        return [self.filter(state, pod, node) if node.no_schedule_taints else None for node in nodes]

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> Status | None:
        if not any(node.prefer_no_schedule_taints for node in nodes):
            return Status(Code.Skip)
        state.write(
            _PRE_SCORE_KEY,
            [
                t
                for t in pod.tolerations
                if (t.get("effect") or "PreferNoSchedule") == "PreferNoSchedule"
            ],
        )
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        tolerations = state.read(_PRE_SCORE_KEY)
        return sum(
            1
            for taint in node.prefer_no_schedule_taints
            if not tolerations_tolerate_taint(tolerations, taint)
        )

    def normalize_score(self, state: CycleState, pod: PodInfo, scores: list[int]) -> None:
        default_normalize_score(scores, reverse=True)


def new(args: Mapping[str, Any], handle: Handle) -> TaintToleration:
    return TaintToleration()
