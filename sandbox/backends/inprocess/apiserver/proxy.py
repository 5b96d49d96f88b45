"""``pods/proxy`` and ``services/proxy``: HTTP to a pod, through the API server.

kube-apiserver serves two subresources that forward a whole HTTP request to
something inside the cluster and pass its answer back::

    /api/v1/namespaces/{ns}/pods/{[scheme:]name[:port]}/proxy[/{path}]
    /api/v1/namespaces/{ns}/services/{[scheme:]name[:port]}/proxy[/{path}]

This is how ``kubectl get --raw .../services/web:80/proxy/`` or a dashboard
reaches a pod without a route to the pod network. In the sandbox the pod
network *is* this machine's loopback (pod IPs are ``127.x.y.z`` and pods
listen on them), so the API server connects straight to ``podIP:port``::

    request ─► target: the pod's IP and port,
    │            or a ready address of the Service's Endpoints (round robin)
    ├─► upstream request: same method, the path after ``/proxy`` (``/`` if none),
    │     the query string as sent, the headers minus hop-by-hop ones and the
    │     caller's credentials (kube-apiserver drops ``Authorization`` and
    │     ``Impersonate-*`` once it has authenticated), the body as it arrives
    └─◄ answer: status, headers (a ``Location`` under the target rewritten to
          the proxy path, as kube-apiserver's proxy transport does), body
          streamed chunk by chunk as the pod sends it

How the target is chosen, after kube-apiserver's ``ResourceLocation``:

- **pod** ``name[:port]``: the port, else the first ``containerPort`` of the
  pod's containers, else none (port 80/443). A port may also be a container
  port's *name* (a sandbox convenience; Kubernetes takes numbers only).
  A pod without an IP is 400 ``address not allowed``; a pod with one that is
  not Running is 503.
- **service** ``name[:port]``: a port *number* is looked up among the
  Service's ports (503 ``no service port N found``); a port *name* is used as
  is; no port means the Service's only port (Kubernetes means the unnamed
  port). The Endpoints' ready addresses carrying that port name are the
  candidates, taken round robin; none is 503 ``no endpoints available for
  service "NAME"``.
- ``scheme`` is ``http`` (default) or ``https``; a pod's certificate is not
  verified, as kube-apiserver does not verify it either.

A target that refuses the connection is 503 ``error trying to reach service:
dial tcp IP:PORT: connect: connection refused``, Kubernetes' own wording.
Upgrades (WebSocket) are not proxied, and HTML bodies are passed on
unchanged (kube-apiserver rewrites links in them).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from sandbox.api.errors import BadRequest, ServiceUnavailable
from sandbox.api.kinds import ResourceType
from sandbox.backends.inprocess.apiserver.context import Call, ServerState
from sandbox.backends.inprocess.apiserver.watch import until_disconnected

__all__ = ["CONNECT_TIMEOUT", "PROXIED", "ProxyAnswer", "Target", "handle"]

#: The resources whose ``proxy`` subresource is served (``nodes/proxy`` is not:
#: the in-process kubelets serve no HTTP API).
PROXIED = frozenset({"pods", "services"})

#: Seconds to wait for the pod to accept the connection (then 503).
CONNECT_TIMEOUT = 10.0

# RFC 9110 §7.6.1 connection-specific headers, plus what must not reach the pod.
_HOP_BY_HOP = frozenset({
    b"connection", b"keep-alive", b"proxy-connection", b"proxy-authenticate",
    b"proxy-authorization", b"te", b"trailer", b"transfer-encoding", b"upgrade",
})
_NOT_FORWARDED = _HOP_BY_HOP | {b"host", b"authorization", b"content-length"}
_SCHEMES = ("", "http", "https")
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


@dataclass(frozen=True)
class Target:
    """Where one proxied request goes."""

    scheme: str
    host: str
    port: int | None

    @property
    def address(self) -> str:
        """``host:port`` as Go's ``net.JoinHostPort`` writes it (the port defaulted)."""
        port = self.port or (443 if self.scheme == "https" else 80)
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{port}"

    @property
    def base(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}" + (f":{self.port}" if self.port else "")


