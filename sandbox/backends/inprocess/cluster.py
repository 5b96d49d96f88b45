"""The in-process cluster: one async context manager assembling everything.

```
cluster file ─► Store (+ admission: ClusterIP allocation)
                 │
                 ├─ MemoryClient (logs from the kubelets' log files)
                 ├─ Nodes + Lease heartbeats
                 ├─ Manager ─ built-in controllers (namespace, GC, workloads, jobs, services …)
                 ├─ Scheduler
                 ├─ one Kubelet per node ─ a container runtime (zygote/process, or simulated)
                 ├─ ServiceProxy (clusterIP:port → ready endpoints)
                 └─ ApiEndpoint, filled in by an ApiServer: ServiceAccount admission,
                    kube-root-ca.crt, pods' KUBERNETES_SERVICE_* env (backends/inprocess/incluster.py)
```

``async with InProcessCluster.start("default") as cluster:`` brings all of it
up and, on exit, stops it in the reverse order and kills every container
process. Processes cannot outlive a crashed caller either: the runtimes
register each container's process group with a watchdog that kills them when
this process dies (see :mod:`sandbox.cluster.runtime.reaper`).

Each cluster holds a network slot while it runs (:mod:`sandbox.cluster.netslots`):
clusters side by side on one machine get different pod and Service address
ranges, so their servers never share an ``address:port``.

This is the only place above the store that touches the store directly: it
assembles a cluster; everything it starts talks to the cluster through the
client.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from sandbox.api.errors import NotFound
from sandbox.api.kinds import ResourceType
from sandbox.backends.inprocess.incluster import wire_service_accounts
from sandbox.client.memory import MemoryClient
from sandbox.clock import Clock, SystemClock
from sandbox.cluster import proxy as proxies
from sandbox.cluster import services
from sandbox.cluster.apiendpoint import ApiEndpoint
from sandbox.cluster.config import ClusterConfig, Networking, load_cluster
from sandbox.cluster.controllers import (
    cronjob,
    daemonset,
    deployment,
    endpoints,
    garbagecollector,
    job,
    namespace,
    persistentvolume,
    replicaset,
    rootca,
    serviceaccount,
    statefulset,
)
from sandbox.cluster.default_tolerations import default_toleration_seconds
from sandbox.cluster.images.catalog import ImageCatalog
from sandbox.cluster.kubelet import Kubelet, KubeletLogSource, LiveRuns
from sandbox.cluster.netslots import NetworkSlot, acquire_slot
from sandbox.cluster.network import node_pod_cidr
from sandbox.cluster.nodes import NodeHeartbeat, register_nodes
from sandbox.cluster.paths import SandboxPaths
from sandbox.cluster.runtime.base import ContainerRuntime
from sandbox.cluster.runtime.process import ProcessRuntime
from sandbox.cluster.runtime.simulated import SimulatedRuntime
from sandbox.cluster.runtime.zygote import BASE_PRELOAD, DEFAULT_PRELOAD, ZygoteRuntime
from sandbox.cluster.scheduler import Scheduler
from sandbox.components.registry import Component, ComponentContext, default_components
from sandbox.runtime import ControllerRegistry, Manager
from sandbox.store import Store
from sandbox.store.persistence import Persistence

__all__ = ["InProcessCluster", "builtin_controllers"]

log = logging.getLogger(__name__)


def builtin_controllers(
    *,
    resources: Callable[[], Iterable[ResourceType]],
    paths: SandboxPaths,
    allocator: services.ClusterIPAllocator,
    config: ClusterConfig,
    api_endpoint: ApiEndpoint,
) -> ControllerRegistry:
    """Kubernetes' built-in controllers under their kube-controller-manager names."""
    registry = ControllerRegistry()
    registry.register("namespace", functools.partial(namespace.controller, resources=resources))
    registry.register("garbagecollector",
                      functools.partial(garbagecollector.controller, resources=resources))
    registry.register("replicaset", replicaset.controller)
    registry.register("deployment", deployment.controller)
    registry.register("statefulset", statefulset.controller)
    registry.register("daemonset", daemonset.controller)
    registry.register("job", functools.partial(
        job.controller, backoff_base=config.lifecycle.crash_loop_base_delay,
        backoff_max=config.lifecycle.crash_loop_max_delay,
    ))
    registry.register("cronjob", cronjob.controller)
    registry.register("endpoints", endpoints.controller)
    registry.register("serviceaccount", serviceaccount.controller)
    # kube-root-ca.crt in every namespace, once an API server published its CA.
    registry.register("root-ca-cert-publisher", functools.partial(rootca.controller, ca=api_endpoint))
    registry.register("persistentvolume", functools.partial(persistentvolume.controller, paths=paths))
    registry.register("clusterip-repair", functools.partial(services.controller, allocator=allocator))
    return registry


