"""Container probes: one handler per probe kind, one registry, one prober.

- :mod:`.exec_command`, :mod:`.http_get`, :mod:`.tcp_socket`: one check of
  each kind, registered in :data:`PROBE_KINDS` under the Pod spec's key;
- :mod:`.prober`: :class:`ContainerProbes` runs a container's startup,
  readiness and liveness probes with Kubernetes' timing and thresholds.
"""

from __future__ import annotations

from sandbox.cluster.kubelet.probes.base import ProbeKind, ProbeResult, ProbeTarget
from sandbox.cluster.kubelet.probes.exec_command import EXEC
from sandbox.cluster.kubelet.probes.http_get import HTTP_GET
from sandbox.cluster.kubelet.probes.prober import ContainerProbes
from sandbox.cluster.kubelet.probes.tcp_socket import TCP_SOCKET

__all__ = ["PROBE_KINDS", "ContainerProbes", "ProbeKind", "ProbeResult", "ProbeTarget"]

PROBE_KINDS: dict[str, ProbeKind] = {
    "exec": EXEC,
    "httpGet": HTTP_GET,
    "tcpSocket": TCP_SOCKET,
}
