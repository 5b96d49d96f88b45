"""Wildcard binds become pod-IP binds: ``0.0.0.0:8080`` in a pod listens on ``<podIP>:8080``.

In Kubernetes every pod has its own network namespace, so a server that
binds the wildcard address (``python -m http.server 8080``, Flask's
``host="0.0.0.0"``, uvicorn ``--host 0.0.0.0``) listens on its pod's IP and
two pods may use the same port. Sandbox pods share the host's network; each
has its own loopback address (``SANDBOX_POD_IP``, ``127.16.i.j``), and a
wildcard bind would take the port on every address and clash with the next
pod. So the startup hook (``startup/sitecustomize.py``) wraps
:meth:`socket.socket.bind`::

    bind(("", 8080)) / bind(("0.0.0.0", 8080))  on AF_INET   → bind((pod IP, 8080))
    bind(("::", 8080))  on a dual-stack AF_INET6 socket      → bind(("::ffff:" + pod IP, 8080))

Everything else binds as asked. An IPv6-only socket (``IPV6_V6ONLY`` set,
as asyncio's ``create_server`` makes for ``host=None``) keeps ``::`` — it
cannot take an IPv4 address — and so still shares the port between pods;
docs/explanation/fidelity.md says so. Only Python programs get the rewrite:
another language's server must bind ``$SANDBOX_POD_IP`` itself.

Standard library only: it runs inside every Python container.
"""

from __future__ import annotations

import os
import socket
from typing import Any

__all__ = ["install_bind_rewrite", "rewrite_address"]

_WILDCARD_V4 = ("", "0.0.0.0")
_WILDCARD_V6 = ("", "::")


def rewrite_address(sock: socket.socket, address: Any, pod_ip: str) -> Any:
    """The address ``sock`` should bind instead of ``address`` (unchanged unless a wildcard)."""
    if not isinstance(address, tuple) or not address:
        return address
    host = address[0]
    if sock.family == socket.AF_INET and host in _WILDCARD_V4:
        return (pod_ip, *address[1:])
    if sock.family == socket.AF_INET6 and host in _WILDCARD_V6:
        try:
            v6_only = sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
        except OSError:
            return address
        if not v6_only:
            return (f"::ffff:{pod_ip}", *address[1:])
    return address


def install_bind_rewrite(pod_ip: str | None = None) -> bool:
    """Wrap ``socket.socket.bind`` for this pod (``$SANDBOX_POD_IP``); False when not in a pod."""
    ip = pod_ip if pod_ip is not None else os.environ.get("SANDBOX_POD_IP", "")
    if not ip or ip == "127.0.0.1":
        return False
    current = socket.socket.bind
    original = getattr(current, "__wrapped__", current)

    def bind(self: socket.socket, address: Any) -> None:
        original(self, rewrite_address(self, address, ip))

    bind.__wrapped__ = original  # type: ignore[attr-defined]
    bind.__doc__ = original.__doc__
    socket.socket.bind = bind  # type: ignore[method-assign]
    return True
