"""NodeUnschedulable: cordoned nodes take no new pods unless the pod tolerates the cordon."""

from __future__ import annotations

from scheduler_helpers import node_info, pod_info

from sandbox.cluster.scheduler.framework import Code, CycleState
from sandbox.cluster.scheduler.plugins.node_unschedulable import NodeUnschedulable


def test_a_cordoned_node_is_rejected_as_unschedulable() -> None:
    status = NodeUnschedulable().filter(CycleState(), pod_info(), node_info("w", unschedulable=True))
    assert status is not None
    assert (status.code, status.reasons) == (
        Code.UnschedulableAndUnresolvable,
        ("node(s) were unschedulable",),
    )


def test_an_uncordoned_node_passes() -> None:
    assert NodeUnschedulable().filter(CycleState(), pod_info(), node_info("w")) is None


def test_a_pod_tolerating_the_unschedulable_taint_may_use_a_cordoned_node() -> None:
    pod = pod_info(
        "ds",
        tolerations=[{"key": "node.kubernetes.io/unschedulable", "operator": "Exists",
                      "effect": "NoSchedule"}],
    )
    assert NodeUnschedulable().filter(CycleState(), pod, node_info("w", unschedulable=True)) is None


def test_filtering_many_nodes_at_once_gives_the_per_node_answers() -> None:
    nodes = [node_info("open"), node_info("cordoned", unschedulable=True)]
    plugin = NodeUnschedulable()
    assert plugin.filter_nodes(CycleState(), pod_info(), nodes) == [
        plugin.filter(CycleState(), pod_info(), n) for n in nodes
    ]
