"""LeastAllocated: NodeResourcesFit's default scoring strategy — prefer emptier nodes.

For each scored resource (cpu and memory, weight 1 each, by default) a node
scores ``(allocatable - requested) * 100 / allocatable``, where *requested*
counts the pods already there plus the incoming one; a resource the node
does not have is left out, and an over-committed one scores 0. The node's
score is the weighted mean, in integers, as ``leastResourceScorer`` computes
it. Like kube-scheduler, cpu and memory count the *non-zero* requests: a
container without a request weighs 100m cpu and 200Mi memory, so many
request-less pods do not all pile onto one node. An extended resource is
scored only for pods that request it.

This is a strategy, not a plugin (in Kubernetes it is
``scoringStrategy.type: LeastAllocated`` of NodeResourcesFit, in
``noderesources/least_allocated.go``); the plugin picks it by name from
:data:`STRATEGIES`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sandbox.cluster.scheduler.framework import MAX_NODE_SCORE, CycleState, NodeInfo, PodInfo

__all__ = ["DEFAULT_RESOURCES", "STRATEGIES", "Scorer", "least_allocated"]

Scorer = Callable[[CycleState, PodInfo, NodeInfo], int]
"""A Score method: ``(state, pod, node) -> 0..100``."""

DEFAULT_RESOURCES: tuple[tuple[str, int], ...] = (("cpu", 1), ("memory", 1))


def _least_requested(requested: int, capacity: int) -> int:
    if requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


def _cpu_memory(state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
    """The default resources with equal weights, unrolled: this runs for every
    feasible node of every pod."""
    alloc = node.allocatable
    total = 0
    weights = 0
    capacity = alloc.milli_cpu
    if capacity:
        requested = node.non_zero_cpu + pod.non_zero_cpu
        total += (capacity - requested) * MAX_NODE_SCORE // capacity if requested <= capacity else 0
        weights += 1
    capacity = alloc.memory
    if capacity:
        requested = node.non_zero_memory + pod.non_zero_memory
        total += (capacity - requested) * MAX_NODE_SCORE // capacity if requested <= capacity else 0
        weights += 1
    return total // weights if weights else 0


def _amounts(name: str, pod: PodInfo, node: NodeInfo) -> tuple[int, int]:
    """(allocatable, requested including the pod) of one resource; (0, 0) to leave it out."""
    alloc = node.allocatable
    if name == "cpu":
        return alloc.milli_cpu, node.non_zero_cpu + pod.non_zero_cpu
    if name == "memory":
        return alloc.memory, node.non_zero_memory + pod.non_zero_memory
    if name == "ephemeral-storage":
        return (
            alloc.ephemeral_storage,
            node.requested.ephemeral_storage + pod.requests.ephemeral_storage,
        )
    wanted = pod.requests.scalar.get(name, 0)
    if not wanted:
        return 0, 0
    return alloc.scalar.get(name, 0), node.requested.scalar.get(name, 0) + wanted


def least_allocated(resources: Sequence[tuple[str, int]] = DEFAULT_RESOURCES) -> Scorer:
    """The scorer for these ``(resource, weight)`` pairs."""
    if tuple(resources) == DEFAULT_RESOURCES:
        return _cpu_memory

    def score(state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        total = 0
        weights = 0
        for name, weight in resources:
            capacity, requested = _amounts(name, pod, node)
            if capacity == 0:
                continue
            total += _least_requested(requested, capacity) * weight
            weights += weight
        return total // weights if weights else 0

    return score


STRATEGIES: dict[str, Callable[[Sequence[tuple[str, int]]], Scorer]] = {
    "LeastAllocated": least_allocated,
}
"""``scoringStrategy.type`` -> scorer builder."""
