"""The kubelet of one node: watches the pods bound to it and gives each a worker.

Data flow::

    Client.list/watch pods (spec.nodeName=<node>) ─► SharedInformer ─► on_add / on_update / on_delete
                                                                              │
                          PodWorker per pod uid (asyncio task) ◄──────────────┘ update(pod) / gone()
                                │ ContainerRuntime.start / signal / wait
                                └─► client.replace_status, Events, client.delete(grace 0)

The informer only sees this node's pods: its list and watch carry the field
selector ``spec.nodeName=<node>``, as a real kubelet's do. Handlers only hand
the newest pod to its worker (keyed by uid, so a pod deleted and recreated
under the same name gets a fresh worker); the worker does everything else.

Everything the workers share lives in one
:class:`~sandbox.cluster.kubelet.context.NodeContext`: the runtime, the
image puller (catalog + back-off), the pod address allocator over the
node's ``pod_cidr``, the event recorder, the registry of live container runs
the log source follows. ``stop()`` kills every process the kubelet started.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any

import psutil

from sandbox.api.errors import NotFound
from sandbox.client.protocol import Client
from sandbox.clock import Clock
from sandbox.cluster.apiendpoint import ApiEndpoint
from sandbox.cluster.config import Lifecycle
from sandbox.cluster.images.catalog import ImageCatalog
from sandbox.cluster.kubelet.backoff import CRASH_LOOP_RESET_AFTER
from sandbox.cluster.kubelet.context import NodeContext
from sandbox.cluster.kubelet.images import ImagePuller
from sandbox.cluster.kubelet.logs import LiveRuns
from sandbox.cluster.kubelet.probes import PROBE_KINDS, ProbeKind
from sandbox.cluster.kubelet.volumes import VOLUME_PLUGINS
from sandbox.cluster.kubelet.volumes.base import VolumePlugin
from sandbox.cluster.kubelet.worker import PodWorker
from sandbox.cluster.network import IPAllocator
from sandbox.cluster.paths import SandboxPaths
from sandbox.cluster.runtime.base import ContainerRuntime
from sandbox.runtime.events import EventRecorder
from sandbox.runtime.informer import SharedInformer
from sandbox.runtime.log import get_logger

__all__ = ["Kubelet"]

log = get_logger(__name__)

#: What every node reports as its address (pods reach the "node" on loopback).
HOST_IP = "127.0.0.1"


class Kubelet:
    """Runs the pods the scheduler binds to ``node_name``."""

    def __init__(
        self,
        node_name: str,
        *,
        client: Client,
        runtime: ContainerRuntime,
        catalog: ImageCatalog,
        paths: SandboxPaths,
        lifecycle: Lifecycle,
        clock: Clock,
        pod_cidr: str,
        live_runs: LiveRuns | None = None,
        retry_interval: float = 2.0,
        crash_loop_reset_after: float = CRASH_LOOP_RESET_AFTER,
        probe_kinds: Mapping[str, ProbeKind] = PROBE_KINDS,
        volume_plugins: Mapping[str, VolumePlugin] = VOLUME_PLUGINS,
        api_endpoint: ApiEndpoint | None = None,
    ) -> None:
        self.node_name = node_name
        self.client = client
        self.runtime = runtime
        self.clock = clock
        self.live_runs = live_runs or LiveRuns()
        self._allocatable: Mapping[str, Any] | None = None
        self.context = NodeContext(
            node_name=node_name,
            client=client,
            runtime=runtime,
            puller=ImagePuller(
                catalog,
                user_file=paths.user_image_catalog,
                base_delay=lifecycle.image_pull_base_delay,
                max_delay=lifecycle.image_pull_max_delay,
            ),
            paths=paths,
            lifecycle=lifecycle,
            clock=clock,
            recorder=EventRecorder(client, component="kubelet", clock=clock),
            live_runs=self.live_runs,
            ips=IPAllocator(pod_cidr),
            host_ip=HOST_IP,
            simulated=runtime.name == "simulated",
            retry_interval=retry_interval,
            crash_loop_reset_after=crash_loop_reset_after,
            probe_kinds=probe_kinds,
            volume_plugins=volume_plugins,
            node_allocatable=self.node_allocatable,
            api_endpoint=api_endpoint,
        )
        self.informer = SharedInformer(
            client, "v1", "Pod", field_selector=f"spec.nodeName={node_name}", clock=clock
        )
        #: Pod workers by pod uid.
        self.workers: dict[str, PodWorker] = {}

    def __repr__(self) -> str:
        return f"<Kubelet {self.node_name}: {len(self.workers)} pods>"

    async def start(self) -> None:
        """Watch this node's pods; returns once the first list is handled."""
        self.informer.add_event_handler(self)
        self.informer.start()
        await self.informer.wait_for_sync()

    async def stop(self) -> None:
        """Stop watching and kill every container process of this node."""
        await self.informer.stop()
        workers, self.workers = list(self.workers.values()), {}
        await asyncio.gather(*(worker.stop() for worker in workers), return_exceptions=True)

    async def node_allocatable(self) -> Mapping[str, Any]:
        """The Node's allocatable resources (for limits a container leaves unset)."""
        if self._allocatable is None:
            try:
                node = await self.client.get("v1", "Node", self.node_name)
                status = node.get("status") or {}
                self._allocatable = status.get("allocatable") or status.get("capacity") or {}
            except NotFound:
                self._allocatable = {
                    "cpu": str(os.cpu_count() or 1),
                    "memory": str(psutil.virtual_memory().total),
                }
        return self._allocatable

    # Informer callbacks (enqueue only: hand the pod to its worker) ---------------------

    def on_add(self, obj: Mapping[str, Any]) -> None:
        self._sync(obj)

    def on_update(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        if _uid(old) != _uid(new):
            self._forget(old)
        self._sync(new)

    def on_delete(self, obj: Mapping[str, Any]) -> None:
        self._forget(obj)

    def _sync(self, pod: Mapping[str, Any]) -> None:
        if (pod.get("spec") or {}).get("nodeName") != self.node_name:
            self._forget(pod)
            return
        uid = _uid(pod)
        worker = self.workers.get(uid)
        if worker is None:
            worker = PodWorker(self.context, pod)
            self.workers[uid] = worker
            worker.start().add_done_callback(lambda _: self._finished(uid, worker))
        else:
            worker.update(pod)

    def _forget(self, pod: Mapping[str, Any]) -> None:
        worker = self.workers.get(_uid(pod))
        if worker is not None:
            worker.gone()

    def _finished(self, uid: str, worker: PodWorker) -> None:
        if self.workers.get(uid) is worker:
            del self.workers[uid]


def _uid(pod: Mapping[str, Any]) -> str:
    return str((pod.get("metadata") or {}).get("uid") or "")
