"""The service proxy: ``clusterIP:port`` really reaches a ready pod.

kube-proxy programs iptables so that a connection to a Service's virtual IP
is rewritten to one of its ready endpoints. The sandbox has no packet
filter, but its ClusterIPs are real loopback addresses (``127.96.x.y``, see
:mod:`sandbox.cluster.services`), so a small userspace proxy can do the
same job the way kube-proxy's old ``userspace`` mode did::

    Service (clusterIP, ports) ──► one TCP listener per clusterIP:port
    Endpoints (ready addresses) ──► round-robin choice per accepted connection
    client ◄──► listener ◄── copy both ways ──► podIP:targetPort

- It follows Services and Endpoints through two shared informers; any change
  re-syncs the listeners (started for new ports, closed for removed ones).
  Headless Services, Services without an IP and non-TCP ports get none.
- Each accepted connection goes to the next ready endpoint of that port
  (round-robin per Service port). An endpoint that refuses is skipped for
  the next one, as the userspace proxier retried; when no endpoint is ready
  the connection is closed at once, which a client sees as iptables'
  REJECT does, and a Warning Event ``NoEndpoints`` on the Service says why
  (once per outage; kube-proxy itself records none — a sandbox addition).
- A port that cannot be bound (below 1024 without privileges, or already
  taken) is logged and reported once as a Warning Event ``FailedToBindPort``
  on the Service, instead of failing silently.

Bytes are copied with asyncio streams; half-closes are passed on, so
request/response protocols that shut down their write side work.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.api.objects import meta
from sandbox.client.protocol import Client
from sandbox.clock import Clock, SystemClock
from sandbox.runtime import EventRecorder, SharedInformer, get_logger

__all__ = ["ServiceProxy"]

log = get_logger(__name__)

#: How long to wait for an endpoint to accept before trying the next one (real seconds).
CONNECT_TIMEOUT = 2.0
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class _Target:
    """What a listener serves: one port of one Service."""

    namespace: str
    name: str
    port_name: str


class ServiceProxy:
    """Listens on every Service's ``clusterIP:port`` and forwards to ready endpoints."""

    def __init__(
        self,
        client: Client,
        *,
        clock: Clock | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        self.client = client
        self.clock: Clock = clock or SystemClock()
        self.connect_timeout = connect_timeout
        self._services = SharedInformer(client, "v1", "Service", clock=self.clock)
        self._endpoints = SharedInformer(client, "v1", "Endpoints", clock=self.clock)
        self._recorder = EventRecorder(client, component="kube-proxy", clock=self.clock)
        self._listeners: dict[tuple[str, int], tuple[_Target, asyncio.Server]] = {}
        self._failed_binds: set[tuple[str, int]] = set()
        self._no_endpoints: set[_Target] = set()
        self._turns: dict[_Target, itertools.count[int]] = {}
        self._connections: set[asyncio.Task[None]] = set()
        self._dirty = asyncio.Event()
        self._syncer: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"<ServiceProxy {len(self._listeners)} listeners>"

    @property
    def listening(self) -> dict[tuple[str, int], str]:
        """``(clusterIP, port)`` → ``namespace/name:port`` of every open listener."""
        return {
            address: f"{t.namespace}/{t.name}:{t.port_name}"
            for address, (t, _server) in self._listeners.items()
        }

    # Lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Start following Services and Endpoints; returns once the listeners are up."""
        handler = _Dirty(self._dirty)
        self._services.add_event_handler(handler)
        self._endpoints.add_event_handler(handler)
        self._services.start()
        self._endpoints.start()
        await self._services.wait_for_sync()
        await self._endpoints.wait_for_sync()
        await self.sync()
        self._syncer = asyncio.get_running_loop().create_task(self._sync_loop(), name="proxy-sync")

    async def stop(self) -> None:
        """Close every listener and connection and stop following the cluster."""
        if self._syncer is not None:
            self._syncer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._syncer
            self._syncer = None
        await self._services.stop()
        await self._endpoints.stop()
        for address in list(self._listeners):
            await self._close_listener(address)
        for task in list(self._connections):
            task.cancel()
        for task in list(self._connections):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _sync_loop(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                await self.sync()
            except Exception:
                log.exception("service proxy sync failed")

    # Listeners ------------------------------------------------------------------------------

    def _wanted(self) -> dict[tuple[str, int], tuple[_Target, Mapping[str, Any]]]:
        wanted: dict[tuple[str, int], tuple[_Target, Mapping[str, Any]]] = {}
        for service in self._services.list(copy=False):
            spec = service.get("spec") or {}
            ip = spec.get("clusterIP")
            if not ip or ip == "None" or (spec.get("type") or "ClusterIP") == "ExternalName":
                continue
            m = meta(service)
            for port in spec.get("ports") or ():
                if (port.get("protocol") or "TCP") != "TCP":
                    continue
                target = _Target(m.get("namespace", ""), m["name"], port.get("name") or "")
                wanted[(ip, int(port["port"]))] = (target, service)
        return wanted

    async def sync(self) -> None:
        """Open and close listeners to match the Services in the cache."""
        wanted = self._wanted()
        for address, (target, _server) in list(self._listeners.items()):
            if address not in wanted or wanted[address][0] != target:
                await self._close_listener(address)
        self._failed_binds &= set(wanted)
        for address, (target, service) in wanted.items():
            if address in self._listeners or address in self._failed_binds:
                continue
            ip, port = address
            try:
                server = await asyncio.start_server(
                    lambda r, w, t=target: self._accept(r, w, t), host=ip, port=port
                )
            except OSError as exc:
                self._failed_binds.add(address)
                message = f"cannot listen on {ip}:{port} for port {target.port_name or port}: {exc}"
                log.warning("service %s/%s: %s", target.namespace, target.name, message)
                await self._recorder.warning(service, reason="FailedToBindPort", message=message)
                continue
            self._listeners[address] = (target, server)
            log.debug("listening on %s:%d for %s/%s", ip, port, target.namespace, target.name)

    async def _close_listener(self, address: tuple[str, int]) -> None:
        _target, server = self._listeners.pop(address)
        server.close()
        await server.wait_closed()

    # Connections --------------------------------------------------------------------------------

    def _ready_endpoints(self, target: _Target) -> list[tuple[str, int]]:
        endpoints = self._endpoints.get(target.namespace, target.name, copy=False)
        found: list[tuple[str, int]] = []
        for subset in (endpoints or {}).get("subsets") or ():
            ports = [p for p in subset.get("ports") or () if (p.get("name") or "") == target.port_name]
            for port in ports:
                for address in subset.get("addresses") or ():
                    found.append((address["ip"], int(port["port"])))
        return found

    def _accept(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: _Target
    ) -> None:
        task = asyncio.get_running_loop().create_task(self._serve(reader, writer, target))
        self._connections.add(task)
        task.add_done_callback(self._connections.discard)

    async def _connect(
        self, target: _Target
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        endpoints = self._ready_endpoints(target)
        turn = next(self._turns.setdefault(target, itertools.count()))
        for attempt in range(len(endpoints)):
            ip, port = endpoints[(turn + attempt) % len(endpoints)]
            try:
                return await asyncio.wait_for(
                    asyncio.open_connection(ip, port), timeout=self.connect_timeout
                )
            except (OSError, TimeoutError) as exc:
                log.info("endpoint %s:%d of %s/%s refused: %s", ip, port,
                         target.namespace, target.name, exc)
        return None

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: _Target
    ) -> None:
        try:
            upstream = await self._connect(target)
            if upstream is None:
                await self._report_no_endpoints(target)
                return
            self._no_endpoints.discard(target)
            up_reader, up_writer = upstream
            try:
                await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
            finally:
                up_writer.close()
                with contextlib.suppress(OSError):
                    await up_writer.wait_closed()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _report_no_endpoints(self, target: _Target) -> None:
        if target in self._no_endpoints:
            return
        self._no_endpoints.add(target)
        port = f"port {target.port_name!r}" if target.port_name else "its port"
        message = (
            f"connection rejected: service {target.namespace}/{target.name} has no ready "
            f"endpoints for {port}"
        )
        log.warning(message)
        service = self._services.get(target.namespace, target.name)
        if service is not None:
            await self._recorder.warning(service, reason="NoEndpoints", message=message)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until EOF, then pass the half-close on."""
    try:
        while chunk := await reader.read(_CHUNK):
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.close()


class _Dirty:
    """Informer handler: any change marks the listeners for a re-sync."""

    def __init__(self, event: asyncio.Event) -> None:
        self.event = event

    def on_add(self, obj: Mapping[str, Any]) -> None:
        self.event.set()

    def on_update(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        self.event.set()

    def on_delete(self, obj: Mapping[str, Any]) -> None:
        self.event.set()
