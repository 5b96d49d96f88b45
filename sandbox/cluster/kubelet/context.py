"""What a pod worker needs from its node, in one place.

The :class:`~sandbox.cluster.kubelet.kubelet.Kubelet` builds one
:class:`NodeContext` and hands it to each pod worker, so workers never
reach back into the kubelet (and tests can build a worker's world
directly).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.client.protocol import Client
from sandbox.clock import Clock
from sandbox.cluster.apiendpoint import ApiEndpoint
from sandbox.cluster.config import Lifecycle
from sandbox.cluster.kubelet.images import ImagePuller
from sandbox.cluster.kubelet.logs import LiveRuns
from sandbox.cluster.kubelet.probes import ProbeKind
from sandbox.cluster.kubelet.volumes.base import VolumePlugin
from sandbox.cluster.network import IPAllocator
from sandbox.cluster.paths import SandboxPaths
from sandbox.cluster.runtime.base import ContainerRuntime
from sandbox.runtime.events import EventRecorder

__all__ = ["NodeContext"]


@dataclass
class NodeContext:
    node_name: str
    client: Client
    runtime: ContainerRuntime
    puller: ImagePuller
    paths: SandboxPaths
    lifecycle: Lifecycle
    clock: Clock
    recorder: EventRecorder
    live_runs: LiveRuns
    #: Pod addresses; ``None`` where only 127.0.0.1 is usable (every pod gets it).
    ips: IPAllocator | None
    host_ip: str
    #: The runtime starts no processes: no volumes, probes or memory checks.
    simulated: bool
    #: How often a pod waiting on configuration (a missing ConfigMap, an
    #: unbound claim) tries again.
    retry_interval: float
    crash_loop_reset_after: float
    probe_kinds: Mapping[str, ProbeKind]
    volume_plugins: Mapping[str, VolumePlugin]
    node_allocatable: Callable[[], Awaitable[Mapping[str, Any]]]
    #: Where containers reach the API server (``KUBERNETES_SERVICE_*``); ``None``
    #: or not serving: no such variables.
    api_endpoint: ApiEndpoint | None = None
