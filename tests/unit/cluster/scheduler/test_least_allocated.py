"""LeastAllocated: emptier nodes score higher, on cpu and memory by default."""

from __future__ import annotations

from scheduler_helpers import node_info, pod_info

from sandbox.cluster.scheduler.framework import CycleState
from sandbox.cluster.scheduler.plugins.least_allocated import LeastAllocated


def test_the_score_is_the_mean_free_share_after_placing_the_pod() -> None:
    score = LeastAllocated().score
    node = node_info("w", cpu="4", memory="8Gi")
    # cpu: (4000 - 1000) * 100 / 4000 = 75; memory: (8Gi - 2Gi) * 100 / 8Gi = 75.
    assert score(CycleState(), pod_info("p", cpu="1", memory="2Gi"), node) == 75
    node.add_pod(pod_info("running", cpu="2", memory="2Gi"))
    # cpu: 25; memory: 50 -> 37.
    assert score(CycleState(), pod_info("p", cpu="1", memory="2Gi"), node) == 37


def test_pods_without_requests_weigh_the_scoring_defaults() -> None:
    score = LeastAllocated().score
    node = node_info("w", cpu="1", memory="1Gi")
    # cpu: (1000 - 100) * 100 / 1000 = 90; memory: (1024 - 200) * 100 / 1024 = 80.
    assert score(CycleState(), pod_info("p"), node) == 85


def test_an_overcommitted_resource_scores_zero() -> None:
    score = LeastAllocated().score
    node = node_info("w", cpu="1", memory="8Gi")
    assert score(CycleState(), pod_info("p", cpu="2", memory="4Gi"), node) == 25


def test_resources_and_weights_can_be_chosen() -> None:
    score = LeastAllocated([("cpu", 3), ("memory", 1), ("nvidia.com/gpu", 1)]).score
    node = node_info("g", cpu="4", memory="8Gi", extra={"nvidia.com/gpu": "4"})
    # A pod that requests no GPU is not scored on GPUs: (75 * 3 + 50) / 4 = 68.
    assert score(CycleState(), pod_info("p", cpu="1", memory="4Gi"), node) == 68
    # With one GPU of four: (75 * 3 + 50 + 75) / 5 = 70.
    assert score(CycleState(), pod_info("p", cpu="1", memory="4Gi", gpu="1"), node) == 70


def test_scoring_many_nodes_at_once_gives_the_per_node_scores() -> None:
    busy = node_info("busy", cpu="4", memory="8Gi")
    busy.add_pod(pod_info("hog", cpu="3500m", memory="1Gi"))
    nodes = [
        node_info("empty"),
        busy,
        node_info("tiny", cpu="100m", memory="64Mi"),  # overcommitted by the pod
        node_info("no-memory", memory="0"),
    ]
    for strategy in (LeastAllocated(), LeastAllocated([("cpu", 2), ("memory", 1)])):
        for pod in (pod_info("p", cpu="1", memory="1Gi"), pod_info("bare")):
            state = CycleState()
            assert strategy.score_nodes(state, pod, nodes) == [
                strategy.score(state, pod, n) for n in nodes
            ]
