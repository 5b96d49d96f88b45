"""The in-memory client: the client protocol over a :class:`~sandbox.store.Store`.

This is how controllers, scenarios and tests reach the in-process cluster
without HTTP. It adds nothing the real-cluster client could not offer: every
call goes through the store's admission, versions and watches, and every
object crossing the boundary is copied (what you pass in is not kept, what
you get back is yours).

Pod logs are not the store's business: the cluster's kubelet provides them
through a :class:`LogSource` handed to the client when the cluster is
assembled. Without one, ``logs`` says so plainly. Logs outlive their pod
(DESIGN.md §1.5): for a deleted pod, the log source's kept files answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

from sandbox.api.errors import BadRequest, NotFound
from sandbox.api.objects import deep_copy, fast_copy
from sandbox.client.protocol import PatchType, PropagationPolicy, WatchEvent
from sandbox.client.waiting import WaitMixin
from sandbox.clock import Clock
from sandbox.store import Store

__all__ = ["LogSource", "MemoryClient"]


class LogSource(Protocol):
    """Where pod logs come from (the kubelet, in the in-process cluster)."""

    async def read(
        self,
        namespace: str,
        pod: dict[str, Any],
        *,
        container: str | None,
        previous: bool,
        tail_lines: int | None,
        since_seconds: int | None,
        timestamps: bool,
    ) -> str: ...

    def last_pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The latest pod of that name with logs kept, after the pod itself is gone."""
        ...

    def follow(
        self,
        namespace: str,
        pod: dict[str, Any],
        *,
        container: str | None,
        tail_lines: int | None,
        since_seconds: int | None,
        timestamps: bool,
    ) -> AsyncIterator[str]: ...


def _api_version_kind(obj: Mapping[str, Any]) -> tuple[str, str]:
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not api_version or not kind:
        raise BadRequest("Object 'Kind' is missing in the request body" if not kind
                         else "Object 'apiVersion' is missing in the request body")
    return str(api_version), str(kind)


