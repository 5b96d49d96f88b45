"""The daemon's web port: plain HTTP on loopback for everything a browser opens.

The REST API speaks HTTPS with bearer tokens because kubectl demands it; a
browser needs neither. So the daemon listens on a second, plain-HTTP
loopback port for the faces people open by hand: the dashboard, the KFP API
under ``/pipeline``, model endpoints behind the ingress gateway. Later issues
mount those as Starlette routes; today the port answers:

- ``/`` — an index of the sandbox: cluster name, API URL, kubeconfig path and
  links to what is mounted (HTML for a browser, JSON for everyone else);
- ``/healthz`` — ``ok`` while the daemon serves.

:class:`WebServer` runs any ASGI app with uvicorn inside the running event
loop, on a socket it binds itself (so a port in use fails at once, with the
address in the message), with a bounded graceful shutdown, and without uvicorn's own signal handlers: the daemon
decides when to stop, in its own order.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.backends.inprocess.listen import bind

__all__ = ["WebServer", "create_web_app"]

log = logging.getLogger(__name__)


def create_web_app(
    *, index: Callable[[], Mapping[str, Any]], routes: Sequence[BaseRoute] = ()
) -> Starlette:
    """The web port's app: ``/``, ``/healthz`` and whatever ``routes`` mount.

    ``index()`` returns the sandbox's description (``cluster``, ``api_url``,
    ``kubeconfig`` …); each mounted route with a path is listed as a link.
    """
    links = [{"name": "healthz", "url": "/healthz"}] + [
        {"name": getattr(route, "name", None) or route.path, "url": route.path}
        for route in routes
        if getattr(route, "path", None)
    ]

    async def home(request: Request) -> Response:
        body = {**index(), "links": links}
        if "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(_index_html(body))
        return JSONResponse(body)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/", home), Route("/healthz", healthz), *routes])


def _index_html(body: Mapping[str, Any]) -> str:
    esc = html.escape
    facts = "".join(
        f"<tr><th>{esc(key)}</th><td>{esc(str(value))}</td></tr>"
        for key, value in body.items()
        if key != "links"
    )
    links = "".join(
        f'<li><a href="{esc(link["url"])}">{esc(link["name"])}</a></li>' for link in body["links"]
    )
    title = f"kf-sandbox: {esc(str(body.get('cluster', '')))}"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><h1>{title}</h1><table>{facts}</table><h2>Links</h2><ul>{links}</ul>"
        "</body></html>"
    )


class _Server(uvicorn.Server):
    """uvicorn without its SIGINT/SIGTERM handlers (the daemon owns the signals)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WebServer:
    """An ASGI app served over plain HTTP in the running event loop."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.url = ""
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Bind and serve; returns once requests are answered (``self.url`` set)."""
        sock = bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off",
                                access_log=False, timeout_graceful_shutdown=5)
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="web-server")
        while not self._server.started:
            if self._task.done():
                sock.close()
                self._task.result()  # raises what stopped it
                raise RuntimeError("the web server stopped while starting")
            await asyncio.sleep(0.01)
        self.url = f"http://{self.host}:{self.port}"
        log.info("web port serving at %s", self.url)

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._server = self._task = None
