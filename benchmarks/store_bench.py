"""Store benchmarks: ``make bench``.

For 10,000 objects: validated creates per second (memory and durable
SQLite), list latency, and watch delivery latency p50/p99 with 100 watchers.
Targets (issue "Foundation I"): >= 2,000 validated creates/s in memory,
>= 1,000/s durable, watch delivery p99 <= 5 ms.

Every create goes through the whole path a client's create takes: the
in-memory client, admission (defaulting, schema and Go-style validation),
managed fields, persistence and watch fan-out.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from sandbox.client.memory import MemoryClient
from sandbox.store import SqlitePersistence, Store

N = 10_000
WATCHERS = 100
WATCH_EVENTS = 200


def pod(i: int) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"pod-{i:05d}", "namespace": "default",
                     "labels": {"app": "bench", "shard": str(i % 10)}},
        "spec": {"containers": [{
            "name": "main", "image": "python:3.11", "command": ["python", "-c", "print(1)"],
            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
            "ports": [{"containerPort": 8080}],
        }]},
    }


async def creates_per_second(store: Store) -> float:
    client = MemoryClient(store)
    started = time.perf_counter()
    for i in range(N):
        await client.create(pod(i))
    return N / (time.perf_counter() - started)


def timed(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best * 1000


async def watch_latency(store: Store) -> tuple[float, float]:
    client = MemoryClient(store)
    rv = str(store.resource_version)
    sent: dict[str, float] = {}
    latencies: list[float] = []
    received = 0
    all_in = asyncio.Event()

    async def watcher() -> None:
        nonlocal received
        async for event in client.watch("v1", "ConfigMap", namespace="default", resource_version=rv):
            latencies.append(time.perf_counter() - sent[event.object["metadata"]["name"]])
            received += 1
            if received == WATCHERS:
                all_in.set()

    tasks = [asyncio.create_task(watcher()) for _ in range(WATCHERS)]
    await asyncio.sleep(0)
    for i in range(WATCH_EVENTS):
        name = f"w-{i}"
        received = 0
        all_in.clear()
        sent[name] = time.perf_counter()
        await client.create({"apiVersion": "v1", "kind": "ConfigMap",
                             "metadata": {"name": name, "namespace": "default"}, "data": {"i": str(i)}})
        await all_in.wait()
    for task in tasks:
        task.cancel()
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    return p50, p99


def row(name: str, value: str, target: str = "", ok: bool | None = None) -> None:
    verdict = "" if ok is None else ("ok" if ok else "MISSED")
    print(f"  {name:<44} {value:>14}  {target:<12} {verdict}")


async def main() -> None:
    print(f"store benchmark: {N:,} pods, {WATCHERS} watchers")
    memory = Store()
    mem_rate = await creates_per_second(memory)
    row("validated creates/s (memory)", f"{mem_rate:,.0f}", ">= 2,000", mem_rate >= 2000)

    with tempfile.TemporaryDirectory() as tmp:
        durable = Store(persistence=SqlitePersistence(Path(tmp) / "bench.db"))
        dur_rate = await creates_per_second(durable)
        row("validated creates/s (durable, SQLite WAL)", f"{dur_rate:,.0f}", ">= 1,000", dur_rate >= 1000)
        durable.close()

    row("list all 10,000 pods", f"{timed(lambda: memory.list('v1', 'Pod')):.1f} ms")
    row("list by label (shard=3, 1,000 pods)",
        f"{timed(lambda: memory.list('v1', 'Pod', label_selector='shard=3')):.1f} ms")
    row("list by field (metadata.name=pod-05000)",
        f"{timed(lambda: memory.list('v1', 'Pod', field_selector='metadata.name=pod-05000')):.1f} ms")
    row("get one pod", f"{timed(lambda: memory.get('v1', 'Pod', 'pod-05000', namespace='default'), 50) * 1000:.1f} µs")

    p50, p99 = await watch_latency(memory)
    row(f"watch delivery p50 ({WATCHERS} watchers)", f"{p50:.2f} ms")
    row(f"watch delivery p99 ({WATCHERS} watchers)", f"{p99:.2f} ms", "<= 5 ms", p99 <= 5)


if __name__ == "__main__":
    asyncio.run(main())