def split_scheme_name_port(ident: str, kind: str) -> tuple[str, str, str]:
    """``name``, ``name:port`` or ``scheme:name:port`` (Kubernetes' SplitSchemeNamePort)."""
    parts = ident.split(":")
    if len(parts) == 1:
        scheme, name, port = "", parts[0], ""
    elif len(parts) == 2:
        scheme, (name, port) = "", parts
    elif len(parts) == 3:
        scheme, name, port = parts
    else:
        raise BadRequest(f'invalid {kind} request "{ident}"')
    if not name or scheme not in _SCHEMES:
        raise BadRequest(f'invalid {kind} request "{ident}"')
    return scheme or "http", name, port


# Targets ------------------------------------------------------------------------------


def pod_target(state: ServerState, namespace: str, ident: str) -> Target:
    scheme, name, port = split_scheme_name_port(ident, "pod")
    pod = state.store.get("v1", "Pod", name, namespace=namespace)
    containers = (pod.get("spec") or {}).get("containers") or ()
    number: int | None = None
    if not port:
        number = next((int(p["containerPort"]) for c in containers for p in c.get("ports") or ()
                       if p.get("containerPort")), None)
    elif port.isdigit():
        number = int(port)
    else:
        number = next((int(p["containerPort"]) for c in containers for p in c.get("ports") or ()
                       if p.get("name") == port and p.get("containerPort")), None)
        if number is None:
            raise BadRequest(f'pod "{name}" has no container port named "{port}"')
    status = pod.get("status") or {}
    phase = status.get("phase") or "Pending"
    ip = status.get("podIP")
    if not ip:
        raise BadRequest(f'address not allowed: pod "{name}" has no IP address yet '
                         f"(phase {phase})")
    if phase != "Running":
        raise ServiceUnavailable(f'pod "{name}" is not running (phase {phase}): nothing listens '
                                 f"on {ip}")
    return Target(scheme, ip, number)


def service_target(state: ServerState, namespace: str, ident: str) -> Target:
    scheme, name, port = split_scheme_name_port(ident, "service")
    store = state.store
    service = store.get("v1", "Service", name, namespace=namespace)
    ports = (service.get("spec") or {}).get("ports") or ()
    if port.isdigit():
        found = next((p for p in ports if p.get("port") == int(port)), None)
        if found is None:
            raise ServiceUnavailable(f'no service port {port} found for service "{name}"')
        port_name = found.get("name") or ""
    elif port:
        port_name = port
    else:
        port_name = (ports[0].get("name") or "") if len(ports) == 1 else ""
    endpoints = store.get("v1", "Endpoints", name, namespace=namespace)
    candidates = [
        (address["ip"], int(endpoint_port["port"]))
        for subset in endpoints.get("subsets") or ()
        for endpoint_port in subset.get("ports") or ()
        if (endpoint_port.get("name") or "") == port_name
        for address in subset.get("addresses") or ()
        if address.get("ip")
    ]
    if not candidates:
        raise ServiceUnavailable(f'no endpoints available for service "{name}"')
    key = (namespace, name, port_name)
    turn = state.proxy_turns.get(key, 0)
    state.proxy_turns[key] = turn + 1
    ip, number = candidates[turn % len(candidates)]
    return Target(scheme, ip, number)


# Forwarding ---------------------------------------------------------------------------


async def handle(state: ServerState, call: Call, rt: ResourceType) -> ProxyAnswer:
    """Forward the call to the pod behind ``pods/…/proxy`` or ``services/…/proxy``."""
    info = call.info
    namespace = info.namespace
    if rt.plural == "pods":
        target = pod_target(state, namespace, info.name)
    else:
        target = service_target(state, namespace, info.name)
    prefix = (f"/{info.api_prefix}/{info.api_version}/namespaces/{namespace}/{rt.plural}/"
              f"{info.name}/proxy")
    url = target.base + quote(info.subpath or "/", safe=_PATH_SAFE)
    if call.query_string:
        url += "?" + call.query_string.decode("latin-1")
    headers, content = await _outgoing(call)
    client = httpx.AsyncClient(verify=False, trust_env=False, follow_redirects=False,
                               timeout=httpx.Timeout(None, connect=CONNECT_TIMEOUT))
    try:
        request = httpx.Request(call.method, url, headers=headers, content=content)
        response = await client.send(request, stream=True)
    except httpx.TransportError as err:
        await client.aclose()
        raise ServiceUnavailable(f"error trying to reach service: {_describe(err, target)}") \
            from None
    except BaseException:
        await client.aclose()
        raise
    return ProxyAnswer(state, response, client, prefix=prefix, target=target)


