"""An httpx transport that streams an ASGI app's answer, for tests without sockets.

``httpx.ASGITransport`` collects the whole response body before returning, so
a Kubernetes watch or ``logs -f`` served by an ASGI app would never come back.
:class:`StreamingASGITransport` hands the body to httpx chunk by chunk as the
app sends it, and closing the response is a client disconnect the app sees as
``http.disconnect`` — exactly what the API server's streams must handle.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

__all__ = ["StreamingASGITransport"]


class _AppStream(httpx.AsyncByteStream):
    def __init__(
        self, chunks: asyncio.Queue[bytes | None], task: asyncio.Task[None], gone: asyncio.Event
    ) -> None:
        self._chunks = chunks
        self._task = task
        self._gone = gone

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await self._chunks.get()) is not None:
            yield chunk
        if self._task.done() and not self._task.cancelled() and self._task.exception():
            raise self._task.exception()  # type: ignore[misc]

    async def aclose(self) -> None:
        self._gone.set()  # the client hangs up: the app sees http.disconnect
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(self._task, 2)


class StreamingASGITransport(httpx.AsyncBaseTransport):
    """Like ``httpx.ASGITransport``, but the body streams as the app sends it.

    ``tasks`` keeps the app task of every request, so a test can check that a
    stream's handler really ended after the client closed it.
    """

    def __init__(self, app: Callable[..., Any], *, scheme: str = "https") -> None:
        self.app = app
        self.scheme = scheme
        self.tasks: list[asyncio.Task[None]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = b"".join([chunk async for chunk in request.stream])  # type: ignore[union-attr]
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": request.method, "scheme": self.scheme,
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "path": request.url.path, "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query, "root_path": "",
            "server": (request.url.host, request.url.port or 443), "client": ("127.0.0.1", 1234),
        }
        chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
        started: asyncio.Future[tuple[int, list[Any]]] = asyncio.get_running_loop().create_future()
        gone = asyncio.Event()
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                started.set_result((message["status"], message.get("headers", [])))
            elif message["type"] == "http.response.body":
                if message.get("body"):
                    chunks.put_nowait(message["body"])
                if not message.get("more_body", False):
                    chunks.put_nowait(None)

        async def run() -> None:
            try:
                await self.app(scope, receive, send)
            except Exception as err:
                if not started.done():
                    started.set_exception(err)
                raise
            finally:
                chunks.put_nowait(None)

        task = asyncio.create_task(run())
        self.tasks.append(task)
        await asyncio.wait({started, task}, return_when=asyncio.FIRST_COMPLETED)
        if not started.done():
            task.result()  # the app's exception, if any
            raise RuntimeError("the ASGI app ended without answering")
        status, headers = started.result()
        return httpx.Response(status, headers=headers, stream=_AppStream(chunks, task, gone))
