"""Serving the REST API of an in-process cluster over HTTPS, in the running event loop.

``ApiServer(cluster, home=H).start()``:

1. PKI under ``H/pki`` (:mod:`.tls`: created once, then reused);
2. ``H/tokens.csv`` (:mod:`.auth`): the admin's token, created once;
3. the default RBAC objects and the ClusterRole aggregator (:mod:`.bootstrap`);
4. uvicorn serving :func:`.app.create_app` on ``127.0.0.1:<port>`` with TLS
   (port 0: any free port), as a task of the current loop — the cluster's
   store is not thread-safe for async waiters, so the server shares its loop;
   a cluster that runs processes and controllers also gets the fault
   endpoints (:mod:`.faults`);
5. ``H/kubeconfig`` (:mod:`.kubeconfig`) for that URL, and the cluster's
   :class:`~sandbox.cluster.apiendpoint.ApiEndpoint` published so pods get
   ``KUBERNETES_SERVICE_*`` and ``kube-root-ca.crt``.

``stop()`` withdraws the endpoint, ends every open watch and log stream
(their clients see the stream close, as when kube-apiserver shuts down),
then stops uvicorn. uvicorn's own signal handlers are not installed: whoever
runs the server (the daemon) owns SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn

from sandbox.api.rbac import SYSTEM_MASTERS
from sandbox.backends.inprocess.apiserver.app import ApiApp, create_app
from sandbox.backends.inprocess.apiserver.auth import ADMIN_USER, Authenticator, TokenFile
from sandbox.backends.inprocess.apiserver.bootstrap import (
    ClusterRoleAggregator,
    ensure_default_rbac,
)
from sandbox.backends.inprocess.apiserver.kubeconfig import write_kubeconfig
from sandbox.backends.inprocess.apiserver.tls import Pki, ensure_pki
from sandbox.backends.inprocess.listen import bind

if TYPE_CHECKING:
    from sandbox.backends.inprocess.cluster import InProcessCluster

__all__ = ["ApiServer"]

log = logging.getLogger(__name__)

#: How long stop() lets connections close themselves before aborting them (seconds).
#: Requests in flight finish in milliseconds; what lingers is TLS's close_notify
#: exchange with clients that keep an idle connection in their pool.
_GRACE = 0.5


class _Uvicorn(uvicorn.Server):
    """uvicorn without its SIGINT/SIGTERM handlers (the host process owns signals)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class ApiServer:
    """The REST API of one in-process cluster (see the module docstring)."""

    def __init__(
        self,
        cluster: InProcessCluster,
        *,
        home: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = True,
        bookmark_interval: float = 60.0,
    ) -> None:
        self.cluster = cluster
        self.home = Path(home)
        self.host = host
        self.port = port
        self.tls = tls
        self.bookmark_interval = bookmark_interval
        self.url = ""
        self.kubeconfig_path = self.home / "kubeconfig"
        self.tokens = TokenFile(self.home / "tokens.csv")
        self.pki: Pki | None = None
        self.app: Any = None
        self._server: _Uvicorn | None = None
        self._task: asyncio.Task[None] | None = None
        self._aggregator: ClusterRoleAggregator | None = None

    @property
    def admin_token(self) -> str:
        token = self.tokens.token_of(ADMIN_USER)
        if token is None:
            token = self.tokens.add_user(ADMIN_USER, groups=(SYSTEM_MASTERS,))
        return token

    def add_user(self, name: str, *, groups: tuple[str, ...] = ()) -> str:
        """A new user with these groups; returns its bearer token (kept in ``tokens.csv``)."""
        return self.tokens.add_user(name, groups=groups)

    @property
    def api(self) -> ApiApp:
        return self.app.state.api

    async def start(self) -> None:
        """Bind, serve, write the kubeconfig; returns once requests are answered."""
        store = self.cluster.store
        self.pki = ensure_pki(self.home / "pki", hosts=(self.host,)) if self.tls else None
        token = self.admin_token
        ensure_default_rbac(store)
        self._aggregator = ClusterRoleAggregator(store)
        await self._aggregator.start()
        # A bare store behind the server (the contract tests) has nothing to fault.
        faults = self.cluster if hasattr(self.cluster, "container_pid") else None
        self.app = create_app(
            store=store, log_source=self.cluster.client.log_source,
            authenticator=Authenticator(tokens=self.tokens, store=store),
            clock=self.cluster.clock, bookmark_interval=self.bookmark_interval,
            faults=faults,
        )
        sock = bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        options: dict[str, Any] = {}
        if self.pki is not None:
            options = {"ssl_certfile": str(self.pki.cert), "ssl_keyfile": str(self.pki.key)}
        config = uvicorn.Config(
            self.app, lifespan="off", log_level="error", access_log=False,
            timeout_graceful_shutdown=_GRACE * 5, timeout_keep_alive=30, **options,
        )
        self._server = _Uvicorn(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="api-server")
        while not self._server.started:
            if self._task.done():
                sock.close()
                self._task.result()
                raise RuntimeError("the API server stopped while starting")
            await asyncio.sleep(0.005)
        scheme = "https" if self.pki is not None else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"{scheme}://{host}:{self.port}"
        write_kubeconfig(self.kubeconfig_path, server=self.url,
                         ca_data=self.pki.ca_data() if self.pki else b"", token=token)
        endpoint = getattr(self.cluster, "api_endpoint", None)
        if endpoint is not None and self.pki is not None:
            endpoint.publish(host=self.host, port=self.port, ca_crt=self.pki.ca_data())
        log.info("Kubernetes API serving at %s (kubeconfig %s)", self.url, self.kubeconfig_path)

    async def stop(self) -> None:
        """End open streams, stop serving; idempotent."""
        endpoint = getattr(self.cluster, "api_endpoint", None)
        if endpoint is not None and endpoint.serving and self.url:
            endpoint.withdraw()
        if self.app is not None:
            self.api.state.shutdown.set()
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            try:
                await asyncio.wait_for(asyncio.shield(self._task), _GRACE)
            except TimeoutError:
                for connection in list(self._server.server_state.connections):
                    connection.transport.abort()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._aggregator is not None:
            await self._aggregator.stop()
        self._server = self._task = self._aggregator = None

    async def __aenter__(self) -> ApiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