async def _outgoing(call: Call) -> tuple[list[tuple[bytes, bytes]], Any]:
    """The headers and body sent on to the pod."""
    # Headers the Connection header names are this hop's only, too.
    connection = call.header(b"connection") or ""
    named = {token.strip().lower().encode() for token in connection.split(",") if token.strip()}
    headers = [(key, value) for key, value in call.headers.items()
               if key not in _NOT_FORWARDED and key not in named
               and not key.startswith(b"impersonate-")]
    if call.client_host:
        headers.append((b"x-forwarded-for", call.client_host.encode()))
    length = call.headers.get(b"content-length")
    content: Any = None
    if length is not None and length.strip().isdigit():
        headers.append((b"content-length", length.strip()))
        content = _body_chunks(call.receive) if int(length) else b""
    elif b"chunked" in call.headers.get(b"transfer-encoding", b"").lower():
        # Many small servers cannot read a chunked body: send it whole, with a length.
        content = b"".join([chunk async for chunk in _body_chunks(call.receive)])
    return headers, content


async def _body_chunks(receive: Any) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


def _describe(err: httpx.TransportError, target: Target) -> str:
    """Go's words for a failed proxied call (``dial tcp …: connect: connection refused``)."""
    if isinstance(err, httpx.ConnectTimeout):
        return f"dial tcp {target.address}: i/o timeout"
    cause: BaseException | None = err
    seen: set[int] = set()
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, OSError) and cause.errno:
            detail = os.strerror(cause.errno).lower()
            if isinstance(err, httpx.ConnectError):
                return f"dial tcp {target.address}: connect: {detail}"
            return f"read tcp {target.address}: {detail}"
        cause = cause.__cause__ or cause.__context__
    detail = str(err) or type(err).__name__
    if isinstance(err, httpx.ConnectError):
        return f"dial tcp {target.address}: {detail}"
    return detail


class ProxyAnswer:
    """The ASGI answer of a proxied call: the pod's status and headers, its body streamed."""

    def __init__(
        self,
        state: ServerState,
        response: httpx.Response,
        client: httpx.AsyncClient,
        *,
        prefix: str,
        target: Target,
    ) -> None:
        self.state = state
        self.response = response
        self.client = client
        self.prefix = prefix
        self.target = target

    def headers(self) -> list[tuple[bytes, bytes]]:
        connection = self.response.headers.get("connection", "")
        named = {token.strip().lower().encode() for token in connection.split(",")
                 if token.strip()}
        headers: list[tuple[bytes, bytes]] = []
        for key, value in self.response.headers.raw:
            lower = key.lower()
            if lower in _HOP_BY_HOP or lower in named:
                continue
            if lower == b"location":
                value = _rewrite_location(value.decode("latin-1"), self.prefix,
                                          self.target).encode("latin-1")
            headers.append((lower, value))
        return headers

    async def __call__(self, scope: Mapping[str, Any], receive: Any, send: Any) -> None:
        try:
            await send({"type": "http.response.start", "status": self.response.status_code,
                        "headers": self.headers()})
            if scope.get("method") == "HEAD":
                await send({"type": "http.response.body", "body": b""})
                return
            pump = asyncio.ensure_future(self._pump(send))
            gone = asyncio.ensure_future(until_disconnected(receive))
            stopping = asyncio.ensure_future(self.state.shutdown.wait())
            try:
                await asyncio.wait({pump, gone, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                disconnected = gone.done() and not gone.cancelled()
                for task in (pump, gone, stopping):
                    task.cancel()
                # A pod that dies mid-answer ends the body early, as a closed
                # upstream connection does behind kube-apiserver.
                with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                    await pump
            if not disconnected:
                with contextlib.suppress(OSError):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await self.response.aclose()
            await self.client.aclose()

    async def _pump(self, send: Any) -> None:
        async for chunk in self.response.aiter_raw():
            if chunk:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})


def _rewrite_location(location: str, prefix: str, target: Target) -> str:
    """A redirect within the target stays under the proxy path (``/x/`` → ``{prefix}/x/``)."""
    parts = urlsplit(location)
    if parts.netloc and (parts.hostname != target.host.strip("[]")
                         or (parts.port or None) not in (None, target.port)):
        return location  # elsewhere: leave it
    if not parts.netloc and not location.startswith("/"):
        return location  # relative to the current path: already right
    rewritten = prefix + (parts.path or "/")
    if parts.query:
        rewritten += "?" + parts.query
    if parts.fragment:
        rewritten += "#" + parts.fragment
    return rewritten
