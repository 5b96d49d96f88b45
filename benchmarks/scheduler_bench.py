"""Scheduler throughput: ``python -m benchmarks.scheduler_bench``.

Binds 10,000 pods (100m cpu, 128Mi each) onto ``clusters/inprocess/large.yaml``
(1,000 simulated workers and a tainted control plane) through the whole path
a real cluster takes: the in-memory client and store (admission, watch),
the scheduler's informers, its filter/score cycle over the adaptive
``percentageOfNodesToScore`` sample (420 of 1,001 nodes), one ``v1 Binding``
per pod, and a ``Scheduled`` event per pod. The clock is the system clock:
nothing is simulated but the nodes.

Measured: wall time from ``Scheduler.start()`` (which lists the 10,000
pending pods) until the store has committed the last binding, printed as
pods per second. Target (issue "Foundation II"): >= 1,000 pods/s.

``--no-events`` replaces the event recorder by one that drops events, to
show how much of the time recording ``Scheduled`` events takes;
``--profile`` prints the top of a cProfile of the run.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import time
from collections.abc import Mapping
from typing import Any

from sandbox.client.memory import MemoryClient
from sandbox.clock import SystemClock
from sandbox.cluster.config import load_cluster
from sandbox.cluster.nodes import register_nodes
from sandbox.cluster.scheduler import Scheduler
from sandbox.store import Store

PODS = 10_000
NAMESPACE = "default"


def pod(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"pod-{i:05d}", "namespace": NAMESPACE, "labels": {"app": "bench"}},
        "spec": {
            "containers": [
                {
                    "name": "main",
                    "image": "python:3.11",
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                }
            ]
        },
    }


class DropEvents:
    """A recorder that records nothing."""

    async def event(self, obj: Mapping[str, Any], *, type: str, reason: str, message: str) -> None:
        return None


async def run(*, events: bool, profiler: cProfile.Profile | None) -> tuple[float, dict[str, int]]:
    clock = SystemClock()
    store = Store(clock=clock)
    client = MemoryClient(store)
    await register_nodes(client, load_cluster("large"), clock=clock)
    for i in range(PODS):
        await client.create(pod(i))

    bound: dict[str, int] = {}
    done = asyncio.Event()

    def on_change(change: Any) -> None:
        if change.resource != "pods" or change.type != "MODIFIED":
            return
        node = (change.object.get("spec") or {}).get("nodeName")
        if node and not ((change.old or {}).get("spec") or {}).get("nodeName"):
            bound[node] = bound.get(node, 0) + 1
            if sum(bound.values()) == PODS:
                done.set()

    store.add_listener(on_change)
    scheduler = Scheduler(client, clock=clock, recorder=None if events else DropEvents())
    if profiler is not None:
        profiler.enable()
    started = time.perf_counter()
    await scheduler.start()
    await done.wait()
    elapsed = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
    await scheduler.stop()
    return elapsed, bound


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-events", action="store_true", help="drop events instead of recording them")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the run")
    args = parser.parse_args()
    profiler = cProfile.Profile() if args.profile else None
    elapsed, bound = asyncio.run(run(events=not args.no_events, profiler=profiler))
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    per_node = sorted(bound.values())
    print(f"scheduler: {PODS} pods bound onto {len(bound)} nodes in {elapsed:.2f} s "
          f"= {PODS / elapsed:,.0f} pods/s (target >= 1,000)"
          + ("" if not args.no_events else ", events dropped"))
    print(f"  pods per node: min {per_node[0]}, max {per_node[-1]}; "
          f"control plane used: {'control-plane' in bound}")


if __name__ == "__main__":
    main()
