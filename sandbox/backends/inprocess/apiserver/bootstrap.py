"""What kube-apiserver and kube-controller-manager keep in place for RBAC.

- :func:`ensure_default_rbac` — the ``rbac/bootstrap-roles`` post-start hook:
  Kubernetes' default ClusterRoles and ClusterRoleBindings
  (:func:`sandbox.api.rbac.default_rbac_objects`) are created when missing;
  existing ones annotated ``rbac.authorization.kubernetes.io/autoupdate:
  "true"`` get missing rules (roles) or subjects (bindings) added back, as
  the hook's reconciliation does, and nothing removed.
- :class:`ClusterRoleAggregator` — the clusterrole-aggregation controller:
  whenever a ClusterRole changes, every ClusterRole with an
  ``aggregationRule`` gets the rules of the roles its selectors match
  (:func:`sandbox.api.rbac.aggregate_cluster_roles`), so a CRD author's
  ``aggregate-to-edit`` role extends ``edit`` as on a real cluster.

Both write through the store: they belong to the backend that assembles the
control plane, not to the cluster layer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from sandbox.api import rbac
from sandbox.api.errors import ApiError, NotFound
from sandbox.store import Store

__all__ = ["ClusterRoleAggregator", "aggregate_once", "ensure_default_rbac"]

log = logging.getLogger(__name__)

_RBAC = "rbac.authorization.k8s.io/v1"
_AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"
_MANAGER = "clusterrole-aggregation-controller"


def _missing(current: list[Any], wanted: list[Any]) -> list[Any]:
    return [item for item in wanted if item not in current]


def ensure_default_rbac(store: Store) -> int:
    """Create or top up the default RBAC objects; returns how many were written."""
    written = 0
    for obj in rbac.default_rbac_objects():
        kind = obj["kind"]
        name = obj["metadata"]["name"]
        try:
            current = store.get(_RBAC, kind, name)
        except NotFound:
            store.create(_RBAC, kind, obj, field_manager="kube-apiserver")
            written += 1
            continue
        annotations = current["metadata"].get("annotations") or {}
        if annotations.get(_AUTOUPDATE, "true") != "true":
            continue
        if kind == "ClusterRole":
            if "aggregationRule" in obj:
                continue  # the aggregator keeps these
            extra = _missing(current.get("rules") or [], obj.get("rules") or [])
            patch = {"rules": [*(current.get("rules") or []), *extra]} if extra else None
        else:
            extra = _missing(current.get("subjects") or [], obj.get("subjects") or [])
            patch = {"subjects": [*(current.get("subjects") or []), *extra]} if extra else None
        if patch is not None:
            store.patch(_RBAC, kind, name, patch, patch_type="merge",
                        field_manager="kube-apiserver")
            written += 1
    return written


def aggregate_once(store: Store) -> int:
    """Write the aggregated rules of every ClusterRole whose rules are stale; returns how many."""
    roles = store.list(_RBAC, "ClusterRole")["items"]
    written = 0
    for role in rbac.aggregate_cluster_roles(roles):
        if not isinstance(role.get("aggregationRule"), Mapping):
            continue
        name = role["metadata"]["name"]
        stored = next(r for r in roles if r["metadata"]["name"] == name)
        if list(role.get("rules") or []) == list(stored.get("rules") or []):
            continue
        try:
            store.patch(_RBAC, "ClusterRole", name, {"rules": list(role["rules"])},
                        patch_type="merge", field_manager=_MANAGER)
            written += 1
        except ApiError as err:  # deleted or changed meanwhile: the next event retries
            log.debug("aggregating ClusterRole %s: %s", name, err)
    return written


class ClusterRoleAggregator:
    """Keeps aggregated ClusterRoles current while it runs (a store watch)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        watcher = self.store.watch(_RBAC, "ClusterRole", resource_version=str(
            self.store.resource_version))
        aggregate_once(self.store)
        self._task = asyncio.create_task(self._run(watcher), name="clusterrole-aggregation")

    async def _run(self, watcher: Any) -> None:
        try:
            while True:
                changed = False
                while True:
                    try:
                        item = watcher.poll()
                    except StopAsyncIteration:
                        return
                    if item is None:
                        break
                    changed = True
                if changed:
                    aggregate_once(self.store)
                await watcher.wait()
        finally:
            watcher.close()

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
