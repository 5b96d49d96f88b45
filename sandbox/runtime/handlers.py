"""Event handlers: which requests a change to a watched object should enqueue.

A controller watches more than its primary kind (its children, things it
refers to), but it only ever reconciles requests. A handler is the mapping
from a changed object to those requests, shaped like controller-runtime's
``pkg/handler``:

- :class:`EnqueueRequestForObject`: the object itself (the primary kind);
- :class:`EnqueueRequestForOwner`: the owner named in the object's
  ``ownerReferences`` (a child changed, so its parent must look again);
- :class:`EnqueueRequestsFromMapFunc`: whatever a function says (an object
  that refers to another by name, a cluster-wide setting that affects many).

Handlers run inside the informer's task on the cached (shared, read-only)
object, so they only read and enqueue. On an update the owner and map-func
handlers enqueue for the old and the new object, because a change may have
moved the object away from its previous owner or mapping, which must then
notice it lost something.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from sandbox.api.objects import meta, split_api_version
from sandbox.runtime.reconcile import Request
from sandbox.runtime.workqueue import WorkQueue

__all__ = [
    "EnqueueRequestForObject",
    "EnqueueRequestForOwner",
    "EnqueueRequestsFromMapFunc",
    "EventHandler",
    "MapFunc",
    "request_for",
]

MapFunc = Callable[[Mapping[str, Any]], Iterable[Request]]


def request_for(obj: Mapping[str, Any]) -> Request:
    """The request naming ``obj`` itself."""
    m = meta(obj)
    return Request(
        obj.get("apiVersion", ""), obj.get("kind", ""), m.get("namespace") or "", m.get("name", "")
    )


class EventHandler(Protocol):
    """Turns informer callbacks into keys on a controller's queue."""

    def on_add(self, obj: Mapping[str, Any], *, queue: WorkQueue[Request]) -> None: ...

    def on_update(
        self, old: Mapping[str, Any], new: Mapping[str, Any], *, queue: WorkQueue[Request]
    ) -> None: ...

    def on_delete(self, obj: Mapping[str, Any], *, queue: WorkQueue[Request]) -> None: ...


class _MappingHandler:
    """A handler defined by one function from an object to requests."""

    #: Whether an update enqueues the old object's requests as well as the new one's.
    both_on_update = True

    def requests(self, obj: Mapping[str, Any]) -> Iterable[Request]:
        raise NotImplementedError

    def on_add(self, obj: Mapping[str, Any], *, queue: WorkQueue[Request]) -> None:
        for request in self.requests(obj):
            queue.add(request)

    def on_update(
        self, old: Mapping[str, Any], new: Mapping[str, Any], *, queue: WorkQueue[Request]
    ) -> None:
        if self.both_on_update:
            for request in self.requests(old):
                queue.add(request)
        for request in self.requests(new):
            queue.add(request)

    def on_delete(self, obj: Mapping[str, Any], *, queue: WorkQueue[Request]) -> None:
        for request in self.requests(obj):
            queue.add(request)


class EnqueueRequestForObject(_MappingHandler):
    """Enqueue the changed object itself (its own apiVersion and kind)."""

    both_on_update = False

    def requests(self, obj: Mapping[str, Any]) -> Iterable[Request]:
        return (request_for(obj),)

    def __repr__(self) -> str:
        return "EnqueueRequestForObject()"


class EnqueueRequestForOwner(_MappingHandler):
    """Enqueue the object's owner of the given kind.

    An owner reference matches when its kind equals ``owner_kind`` and its
    apiVersion's group equals ``owner_api_version``'s (versions may differ:
    Kubernetes stores one object whatever version names it). The request
    carries ``owner_api_version``, the version the controller reconciles.
    By default only the *controller* reference counts (``controller: true``),
    as for a controller's ``owns`` list.

    Owners live in the object's namespace; pass ``namespaced=False`` for a
    cluster-scoped owner kind (Kubernetes forbids the other way round).
    """

    def __init__(
        self,
        owner_api_version: str,
        owner_kind: str,
        *,
        only_controller: bool = True,
        namespaced: bool = True,
    ) -> None:
        self.owner_api_version = owner_api_version
        self.owner_kind = owner_kind
        self.only_controller = only_controller
        self.namespaced = namespaced
        self._group = split_api_version(owner_api_version)[0]

    def requests(self, obj: Mapping[str, Any]) -> Iterable[Request]:
        m = meta(obj)
        namespace = (m.get("namespace") or "") if self.namespaced else ""
        found: list[Request] = []
        for ref in m.get("ownerReferences") or ():
            if self.only_controller and not ref.get("controller"):
                continue
            if ref.get("kind") != self.owner_kind:
                continue
            if split_api_version(ref.get("apiVersion", ""))[0] != self._group:
                continue
            found.append(Request(self.owner_api_version, self.owner_kind, namespace, ref["name"]))
        return found

    def __repr__(self) -> str:
        return f"EnqueueRequestForOwner({self.owner_api_version!r}, {self.owner_kind!r})"


class EnqueueRequestsFromMapFunc(_MappingHandler):
    """Enqueue whatever ``func`` maps the changed object to."""

    def __init__(self, func: MapFunc) -> None:
        self.func = func

    def requests(self, obj: Mapping[str, Any]) -> Iterable[Request]:
        return self.func(obj)

    def __repr__(self) -> str:
        return f"EnqueueRequestsFromMapFunc({self.func!r})"
