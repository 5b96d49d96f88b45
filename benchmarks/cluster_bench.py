"""In-process cluster benchmarks: ``make bench``.

- pod create → Running latency, p50/p99 over 100 pods, with the zygote runtime
  and with the plain process runtime (target: zygote p50 ≤ 20 ms);
- resident memory of an idle default cluster, this process plus its helper
  processes (target ≤ 150 MB).

Pods are created one at a time and timed from the create call to the watch
event that shows them Running, so each figure is one pod's whole path:
admission, scheduling, binding, the kubelet's sync, the process start and
the status write.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import sys
import tempfile
import time

import psutil

from sandbox.backends.inprocess import InProcessCluster
from sandbox.cluster.config import load_cluster

PODS = 100


def pod(name: str) -> dict:
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
        "spec": {"terminationGracePeriodSeconds": 0, "containers": [{
            "name": "main", "image": "python:3.11",
            "command": ["python", "-c", "import time; time.sleep(120)"],
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
        }]},
    }


async def start_latencies(zygote: bool) -> list[float]:
    config = load_cluster("default").model_copy(update={"zygote": zygote})
    with tempfile.TemporaryDirectory() as home:
        async with InProcessCluster.start(config, home=home) as cluster:
            client = cluster.client
            running: dict[str, float] = {}
            arrived = asyncio.Event()
            listed = await client.list("v1", "Pod", namespace="default")

            async def watch() -> None:
                async for event in client.watch("v1", "Pod", namespace="default",
                                                resource_version=listed["metadata"]["resourceVersion"]):
                    name = event.object["metadata"]["name"]
                    if event.object.get("status", {}).get("phase") == "Running" and name not in running:
                        running[name] = time.perf_counter()
                        arrived.set()

            watcher = asyncio.create_task(watch())
            latencies: list[float] = []
            for i in range(PODS + 1):  # the first pod warms the zygote up; not counted
                name = f"bench-{i}"
                arrived.clear()
                started = time.perf_counter()
                await client.create(pod(name))
                while name not in running:
                    await arrived.wait()
                    arrived.clear()
                if i:
                    latencies.append(running[name] - started)
                # Keep the node light: the next pod's start is what is measured.
                await client.delete("v1", "Pod", name, grace_period_seconds=0)
            watcher.cancel()
            return latencies


def tree_rss(process: psutil.Process) -> int:
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


async def idle_memory() -> int:
    with tempfile.TemporaryDirectory() as home:
        async with InProcessCluster.start("default", home=home):
            await asyncio.sleep(2)
            gc.collect()
            return tree_rss(psutil.Process())


def row(name: str, value: str, target: str = "", ok: bool | None = None) -> None:
    verdict = "" if ok is None else ("ok" if ok else "MISSED")
    print(f"  {name:<44} {value:>14}  {target:<12} {verdict}", flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * q) - 1)]


async def main() -> None:
    print(f"in-process cluster benchmark ({PODS} pods, one at a time)")
    # Memory first, in a fresh process state: what `sandbox up` would hold idle.
    rss = await idle_memory()
    row("idle default cluster, resident memory", f"{rss / 2**20:.0f} MB", "<= 150 MB", rss <= 150 * 2**20)
    for zygote in (True, False):
        latencies = await start_latencies(zygote)
        label = "zygote" if zygote else "process"
        p50 = statistics.median(latencies) * 1000
        p99 = percentile(latencies, 0.99) * 1000
        target = "<= 20 ms" if zygote else ""
        row(f"pod create → Running p50 ({label})", f"{p50:.1f} ms", target, p50 <= 20 if zygote else None)
        row(f"pod create → Running p99 ({label})", f"{p99:.1f} ms")
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main())
