"""``tcpSocket`` probes: healthy when a TCP connection to the port opens.

``host`` defaults to the pod IP; the connection is closed at once.
Failure messages copy Go's dialer (``dial tcp 127.16.0.2:8080: connect:
connection refused``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from sandbox.cluster.kubelet.probes.base import ProbeKind, ProbeResult, ProbeTarget, resolve_port

__all__ = ["TCP_SOCKET"]


async def run(action: Mapping[str, Any], target: ProbeTarget) -> ProbeResult:
    host = action.get("host") or target.pod_ip
    try:
        port = resolve_port(action.get("port"), target.container)
    except ValueError as err:
        return ProbeResult(False, str(err))
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError as err:
        reason = "connection refused" if isinstance(err, ConnectionRefusedError) else (
            (err.strerror or str(err)).lower()
        )
        return ProbeResult(False, f"dial tcp {host}:{port}: connect: {reason}")
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return ProbeResult(True)


def timed_out(action: Mapping[str, Any], target: ProbeTarget, timeout: float) -> str:
    host = action.get("host") or target.pod_ip
    return f"dial tcp {host}:{action.get('port')}: i/o timeout"


TCP_SOCKET = ProbeKind(run=run, timed_out=timed_out)
