"""Watch streams: one JSON event per line, for as long as the client listens.

``GET <collection>?watch=true`` answers 200 at once and then streams
``{"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{…}}\\n`` lines
with chunked encoding, from a store :class:`~sandbox.store.Watcher`:

- ``resourceVersion`` absent, ``""`` or ``"0"``: ADDED for every current
  match first; ``N``: every change after ``N``; older than the store's
  history: one ERROR event carrying the 410 ``Expired`` Status, then the end
  (clients relist);
- label and field selectors and the namespace filter events, as the store's
  watcher applies them;
- ``allowWatchBookmarks``: a BOOKMARK (only ``metadata.resourceVersion``)
  after ``bookmark_interval`` seconds without events; with
  ``sendInitialEvents=true`` also one right after the initial events,
  annotated ``k8s.io/initial-events-end: "true"`` (watch-list);
- ``timeoutSeconds`` ends the stream after that long. A watch that did not
  ask is never ended by the server (kubectl's ``get -w`` would silently
  exit), except when the server stops;
- an ``as=Table`` watch gets each object as a one-row Table, the column
  definitions in the first event only, as kube-apiserver sends them.

Pending events are sent together in one chunk. The store watcher is closed
whatever ends the stream — timeout, client gone, server stopping — so no
watcher outlives its connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from sandbox.api.errors import BadRequest, Gone
from sandbox.api.kinds import ResourceType
from sandbox.backends.inprocess.apiserver.context import Call, ServerState
from sandbox.backends.inprocess.apiserver.negotiation import Output
from sandbox.backends.inprocess.apiserver.render import convert_object, include_object
from sandbox.backends.inprocess.apiserver.requestinfo import query_bool, query_int
from sandbox.backends.inprocess.apiserver.responses import dumps
from sandbox.store import Watcher

__all__ = ["WatchStream", "open_watch", "until_disconnected"]

_INITIAL_EVENTS_END = "k8s.io/initial-events-end"
_HEADERS = [(b"content-type", b"application/json"), (b"cache-control", b"no-cache, private")]


def open_watch(state: ServerState, call: Call, rt: ResourceType) -> WatchStream:
    """A stream for this watch request (a 410 becomes its one ERROR event)."""
    q = call.query
    field_selector = q.get("fieldSelector") or None
    if call.info.name:  # the legacy /watch/<resource>/<name> form
        by_name = f"metadata.name={call.info.name}"
        field_selector = f"{field_selector},{by_name}" if field_selector else by_name
    bookmarks = query_bool(q, "allowWatchBookmarks")
    initial_events = query_bool(q, "sendInitialEvents")
    if initial_events and (not bookmarks or q.get("resourceVersionMatch") != "NotOlderThan"):
        raise BadRequest(
            "sendInitialEvents requires allowWatchBookmarks=true and "
            'resourceVersionMatch="NotOlderThan"'
        )
    timeout = query_int(q, "timeoutSeconds")
    namespace = call.info.namespace if rt.namespaced and call.info.namespace else None
    error: Gone | None = None
    watcher: Watcher | None = None
    try:
        watcher = state.store.watch(
            rt.api_version, rt.kind, namespace=namespace,
            resource_version="" if initial_events else q.get("resourceVersion"),
            label_selector=q.get("labelSelector") or None, field_selector=field_selector,
        )
    except Gone as err:
        error = err
    return WatchStream(
        state, rt, call.output, watcher=watcher, error=error, include=include_object(call),
        timeout=float(timeout) if timeout and timeout > 0 else None, bookmarks=bookmarks,
        initial_events_end=initial_events,
    )


async def until_disconnected(receive: Any) -> None:
    """Return when the client has gone (the ASGI ``http.disconnect`` message)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


