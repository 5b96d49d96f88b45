"""TaintToleration: untolerated NoSchedule/NoExecute taints reject, PreferNoSchedule scores."""

from __future__ import annotations

import pytest
from scheduler_helpers import node_info, pod_info

from sandbox.cluster.scheduler.framework import Code, CycleState
from sandbox.cluster.scheduler.plugins.taint_toleration import TaintToleration, tolerates

GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}


def test_an_untolerated_taint_is_named_in_the_kubernetes_format() -> None:
    node = node_info("cp", taints=[{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}])
    status = TaintToleration().filter(CycleState(), pod_info(), node)
    assert status is not None and status.code == Code.UnschedulableAndUnresolvable
    assert status.reasons == ("node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }",)
    status = TaintToleration().filter(CycleState(), pod_info(), node_info("g", taints=[GPU_TAINT]))
    assert status is not None and status.reasons == ("node(s) had untolerated taint {nvidia.com/gpu: present}",)


def test_no_execute_taints_reject_and_prefer_no_schedule_ones_do_not() -> None:
    plugin = TaintToleration()
    no_execute = node_info("a", taints=[{"key": "k", "value": "v", "effect": "NoExecute"}])
    prefer = node_info("b", taints=[{"key": "k", "value": "v", "effect": "PreferNoSchedule"}])
    assert plugin.filter(CycleState(), pod_info(), no_execute) is not None
    assert plugin.filter(CycleState(), pod_info(), prefer) is None


def test_a_tolerated_taint_lets_the_pod_through() -> None:
    pod = pod_info("p", tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}])
    assert TaintToleration().filter(CycleState(), pod, node_info("g", taints=[GPU_TAINT])) is None


@pytest.mark.parametrize(
    ("toleration", "expected"),
    [
        ({"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}, True),
        ({"key": "nvidia.com/gpu", "value": "present"}, True),  # empty effect matches any, Equal is the default
        ({"key": "nvidia.com/gpu", "value": "absent"}, False),
        ({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoExecute"}, False),
        ({"operator": "Exists"}, True),  # empty key with Exists tolerates everything
        ({"key": "other", "operator": "Exists"}, False),
    ],
)
def test_toleration_matching_follows_kubernetes(toleration: dict[str, str], expected: bool) -> None:
    assert tolerates(toleration, GPU_TAINT) is expected


def test_nodes_with_fewer_untolerated_soft_taints_score_higher() -> None:
    plugin = TaintToleration()
    soft = {"key": "spot", "value": "true", "effect": "PreferNoSchedule"}
    nodes = [node_info("clean"), node_info("spot", taints=[soft])]
    state = CycleState()
    assert plugin.pre_score(state, pod_info(), nodes) is None
    scores = [plugin.score(state, pod_info(), n) for n in nodes]
    plugin.normalize_score(state, pod_info(), scores)
    assert scores == [100, 0]
    tolerant = pod_info("t", tolerations=[{"key": "spot", "operator": "Exists"}])
    state = CycleState()
    plugin.pre_score(state, tolerant, nodes)
    assert [plugin.score(state, tolerant, n) for n in nodes] == [0, 0]


def test_scoring_is_skipped_when_no_node_has_a_soft_taint() -> None:
    status = TaintToleration().pre_score(CycleState(), pod_info(), [node_info("a"), node_info("b")])
    assert status is not None and status.code == Code.Skip


def test_filtering_many_nodes_at_once_gives_the_per_node_answers() -> None:
    nodes = [node_info("clean"), node_info("g", taints=[GPU_TAINT])]
    plugin = TaintToleration()
    assert plugin.filter_nodes(CycleState(), pod_info(), nodes) == [
        plugin.filter(CycleState(), pod_info(), n) for n in nodes
    ]
