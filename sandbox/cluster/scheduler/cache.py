"""The scheduler cache: every node's NodeInfo, kept current by the informers, plus assumed pods.

Binding is asynchronous: between the moment the scheduler decides "pod A
goes to node 1" and the moment the pod informer delivers A with
``spec.nodeName: node-1``, the scheduler keeps scheduling. Were node 1's
NodeInfo to learn about A only from the informer, the next pods would all
see node 1 as empty and overcommit it. So, like kube-scheduler's
``cacheImpl``, the cache **assumes** a pod onto its node as soon as the
decision is made (its requests count at once), **confirms** it when the
informer shows it bound, and **forgets** it if binding fails.

Data flow::

    Node informer ─► add/update/remove_node ─┐
    Pod informer (assigned pods) ─► add/remove_pod ─► NodeInfo per node ─► snapshot()
    scheduling cycle ─► assume_pod ─► (bound: confirm) | (failed: forget_pod) ─┘

Assigned pods are also counted by namespace and exact label set
(:class:`~sandbox.cluster.scheduler.framework.LabelSetPods`), terminating
ones left out, so PodTopologySpread counts a workload's pods per node
without walking them.

Terminated pods (``Succeeded``/``Failed``) never count: the informer
handler removes a pod from the cache when it finishes, as kube-scheduler's
informer does by not listing them. A pod assigned to a node the cache does
not know yet is kept on a placeholder NodeInfo, counted once the node
appears.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.cluster.scheduler.framework import (
    LabelSetKey,
    LabelSetPods,
    NodeInfo,
    PodInfo,
    Snapshot,
)

__all__ = ["Cache"]


class Cache:
    def __init__(self) -> None:
        self._nodes: dict[str, NodeInfo] = {}
        #: pod key -> node name, for assigned and assumed pods.
        self._pod_nodes: dict[str, str] = {}
        #: namespace -> labels -> those pods per node (terminating ones left out),
        #: and where each pod is counted there.
        self._label_sets: dict[str, dict[LabelSetKey, LabelSetPods]] = {}
        self._pod_label_set: dict[str, tuple[str, LabelSetKey, str]] = {}
        self._assumed: set[str] = set()
        # Moves whenever the set of nodes (or a node's zone) changes, so the
        # snapshot knows to rebuild its ordered list.
        self._nodes_generation = 0
        self._snapshot = Snapshot()
        self._snapshot.pod_nodes = self._pod_nodes
        self._snapshot.label_sets = self._label_sets

    # Nodes ------------------------------------------------------------------------------

    def add_node(self, node: Mapping[str, Any]) -> NodeInfo:
        """Add or update a node; returns its NodeInfo."""
        name = (node.get("metadata") or {}).get("name") or ""
        info = self._nodes.get(name)
        if info is None:
            info = NodeInfo(node)
            self._nodes[name] = info
            self._nodes_generation += 1
        else:
            zone, known = info.zone, info.node is not None
            info.set_node(node)
            if info.zone != zone or not known:
                self._nodes_generation += 1
        return info

    update_node = add_node

    def remove_node(self, name: str) -> None:
        info = self._nodes.get(name)
        if info is None:
            return
        if info.pods:
            info.node = None  # keep counting its pods until they go
        else:
            del self._nodes[name]
        self._nodes_generation += 1

    # Pods ------------------------------------------------------------------------------------

    def add_pod(self, pod: PodInfo) -> None:
        """An assigned, running pod from the informer (new, updated, or confirming an assumed one)."""
        key = pod.key
        self._assumed.discard(key)
        self._remove(key)
        self._add(pod, pod.node_name)

    def remove_pod(self, key: str) -> bool:
        """The pod is gone or finished; returns whether it counted on a node."""
        self._assumed.discard(key)
        return self._remove(key)

    def assume_pod(self, pod: PodInfo, node_name: str) -> None:
        """Count ``pod`` on ``node_name`` now, before the binding is seen."""
        self._remove(pod.key)
        self._assumed.add(pod.key)
        self._add(pod, node_name)

    def forget_pod(self, key: str) -> None:
        """Undo :meth:`assume_pod` (binding failed, or the pod was rejected)."""
        if key in self._assumed:
            self._assumed.discard(key)
            self._remove(key)

    def pod(self, key: str) -> PodInfo | None:
        """The assigned or assumed pod with this key."""
        node_name = self._pod_nodes.get(key)
        info = self._nodes.get(node_name) if node_name is not None else None
        return info.pods.get(key) if info is not None else None

    def is_assumed(self, key: str) -> bool:
        return key in self._assumed

    def node_of(self, key: str) -> str | None:
        """The node a pod is assigned or assumed to, if any."""
        return self._pod_nodes.get(key)

    def _add(self, pod: PodInfo, node_name: str) -> None:
        info = self._nodes.get(node_name)
        if info is None:
            info = NodeInfo(name=node_name)
            self._nodes[node_name] = info
        info.add_pod(pod)
        self._pod_nodes[pod.key] = node_name
        if (pod.pod.get("metadata") or {}).get("deletionTimestamp"):
            return
        labels_key: LabelSetKey = frozenset(pod.labels.items())
        sets = self._label_sets.get(pod.namespace)
        if sets is None:
            sets = self._label_sets[pod.namespace] = {}
        group = sets.get(labels_key)
        if group is None:
            group = sets[labels_key] = LabelSetPods(pod.labels)
        group.nodes[node_name] = group.nodes.get(node_name, 0) + 1
        self._pod_label_set[pod.key] = (pod.namespace, labels_key, node_name)

    def _remove(self, key: str) -> bool:
        node_name = self._pod_nodes.pop(key, None)
        if node_name is None:
            return False
        counted = self._pod_label_set.pop(key, None)
        if counted is not None:
            self._uncount(*counted)
        info = self._nodes.get(node_name)
        if info is None:
            return False
        info.remove_pod(key)
        if info.node is None and not info.pods:
            del self._nodes[node_name]
        return True

    def _uncount(self, namespace: str, labels_key: LabelSetKey, node_name: str) -> None:
        sets = self._label_sets[namespace]
        group = sets[labels_key]
        left = group.nodes[node_name] - 1
        if left:
            group.nodes[node_name] = left
            return
        del group.nodes[node_name]
        if not group.nodes:
            del sets[labels_key]
            if not sets:
                del self._label_sets[namespace]

    # Snapshot ------------------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The nodes to schedule onto, re-ordered only when the node set changed."""
        snapshot = self._snapshot
        if snapshot.generation != self._nodes_generation:
            snapshot.rebuild(info for info in self._nodes.values() if info.node is not None)
            snapshot.generation = self._nodes_generation
        return snapshot

    def __repr__(self) -> str:
        return (
            f"<Cache: {len(self._nodes)} nodes, {len(self._pod_nodes)} pods "
            f"({len(self._assumed)} assumed)>"
        )
