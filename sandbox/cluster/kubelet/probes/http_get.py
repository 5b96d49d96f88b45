"""``httpGet`` probes: a GET to the pod IP, healthy on a status from 200 to 399.

A minimal HTTP/1.1 client on asyncio streams (no dependency): it sends
Kubernetes' probe headers (``User-Agent: kube-probe/1.31``, ``Accept:
*/*``) plus the probe's ``httpHeaders``, reads the status line and closes.
``host`` defaults to the pod IP; ``scheme: HTTPS`` skips certificate
checks, as the kubelet does. Messages copy Kubernetes' (``HTTP probe
failed with statuscode: 503``; ``Get "http://...": dial tcp ...: connect:
connection refused``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Mapping
from typing import Any

from sandbox.cluster.kubelet.probes.base import ProbeKind, ProbeResult, ProbeTarget, resolve_port

__all__ = ["HTTP_GET"]

USER_AGENT = "kube-probe/1.31"


def _url(action: Mapping[str, Any], target: ProbeTarget) -> tuple[str, str, int, str]:
    scheme = str(action.get("scheme") or "HTTP").lower()
    host = action.get("host") or target.pod_ip
    port = resolve_port(action.get("port"), target.container)
    path = action.get("path") or "/"
    if not path.startswith("/"):
        path = "/" + path
    return scheme, host, port, path


async def run(action: Mapping[str, Any], target: ProbeTarget) -> ProbeResult:
    try:
        scheme, host, port, path = _url(action, target)
    except ValueError as err:
        return ProbeResult(False, str(err))
    url = f"{scheme}://{host}:{port}{path}"
    context = None
    if scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        reader, writer = await asyncio.open_connection(host, port, ssl=context)
    except OSError as err:
        return ProbeResult(False, f'Get "{url}": dial tcp {host}:{port}: connect: {_reason(err)}')
    try:
        headers = {"Host": f"{host}:{port}", "User-Agent": USER_AGENT, "Accept": "*/*"}
        for header in action.get("httpHeaders") or ():
            headers[str(header.get("name", ""))] = str(header.get("value", ""))
        headers["Connection"] = "close"
        request = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write((request + "\r\n").encode("latin-1", errors="replace"))
        await writer.drain()
        status_line = await reader.readline()
    except OSError as err:
        return ProbeResult(False, f'Get "{url}": {_reason(err)}')
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    parts = status_line.decode("latin-1").split()
    if len(parts) < 2 or not parts[1].isdigit():
        return ProbeResult(False, f'Get "{url}": malformed HTTP response {status_line[:80]!r}')
    code = int(parts[1])
    if 200 <= code < 400:
        return ProbeResult(True)
    return ProbeResult(False, f"HTTP probe failed with statuscode: {code}")


def timed_out(action: Mapping[str, Any], target: ProbeTarget, timeout: float) -> str:
    try:
        scheme, host, port, path = _url(action, target)
    except ValueError as err:
        return str(err)
    return (
        f'Get "{scheme}://{host}:{port}{path}": context deadline exceeded '
        "(Client.Timeout exceeded while awaiting headers)"
    )


def _reason(err: OSError) -> str:
    if isinstance(err, ConnectionRefusedError):
        return "connection refused"
    return (err.strerror or str(err)).lower()


HTTP_GET = ProbeKind(run=run, timed_out=timed_out)
