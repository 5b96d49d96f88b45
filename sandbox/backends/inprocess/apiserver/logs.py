"""``pods/log``: a container's log as ``text/plain``, whole or followed.

The in-memory client does the work (:meth:`MemoryClient.logs` /
:meth:`MemoryClient.follow_logs`): it finds the pod — or, once the pod is
gone, what its kept log files say of it — and reads through the cluster's
:class:`~sandbox.client.memory.LogSource` with kubectl's semantics
(``container``, ``previous``, ``tailLines``, ``sinceSeconds``/``sinceTime``,
``timestamps``; the log source's 400s name a missing container or one still
waiting to start). ``limitBytes`` cuts the answer.

``follow=true`` streams each line as it is written and ends when the
container's run ends — kubectl exits then — or when the client goes away or
the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sandbox.api.errors import BadRequest
from sandbox.backends.inprocess.apiserver.context import Call, ServerState
from sandbox.backends.inprocess.apiserver.requestinfo import query_bool, query_int
from sandbox.backends.inprocess.apiserver.responses import text_reply
from sandbox.backends.inprocess.apiserver.watch import until_disconnected
from sandbox.clock import parse_time

__all__ = ["LogStream", "pod_logs"]

_HEADERS = [(b"content-type", b"text/plain"), (b"cache-control", b"no-cache, private")]


def _since_seconds(state: ServerState, call: Call) -> int | None:
    q = call.query
    since = query_int(q, "sinceSeconds")
    since_time = q.get("sinceTime")
    if since is not None and since_time:
        raise BadRequest("at most one of `sinceTime` or `sinceSeconds` may be specified")
    if since is not None and since < 1:
        raise BadRequest("sinceSeconds: Invalid value: must be greater than 0")
    if since_time:
        try:
            moment = parse_time(since_time)
        except ValueError:
            raise BadRequest(f'sinceTime: Invalid value: "{since_time}": not RFC 3339') from None
        since = max(1, int((state.clock.now() - moment).total_seconds()) + 1)
    return since


async def pod_logs(state: ServerState, call: Call, namespace: str) -> Any:
    q = call.query
    name = call.info.name
    container = q.get("container") or None
    tail = query_int(q, "tailLines")
    if tail is not None and tail < 0:
        raise BadRequest("tailLines: Invalid value: must be greater than or equal to 0")
    limit = query_int(q, "limitBytes")
    if limit is not None and limit < 1:
        raise BadRequest("limitBytes: Invalid value: must be greater than 0")
    since = _since_seconds(state, call)
    timestamps = query_bool(q, "timestamps")
    previous = query_bool(q, "previous")
    if query_bool(q, "follow") and not previous:
        # Errors (no such pod or container, not started yet) before answering:
        # a 400 must stay a 400, not become a stream that ends at once.
        await state.pods.logs(name, namespace=namespace, container=container, tail_lines=0)
        lines = state.pods.follow_logs(
            name, namespace=namespace, container=container, tail_lines=tail,
            since_seconds=since, timestamps=timestamps,
        )
        return LogStream(state, lines, limit=limit)
    text = await state.pods.logs(
        name, namespace=namespace, container=container, previous=previous, tail_lines=tail,
        since_seconds=since, timestamps=timestamps,
    )
    if limit is not None:
        text = text.encode()[:limit].decode(errors="ignore")
    return text_reply(text)


class LogStream:
    """The ASGI answer of ``follow=true``: lines as they come."""

    def __init__(self, state: ServerState, lines: AsyncIterator[str], *, limit: int | None) -> None:
        self.state = state
        self.lines = lines
        self.limit = limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
            pump = asyncio.ensure_future(self._pump(send))
            gone = asyncio.ensure_future(until_disconnected(receive))
            stopping = asyncio.ensure_future(self.state.shutdown.wait())
            try:
                await asyncio.wait({pump, gone, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                disconnected = gone.done() and not gone.cancelled()
                for task in (pump, gone, stopping):
                    task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pump
            if not disconnected:
                with contextlib.suppress(OSError):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            closer = getattr(self.lines, "aclose", None)
            if closer is not None:
                with contextlib.suppress(Exception):
                    await closer()

    async def _pump(self, send: Any) -> None:
        budget = self.limit
        async for line in self.lines:
            data = (line + "\n").encode()
            if budget is not None:
                data = data[:budget]
                budget -= len(data)
            await send({"type": "http.response.body", "body": data, "more_body": True})
            if budget is not None and budget <= 0:
                return
