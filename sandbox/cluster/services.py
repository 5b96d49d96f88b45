"""Service ClusterIPs: allocation at admission, and the repair loop that frees them.

In Kubernetes the API server itself gives a Service its ``spec.clusterIP``
while storing it, from the service CIDR, and a *repair* loop inside the API
server periodically lists every Service and rebuilds the allocation table so
that an IP reserved by a write that then failed is not lost forever. The
sandbox does the same in two halves:

``ClusterIPAllocator.allocate_cluster_ip(request)``
    a mutating admission hook (registered by the backend with
    ``store.admission.add_mutating("", "Service", allocator.allocate_cluster_ip)``).
    It is written against the duck-typed admission request (``operation``,
    ``object``, ``old_object``, ``dry_run``) so this module never imports the
    store. On CREATE it fills ``spec.clusterIP``/``spec.clusterIPs`` for
    ClusterIP, NodePort and LoadBalancer Services, honours a user-chosen IP
    (422 when it is taken or out of range, in kube-apiserver's words) and
    leaves headless (``clusterIP: None``) and ExternalName Services alone. On
    UPDATE it keeps the stored IP when the new body omits it (as ``kubectl
    apply`` of a manifest without ``clusterIP`` does) and allocates when a
    Service turns from ExternalName into a type that needs an IP.

``ClusterIPAllocator.rebuild(services)``
    the repair step: the used set becomes exactly the IPs the listed Services
    hold. The hook only ever *allocates* and the repair only ever *frees*, so
    an IP is never handed out twice: an IP allocated since the previous
    rebuild but missing from the list (its Service may be committed after the
    list was taken) survives one more rebuild before it is freed, like the
    API server's repair loop that waits several cycles before releasing a
    leak. A restarted cluster calls ``rebuild`` with the stored Services
    before it admits any write.

``controller(manager, allocator=...)``
    runs the repair: every Service change (a delete above all) and a periodic
    timer enqueue one key whose reconcile lists the Services and rebuilds, so
    a deleted Service's IP is free again moments later.

IPs come from ``Networking.service_cidr`` (``127.96.0.0/16`` by default), so
a ClusterIP is a loopback address the service proxy (:mod:`sandbox.cluster.proxy`)
can really listen on.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from sandbox.api.errors import FieldError, Invalid
from sandbox.api.schema.gofmt import GoValue
from sandbox.runtime import Controller, Manager, Request, Result, get_logger

__all__ = ["REPAIR_INTERVAL", "AdmissionRequestLike", "ClusterIPAllocator", "controller"]

log = get_logger(__name__)

#: How often the repair loop rebuilds even when no Service changed (kube-apiserver: 3 min).
REPAIR_INTERVAL = 180.0

#: The Service types that get a cluster IP.
_TYPES_WITH_IP = ("ClusterIP", "NodePort", "LoadBalancer")


class AdmissionRequestLike(Protocol):
    """What the hook reads from the store's ``AdmissionRequest`` (duck-typed)."""

    operation: str
    object: dict[str, Any]
    old_object: Mapping[str, Any] | None
    dry_run: bool


def _service_ips(service: Mapping[str, Any]) -> list[str]:
    spec = service.get("spec") or {}
    ips = list(spec.get("clusterIPs") or ())
    if not ips and spec.get("clusterIP"):
        ips = [spec["clusterIP"]]
    return [ip for ip in ips if ip and ip != "None"]


