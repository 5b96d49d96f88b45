"""NodeResourcesFit: requests against what is left on the node, in Kubernetes' words."""

from __future__ import annotations

import pytest
from scheduler_helpers import node_info, pod_info

from sandbox.cluster.scheduler.framework import Code, CycleState, NodeInfo, PodInfo, Status
from sandbox.cluster.scheduler.plugins.node_resources_fit import NodeResourcesFit, new


def fit() -> NodeResourcesFit:
    return new({}, None)  # type: ignore[arg-type]


def check(pod: PodInfo, node: NodeInfo, plugin: NodeResourcesFit | None = None) -> Status | None:
    return (plugin or fit()).filter(CycleState(), pod, node)


def test_a_pod_that_fits_passes() -> None:
    assert check(pod_info("p", cpu="4", memory="8Gi"), node_info("w", cpu="4", memory="8Gi")) is None


def test_requests_beyond_what_is_left_are_named_in_kubernetes_order() -> None:
    node = node_info("w", cpu="4", memory="8Gi")
    node.add_pod(pod_info("running", cpu="3", memory="7Gi"))
    status = check(pod_info("p", cpu="2", memory="2Gi"), node)
    assert status is not None and status.code == Code.Unschedulable
    assert status.reasons == ("Insufficient cpu", "Insufficient memory")


def test_a_full_node_has_too_many_pods() -> None:
    node = node_info("w", pods="1")
    node.add_pod(pod_info("running"))
    status = check(pod_info("p"), node)
    assert status is not None and status.reasons == ("Too many pods",)


def test_an_extended_resource_the_node_lacks_does_not_fit() -> None:
    status = check(pod_info("p", gpu="1"), node_info("w"))
    assert status is not None and status.reasons == ("Insufficient nvidia.com/gpu",)
    assert check(pod_info("p", gpu="1"), node_info("g", extra={"nvidia.com/gpu": "2"})) is None


def test_ephemeral_storage_is_checked() -> None:
    pod = pod_info("p")
    pod.requests.ephemeral_storage = 10 * 1024**3
    status = check(pod, node_info("w", extra={"ephemeral-storage": "5Gi"}))
    assert status is not None and status.reasons == ("Insufficient ephemeral-storage",)


def test_ignored_resources_are_not_checked() -> None:
    plugin = new({"ignoredResources": ["nvidia.com/gpu"]}, None)  # type: ignore[arg-type]
    assert check(pod_info("p", gpu="1"), node_info("w"), plugin) is None


def test_a_pod_without_requests_fits_an_overcommitted_node_with_pod_room() -> None:
    node = node_info("w", cpu="1")
    node.add_pod(pod_info("hog", cpu="2"))  # bound with spec.nodeName, past the scheduler
    assert check(pod_info("p"), node) is None


def test_the_init_container_rule_decides_the_fit() -> None:
    init_heavy = pod_info("p", cpu="1")
    init_heavy.requests.milli_cpu = 3000  # what PodInfo computes for a 3-cpu init container
    assert check(init_heavy, node_info("w", cpu="2")) is not None


def test_an_unknown_scoring_strategy_is_refused() -> None:
    with pytest.raises(ValueError, match="MostAllocated"):
        new({"scoringStrategy": {"type": "MostAllocated"}}, None)  # type: ignore[arg-type]


def test_filtering_many_nodes_at_once_gives_the_per_node_answers() -> None:
    full = node_info("full", pods="1")
    full.add_pod(pod_info("running"))
    busy = node_info("busy", cpu="2")
    busy.add_pod(pod_info("hog", cpu="2"))
    nodes = [node_info("free"), full, busy, node_info("gpu", extra={"nvidia.com/gpu": "1"})]
    plugin = fit()
    for pod in (pod_info("p", cpu="1"), pod_info("bare"), pod_info("g", gpu="1")):
        state = CycleState()
        assert plugin.filter_nodes(state, pod, nodes) == [plugin.filter(state, pod, n) for n in nodes]