class MemoryClient(WaitMixin):
    """The client protocol over an in-process store."""

    def __init__(
        self,
        store: Store,
        *,
        field_manager: str = "sandbox",
        logs: LogSource | None = None,
        clock: Clock | None = None,
        bookmark_interval: float = 60.0,
        default_namespace: str = "default",
    ) -> None:
        self.store = store
        self.field_manager = field_manager
        self.log_source = logs
        self.clock = clock or store.clock
        self.bookmark_interval = bookmark_interval
        self.default_namespace = default_namespace

    def _namespace(self, api_version: str, kind: str, namespace: str | None) -> str | None:
        """A namespaced object named without a namespace lives in the default
        one, as with kubectl's context namespace."""
        if namespace:
            return namespace
        return self.default_namespace if self.store.registry.get(api_version, kind).namespaced else None

    async def get(
        self, api_version: str, kind: str, name: str, *, namespace: str | None = None
    ) -> dict[str, Any]:
        return self.store.get(
            api_version, kind, name, namespace=self._namespace(api_version, kind, namespace)
        )

    async def list(
        self,
        api_version: str,
        kind: str,
        *,
        namespace: str | None = None,
        label_selector: str | Mapping[str, Any] | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_: str | None = None,
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        return self.store.list(
            api_version, kind, namespace=namespace, label_selector=label_selector,
            field_selector=field_selector, limit=limit, continue_=continue_,
            resource_version=resource_version,
        )

    async def watch(
        self,
        api_version: str,
        kind: str,
        *,
        namespace: str | None = None,
        resource_version: str | None = None,
        label_selector: str | Mapping[str, Any] | None = None,
        field_selector: str | None = None,
        allow_bookmarks: bool = False,
        timeout_seconds: float | None = None,
        shared_objects: bool = False,
    ) -> AsyncIterator[WatchEvent]:
        """The store's watch; with ``shared_objects`` the events carry the store's own
        objects (never changed in place) instead of a copy each."""
        watcher = self.store.watch(
            api_version, kind, namespace=namespace, resource_version=resource_version,
            label_selector=label_selector, field_selector=field_selector,
        )
        rt = self.store.registry.get(api_version, kind)
        deadline = None if timeout_seconds is None else self.clock.monotonic() + timeout_seconds
        try:
            while True:
                try:
                    item = watcher.poll()
                except StopAsyncIteration:
                    # Closed by the server (store closed, CRD deleted): the
                    # stream ends, and a client restarts from its last version.
                    return
                if item is not None:
                    type_, obj = item
                    if shared_objects and obj.get("apiVersion") == rt.api_version:
                        out = obj
                    else:
                        out = fast_copy(obj)
                        out["apiVersion"] = rt.api_version
                    yield WatchEvent(type_, out)  # type: ignore[arg-type]
                    continue
                timers: list[float] = []
                if deadline is not None:
                    timers.append(deadline - self.clock.monotonic())
                if allow_bookmarks:
                    timers.append(self.bookmark_interval)
                if not timers:
                    await watcher.wait()
                    continue
                wait_for = min(timers)
                if wait_for <= 0:
                    return
                woke = asyncio.ensure_future(watcher.wait())
                timer = asyncio.ensure_future(self.clock.sleep(wait_for))
                try:
                    await asyncio.wait({woke, timer}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    woke.cancel()
                    timer.cancel()
                if watcher.pending():
                    continue
                if deadline is not None and self.clock.monotonic() >= deadline:
                    return
                if allow_bookmarks:
                    yield WatchEvent("BOOKMARK", {
                        "apiVersion": rt.api_version,
                        "kind": rt.kind,
                        "metadata": {"resourceVersion": str(watcher.last_rv)},
                    })
        finally:
            watcher.close()

    async def create(
        self,
        obj: Mapping[str, Any],
        *,
        namespace: str | None = None,
        dry_run: bool = False,
        field_manager: str | None = None,
        brief: bool = False,
    ) -> dict[str, Any]:
        api_version, kind = _api_version_kind(obj)
        if not namespace and not (obj.get("metadata") or {}).get("namespace"):
            namespace = self._namespace(api_version, kind, None)
        return self.store.create(
            api_version, kind, obj, namespace=namespace, dry_run=dry_run,
            field_manager=field_manager or self.field_manager, brief=brief,
        )

    async def replace(
        self,
        obj: Mapping[str, Any],
        *,
        subresource: str | None = None,
        dry_run: bool = False,
        field_manager: str | None = None,
    ) -> dict[str, Any]:
        api_version, kind = _api_version_kind(obj)
        return self.store.replace(
            api_version, kind, obj, subresource=subresource, dry_run=dry_run,
            namespace=(obj.get("metadata") or {}).get("namespace")
            or self._namespace(api_version, kind, None),
            field_manager=field_manager or self.field_manager,
        )

    async def patch(
        self,
        api_version: str,
        kind: str,
        name: str,
        patch: Any,
        *,
        namespace: str | None = None,
        patch_type: PatchType = "merge",
        field_manager: str | None = None,
        force: bool = False,
        dry_run: bool = False,
        brief: bool = False,
    ) -> dict[str, Any]:
        return self.store.patch(
            api_version, kind, name, deep_copy(patch),
            namespace=self._namespace(api_version, kind, namespace),
            patch_type=patch_type, field_manager=field_manager or self.field_manager,
            force=force, dry_run=dry_run, brief=brief,
        )

    async def replace_status(
        self, obj: Mapping[str, Any], *, field_manager: str | None = None, brief: bool = False
    ) -> dict[str, Any]:
        api_version, kind = _api_version_kind(obj)
        return self.store.replace(
            api_version, kind, obj, subresource="status",
            namespace=(obj.get("metadata") or {}).get("namespace")
            or self._namespace(api_version, kind, None),
            field_manager=field_manager or self.field_manager, brief=brief,
        )

    async def patch_status(
        self,
        api_version: str,
        kind: str,
        name: str,
        patch: Any,
        *,
        namespace: str | None = None,
        patch_type: PatchType = "merge",
        field_manager: str | None = None,
    ) -> dict[str, Any]:
        return self.store.patch(
            api_version, kind, name, deep_copy(patch),
            namespace=self._namespace(api_version, kind, namespace),
            patch_type=patch_type, subresource="status",
            field_manager=field_manager or self.field_manager,
        )

    async def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        *,
        namespace: str | None = None,
        propagation_policy: PropagationPolicy | None = None,
        grace_period_seconds: int | None = None,
        preconditions: Mapping[str, str] | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        return self.store.delete(
            api_version, kind, name, namespace=self._namespace(api_version, kind, namespace),
            propagation_policy=propagation_policy,
            grace_period_seconds=grace_period_seconds, preconditions=preconditions,
            dry_run=dry_run,
        )

    def _log_source(self) -> LogSource:
        if self.log_source is None:
            raise BadRequest("this cluster has no kubelet serving pod logs")
        return self.log_source

    def _pod_for_logs(self, name: str, namespace: str) -> dict[str, Any]:
        """The pod, or — once it is deleted — what its kept logs say of it."""
        try:
            return self.store.get("v1", "Pod", name, namespace=namespace)
        except NotFound:
            kept = self.log_source.last_pod(namespace, name) if self.log_source else None
            if kept is None:
                raise
            return kept

    async def logs(
        self,
        name: str,
        *,
        namespace: str,
        container: str | None = None,
        previous: bool = False,
        tail_lines: int | None = None,
        since_seconds: int | None = None,
        timestamps: bool = False,
    ) -> str:
        pod = self._pod_for_logs(name, namespace)
        return await self._log_source().read(
            namespace, pod, container=container, previous=previous, tail_lines=tail_lines,
            since_seconds=since_seconds, timestamps=timestamps,
        )

    async def follow_logs(
        self,
        name: str,
        *,
        namespace: str,
        container: str | None = None,
        tail_lines: int | None = None,
        since_seconds: int | None = None,
        timestamps: bool = False,
    ) -> AsyncIterator[str]:
        pod = self._pod_for_logs(name, namespace)
        async for line in self._log_source().follow(
            namespace, pod, container=container, tail_lines=tail_lines,
            since_seconds=since_seconds, timestamps=timestamps,
        ):
            yield line

    async def close(self) -> None:
        """Nothing to release: the store belongs to whoever assembled the cluster."""
