"""What a probe handler needs and returns.

A handler performs one check of one kind (exec, httpGet, tcpSocket)
against a :class:`ProbeTarget` — the running container as the prober sees
it — and returns a :class:`ProbeResult` whose message is what Kubernetes
would print after ``Liveness probe failed:``. Timeouts are not the
handler's business: the prober races each check against
``timeoutSeconds`` on the injected clock, cancels it, and asks the
handler's ``timed_out`` for the message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ProbeKind", "ProbeResult", "ProbeTarget", "resolve_port"]


@dataclass(frozen=True)
class ProbeResult:
    success: bool
    message: str = ""


@dataclass
class ProbeTarget:
    """The container being probed."""

    container: Mapping[str, Any]
    pod_ip: str
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    #: Turns an exec probe's command into what runs on the host (catalog + mounts).
    command: Callable[[Sequence[str]], list[str]] = list


@dataclass(frozen=True)
class ProbeKind:
    run: Callable[[Mapping[str, Any], ProbeTarget], Awaitable[ProbeResult]]
    timed_out: Callable[[Mapping[str, Any], ProbeTarget, float], str]


def resolve_port(port: Any, container: Mapping[str, Any]) -> int:
    """A probe's ``port``: a number, or the name of one of the container's ports."""
    if isinstance(port, int) or (isinstance(port, str) and port.isdigit()):
        return int(port)
    for declared in container.get("ports") or ():
        if declared.get("name") == port:
            return int(declared["containerPort"])
    raise ValueError(f"port {port!r} is not a named port of container {container.get('name')!r}")
