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

__all__ = ["DEFAULT_RESOURCES", "STRATEGIES", "LeastAllocated", "ScoringStrategy"]

DEFAULT_RESOURCES: tuple[tuple[str, int], ...] = (("cpu", 1), ("memory", 1))


def _least_requested(requested: int, capacity: int) -> int:
    if requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


def _amounts(name: str, pod: PodInfo, node: NodeInfo) -> tuple[int, int]:
    """(allocatable, requested including the pod) of one resource; (0, 0) leaves it out."""
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


class LeastAllocated:
    """The strategy for some ``(resource, weight)`` pairs: Score and its batch form."""

    def __init__(self, resources: Sequence[tuple[str, int]] = DEFAULT_RESOURCES) -> None:
        self.resources = tuple(resources)
        self._default = self.resources == DEFAULT_RESOURCES

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        total = 0
        weights = 0
        for name, weight in self.resources:
            capacity, requested = _amounts(name, pod, node)
            if capacity == 0:
                continue
            total += _least_requested(requested, capacity) * weight
            weights += weight
        return total // weights if weights else 0

    def score_nodes(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> list[int]:
        if not self._default:
            return [self.score(state, pod, node) for node in nodes]
        # cpu and memory, weight 1 each: the case every pod of every cycle
        # meets, unrolled into one loop with no call per node.
        pod_cpu = pod.non_zero_cpu
        pod_memory = pod.non_zero_memory
        scores = []
        for node in nodes:
            alloc = node.allocatable
            cpu = alloc.milli_cpu
            memory = alloc.memory
            used_cpu = node.non_zero_cpu + pod_cpu
            used_memory = node.non_zero_memory + pod_memory
            if cpu > 0 and used_cpu <= cpu and memory > 0 and used_memory <= memory:
                scores.append(
                    ((cpu - used_cpu) * MAX_NODE_SCORE // cpu
                     + (memory - used_memory) * MAX_NODE_SCORE // memory) // 2
                )
            else:
                scores.append(self.score(state, pod, node))
        return scores


ScoringStrategy = LeastAllocated
"""What ``scoringStrategy.type`` builds: an object with ``score`` and ``score_nodes``."""

STRATEGIES: dict[str, Callable[[Sequence[tuple[str, int]]], ScoringStrategy]] = {
    "LeastAllocated": LeastAllocated,
}
"""``scoringStrategy.type`` -> strategy."""