class ClusterIPAllocator:
    """Hands out the host addresses of the service CIDR, one per Service.

    ``.0`` and ``.1`` of the range are never given (the first address is the
    ``kubernetes`` Service's in a real cluster), nor the broadcast address.
    Dynamic allocation walks the range from a moving cursor, so a freed IP is
    not reused at once (a client holding a stale IP does not reach a new
    Service by accident).
    """

    def __init__(self, cidr: str) -> None:
        self.network = ipaddress.ip_network(cidr)
        if self.network.num_addresses < 4:
            raise ValueError(f"service CIDR {cidr} is too small")
        self._first = int(self.network.network_address) + 2
        self._last = int(self.network.broadcast_address) - 1
        self._cursor = self._first
        self._used: set[str] = set()
        self._recent: set[str] = set()
        # The store calls hooks under its own lock, but admission may come
        # from several threads in a REST server: guard the tables.
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<ClusterIPAllocator {self.network}: {len(self._used)} used>"

    @property
    def used(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._used)

    def __contains__(self, address: str) -> bool:
        try:
            value = int(ipaddress.ip_address(address))
        except ValueError:
            return False
        return self._first <= value <= self._last

    # Allocation ---------------------------------------------------------------------

    def _next_free(self) -> str | None:
        size = self._last - self._first + 1
        for step in range(size):
            value = self._first + (self._cursor - self._first + step) % size
            address = str(ipaddress.ip_address(value))
            if address not in self._used:
                self._cursor = value + 1 if value < self._last else self._first
                return address
        return None

    def allocate(self, *, dry_run: bool = False) -> str:
        """A free IP, marked used (unless ``dry_run``); ``RuntimeError`` when the range is full."""
        with self._lock:
            address = self._next_free()
            if address is None:
                raise RuntimeError(f"range is full: no free IP left in {self.network}")
            if not dry_run:
                self._used.add(address)
                self._recent.add(address)
            return address

    def reserve(self, address: str, *, dry_run: bool = False) -> str | None:
        """Mark ``address`` used; returns why it cannot be (Kubernetes' words) or ``None``."""
        if address not in self:
            return (
                f"the provided IP ({address}) is not in the valid range. "
                f"The range of valid IPs is {self.network}"
            )
        with self._lock:
            if address in self._used:
                return "provided IP is already allocated"
            if not dry_run:
                self._used.add(address)
                self._recent.add(address)
        return None

    def rebuild(self, services: Iterable[Mapping[str, Any]]) -> list[str]:
        """Make the used set what ``services`` hold; returns the IPs freed.

        IPs allocated since the previous rebuild and not in ``services`` are
        kept once more: their Service may have been stored after the list.
        """
        held = {ip for service in services for ip in _service_ips(service) if ip in self}
        with self._lock:
            freed = sorted(self._used - held - self._recent)
            self._used = held | (self._used & self._recent)
            self._recent = set()
        for address in freed:
            log.info("released cluster IP %s: no Service holds it", address)
        return freed

    # The admission hook ----------------------------------------------------------------

    def allocate_cluster_ip(self, request: AdmissionRequestLike) -> None:
        """Mutating admission hook for ``v1 Service``: give it its cluster IP."""
        if request.operation not in ("CREATE", "UPDATE"):
            return
        service = request.object
        spec = service.get("spec")
        if not isinstance(spec, dict):
            return
        kind = spec.get("type") or "ClusterIP"
        if kind not in _TYPES_WITH_IP:
            if request.operation == "UPDATE":
                # Turning into an ExternalName drops the IP; the repair frees it.
                spec.pop("clusterIP", None)
                spec.pop("clusterIPs", None)
            return
        old_spec = (request.old_object or {}).get("spec") or {}
        if request.operation == "UPDATE" and old_spec.get("clusterIP"):
            if not spec.get("clusterIP"):
                spec["clusterIP"] = old_spec["clusterIP"]
            if not spec.get("clusterIPs"):
                spec["clusterIPs"] = list(old_spec.get("clusterIPs") or [old_spec["clusterIP"]])
            return  # a changed IP is refused by validation (the field is immutable)
        wanted = spec.get("clusterIP") or next(iter(spec.get("clusterIPs") or ()), "")
        dry_run = bool(getattr(request, "dry_run", False))
        if wanted == "None":
            spec["clusterIP"] = "None"
            spec["clusterIPs"] = ["None"]
            return
        if wanted:
            problem = self.reserve(wanted, dry_run=dry_run)
            if problem is not None:
                name = (service.get("metadata") or {}).get("name") or ""
                ips = spec.get("clusterIPs") or [wanted]
                value = GoValue("[]string{" + ", ".join(f'"{ip}"' for ip in ips) + "}")
                raise Invalid.of(
                    "Service",
                    name,
                    [
                        FieldError(
                            "Invalid",
                            "spec.clusterIPs",
                            value=value,
                            detail=f"failed to allocate IP {wanted}: {problem}",
                        )
                    ],
                    plural="services",
                )
            address = wanted
        else:
            address = self.allocate(dry_run=dry_run)
        spec["clusterIP"] = address
        spec["clusterIPs"] = [address]


# The repair loop ------------------------------------------------------------------------

#: The one key whose reconcile repairs: "the whole range", not one Service.
_RANGE = Request("v1", "Service", "", "")


class _Repair:
    """Folds every Service key into :data:`_RANGE`, whose reconcile lists and rebuilds."""

    def __init__(self, manager: Manager, allocator: ClusterIPAllocator, interval: float) -> None:
        self.client = manager.client
        self.allocator = allocator
        self.interval = interval
        self.controller: Controller | None = None

    async def reconcile(self, request: Request) -> Result | None:
        if request != _RANGE:
            # One rebuild covers every Service: the queue collapses a burst of
            # changes into a single pending range key.
            assert self.controller is not None
            self.controller.queue.add(_RANGE)
            return None
        listed = await self.client.list("v1", "Service")
        self.allocator.rebuild(listed.get("items") or [])
        return Result(requeue_after=self.interval)


def controller(
    manager: Manager,
    *,
    allocator: ClusterIPAllocator,
    interval: float = REPAIR_INTERVAL,
) -> Controller:
    """The ClusterIP repair loop (register under ``"clusterip-repair"``)."""
    repair = _Repair(manager, allocator, interval)
    repair.controller = Controller("clusterip-repair", for_=("v1", "Service"), reconciler=repair)
    return repair.controller
