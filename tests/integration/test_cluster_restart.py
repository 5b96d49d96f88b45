"""A cluster restarted over its SQLite store: objects come back, pods run again.

This is what ``sandbox down`` + ``sandbox up`` does inside the daemon, without
the REST API: the same home and ``store.db`` opened by a second
``InProcessCluster``. Real processes, so bounded real waits.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from sandbox.backends.inprocess import InProcessCluster
from sandbox.store.persistence import SqlitePersistence

pytestmark = pytest.mark.slow

SLEEPER = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "sleeper", "namespace": "default"},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "sleeper"}},
        "template": {
            "metadata": {"labels": {"app": "sleeper"}},
            "spec": {"containers": [{
                "name": "main", "image": "python:3.11",
                "command": ["python", "-c", "import time; time.sleep(3600)"],
            }]},
        },
    },
}
SERVICE = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": "sleeper", "namespace": "default"},
           "spec": {"selector": {"app": "sleeper"}, "ports": [{"port": 80}]}}


async def _running_pods(cluster: InProcessCluster, *, restarts: int,
                        timeout: float = 20) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        pods = (await cluster.client.list("v1", "Pod", namespace="default"))["items"]
        statuses = [s for p in pods for s in p["status"].get("containerStatuses") or ()]
        if (len(pods) == 2 and len(statuses) == 2
                and all("running" in s["state"] and s["restartCount"] == restarts
                        for s in statuses)):
            return pods
        if time.monotonic() > deadline:
            raise AssertionError(f"pods not running with {restarts} restarts: "
                                 f"{[(p['metadata']['name'], p['status']) for p in pods]}")
        await asyncio.sleep(0.1)


def _pids(cluster: InProcessCluster, pods: list[dict[str, Any]]) -> list[int]:
    return [cluster.container_pid(pod, "main") for pod in pods]


async def test_objects_come_back_and_running_pods_are_restarted(tmp_path: Path) -> None:
    async with InProcessCluster.start(
        "default", home=tmp_path, persistence=SqlitePersistence(tmp_path / "store.db")
    ) as cluster:
        await cluster.client.create(SLEEPER)
        service = await cluster.client.create(SERVICE)
        before = await _running_pods(cluster, restarts=0)
        old_pids = _pids(cluster, before)
    assert not any(psutil.pid_exists(pid) for pid in old_pids)

    async with InProcessCluster.start(
        "default", home=tmp_path, persistence=SqlitePersistence(tmp_path / "store.db")
    ) as cluster:
        after = await _running_pods(cluster, restarts=1)
        assert {p["metadata"]["uid"] for p in after} == {p["metadata"]["uid"] for p in before}
        assert {p["spec"]["nodeName"] for p in after} == {p["spec"]["nodeName"] for p in before}
        for pod in after:
            last = pod["status"]["containerStatuses"][0]["lastState"]["terminated"]
            assert last["reason"] == "ContainerStatusUnknown"
        new_pids = _pids(cluster, after)
        assert all(psutil.pid_exists(pid) for pid in new_pids)
        again = await cluster.client.get("v1", "Service", "sleeper", namespace="default")
        assert again["spec"]["clusterIP"] == service["spec"]["clusterIP"]
    assert not any(psutil.pid_exists(pid) for pid in new_pids)


async def test_a_never_restart_pod_lost_in_a_restart_ends_failed(tmp_path: Path) -> None:
    once = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "once", "namespace": "default"},
            "spec": {"restartPolicy": "Never", "containers": [{
                "name": "main", "image": "python:3.11",
                "command": ["python", "-c", "import time; time.sleep(3600)"]}]}}
    async with InProcessCluster.start(
        "default", home=tmp_path, persistence=SqlitePersistence(tmp_path / "store.db")
    ) as cluster:
        await cluster.client.create(once)
        await cluster.client.wait_for("v1", "Pod", "once", timeout=20,
                                      predicate=lambda p: p["status"].get("phase") == "Running")
    async with InProcessCluster.start(
        "default", home=tmp_path, persistence=SqlitePersistence(tmp_path / "store.db")
    ) as cluster:
        pod = await cluster.client.wait_for("v1", "Pod", "once", timeout=20,
                                            predicate=lambda p: p["status"].get("phase") == "Failed")
        status = pod["status"]["containerStatuses"][0]
        assert status["state"]["terminated"]["reason"] == "ContainerStatusUnknown"
        assert status["restartCount"] == 0