class InProcessCluster:
    """A running in-process cluster. Create it with :meth:`start`."""

    def __init__(
        self,
        config: ClusterConfig,
        *,
        store: Store,
        client: MemoryClient,
        paths: SandboxPaths,
        clock: Clock,
    ) -> None:
        self.config = config
        self.store = store
        self.client = client
        self.paths = paths
        self.clock = clock
        self.manager: Manager | None = None
        self.scheduler: Scheduler | None = None
        self.kubelets: dict[str, Kubelet] = {}
        self.runtimes: list[ContainerRuntime] = []
        self.proxy: proxies.ServiceProxy | None = None
        self.heartbeat: NodeHeartbeat | None = None
        self.live_runs = LiveRuns()
        self.components: list[Component] = []
        #: Filled in by an API server serving this cluster (ApiServer.start):
        #: pods' KUBERNETES_SERVICE_* env, kube-root-ca.crt, ServiceAccount admission.
        self.api_endpoint = ApiEndpoint()

    @classmethod
    @asynccontextmanager
    async def start(
        cls,
        cluster: str | Path | ClusterConfig = "default",
        *,
        home: str | Path | None = None,
        clock: Clock | None = None,
        persistence: Persistence | None = None,
        controllers: Iterable[str] | None = None,
        components: Iterable[str] | None = None,
    ) -> AsyncIterator[InProcessCluster]:
        """Bring a cluster up; everything stops (and every process dies) on exit.

        ``controllers`` limits the controllers (built-in and components') to
        those names (all by default) — useful for teaching what each one does
        by its absence. ``components`` names the Kubeflow components to install
        (:func:`~sandbox.components.registry.default_components`; all by
        default): their CRDs exist before anything starts, their controllers
        run with the built-in ones.
        """
        config = cluster if isinstance(cluster, ClusterConfig) else load_cluster(cluster)
        paths = SandboxPaths(Path(home).resolve()) if home else SandboxPaths.default()
        paths.home.mkdir(parents=True, exist_ok=True)
        slot: NetworkSlot | None = None
        if "networking" not in config.model_fields_set:
            # Distinct loopback ranges from any other cluster on this machine.
            slot, config = _with_network_slot(config, paths, durable=persistence is not None)
        clock = clock or SystemClock()
        store = Store(clock=clock, persistence=persistence)
        allocator = services.ClusterIPAllocator(config.networking.service_cidr)
        allocator.rebuild(store.list("v1", "Service")["items"])
        store.admission.add_mutating("", "Service", allocator.allocate_cluster_ip,
                                     name="clusterip-allocator")
        store.admission.add_mutating("", "Pod", default_toleration_seconds,
                                     name="default-toleration-seconds")
        live_runs = LiveRuns()
        client = MemoryClient(store, logs=KubeletLogSource(paths, live=live_runs, clock=clock),
                              clock=clock)
        self = cls(config, store=store, client=client, paths=paths, clock=clock)
        self.live_runs = live_runs
        self.components = _chosen_components(components)
        install_crds(store, [crd for c in self.components for crd in c.crds()])
        wire_service_accounts(store, self.api_endpoint)
        async with AsyncExitStack() as stack:
            if slot is not None:
                stack.callback(slot.release)
            stack.push_async_callback(client.close)
            stack.callback(store.close)
            await self._start_nodes(stack)
            await self._start_controllers(stack, allocator, controllers)
            self.scheduler = Scheduler(client, clock=clock)
            await self.scheduler.start()
            stack.push_async_callback(self.scheduler.stop)
            self.proxy = proxies.ServiceProxy(client, clock=clock)
            await self.proxy.start()
            stack.push_async_callback(self.proxy.stop)
            await self._start_kubelets(stack)
            stack.enter_context(_fewer_collections())
            log.info("in-process cluster %r is up: %d nodes", config.name, len(self.kubelets))
            yield self

    async def _start_nodes(self, stack: AsyncExitStack) -> None:
        await register_nodes(self.client, self.config, clock=self.clock)
        self.heartbeat = NodeHeartbeat(
            self.client, self.config.node_names(), clock=self.clock,
            interval=self.config.lifecycle.node_heartbeat_interval,
            lease_duration=self.config.lifecycle.node_lease_duration,
        )
        self.heartbeat.start()
        stack.push_async_callback(self.heartbeat.stop)

    async def _start_controllers(
        self,
        stack: AsyncExitStack,
        allocator: services.ClusterIPAllocator,
        enabled: Iterable[str] | None,
    ) -> None:
        registry = builtin_controllers(
            resources=self.store.registry.all, paths=self.paths, allocator=allocator,
            config=self.config, api_endpoint=self.api_endpoint,
        )
        context = ComponentContext(paths=self.paths, clock=self.clock)
        for component in self.components:
            component.register_controllers(registry, context)
        self.manager = Manager(self.client, clock=self.clock, registry=registry,
                               enabled=list(enabled) if enabled is not None else None)
        await self.manager.start()
        stack.push_async_callback(self.manager.stop)

    async def _start_kubelets(self, stack: AsyncExitStack) -> None:
        catalog = ImageCatalog.load(user_file=self.paths.user_image_catalog)
        lifecycle = self.config.lifecycle
        process_runtime: ContainerRuntime | None = None
        simulated_runtime: ContainerRuntime | None = None
        index = 0
        for node in self.config.nodes:
            if node.runtime == "simulated":
                if simulated_runtime is None:
                    simulated_runtime = SimulatedRuntime(
                        clock=self.clock, start_delay=lifecycle.simulated_start_delay)
                    self.runtimes.append(simulated_runtime)
                    stack.push_async_callback(simulated_runtime.close)
                runtime = simulated_runtime
            else:
                if process_runtime is None:
                    ours = tuple(m for c in self.components for m in c.zygote_preload)
                    process_runtime = (ZygoteRuntime(preload=(*DEFAULT_PRELOAD, *ours),
                                                     minimal_preload=(*BASE_PRELOAD, *ours), clock=self.clock)
                                       if self.config.zygote else ProcessRuntime(clock=self.clock))
                    self.runtimes.append(process_runtime)
                    stack.push_async_callback(process_runtime.close)
                runtime = process_runtime
            for name in node.names():
                kubelet = Kubelet(
                    name, client=self.client, runtime=runtime, catalog=catalog, paths=self.paths,
                    lifecycle=lifecycle, clock=self.clock,
                    pod_cidr=node_pod_cidr(self.config.networking.pod_cidr, index),
                    live_runs=self.live_runs, api_endpoint=self.api_endpoint,
                )
                index += 1
                await kubelet.start()
                stack.push_async_callback(kubelet.stop)
                self.kubelets[name] = kubelet

    def web_routes(self) -> list[Any]:
        """The components' routes for a web port (KFP's ``/pipeline`` …), over this cluster's client."""
        context = ComponentContext(paths=self.paths, clock=self.clock)
        return [route for c in self.components if c.web_routes is not None
                for route in c.web_routes(context, self.client)]

    def container_pid(self, pod: dict[str, Any], container: str) -> int:
        """The main process id of a running container (for fault injection)."""
        node = pod["spec"]["nodeName"]
        worker = self.kubelets[node].workers[pod["metadata"]["uid"]]
        pid = worker.runs[container].handle.pid
        if pid is None:
            raise LookupError(f"container {container} of pod {pod['metadata']['name']} has no process")
        return pid


