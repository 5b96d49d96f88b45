"""NodeResourcesFit: a pod fits a node only if its requests fit what is left there.

Filter, per node, in kube-scheduler's order and words:

- ``Too many pods`` when the node already holds ``allocatable.pods`` pods;
- ``Insufficient cpu`` / ``memory`` / ``ephemeral-storage`` when the pod's
  request exceeds ``allocatable - requested``;
- ``Insufficient <name>`` for an extended resource (``nvidia.com/gpu``) or
  hugepages the node lacks; a node without the resource has none of it.

One node may give several reasons; each counts in the aggregated message
(``2 Insufficient cpu, 2 Insufficient memory``). The verdict is
Unschedulable (not "unresolvable"): evicting pods could make room, which is
what preemption looks for.

What a pod requests is computed once per pod version by
:class:`~sandbox.cluster.scheduler.framework.PodInfo`: the sum of its
containers' requests, raised to the largest need of any init container
(init containers run one at a time, after the restartable sidecar init
containers before them), plus ``spec.overhead``. What a node has used is
kept in :class:`~sandbox.cluster.scheduler.framework.NodeInfo` by the cache,
assumed pods included, so the Filter is integer comparisons only.

Score delegates to a strategy (``scoringStrategy``; LeastAllocated by
default, see ``least_allocated``).

Arguments (``pluginConfig`` of the profile), as in ``NodeResourcesFitArgs``:
``ignoredResources`` (names never checked), ``scoringStrategy`` with
``type`` and ``resources: [{name, weight}]``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sandbox.cluster.scheduler.framework import (
    ClusterEvent,
    Code,
    CycleState,
    Handle,
    NodeInfo,
    PodInfo,
    Status,
)
from sandbox.cluster.scheduler.plugins.least_allocated import (
    DEFAULT_RESOURCES,
    STRATEGIES,
    ScoringStrategy,
)

__all__ = ["NAME", "NodeResourcesFit", "insufficient_resources", "new"]

NAME = "NodeResourcesFit"


def insufficient_resources(
    pod: PodInfo, node: NodeInfo, *, ignored: Collection[str] = ()
) -> list[str]:
    """The failure reasons of ``pod`` on ``node`` (``fitsRequest``); empty if it fits."""
    reasons: list[str] = []
    alloc = node.allocatable
    used = node.requested
    if len(node.pods) + 1 > alloc.allowed_pod_number:
        reasons.append("Too many pods")
    want = pod.requests
    if want.milli_cpu > 0 and want.milli_cpu > alloc.milli_cpu - used.milli_cpu:
        reasons.append("Insufficient cpu")
    if want.memory > 0 and want.memory > alloc.memory - used.memory:
        reasons.append("Insufficient memory")
    if (
        want.ephemeral_storage > 0
        and want.ephemeral_storage > alloc.ephemeral_storage - used.ephemeral_storage
    ):
        reasons.append("Insufficient ephemeral-storage")
    for name in sorted(want.scalar):
        amount = want.scalar[name]
        if amount == 0 or name in ignored:
            continue
        if amount > alloc.scalar.get(name, 0) - used.scalar.get(name, 0):
            reasons.append(f"Insufficient {name}")
    return reasons


class NodeResourcesFit:
    name = NAME

    def __init__(self, *, strategy: ScoringStrategy, ignored: Collection[str] = ()) -> None:
        self._strategy = strategy
        self._ignored = frozenset(ignored)
        # Score is the strategy's own methods: no extra call per node.
        self.score = strategy.score
        self.score_nodes = strategy.score_nodes

    def events_to_register(self) -> Collection[ClusterEvent]:
        return ("NodeAdd", "NodeUpdate", "AssignedPodDelete")

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        # The common case, inlined: nothing but cpu/memory asked, and it fits.
        alloc = node.allocatable
        used = node.requested
        want = pod.requests
        if (
            len(node.pods) < alloc.allowed_pod_number
            and want.milli_cpu <= alloc.milli_cpu - used.milli_cpu
            and want.memory <= alloc.memory - used.memory
            and want.ephemeral_storage <= alloc.ephemeral_storage - used.ephemeral_storage
            and not want.scalar
        ):
            return None
        reasons = insufficient_resources(pod, node, ignored=self._ignored)
        if not reasons:
            return None
        return Status(Code.Unschedulable, *reasons)

    def filter_nodes(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]
    ) -> list[Status | None]:
        want = pod.requests
        if want.scalar or want.ephemeral_storage:
            return [self.filter(state, pod, node) for node in nodes]
        cpu = want.milli_cpu
        memory = want.memory
        return [
            None
            if (
                len(node.pods) < node.allocatable.allowed_pod_number
                and cpu <= node.allocatable.milli_cpu - node.requested.milli_cpu
                and memory <= node.allocatable.memory - node.requested.memory
            )
            else self.filter(state, pod, node)
            for node in nodes
        ]


def new(args: Mapping[str, Any], handle: Handle) -> NodeResourcesFit:
    strategy = args.get("scoringStrategy") or {}
    kind = strategy.get("type", "LeastAllocated")
    if kind not in STRATEGIES:
        raise ValueError(
            f"NodeResourcesFit: scoringStrategy.type {kind!r} is not one of {sorted(STRATEGIES)}"
        )
    resources = tuple(
        (r["name"], int(r.get("weight", 1))) for r in strategy.get("resources") or ()
    ) or DEFAULT_RESOURCES
    return NodeResourcesFit(
        strategy=STRATEGIES[kind](resources), ignored=args.get("ignoredResources") or ()
    )
