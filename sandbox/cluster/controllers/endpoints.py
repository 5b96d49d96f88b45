"""The endpoints controller: one ``v1 Endpoints`` per Service with a selector.

Kubernetes' ``pkg/controller/endpoint``. A Service only names pods by label;
its Endpoints object lists where they actually are, and is what the service
proxy (:mod:`sandbox.cluster.proxy`), kube-dns and ``kubectl describe svc``
read. Data flow::

    Service (selector, ports) ─┐
                               ├─► reconcile(service key) ─► Endpoints <same name>
    Pods (labels, IP, Ready) ──┘    addresses / notReadyAddresses, ports

- A pod is listed once it has a ``podIP`` and is not terminal (Succeeded or
  Failed) nor being deleted; ready pods go to ``addresses``, the others to
  ``notReadyAddresses`` (all to ``addresses`` when the Service says
  ``publishNotReadyAddresses``). Each address carries ``ip``, ``nodeName``,
  ``targetRef`` and, when the pod asks for it (``hostname`` plus a
  ``subdomain`` equal to the Service's name), ``hostname``.
- Each Service port resolves its ``targetPort`` per pod: a number as is, a
  name through the pod's container ports (a pod without that named port is
  left out of that port). Addresses with the same resolved ports share a
  subset, as Kubernetes' ``RepackSubsets`` does, sorted so that an unchanged
  world writes nothing.
- Services without a selector are left alone (their Endpoints are the
  user's); when a Service goes away its Endpoints are deleted.
- The Endpoints carry the Service's labels, plus ``service.kubernetes.io/headless``
  for headless Services as in Kubernetes. (There is no ``managed-by`` label
  on Endpoints in Kubernetes; only EndpointSlices have one.)

Pod changes map to the Services in the pod's namespace whose selector
matches the pod before or after the change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sandbox.api.errors import AlreadyExists, NotFound
from sandbox.api.objects import condition_is, is_being_deleted, labels, meta
from sandbox.api.selectors import LabelSelector
from sandbox.runtime import (
    Controller,
    EnqueueRequestsFromMapFunc,
    Manager,
    Request,
    Result,
    get_logger,
)

__all__ = ["HEADLESS_LABEL", "build_subsets", "controller"]

log = get_logger(__name__)

HEADLESS_LABEL = "service.kubernetes.io/headless"

Obj = dict[str, Any]


def _resolve_port(pod: Mapping[str, Any], target: Any, protocol: str) -> int | None:
    """The pod's port for a Service ``targetPort`` (a number, or a container port's name)."""
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    for container in (pod.get("spec") or {}).get("containers") or ():
        for port in container.get("ports") or ():
            if port.get("name") == target and (port.get("protocol") or "TCP") == protocol:
                return int(port["containerPort"])
    return None


def _address(pod: Mapping[str, Any], service_name: str) -> Obj:
    m = meta(pod)
    spec = pod.get("spec") or {}
    address: Obj = {
        "ip": (pod.get("status") or {}).get("podIP"),
        "targetRef": {
            "kind": "Pod",
            "namespace": m.get("namespace", ""),
            "name": m.get("name", ""),
            "uid": m.get("uid", ""),
        },
    }
    if spec.get("nodeName"):
        address["nodeName"] = spec["nodeName"]
    if spec.get("hostname") and spec.get("subdomain") == service_name:
        address["hostname"] = spec["hostname"]
    return address


def _should_list(pod: Mapping[str, Any], *, publish_not_ready: bool) -> bool:
    status = pod.get("status") or {}
    if not status.get("podIP") or status.get("phase") in ("Succeeded", "Failed"):
        return False
    return publish_not_ready or not is_being_deleted(pod)


def build_subsets(service: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]) -> list[Obj]:
    """The ``subsets`` of a Service's Endpoints for these (already selected) pods."""
    spec = service.get("spec") or {}
    name = meta(service).get("name", "")
    publish = bool(spec.get("publishNotReadyAddresses"))
    # Resolved port set -> (ready addresses, not-ready addresses).
    groups: dict[tuple[tuple[str, int, str, str], ...], tuple[list[Obj], list[Obj]]] = {}
    for pod in pods:
        if not _should_list(pod, publish_not_ready=publish):
            continue
        ports: list[tuple[str, int, str, str]] = []
        for port in spec.get("ports") or ():
            protocol = port.get("protocol") or "TCP"
            number = _resolve_port(pod, port.get("targetPort", port.get("port")), protocol)
            if number is None:
                log.debug(
                    "pod %s has no port %r for service %s",
                    meta(pod).get("name"),
                    port.get("targetPort"),
                    name,
                )
                continue
            ports.append((port.get("name") or "", number, protocol, port.get("appProtocol") or ""))
        if spec.get("ports") and not ports:
            continue
        ready = publish or condition_is(pod, "Ready")
        ready_list, not_ready_list = groups.setdefault(tuple(sorted(ports)), ([], []))
        (ready_list if ready else not_ready_list).append(_address(pod, name))
    subsets: list[Obj] = []
    for port_set in sorted(groups):
        ready_list, not_ready_list = groups[port_set]
        subset: Obj = {}
        if ready_list:
            subset["addresses"] = sorted(ready_list, key=_address_key)
        if not_ready_list:
            subset["notReadyAddresses"] = sorted(not_ready_list, key=_address_key)
        if port_set:
            subset["ports"] = [_endpoint_port(*p) for p in port_set]
        subsets.append(subset)
    return subsets


