"""Nodes come from the cluster file; Leases prove they are alive."""

from __future__ import annotations

import asyncio

from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.cluster.config import load_cluster
from sandbox.cluster.nodes import NodeHeartbeat, node_objects, register_nodes


def test_default_cluster_nodes_look_like_kubeadm_nodes() -> None:
    nodes = {n["metadata"]["name"]: n for n in node_objects(load_cluster("default"), now="2026-01-01T00:00:00Z")}
    assert list(nodes) == ["control-plane", "worker-1", "worker-2"]
    cp = nodes["control-plane"]
    assert cp["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] == ""
    assert cp["spec"]["taints"] == [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    worker = nodes["worker-2"]
    assert "taints" not in worker["spec"]
    assert worker["spec"]["podCIDR"] == "127.16.2.0/24"
    assert worker["status"]["allocatable"] == {"cpu": "4", "memory": "8Gi", "pods": "110"}
    ready = next(c for c in worker["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "KubeletReady")


def test_gpu_node_keeps_its_taint_and_extended_resource() -> None:
    gpu = next(n for n in node_objects(load_cluster("gpu"), now="x") if n["metadata"]["name"] == "gpu-1")
    assert gpu["spec"]["taints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    assert gpu["status"]["capacity"]["nvidia.com/gpu"] == "2"


def test_large_cluster_expands_node_groups() -> None:
    names = [n["metadata"]["name"] for n in node_objects(load_cluster("large"), now="x")]
    assert len(names) == 1001 and names[1] == "node-0" and names[-1] == "node-999"


async def test_registered_nodes_have_status_and_leases_renew(client: MemoryClient, clock: FakeClock) -> None:
    cluster = load_cluster("default")
    await register_nodes(client, cluster, clock=clock)
    node = await client.get("v1", "Node", "worker-1")
    assert node["status"]["nodeInfo"]["kubeletVersion"].startswith("v1.31")
    heartbeat = NodeHeartbeat(client, cluster.node_names(), clock=clock, interval=10)
    heartbeat.start()
    await asyncio.sleep(0)
    first = await client.get("coordination.k8s.io/v1", "Lease", "worker-1", namespace="kube-node-lease")
    await clock.advance(10)
    second = await client.get("coordination.k8s.io/v1", "Lease", "worker-1", namespace="kube-node-lease")
    await heartbeat.stop()
    assert first["spec"]["renewTime"] == "2026-01-01T00:00:00.000000Z"
    assert second["spec"]["renewTime"] == "2026-01-01T00:00:10.000000Z"
    assert second["metadata"]["ownerReferences"][0]["kind"] == "Node"
