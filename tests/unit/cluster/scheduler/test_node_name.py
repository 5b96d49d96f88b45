"""NodeName: a pod naming its node fits only that node."""

from __future__ import annotations

from scheduler_helpers import node_info, pod_info

from sandbox.cluster.scheduler.framework import Code, CycleState
from sandbox.cluster.scheduler.plugins.node_name import ERR_REASON, NodeName


def test_a_pod_with_a_node_name_fits_only_that_node() -> None:
    plugin = NodeName()
    pod = pod_info("p", nodeName="worker-1")
    assert plugin.filter(CycleState(), pod, node_info("worker-1")) is None
    status = plugin.filter(CycleState(), pod, node_info("worker-2"))
    assert status is not None and status.code == Code.UnschedulableAndUnresolvable
    assert status.reasons == (ERR_REASON,) == ("node(s) didn't match the requested node name",)


def test_a_pod_without_a_node_name_skips_the_filter() -> None:
    status = NodeName().pre_filter(CycleState(), pod_info("p"), [])
    assert status is not None and status.code == Code.Skip
    assert NodeName().pre_filter(CycleState(), pod_info("p", nodeName="w"), []) is None
