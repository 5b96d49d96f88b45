"""DefaultPreemption, explanation only: what kube-scheduler says when preemption cannot help.

When no node fits a pod, kube-scheduler's PostFilter plugin DefaultPreemption
looks for lower-priority pods to evict and, failing that, appends its own
diagnosis to the FailedScheduling message::

    0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: },
    2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for
    scheduling, 2 No preemption victims found for incoming pod.

**The sandbox never preempts.** This plugin only writes the diagnosis
Kubernetes 1.31 gives when it finds no victims, node by node:

- a node rejected as UnschedulableAndUnresolvable (a taint, a selector, a
  cordon, a PreFilter failure) → ``Preemption is not helpful for scheduling``;
- a node rejected as Unschedulable (not enough room) → ``No preemption
  victims found for incoming pod``, which is exactly what Kubernetes says
  when no lower-priority pod runs there. Where one does, a real cluster
  would evict it; the sandbox says the same sentence and evicts nothing
  (docs/explanation/fidelity.md).

A pod with ``preemptionPolicy: Never`` gets ``preemption: not eligible due to
preemptionPolicy=Never.`` instead. The status is always Unschedulable, so
the next PostFilter plugin (Coscheduling) still runs.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sandbox.cluster.scheduler.framework import (
    ClusterEvent,
    Code,
    CycleState,
    Diagnosis,
    FitError,
    Handle,
    PodInfo,
    Status,
)

__all__ = ["NAME", "NOT_HELPFUL", "NO_VICTIMS", "DefaultPreemption", "new"]

NAME = "DefaultPreemption"
NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"


class DefaultPreemption:
    name = NAME

    def events_to_register(self) -> Collection[ClusterEvent]:
        return ()

    def post_filter(
        self, state: CycleState, pod: PodInfo, statuses: Mapping[str, Status]
    ) -> Status:
        if pod.spec.get("preemptionPolicy") == "Never":
            return Status(Code.Unschedulable, "preemption: not eligible due to preemptionPolicy=Never.")
        diagnosis = Diagnosis()
        for node, status in statuses.items():
            if status.code == Code.UnschedulableAndUnresolvable:
                diagnosis.node_statuses[node] = Status(Code.UnschedulableAndUnresolvable, NOT_HELPFUL)
            else:
                diagnosis.node_statuses[node] = Status(Code.UnschedulableAndUnresolvable, NO_VICTIMS)
        fit = FitError(pod, num_all_nodes=len(statuses), diagnosis=diagnosis)
        return Status(Code.Unschedulable, f"preemption: {fit}")


def new(args: Mapping[str, Any], handle: Handle) -> DefaultPreemption:
    return DefaultPreemption()
