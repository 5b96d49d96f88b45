"""REST API benchmarks: ``make bench``.

Against an in-process cluster served over HTTPS on a loopback port:

- ``kubectl get pods`` round trip minus ``kubectl version --client`` (kubectl's
  own start-up), median of 20 each (target ≤ 10 ms);
- creates/s over HTTP with 8 concurrent clients (the kube client, TLS);
- watch fan-out: 200 creates observed by 50 watchers over HTTP — delivery
  latency p50/p99 from the create call to each watcher's event.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from sandbox.backends.inprocess import InProcessCluster
from sandbox.backends.inprocess.apiserver.server import ApiServer
from sandbox.client.kube import KubeClient

KUBECTL = shutil.which("kubectl.1.31", path="/usr/lib/google-cloud-sdk/bin") or shutil.which("kubectl")
ROUNDS = 20
CLIENTS = 8
CREATES_PER_CLIENT = 250
WATCHERS = 50
WATCH_EVENTS = 200


async def run(*argv: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(*argv, env=env, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.DEVNULL)
    if await proc.wait() != 0:
        raise RuntimeError(f"{' '.join(argv)} failed")
    return time.perf_counter() - started


async def kubectl_overhead(kubeconfig: Path) -> tuple[float, float]:
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    assert KUBECTL is not None
    await run(KUBECTL, "get", "pods", env=env)  # warm caches (discovery) as a user's shell would
    client = [await run(KUBECTL, "version", "--client", env=env) for _ in range(ROUNDS)]
    get = [await run(KUBECTL, "get", "pods", env=env) for _ in range(ROUNDS)]
    return statistics.median(get) * 1000, statistics.median(client) * 1000


def configmap(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "default"}, "data": {"k": "v"}}


async def creates_per_second(kubeconfig: Path) -> float:
    clients = [KubeClient.from_kubeconfig(kubeconfig) for _ in range(CLIENTS)]

    async def worker(index: int, client: KubeClient) -> None:
        for i in range(CREATES_PER_CLIENT):
            await client.create(configmap(f"c{index}-{i}"))

    started = time.perf_counter()
    await asyncio.gather(*(worker(i, c) for i, c in enumerate(clients)))
    elapsed = time.perf_counter() - started
    for client in clients:
        await client.close()
    return CLIENTS * CREATES_PER_CLIENT / elapsed


async def watch_fan_out(kubeconfig: Path) -> tuple[float, float]:
    writer = KubeClient.from_kubeconfig(kubeconfig)
    start_rv = (await writer.list("v1", "Secret", namespace="default"))["metadata"]["resourceVersion"]
    sent: dict[str, float] = {}
    latencies: list[float] = []
    done = 0
    all_done = asyncio.Event()

    async def watcher() -> None:
        nonlocal done
        async with KubeClient.from_kubeconfig(kubeconfig) as client:
            seen = 0
            async for event in client.watch("v1", "Secret", namespace="default",
                                            resource_version=start_rv):
                name = event.object["metadata"]["name"]
                if name in sent:
                    latencies.append(time.perf_counter() - sent[name])
                    seen += 1
                if seen == WATCH_EVENTS:
                    break
        done += 1
        if done == WATCHERS:
            all_done.set()

    tasks = [asyncio.create_task(watcher()) for _ in range(WATCHERS)]
    await asyncio.sleep(1.0)  # let every watch connect
    for i in range(WATCH_EVENTS):
        name = f"w-{i}"
        sent[name] = time.perf_counter()
        await writer.create({"apiVersion": "v1", "kind": "Secret",
                             "metadata": {"name": name, "namespace": "default"}})
    await asyncio.wait_for(all_done.wait(), 120)
    await asyncio.gather(*tasks)
    await writer.close()
    latencies.sort()
    return statistics.median(latencies) * 1000, latencies[int(len(latencies) * 0.99) - 1] * 1000


def row(name: str, value: str, target: str = "", ok: bool | None = None) -> None:
    verdict = "" if ok is None else ("ok" if ok else "MISSED")
    print(f"  {name:<44} {value:>14}  {target:<12} {verdict}", flush=True)


async def main() -> None:
    print("REST API benchmark (HTTPS on loopback)")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        async with InProcessCluster.start("default", home=home) as cluster:
            server = ApiServer(cluster, home=home)
            await server.start()
            try:
                if KUBECTL:
                    get_ms, client_ms = await kubectl_overhead(server.kubeconfig_path)
                    extra = get_ms - client_ms
                    row("kubectl get pods minus version --client", f"{extra:.1f} ms", "<= 10 ms",
                        extra <= 10)
                    row("  (get pods / version --client, medians)", f"{get_ms:.0f}/{client_ms:.0f} ms")
                else:
                    row("kubectl get pods round trip", "no kubectl")
                rate = await creates_per_second(server.kubeconfig_path)
                row(f"creates/s over HTTPS ({CLIENTS} clients)", f"{rate:,.0f}")
                p50, p99 = await watch_fan_out(server.kubeconfig_path)
                row(f"watch fan-out to {WATCHERS} watchers, p50", f"{p50:.1f} ms")
                row(f"watch fan-out to {WATCHERS} watchers, p99", f"{p99:.1f} ms")
            finally:
                await server.stop()


if __name__ == "__main__":
    asyncio.run(main())
