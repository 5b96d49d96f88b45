"""The client protocol: the one door to a cluster (DESIGN.md principle 2).

Controllers, the SDK, the CLI, scenarios and the dashboard talk to a cluster
only through :class:`Client`. The in-memory client (over the store) and the
real-cluster client (over Kubernetes REST) implement it and pass the same
contract tests, so nothing above this layer knows which backend it runs on.

Conventions (lightkube/kr8s style, but with plain dict objects):

- a kind is named by ``api_version, kind`` positionally (``"apps/v1",
  "Deployment"``); everything else is keyword-only;
- objects are plain dicts and are never shared: what you pass in is not kept,
  what you get back is yours to mutate;
- failures raise :mod:`sandbox.api.errors` (``NotFound``, ``Conflict``,
  ``Invalid`` ...), the same classes on every backend;
- nothing here is something only the in-memory case could offer (no direct
  store access, no synchronous shortcuts).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = [
    "Client",
    "PatchType",
    "Predicate",
    "PropagationPolicy",
    "WatchEvent",
    "WatchEventType",
]

PatchType = Literal["json", "merge", "strategic", "apply"]
"""``json`` (RFC 6902), ``merge`` (RFC 7386), ``strategic`` (built-in kinds
only, like Kubernetes) and ``apply`` (server-side apply)."""

PropagationPolicy = Literal["Background", "Foreground", "Orphan"]

WatchEventType = Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]

Predicate = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True)
class WatchEvent:
    """One watch event: the type and the object (for BOOKMARK only its
    ``metadata.resourceVersion`` is meaningful; for ERROR it is a Status)."""

    type: WatchEventType
    object: dict[str, Any]

    @property
    def resource_version(self) -> str:
        return (self.object.get("metadata") or {}).get("resourceVersion", "")


@runtime_checkable
class Client(Protocol):
    """An async client of one cluster."""

    async def get(
        self, api_version: str, kind: str, name: str, *, namespace: str | None = None
    ) -> dict[str, Any]:
        """One object, or ``NotFound``."""
        ...

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
        """A ``<Kind>List`` with ``items`` and ``metadata.resourceVersion``
        (and ``metadata.continue`` when ``limit`` cut it short).
        ``namespace=None`` lists across all namespaces. ``label_selector``
        is a selector string or a ``{matchLabels, matchExpressions}`` dict."""
        ...

    def watch(
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
        """Events after ``resource_version``; from ``None``/``"0"`` first a
        synthetic ADDED per current object. A version older than the server's
        history raises ``Gone`` (410) so callers relist.

        ``shared_objects=True`` promises that the caller never changes the
        events' objects (an informer's cache): a client may then hand out
        objects it shares with others instead of a copy per event, as the
        in-memory client does."""
        ...

    async def create(
        self,
        obj: Mapping[str, Any],
        *,
        namespace: str | None = None,
        dry_run: bool = False,
        field_manager: str | None = None,
        brief: bool = False,
    ) -> dict[str, Any]:
        """Create an object; the stored object comes back. ``brief=True`` (also
        on :meth:`patch` and :meth:`replace_status`) says the caller needs no
        more than the written version's identity — ``apiVersion``, ``kind``,
        ``metadata`` name, namespace, uid, resourceVersion, generation — so a
        client may return just that (the in-memory client does, sparing a copy
        of the whole object; over HTTP the whole object comes back anyway)."""
        ...

    async def replace(
        self,
        obj: Mapping[str, Any],
        *,
        subresource: str | None = None,
        dry_run: bool = False,
        field_manager: str | None = None,
    ) -> dict[str, Any]:
        """Update the whole object; a stale ``metadata.resourceVersion`` → Conflict.
        ``subresource`` writes through one (``"status"``, ``"finalize"`` of a
        Namespace — how its ``spec.finalizers`` change)."""
        ...

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
        """Patch one object. ``apply`` creates the object when it is missing."""
        ...

    async def replace_status(
        self, obj: Mapping[str, Any], *, field_manager: str | None = None, brief: bool = False
    ) -> dict[str, Any]:
        """Write ``status`` only (the status subresource)."""
        ...

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
    ) -> dict[str, Any]: ...

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
        """Delete; returns the object as it was deleted (or as it now waits
        on finalizers, with ``deletionTimestamp`` set)."""
        ...

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
        """A pod container's log."""
        ...

    def follow_logs(
        self,
        name: str,
        *,
        namespace: str,
        container: str | None = None,
        tail_lines: int | None = None,
        since_seconds: int | None = None,
        timestamps: bool = False,
    ) -> AsyncIterator[str]:
        """A pod container's log lines as they are written, until it ends."""
        ...

    async def wait_for(
        self,
        api_version: str,
        kind: str,
        name: str,
        *,
        namespace: str | None = None,
        condition: str | tuple[str, str] | None = None,
        predicate: Predicate | None = None,
        deleted: bool = False,
        timeout: float = 60.0,
    ) -> dict[str, Any]:
        """Wait until a condition holds (``"Ready"`` means status ``True``;
        ``("Ready", "False")`` names the status), a predicate is true, or the
        object is gone (``deleted=True``). On timeout raises ``WaitTimeout``
        whose message shows the object's conditions and recent events."""
        ...

    async def close(self) -> None: ...