_SLOT_FILE = "network-slot"


def _with_network_slot(config: ClusterConfig, paths: SandboxPaths, *,
                       durable: bool) -> tuple[NetworkSlot, ClusterConfig]:
    """Hold a network slot (:mod:`sandbox.cluster.netslots`); the config with its ranges.

    A durable cluster asks for the slot it had last time (its stored pods and
    Services carry those addresses) and records the one it got.
    """
    record = paths.home / _SLOT_FILE
    preferred: int | None = None
    if durable and record.is_file():
        with contextlib.suppress(ValueError):
            preferred = int(record.read_text().strip())
    slot = acquire_slot(preferred=preferred)
    if durable:
        record.write_text(f"{slot.number}\n")
    pods, services = slot.networks
    networking = Networking.model_validate({"podCIDR": pods, "serviceCIDR": services})
    return slot, config.model_copy(update={"networking": networking})


def _chosen_components(names: Iterable[str] | None) -> list[Component]:
    known = default_components()
    if names is None:
        return list(known.values())
    chosen = []
    for name in names:
        if name not in known:
            raise ValueError(f"no component {name!r} (known: {', '.join(known)})")
        chosen.append(known[name])
    return chosen


def install_crds(store: Store, crds: Iterable[dict[str, Any]]) -> None:
    """Create the components' CRDs, or update them to the shipped version (as ``kubectl apply``)."""
    for crd in crds:
        name = crd["metadata"]["name"]
        try:
            current = store.get(*_CRD, name)
        except NotFound:
            store.create(*_CRD, crd)
            continue
        if current.get("spec") != crd["spec"]:
            updated = {**current, "spec": crd["spec"]}
            store.replace(*_CRD, updated)


_CRD = ("apiextensions.k8s.io/v1", "CustomResourceDefinition")


#: The cyclic collector's first threshold while a cluster runs (the interpreter's default: 700).
GC_THRESHOLD = 10_000


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often while the cluster is up.

    Every API write allocates a copy or two of an object (tens to thousands
    of containers), so at the interpreter's default threshold (a young
    collection per 700 net allocations, a full one per hundred of those) the
    collector ran several times per pipeline task and a full collection of a
    cluster's ~200k objects took 60 ms: 2-3 ms of every task's overhead. At
    10,000 young collections are 14 times rarer and the full ones rarer
    still. Garbage without cycles is freed at once either way (reference
    counting); a cycle lives a little longer. Thresholds someone else set
    are left alone; the previous ones come back when the cluster stops.
    """
    before = gc.get_threshold()
    if before[0] >= GC_THRESHOLD or before[0] == 0:
        yield
        return
    gc.set_threshold(GC_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        if gc.get_threshold()[0] == GC_THRESHOLD:
            gc.set_threshold(*before)
