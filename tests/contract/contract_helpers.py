"""Shared pieces of the client contract suite: a log source, a streaming ASGI transport, objects.

- :class:`FakeLogSource` is a :class:`~sandbox.client.memory.LogSource` whose
  lines the test writes, so ``logs``/``follow_logs`` can be checked on every
  backend without a kubelet.
- :class:`StreamingASGITransport` hands an ASGI app's answer to httpx as it is
  sent. httpx's own ``ASGITransport`` collects the whole body first, which a
  watch or a followed log never finishes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from sandbox.client import Client
from sandbox.clock import FakeClock
from sandbox.store import Store


@dataclass
class Backend:
    """A client of a fresh cluster, and what a test needs to stage situations."""

    name: str
    client: Client
    store: Store
    clock: FakeClock
    logs: FakeLogSource


class FakeLogSource:
    """Container logs the test writes: ``write`` lines, ``end`` a container's run."""

    def __init__(self) -> None:
        self._lines: dict[tuple[str, str, str], list[str]] = {}
        self._ended: set[tuple[str, str, str]] = set()
        self._changed = asyncio.Condition()

    @staticmethod
    def _key(namespace: str, pod: dict[str, Any], container: str | None) -> tuple[str, str, str]:
        if not container:
            container = pod["spec"]["containers"][0]["name"]
        return namespace, pod["metadata"]["name"], container

    async def write(self, namespace: str, pod: str, container: str, *lines: str) -> None:
        async with self._changed:
            self._lines.setdefault((namespace, pod, container), []).extend(lines)
            self._changed.notify_all()

    async def end(self, namespace: str, pod: str, container: str) -> None:
        async with self._changed:
            self._ended.add((namespace, pod, container))
            self._changed.notify_all()

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
    ) -> str:
        lines = self._lines.get(self._key(namespace, pod, container), [])
        if tail_lines is not None:
            lines = lines[-tail_lines:] if tail_lines else []
        return "".join(line + "\n" for line in lines)

    def last_pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        return None

    async def follow(
        self,
        namespace: str,
        pod: dict[str, Any],
        *,
        container: str | None,
        tail_lines: int | None,
        since_seconds: int | None,
        timestamps: bool,
    ) -> AsyncIterator[str]:
        key = self._key(namespace, pod, container)
        sent = 0
        while True:
            async with self._changed:
                await self._changed.wait_for(
                    lambda sent=sent: len(self._lines.get(key, [])) > sent or key in self._ended
                )
                fresh = self._lines.get(key, [])[sent:]
                ended = key in self._ended
            for line in fresh:
                yield line
            sent += len(fresh)
            if ended and not fresh:
                return


class _AppStream(httpx.AsyncByteStream):
    def __init__(
        self, chunks: asyncio.Queue[bytes | None], task: asyncio.Task[None], disconnect: asyncio.Event
    ) -> None:
        self._chunks = chunks
        self._task = task
        self._disconnect = disconnect

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await self._chunks.get()) is not None:
            yield chunk
        if self._task.done() and not self._task.cancelled() and self._task.exception():
            raise self._task.exception()  # type: ignore[misc]

    async def aclose(self) -> None:
        self._disconnect.set()
        if not self._task.done():
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task


class StreamingASGITransport(httpx.AsyncBaseTransport):
    """Like ``httpx.ASGITransport``, but the body streams as the app sends it."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = b"".join([chunk async for chunk in request.stream])  # type: ignore[union-attr]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "server": (request.url.host, request.url.port),
            "client": ("127.0.0.1", 123),
            "root_path": "",
        }
        chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
        started: asyncio.Future[tuple[int, list[Any]]] = asyncio.get_running_loop().create_future()
        disconnect = asyncio.Event()
        request_sent = False

        async def receive() -> dict[str, Any]:
            nonlocal request_sent
            if not request_sent:
                request_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await disconnect.wait()
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
            except Exception as e:
                if not started.done():
                    started.set_exception(e)
                raise
            finally:
                chunks.put_nowait(None)

        task = asyncio.create_task(run())
        await asyncio.wait({started, task}, return_when=asyncio.FIRST_COMPLETED)
        if not started.done():
            task.result()  # the app's exception, if any
            raise RuntimeError("the ASGI app ended without answering")
        status, headers = started.result()
        return httpx.Response(status, headers=headers, stream=_AppStream(chunks, task, disconnect))


async def eventually(check: Callable[[], bool], *, timeout: float = 2.0) -> None:
    """Wait (really, but briefly) until ``check()`` holds: for work crossing a socket."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.005)


# Objects ----------------------------------------------------------------------------


def config_map(name: str, *, namespace: str = "default", labels: dict[str, str] | None = None,
               data: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "data": data or {}}


def pod(name: str, *, namespace: str = "default", containers: tuple[str, ...] = ("main",)) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
            "spec": {"containers": [{"name": c, "image": "python:3.11"} for c in containers]}}


def deployment(name: str, *, image: str = "nginx:1.25") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": image},
                                        {"name": "sidecar", "image": "busybox:1.36"}]},
            },
        },
    }


def crd(*, group: str = "example.com", kind: str = "Widget", plural: str = "widgets") -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "singular": kind.lower(),
                      "listKind": f"{kind}List"},
            "versions": [{
                "name": "v1", "served": True, "storage": True,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {"type": "object", "properties": {
                            "size": {"type": "integer", "minimum": 0},
                            "color": {"type": "string"},
                        }},
                        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                    },
                }},
            }],
        },
    }
