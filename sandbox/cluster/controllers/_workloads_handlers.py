"""Watch handlers for workload children: enqueue the owner, count expectations.

A workload controller watches its children (pods of a ReplicaSet, ReplicaSets
of a Deployment) and must look again whenever one changes. Like Kubernetes'
``addPod``/``updatePod``/``deletePod`` handlers, :class:`ChildEventHandler`:

- enqueues the child's controller owner of the workload kind;
- for an orphan (no controller reference), enqueues every workload whose
  selector matches it, so one of them adopts it;
- when a child's labels or controller reference change, also enqueues the
  owner it had, which may have to replace it;
- tells the owner's :class:`~._workloads_expectations.Expectations` that a
  creation or deletion it was waiting for arrived (a child seen with a
  ``deletionTimestamp`` already counts as deleted).

Periodic resyncs (same resourceVersion) are ignored for children, as in
Kubernetes: the workload's own resync covers them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sandbox.api.objects import controller_of, is_being_deleted, labels, meta, split_api_version
from sandbox.runtime import Request, SharedInformer, WorkQueue

from ._workloads import selector_of
from ._workloads_expectations import Expectations

__all__ = ["ChildEventHandler", "owners_selecting"]


def owners_selecting(informer: SharedInformer) -> Callable[[Mapping[str, Any]], Iterable[Request]]:
    """Orphan mapper: the workloads in the child's namespace whose selector matches it."""

    def owners(child: Mapping[str, Any]) -> list[Request]:
        namespace = meta(child).get("namespace") or ""
        child_labels = labels(child)
        found = []
        for owner in informer.list(namespace, copy=False):
            selector = (owner.get("spec") or {}).get("selector")
            if selector and selector_of(owner).matches(child_labels):
                found.append(
                    Request(informer.api_version, informer.kind, namespace, meta(owner)["name"])
                )
        return found

    return owners


class ChildEventHandler:
    """Maps changes of a child kind to requests for its workload owners."""

    def __init__(
        self,
        owner_api_version: str,
        owner_kind: str,
        *,
        orphan_owners: Callable[[Mapping[str, Any]], Iterable[Request]],
        expectations: Expectations | None = None,
    ) -> None:
        self.owner_api_version = owner_api_version
        self.owner_kind = owner_kind
        self._group = split_api_version(owner_api_version)[0]
        self._orphan_owners = orphan_owners
        self._expectations = expectations

    def _owner(self, child: Mapping[str, Any]) -> Request | None:
        ref = controller_of(child)
        if ref is None or ref.get("kind") != self.owner_kind:
            return None
        if split_api_version(ref.get("apiVersion", ""))[0] != self._group:
            return None
        return Request(
            self.owner_api_version, self.owner_kind, meta(child).get("namespace") or "", ref["name"]
        )

    def on_add(self, obj: Mapping[str, Any], *, queue: WorkQueue[Request]) -> None:
        if is_being_deleted(obj):
            self.on_delete(obj, queue=queue)
            return
        owner = self._owner(obj)
        if owner is not None:
            if self._expectations is not None:
                self._expectations.creation_observed(str(owner))
            queue.add(owner)
            return
        if controller_of(obj) is None:
            for request in self._orphan_owners(obj):
                queue.add(request)

    def on_update(
        self, old: Mapping[str, Any], new: Mapping[str, Any], *, queue: WorkQueue[Request]
    ) -> None:
        if meta(old).get("resourceVersion") == meta(new).get("resourceVersion"):
            return
        labels_changed = labels(old) != labels(new)
        if is_being_deleted(new):
            self.on_delete(new, queue=queue)
            if labels_changed:
                self.on_delete(old, queue=queue)
            return
        old_owner, new_owner = self._owner(old), self._owner(new)
        ref_changed = controller_of(old) != controller_of(new)
        if ref_changed and old_owner is not None:
            queue.add(old_owner)
        if new_owner is not None:
            queue.add(new_owner)
            return
        if controller_of(new) is None and (labels_changed or ref_changed):
            for request in self._orphan_owners(new):
                queue.add(request)

    def on_delete(self, obj: Mapping[str, Any], *, queue: WorkQueue[Request]) -> None:
        owner = self._owner(obj)
        if owner is None:
            return
        if self._expectations is not None:
            child_meta = meta(obj)
            self._expectations.deletion_observed(
                str(owner), f"{child_meta.get('namespace') or ''}/{child_meta.get('name')}"
            )
        queue.add(owner)
