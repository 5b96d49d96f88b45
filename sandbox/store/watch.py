"""Watches: ordered change streams with selectors, history and bookmarks.

Every write the store acknowledges becomes one :class:`Change` (resource,
type, object, old object) appended to a bounded history and offered to each
live :class:`Watcher` of that resource. A watcher filters by namespace and
selectors the way Kubernetes' watch cache does: an update that moves an
object *into* the selection arrives as ADDED, one that moves it *out* as
DELETED, so a client's cache stays exact.

Delivery is push: the store appends to the watcher's buffer under its lock
and wakes the consumer (thread-safely when the writer runs in another
thread); the consumer awaits :meth:`Watcher.next`. Stored objects are never
mutated after they are stored, so events share them; the client layer copies
before handing an object to user code.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Change", "Watcher"]


@dataclass(frozen=True, slots=True)
class Change:
    rv: int
    resource: str
    type: str  # ADDED | MODIFIED | DELETED
    object: Mapping[str, Any]
    old: Mapping[str, Any] | None


Matcher = Callable[[Mapping[str, Any]], bool]

_CLOSED = object()


class Watcher:
    """One consumer of one resource's changes (optionally one namespace)."""

    def __init__(
        self,
        *,
        resource: str,
        namespace: str | None,
        matches: Matcher | None,
        api_version: str,
        on_close: Callable[[Watcher], None],
    ) -> None:
        self.resource = resource
        self.namespace = namespace
        self.api_version = api_version
        self._matches = matches
        self._on_close = on_close
        self._buffer: deque[tuple[str, Mapping[str, Any]] | object] = deque()
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._wakeup = asyncio.Event()
        self.last_rv = 0
        self.closed = False

    # Producer side (called by the store under its lock) --------------------

    def _selected(self, obj: Mapping[str, Any] | None) -> bool:
        if obj is None:
            return False
        if (
            self.namespace is not None
            and (obj.get("metadata") or {}).get("namespace", "") != self.namespace
        ):
            return False
        return self._matches is None or self._matches(obj)

    def offer(self, change: Change) -> None:
        if self.closed:
            return
        now_in = self._selected(change.object)
        if change.type == "MODIFIED":
            was_in = self._selected(change.old)
            if now_in and not was_in:
                self._push("ADDED", change.object)
            elif was_in and not now_in:
                self._push("DELETED", change.object)
            elif now_in:
                self._push("MODIFIED", change.object)
        elif now_in:
            self._push(change.type, change.object)
        self.last_rv = change.rv

    def push_initial(self, objects: list[Mapping[str, Any]], rv: int) -> None:
        for obj in objects:
            if self._selected(obj):
                self._buffer.append(("ADDED", obj))
        self.last_rv = rv
        self._wake()

    def replay(self, changes: list[Change]) -> None:
        for change in changes:
            self.offer(change)

    def _push(self, type_: str, obj: Mapping[str, Any]) -> None:
        self._buffer.append((type_, obj))
        self._wake()

    def _wake(self) -> None:
        if self._wakeup.is_set():
            return
        if threading.get_ident() == self._thread:
            self._wakeup.set()
        else:
            self._loop.call_soon_threadsafe(self._wakeup.set)

    # Consumer side -----------------------------------------------------------

    def pending(self) -> int:
        return len(self._buffer)

    def poll(self) -> tuple[str, Mapping[str, Any]] | None:
        """The next buffered event, or None; raises StopAsyncIteration once closed."""
        if self._buffer:
            item = self._buffer.popleft()
            if item is _CLOSED:
                raise StopAsyncIteration
            return item  # type: ignore[return-value]
        if self.closed:
            raise StopAsyncIteration
        self._wakeup.clear()
        return None

    async def wait(self) -> None:
        """Block until something is buffered or the watcher is closed."""
        await self._wakeup.wait()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._buffer.append(_CLOSED)
        self._wake()
        self._on_close(self)
