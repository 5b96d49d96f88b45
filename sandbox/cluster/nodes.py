"""Node objects and their heartbeats.

A real kubelet registers its Node (capacity, allocatable, addresses, node
info, conditions) and then proves it is alive by renewing a Lease in
``kube-node-lease`` every ~10 seconds. The in-process cluster does the same
from its cluster file: :func:`node_objects` builds the Nodes, :func:`register_nodes`
creates (or refreshes) them, and :class:`NodeHeartbeat` renews their Leases on
the injected clock, so ``kubectl get nodes``, ``kubectl describe node`` and
``kubectl get leases -n kube-node-lease`` look like a real cluster's.

Control-plane nodes carry the ``node-role.kubernetes.io/control-plane`` label
and ``NoSchedule`` taint that kubeadm and kind put there; that taint is what
keeps ordinary pods off them, and what the scheduler's message names.
"""

from __future__ import annotations

import asyncio
import platform
from datetime import UTC
from typing import Any

from sandbox import __version__
from sandbox.api.errors import AlreadyExists, NotFound
from sandbox.api.quantity import canonicalize
from sandbox.client import Client
from sandbox.clock import Clock, format_time
from sandbox.cluster.config import ClusterConfig, NodeConfig
from sandbox.cluster.network import node_pod_cidr

__all__ = ["CONTROL_PLANE_TAINT", "NodeHeartbeat", "node_objects", "register_nodes"]

CONTROL_PLANE_ROLE = "node-role.kubernetes.io/control-plane"
CONTROL_PLANE_TAINT = {"key": CONTROL_PLANE_ROLE, "effect": "NoSchedule"}
KUBELET_VERSION = "v1.31.0-sandbox"


def _resources(values: dict[str, str | int | float]) -> dict[str, str]:
    return {name: canonicalize(value) for name, value in values.items()}


def _node(config: NodeConfig, name: str, index: int, cluster: ClusterConfig, now: str) -> dict[str, Any]:
    labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": "amd64",
        "sandbox.local/runtime": config.runtime,
        **config.labels,
    }
    taints = [t.model_dump() for t in config.taints]
    for taint in taints:
        if not taint.get("value"):
            taint.pop("value", None)
    if config.control_plane:
        labels[CONTROL_PLANE_ROLE] = ""
        if not any(t["key"] == CONTROL_PLANE_ROLE for t in taints):
            taints.insert(0, dict(CONTROL_PLANE_TAINT))
    pod_cidr = node_pod_cidr(cluster.networking.pod_cidr, index)
    capacity = _resources(config.capacity)
    allocatable = _resources(config.allocatable or config.capacity)
    spec: dict[str, Any] = {
        "podCIDR": pod_cidr,
        "podCIDRs": [pod_cidr],
        "providerID": f"sandbox://{cluster.name}/{name}",
    }
    if taints:
        spec["taints"] = taints
    runtime = "simulated" if config.runtime == "simulated" else (
        "zygote" if cluster.zygote else "process"
    )
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels,
                     "annotations": {"node.alpha.kubernetes.io/ttl": "0"}},
        "spec": spec,
        "status": {
            "capacity": capacity,
            "allocatable": allocatable,
            "conditions": [
                _condition("MemoryPressure", "False", "KubeletHasSufficientMemory",
                           "kubelet has sufficient memory available", now),
                _condition("DiskPressure", "False", "KubeletHasNoDiskPressure",
                           "kubelet has no disk pressure", now),
                _condition("PIDPressure", "False", "KubeletHasSufficientPID",
                           "kubelet has sufficient PID available", now),
                _condition("Ready", "True", "KubeletReady", "kubelet is posting ready status", now),
            ],
            "addresses": [
                {"type": "InternalIP", "address": "127.0.0.1"},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": name,
                "systemUUID": name,
                "bootID": name,
                "kernelVersion": platform.release(),
                "osImage": f"kf-sandbox {__version__}",
                "containerRuntimeVersion": f"sandbox://{runtime}",
                "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": KUBELET_VERSION,
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
    }


def _condition(type_: str, status: str, reason: str, message: str, now: str) -> dict[str, str]:
    return {"type": type_, "status": status, "reason": reason, "message": message,
            "lastHeartbeatTime": now, "lastTransitionTime": now}


def node_objects(cluster: ClusterConfig, *, now: str) -> list[dict[str, Any]]:
    """Every Node of the cluster file, in file order (node *i* owns the *i*-th pod /24)."""
    nodes: list[dict[str, Any]] = []
    for config in cluster.nodes:
        for name in config.names():
            nodes.append(_node(config, name, len(nodes), cluster, now))
    return nodes


async def register_nodes(client: Client, cluster: ClusterConfig, *, clock: Clock) -> list[dict[str, Any]]:
    """Create the cluster's Nodes (refreshing the status of ones that exist)."""
    registered: list[dict[str, Any]] = []
    for node in node_objects(cluster, now=format_time(clock.now())):
        status = node.pop("status")
        try:
            created = await client.create(node, field_manager="kubelet")
        except AlreadyExists:
            created = await client.get("v1", "Node", node["metadata"]["name"])
        created["status"] = status
        registered.append(await client.replace_status(created, field_manager="kubelet"))
    return registered


class NodeHeartbeat:
    """Renews every node's Lease in ``kube-node-lease`` on the clock."""

    def __init__(
        self,
        client: Client,
        nodes: list[str],
        *,
        clock: Clock,
        interval: float = 10.0,
        lease_duration: int = 40,
    ) -> None:
        self.client = client
        self.nodes = nodes
        self.clock = clock
        self.interval = interval
        self.lease_duration = lease_duration
        self._task: asyncio.Task[None] | None = None

    async def beat(self) -> None:
        """Renew every Lease once (creating missing ones)."""
        # A Lease's times are MicroTime: microseconds, UTC.
        renew = self.clock.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        for node in self.nodes:
            spec = {"holderIdentity": node, "leaseDurationSeconds": self.lease_duration,
                    "renewTime": renew}
            try:
                await self.client.patch("coordination.k8s.io/v1", "Lease", node,
                                        {"spec": spec}, namespace="kube-node-lease",
                                        field_manager="kubelet")
            except NotFound:
                node_obj = await self.client.get("v1", "Node", node)
                await self.client.create({
                    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": node, "namespace": "kube-node-lease",
                                 "ownerReferences": [{"apiVersion": "v1", "kind": "Node",
                                                      "name": node,
                                                      "uid": node_obj["metadata"]["uid"]}]},
                    "spec": spec,
                }, field_manager="kubelet")

    async def _run(self) -> None:
        while True:
            await self.beat()
            await self.clock.sleep(self.interval)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="node-heartbeat")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
