"""The sandbox daemon: one in-process cluster served over REST until a signal.

``sandbox up`` runs this module in a new session (see :mod:`.control`), with
stdout and stderr going to ``<home>/daemon.log``::

    python -m sandbox.backends.inprocess.daemon --home H --cluster C --port P --web-port W

    serve(H):
      lock H/daemon.pid ............ one daemon per home (AlreadyRunning otherwise)
      InProcessCluster ............. objects persisted in H/store.db (SQLite), pods under H
      ApiServer  https://127.0.0.1:P  writes H/kubeconfig (CA + admin token)
      WebServer  http://127.0.0.1:W   index and /healthz; later the dashboard, KFP, models
      write H/daemon.json .......... "ready": `sandbox up` waits for it, then /readyz
      ── SIGTERM / SIGINT ──
      remove daemon.json; stop the web port, the API, the cluster (every pod
      process dies); remove daemon.pid and let go of the lock

Restarting over an existing ``store.db`` brings every object back: the store
reloads them and continues the resourceVersion counter, the ClusterIP
allocator rebuilds from the Services, nodes re-register, controllers resync
from their first list, and each kubelet finds its bound pods again. A pod
whose container was running when the daemon stopped has no process any more;
its kubelet records the old run as ``ContainerStatusUnknown`` and starts the
container again as its restart policy says (``Always`` for Deployments).

Signals: both servers run uvicorn without its own SIGINT/SIGTERM handlers;
the daemon's handlers only set the stop event, and the daemon stops things
in its own order.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

from sandbox.backends.inprocess.apiserver.server import ApiServer
from sandbox.backends.inprocess.cluster import InProcessCluster
from sandbox.backends.inprocess.control import (
    DEFAULT_API_PORT,
    DEFAULT_WEB_PORT,
    AlreadyRunning,
    DaemonHome,
    DaemonInfo,
    PidLock,
    cluster_ref,
)
from sandbox.backends.inprocess.web import WebServer, create_web_app
from sandbox.cluster.config import ClusterFileError, load_cluster
from sandbox.store.persistence import SqlitePersistence

__all__ = ["main", "serve"]

log = logging.getLogger("sandbox.backends.inprocess.daemon")  # not "__main__" under -m

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


async def serve(
    home: str | Path,
    *,
    cluster: str,
    port: int = DEFAULT_API_PORT,
    web_port: int = DEFAULT_WEB_PORT,
    ready: Callable[[DaemonInfo], None] | None = None,
) -> None:
    """Run the sandbox of ``home`` until SIGTERM or SIGINT (see the module docstring).

    ``cluster`` is a shipped cluster's name or a cluster file; ``ready`` is
    called with what ``daemon.json`` says once everything serves. Raises
    ``AlreadyRunning`` if a daemon holds the home, ``ClusterFileError`` for a
    bad cluster, ``OSError`` when a port is taken.
    """
    files = DaemonHome.resolve(home)
    files.path.mkdir(parents=True, exist_ok=True)
    config = load_cluster(cluster)
    lock = PidLock(files)
    lock.acquire()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in _STOP_SIGNALS:
        loop.add_signal_handler(sig, _stop_requested, stop, sig)
    try:
        async with AsyncExitStack() as stack:
            running = await stack.enter_async_context(InProcessCluster.start(
                config, home=files.path, persistence=SqlitePersistence(files.store_db)))
            files.record_cluster(cluster_ref(cluster))
            api = ApiServer(running, home=files.path, port=port)
            await api.start()
            stack.push_async_callback(api.stop)
            index = {"cluster": config.name, "api_url": api.url,
                     "kubeconfig": str(api.kubeconfig_path)}
            web = WebServer(create_web_app(index=lambda: index, routes=running.web_routes()),
                            port=web_port)
            await web.start()
            stack.push_async_callback(web.stop)
            info = DaemonInfo(
                pid=os.getpid(), api_url=api.url, web_url=web.url,
                kubeconfig=str(api.kubeconfig_path), cluster=config.name,
                started=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), home=str(files.path),
            )
            files.write_info(info)
            stack.callback(files.info_file.unlink, missing_ok=True)
            log.info("sandbox ready: API %s, web %s, kubeconfig %s",
                     info.api_url, info.web_url, info.kubeconfig)
            if ready is not None:
                ready(info)
            await stop.wait()
            log.info("stopping the sandbox")
    finally:
        for sig in _STOP_SIGNALS:
            loop.remove_signal_handler(sig)
        lock.release()
    log.info("sandbox stopped")


def _stop_requested(stop: asyncio.Event, sig: signal.Signals) -> None:
    if not stop.is_set():
        log.info("%s received", sig.name)
    stop.set()


def main(argv: list[str] | None = None) -> int:
    """``python -m sandbox.backends.inprocess.daemon``: what ``sandbox up`` starts."""
    parser = argparse.ArgumentParser(prog=f"python -m {__name__}",
                                     description="Run the sandbox daemon in the foreground.")
    parser.add_argument("--home", required=True, type=Path)
    parser.add_argument("--cluster", default="default")
    parser.add_argument("--port", type=int, default=DEFAULT_API_PORT)
    parser.add_argument("--web-port", type=int, default=DEFAULT_WEB_PORT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(serve(args.home, cluster=args.cluster, port=args.port,
                          web_port=args.web_port))
    except (AlreadyRunning, ClusterFileError, OSError) as err:
        log.error("%s", err)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