def _address_key(address: Mapping[str, Any]) -> tuple[str, str]:
    return (address.get("ip") or "", address["targetRef"]["name"])


def _endpoint_port(name: str, port: int, protocol: str, app_protocol: str) -> Obj:
    out: Obj = {"port": port, "protocol": protocol}
    if name:
        out["name"] = name
    if app_protocol:
        out["appProtocol"] = app_protocol
    return out


def _selects(service: Mapping[str, Any], pod: Mapping[str, Any]) -> bool:
    selector = (service.get("spec") or {}).get("selector")
    return bool(selector) and LabelSelector.from_labels(selector).matches(labels(pod))


class EndpointsReconciler:
    def __init__(self, manager: Manager) -> None:
        self.client = manager.client
        self.services = manager.informer("v1", "Service")
        self.pods = manager.informer("v1", "Pod")
        self.endpoints = manager.informer("v1", "Endpoints")

    def services_for_pod(self, pod: Mapping[str, Any]) -> list[Request]:
        namespace = meta(pod).get("namespace", "")
        return [
            Request("v1", "Service", namespace, meta(svc)["name"])
            for svc in self.services.list(namespace, copy=False)
            if _selects(svc, pod)
        ]

    async def reconcile(self, request: Request) -> Result | None:
        namespace, name = request.namespace, request.name
        service = self.services.get(namespace, name, copy=False)
        existing = self.endpoints.get(namespace, name)
        if service is None or is_being_deleted(service):
            if existing is not None and service is None:
                try:
                    await self.client.delete("v1", "Endpoints", name, namespace=namespace)
                except NotFound:
                    pass
            return None
        selector = (service.get("spec") or {}).get("selector")
        if not selector:
            return None  # Endpoints of a selector-less Service are the user's
        pods = self.pods.list(namespace, label_selector=LabelSelector.from_labels(selector),
                              copy=False)
        subsets = build_subsets(service, pods)
        wanted_labels = dict(labels(service))
        if (service.get("spec") or {}).get("clusterIP") == "None":
            wanted_labels[HEADLESS_LABEL] = ""
        else:
            wanted_labels.pop(HEADLESS_LABEL, None)
        if existing is None:
            body: Obj = {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"name": name, "namespace": namespace, "labels": wanted_labels},
                "subsets": subsets,
            }
            try:
                await self.client.create(body)
            except AlreadyExists:
                # The cache lags behind the server: update on the next pass.
                return Result(requeue=True)
            return None
        if (existing.get("subsets") or []) == subsets and labels(existing) == wanted_labels:
            return None
        existing["subsets"] = subsets
        existing["metadata"]["labels"] = wanted_labels
        await self.client.replace(existing)
        return None


def controller(manager: Manager) -> Controller:
    """The endpoints controller (``endpoint-controller`` in kube-controller-manager)."""
    reconciler = EndpointsReconciler(manager)
    service_request = EnqueueRequestsFromMapFunc(
        lambda ep: (Request("v1", "Service", meta(ep).get("namespace", ""), meta(ep)["name"]),)
    )
    return Controller(
        "endpoints",
        for_=("v1", "Service"),
        reconciler=reconciler,
        watches=[
            ("v1", "Pod", EnqueueRequestsFromMapFunc(reconciler.services_for_pod)),
            ("v1", "Endpoints", service_request),
        ],
    )
