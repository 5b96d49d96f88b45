"""Two in-process clusters side by side get different pod and Service ranges; a durable one keeps its own."""

from __future__ import annotations

import pytest

from sandbox.backends.inprocess.cluster import InProcessCluster
from sandbox.store.persistence import SqlitePersistence


@pytest.fixture(autouse=True)
def private_locks(tmp_path, monkeypatch):
    monkeypatch.setenv("SANDBOX_NETSLOT_DIR", str(tmp_path / "locks"))


async def _pod_cidrs(cluster: InProcessCluster) -> set[str]:
    return {n["spec"]["podCIDR"] for n in (await cluster.client.list("v1", "Node"))["items"]}


async def test_clusters_side_by_side_get_disjoint_ranges(tmp_path):
    async with InProcessCluster.start("default", home=tmp_path / "a") as a, \
            InProcessCluster.start("default", home=tmp_path / "b") as b:
        assert a.config.networking.pod_cidr == "127.16.0.0/12"
        assert b.config.networking.pod_cidr == "127.20.0.0/14"
        assert b.config.networking.service_cidr == "127.97.0.0/16"
        assert not (await _pod_cidrs(a)) & (await _pod_cidrs(b))
        service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                   "spec": {"ports": [{"port": 80}]}}
        ip_a = (await a.client.create(service, namespace="default"))["spec"]["clusterIP"]
        ip_b = (await b.client.create(service, namespace="default"))["spec"]["clusterIP"]
        assert ip_a.startswith("127.96.") and ip_b.startswith("127.97.")


async def test_a_durable_cluster_asks_for_its_recorded_slot_again(tmp_path):
    home = tmp_path / "daemon"
    async with InProcessCluster.start("default", home=tmp_path / "other"), \
            InProcessCluster.start("default", home=home,
                                   persistence=SqlitePersistence(home / "store.db")) as first:
        assert first.config.networking.pod_cidr == "127.20.0.0/14"
    assert (home / "network-slot").read_text().strip() == "1"
    async with InProcessCluster.start("default", home=home,
                                      persistence=SqlitePersistence(home / "store.db")) as again:
        assert again.config.networking.pod_cidr == "127.20.0.0/14"  # slot 0 is free, 1 is its own
