"""DefaultPreemption's diagnosis: what kube-scheduler appends when preemption cannot help."""

from __future__ import annotations

from scheduler_helpers import pod_info

from sandbox.cluster.scheduler.framework import Code, CycleState, Status
from sandbox.cluster.scheduler.plugins.default_preemption import DefaultPreemption


def test_each_node_says_why_preemption_would_not_help() -> None:
    statuses = {
        "control-plane": Status(Code.UnschedulableAndUnresolvable, "node(s) had untolerated taint"),
        "worker-1": Status(Code.Unschedulable, "Insufficient cpu"),
        "worker-2": Status(Code.Unschedulable, "Insufficient cpu"),
    }
    status = DefaultPreemption().post_filter(CycleState(), pod_info(), statuses)
    assert status.code == Code.Unschedulable
    assert status.message == (
        "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, "
        "2 No preemption victims found for incoming pod."
    )


def test_a_pod_that_may_not_preempt_says_so() -> None:
    pod = pod_info("p", preemptionPolicy="Never")
    status = DefaultPreemption().post_filter(CycleState(), pod, {"w": Status(Code.Unschedulable)})
    assert status.message == "preemption: not eligible due to preemptionPolicy=Never."
