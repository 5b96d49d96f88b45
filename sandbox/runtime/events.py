"""Recording core/v1 Events about objects, aggregated the way Kubernetes does.

Events are how a controller tells a user *why* an object is in its state
(DESIGN.md §1 principle 5): ``kubectl describe`` and the dashboard show them
next to the object. A controller that retries every few seconds must not
bury a namespace in identical events, so :func:`record_event` folds a repeat
into the existing Event (same involved object uid, type, reason, message and
source component) by bumping ``count`` and ``lastTimestamp``, like client-go's
event correlator. It finds the existing Event by asking the cluster (a field
selector on ``involvedObject.uid``, with a client-side filter for backends
that cannot select on it), so it keeps no state and any number of recorders
agree.

Names follow Kubernetes: ``<object name>.<hex>``. Events about
cluster-scoped objects live in the ``default`` namespace, as in Kubernetes.

Recording is best effort from the caller's point of view: it raises on API
errors, and :class:`EventRecorder` (what controllers hold) logs them instead,
because a failed Event must never fail a reconcile.
"""

from __future__ import annotations

import logging
import secrets
from collections import OrderedDict
from collections.abc import Mapping, MutableMapping
from typing import Any, Literal

from sandbox.api.errors import AlreadyExists, ApiError, BadRequest, NotFound
from sandbox.api.objects import meta
from sandbox.client.protocol import Client
from sandbox.clock import Clock, SystemClock, format_time

__all__ = ["EventRecorder", "EventType", "record_event"]

log = logging.getLogger(__name__)

EventType = Literal["Normal", "Warning"]


def _involved(obj: Mapping[str, Any]) -> dict[str, Any]:
    m = meta(obj)
    ref: dict[str, Any] = {
        "apiVersion": obj.get("apiVersion", ""),
        "kind": obj.get("kind", ""),
        "name": m.get("name", ""),
        "uid": m.get("uid", ""),
    }
    if m.get("namespace"):
        ref["namespace"] = m["namespace"]
    if m.get("resourceVersion"):
        ref["resourceVersion"] = m["resourceVersion"]
    return ref


def _same(event: Mapping[str, Any], involved: Mapping[str, Any], key: tuple[str, ...]) -> bool:
    return (
        (event.get("involvedObject") or {}).get("uid") == involved["uid"]
        and (event.get("involvedObject") or {}).get("name") == involved["name"]
        and (event.get("type"), event.get("reason"), event.get("message")) == key[:3]
        and (event.get("source") or {}).get("component", "") == key[3]
    )


async def _find(
    client: Client, namespace: str, involved: Mapping[str, Any], key: tuple[str, ...]
) -> dict[str, Any] | None:
    try:
        listed = await client.list(
            "v1",
            "Event",
            namespace=namespace,
            field_selector=f"involvedObject.uid={involved['uid']}",
        )
    except BadRequest:
        listed = await client.list("v1", "Event", namespace=namespace)
    for event in listed.get("items") or ():
        if _same(event, involved, key):
            return event
    return None


async def record_event(
    client: Client,
    obj: Mapping[str, Any],
    *,
    type: EventType,
    reason: str,
    message: str,
    component: str,
    clock: Clock | None = None,
    seen: MutableMapping[tuple[str, ...], tuple[str, int]] | None = None,
) -> dict[str, Any]:
    """Record an Event about ``obj`` (or count a repeat of an identical one); returns it.

    ``seen`` is a recorder's own memory of the events it wrote (key → name,
    count), like client-go's event correlator: with it a repeat is a single
    patch and a new event a single create, with no list of the namespace's
    events — which matters when a scheduler records ten thousand of them.
    """
    clock = clock or SystemClock()
    now = format_time(clock.now())
    involved = _involved(obj)
    namespace = involved.get("namespace") or "default"
    key = (type, reason, message, component)
    memo_key = (namespace, involved["uid"], involved["name"], *key)
    existing: tuple[str, int] | None = None
    if seen is not None:
        existing = seen.get(memo_key)
    elif involved["uid"]:
        found = await _find(client, namespace, involved, key)
        if found is not None:
            existing = (meta(found)["name"], int(found.get("count") or 1))
    if existing is not None:
        name, count = existing
        try:
            patched = await client.patch(
                "v1", "Event", name, {"count": count + 1, "lastTimestamp": now},
                namespace=namespace,
            )
        except NotFound:
            pass  # deleted (expired) meanwhile: start a new one
        else:
            if seen is not None:
                seen[memo_key] = (name, count + 1)
            return patched
    event: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "", "namespace": namespace},
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "type": type,
        "source": {"component": component},
        "reportingComponent": component,
        "reportingInstance": "",
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }
    for _ in range(3):
        event["metadata"]["name"] = f"{involved['name']}.{secrets.token_hex(8)}"
        try:
            created = await client.create(event, namespace=namespace)
        except AlreadyExists:
            continue
        if seen is not None:
            seen[memo_key] = (event["metadata"]["name"], 1)
        return created
    raise AlreadyExists(f"could not find a free name for an event about {involved['name']!r}")


class _LRU(OrderedDict[tuple[str, ...], tuple[str, int]]):
    """The recorder's memory of its events, bounded (oldest forgotten first)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def get(self, key: tuple[str, ...], default: Any = None) -> Any:
        if key in self:
            self.move_to_end(key)
        return super().get(key, default)

    def __setitem__(self, key: tuple[str, ...], value: tuple[str, int]) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


class EventRecorder:
    """Records events as one component; logs failures instead of raising them."""

    def __init__(
        self, client: Client, *, component: str, clock: Clock | None = None, memory: int = 4096
    ) -> None:
        self.client = client
        self.component = component
        self.clock: Clock = clock or SystemClock()
        self._seen: _LRU = _LRU(memory)

    async def event(
        self, obj: Mapping[str, Any], *, type: EventType, reason: str, message: str
    ) -> dict[str, Any] | None:
        """Record an event about ``obj``; ``None`` if the API refused it (logged)."""
        try:
            return await record_event(
                self.client,
                obj,
                type=type,
                reason=reason,
                message=message,
                component=self.component,
                clock=self.clock,
                seen=self._seen,
            )
        except ApiError as exc:
            log.warning(
                "could not record %s event %s on %s %s: %s",
                type,
                reason,
                obj.get("kind"),
                meta(obj).get("name"),
                exc,
            )
            return None

    async def warning(self, obj: Mapping[str, Any], *, reason: str, message: str) -> None:
        await self.event(obj, type="Warning", reason=reason, message=message)

    async def normal(self, obj: Mapping[str, Any], *, reason: str, message: str) -> None:
        await self.event(obj, type="Normal", reason=reason, message=message)
