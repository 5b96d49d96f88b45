"""root-ca-cert-publisher: a ``kube-root-ca.crt`` ConfigMap in every namespace.

kube-controller-manager's root CA publisher keeps, in each namespace, a
ConfigMap ``kube-root-ca.crt`` whose ``ca.crt`` key holds the CA bundle that
verifies the API server, with the annotation ``kubernetes.io/description``
saying so. Every pod's ``kube-api-access-`` volume projects that key to
``/var/run/secrets/kubernetes.io/serviceaccount/ca.crt``. Data flow::

    Namespace added/updated ─┐
    kube-root-ca.crt changed ├─► Request(namespace) ─► create or repair the ConfigMap
    CA bundle changed ───────┘   (every namespace)       (data and annotation exactly)

Like Kubernetes' publisher, which listens on a dynamic CA provider and
re-queues every namespace when the bundle changes, this one reads the bundle
from a :class:`CABundle` on every sync. In the sandbox that is the cluster's
:class:`~sandbox.cluster.apiendpoint.ApiEndpoint`: the CA is known only once
an API server has started (after the controllers), so until then there is
nothing to publish and namespaces are left alone. A user's edit to the
ConfigMap is reverted; a deleted one is recreated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sandbox.api.errors import AlreadyExists, Forbidden, NotFound
from sandbox.api.objects import annotations, is_being_deleted, meta
from sandbox.runtime import Controller, EnqueueRequestsFromMapFunc, Manager, Request, Result

__all__ = ["CONFIG_MAP_NAME", "DESCRIPTION", "DESCRIPTION_ANNOTATION", "CABundle", "controller"]

CONFIG_MAP_NAME = "kube-root-ca.crt"
DESCRIPTION_ANNOTATION = "kubernetes.io/description"
DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
    "guaranteed across distributions of Kubernetes clusters."
)


class CABundle(Protocol):
    """A CA bundle that may change (Kubernetes' ``CAContentProvider``)."""

    @property
    def ca_crt(self) -> bytes: ...

    def add_listener(self, listener: Callable[[], None]) -> None: ...


def _namespace_of(config_map: Mapping[str, Any]) -> list[Request]:
    m = meta(config_map)
    if m.get("name") != CONFIG_MAP_NAME:
        return []
    return [Request("v1", "Namespace", "", m.get("namespace", ""))]


class RootCAPublisher:
    def __init__(self, manager: Manager, *, ca: CABundle) -> None:
        self.client = manager.client
        self.ca = ca
        self.namespaces = manager.informer("v1", "Namespace")
        self.config_maps = manager.informer("v1", "ConfigMap")

    async def reconcile(self, request: Request) -> Result | None:
        bundle = self.ca.ca_crt
        namespace = self.namespaces.get("", request.name, copy=False)
        if not bundle or namespace is None or is_being_deleted(namespace):
            return None
        data = {"ca.crt": bundle.decode()}
        current = self.config_maps.get(request.name, CONFIG_MAP_NAME)
        if current is None:
            body = {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": CONFIG_MAP_NAME,
                    "namespace": request.name,
                    "annotations": {DESCRIPTION_ANNOTATION: DESCRIPTION},
                },
                "data": data,
            }
            try:
                await self.client.create(body)
            except AlreadyExists:
                return Result(requeue=True)  # our cache is behind: look again
            except (NotFound, Forbidden):
                pass  # the namespace is gone or terminating: nothing to publish
            return None
        if current.get("data") == data and annotations(current).get(DESCRIPTION_ANNOTATION):
            return None
        current["data"] = data
        current["metadata"].setdefault("annotations", {})[DESCRIPTION_ANNOTATION] = DESCRIPTION
        current.pop("binaryData", None)
        await self.client.replace(current)
        return None


def controller(manager: Manager, *, ca: CABundle) -> Controller:
    """The publisher; every change of ``ca`` re-queues every namespace."""
    built = Controller(
        "root-ca-cert-publisher",
        for_=("v1", "Namespace"),
        reconciler=RootCAPublisher(manager, ca=ca),
        watches=[("v1", "ConfigMap", EnqueueRequestsFromMapFunc(_namespace_of))],
    )
    namespaces = manager.informer("v1", "Namespace")

    def requeue_all() -> None:
        if not namespaces.has_synced():
            return  # the first list enqueues every namespace anyway
        for namespace in namespaces.list(copy=False):
            built.queue.add(Request("v1", "Namespace", "", meta(namespace)["name"]))

    ca.add_listener(requeue_all)
    return built
