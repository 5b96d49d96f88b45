"""The in-process cluster admits pods through DefaultTolerationSeconds, and they still schedule."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sandbox.backends.inprocess.cluster import InProcessCluster
from sandbox.clock import FakeClock


async def test_pods_of_the_in_process_cluster_get_the_default_tolerations(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with InProcessCluster.start("default", home=tmp_path / "home", clock=clock) as cluster:
        created = await cluster.client.create(
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
             "spec": {"nodeSelector": {"kubernetes.io/hostname": "worker-2"},
                      "containers": [{"name": "main", "image": "busybox", "command": ["sleep", "600"]}]}}
        )
        assert [(t["key"], t["effect"], t["tolerationSeconds"]) for t in created["spec"]["tolerations"]] == [
            ("node.kubernetes.io/not-ready", "NoExecute", 300),
            ("node.kubernetes.io/unreachable", "NoExecute", 300),
        ]
        for _ in range(5000):
            pod = await cluster.client.get("v1", "Pod", "p", namespace="default")
            if pod["spec"].get("nodeName"):
                break
            await asyncio.sleep(0)
        assert pod["spec"].get("nodeName") == "worker-2"
