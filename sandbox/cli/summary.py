"""What ``sandbox status`` reports about the cluster, read through the REST API.

The CLI reads the running sandbox exactly as any other program would: a
:class:`~sandbox.client.kube.KubeClient` built from the home's kubeconfig.
Nodes give name, readiness (the ``Ready`` condition) and allocatable CPU and
memory; pods are counted by ``status.phase`` — a pod being deleted counts as
``Terminating``, as kubectl's STATUS column shows it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sandbox.client.kube import KubeClient

__all__ = ["ClusterSummary", "NodeSummary", "cluster_summary"]


@dataclass(frozen=True)
class NodeSummary:
    name: str
    ready: bool
    cpu: str
    memory: str
    pods: int


@dataclass(frozen=True)
class ClusterSummary:
    nodes: list[NodeSummary]
    #: Pod counts by phase (``Terminating`` for pods being deleted).
    pods: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"nodes": [asdict(node) for node in self.nodes],
                "pods": {"total": sum(self.pods.values()), "by_phase": dict(self.pods)}}


async def cluster_summary(kubeconfig: str | Path) -> ClusterSummary:
    async with KubeClient.from_kubeconfig(kubeconfig) as client:
        nodes = (await client.list("v1", "Node"))["items"]
        pods = (await client.list("v1", "Pod"))["items"]
    per_node = Counter((pod.get("spec") or {}).get("nodeName") for pod in pods)
    phases = Counter(_phase(pod) for pod in pods)
    return ClusterSummary(
        nodes=[_node(node, pods=per_node[node["metadata"]["name"]]) for node in nodes],
        pods=dict(sorted(phases.items())),
    )


def _node(node: dict[str, Any], *, pods: int) -> NodeSummary:
    status = node.get("status") or {}
    allocatable = status.get("allocatable") or {}
    ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                for c in status.get("conditions") or ())
    return NodeSummary(name=node["metadata"]["name"], ready=ready,
                       cpu=str(allocatable.get("cpu", "")),
                       memory=str(allocatable.get("memory", "")), pods=pods)


def _phase(pod: dict[str, Any]) -> str:
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    return (pod.get("status") or {}).get("phase") or "Pending"