class WatchStream:
    """The ASGI answer of one watch request."""

    def __init__(
        self,
        state: ServerState,
        rt: ResourceType,
        output: Output,
        *,
        watcher: Watcher | None,
        error: Gone | None = None,
        include: str = "Metadata",
        timeout: float | None = None,
        bookmarks: bool = False,
        initial_events_end: bool = False,
    ) -> None:
        self.state = state
        self.rt = rt
        self.output = output
        self.watcher = watcher
        self.error = error
        self.include = include
        self.timeout = timeout
        self.bookmarks = bookmarks
        # Events before the end-of-initial-events bookmark (watch-list), or None.
        self._initial: int | None = watcher.pending() if watcher and initial_events_end else None
        self._columns_sent = False

    # Encoding ---------------------------------------------------------------------

    def _event(self, type_: str, obj: Mapping[str, Any]) -> bytes:
        if self.output.form == "object":
            if obj.get("apiVersion") != self.rt.api_version:
                obj = {**obj, "apiVersion": self.rt.api_version}
        else:
            obj = convert_object(self.state, self.output, self.rt, obj, include=self.include,
                                 columns=not self._columns_sent)
            self._columns_sent = True
        return dumps({"type": type_, "object": obj}) + b"\n"

    def _bookmark(self, *, initial_events_end: bool = False) -> bytes:
        assert self.watcher is not None
        meta: dict[str, Any] = {"resourceVersion": str(self.watcher.last_rv)}
        if initial_events_end:
            meta["annotations"] = {_INITIAL_EVENTS_END: "true"}
        obj: dict[str, Any] = {"kind": self.rt.kind, "apiVersion": self.rt.api_version,
                               "metadata": meta}
        return dumps({"type": "BOOKMARK", "object": obj}) + b"\n"

    def _drain(self) -> tuple[bytes, bool]:
        """Everything buffered, encoded; and whether the watcher has closed."""
        assert self.watcher is not None
        lines: list[bytes] = []
        closed = False
        while True:
            try:
                item = self.watcher.poll()
            except StopAsyncIteration:
                closed = True
                break
            if item is None:
                break
            lines.append(self._event(*item))
            if self._initial is not None:
                self._initial -= 1
                if self._initial <= 0:
                    lines.append(self._bookmark(initial_events_end=True))
                    self._initial = None
        if self._initial == 0:
            lines.append(self._bookmark(initial_events_end=True))
            self._initial = None
        return b"".join(lines), closed

    # Streaming -----------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        gone = asyncio.ensure_future(until_disconnected(receive))
        stopping = asyncio.ensure_future(self.state.shutdown.wait())
        try:
            await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
            if self.error is not None:
                body = dumps({"type": "ERROR", "object": self.error.status}) + b"\n"
                await send({"type": "http.response.body", "body": body, "more_body": True})
            else:
                await self._stream(send, gone, stopping)
        finally:
            if self.watcher is not None:
                self.watcher.close()
            disconnected = gone.done() and not gone.cancelled()
            gone.cancel()
            stopping.cancel()
        if not disconnected:
            with contextlib.suppress(OSError):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _stream(self, send: Any, gone: asyncio.Future[None],
                      stopping: asyncio.Future[bool]) -> None:
        clock = self.state.clock
        deadline = None if self.timeout is None else clock.monotonic() + self.timeout
        last_sent = clock.monotonic()
        watcher = self.watcher
        assert watcher is not None
        while True:
            chunk, closed = self._drain()
            if chunk:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                last_sent = clock.monotonic()
            if closed:
                return
            now = clock.monotonic()
            timers: list[float] = []
            if deadline is not None:
                timers.append(deadline - now)
            if self.bookmarks:
                timers.append(last_sent + self.state.bookmark_interval - now)
            if timers and min(timers) <= 0:
                if deadline is not None and now >= deadline:
                    return
                await send({"type": "http.response.body", "body": self._bookmark(),
                            "more_body": True})
                last_sent = now
                continue
            woke = asyncio.ensure_future(watcher.wait())
            waiting: set[asyncio.Future[Any]] = {woke, gone, stopping}
            timer = asyncio.ensure_future(clock.sleep(min(timers))) if timers else None
            if timer is not None:
                waiting.add(timer)
            try:
                await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            finally:
                woke.cancel()
                if timer is not None:
                    timer.cancel()
            if gone.done() or stopping.done():
                return
