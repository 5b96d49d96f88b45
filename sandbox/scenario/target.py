"""Where a scenario runs: the home's running daemon, else an ephemeral in-process cluster.

DESIGN.md §8: ``sandbox scenario run`` uses the running daemon if there is
one, otherwise an in-process cluster that lives for that run (the CI path).
Either way the runner speaks to the cluster the same way — a
:class:`~sandbox.client.kube.KubeClient` over the REST API and a kubeconfig
file — so ``kubectl`` and ``run`` steps (which are other processes) work in
both modes, and a scenario behaves the same on the daemon as in CI::

    open_target(home)
      ├─ daemon of home running ─▶ KubeClient(<home>/kubeconfig)            kept
      ├─ keep=True, none running ─▶ start_daemon(home) ─▶ KubeClient        kept
      └─ otherwise ─▶ InProcessCluster(temp home) + ApiServer(port 0)
                      ─▶ KubeClient(<temp>/kubeconfig)          torn down on exit

The ephemeral cluster runs on the caller's event loop (the cluster's store
and the API server share a loop; the runner's client calls it over loopback
HTTPS), in a temporary home removed afterwards, with every pod process
stopped on exit. ``keep=True`` cannot keep an in-process cluster past the
process, so it starts (or reuses) the daemon instead and says how to reach it.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from sandbox.backends.inprocess.apiserver.server import ApiServer
from sandbox.backends.inprocess.cluster import InProcessCluster
from sandbox.backends.inprocess.control import DaemonHome, cluster_ref, find_daemon, start_daemon
from sandbox.client.kube import KubeClient

__all__ = ["DAEMON_START_TIMEOUT", "Target", "ephemeral_target", "kubeconfig_target", "open_target"]

#: Seconds a daemon started for ``--keep`` may take to be ready.
DAEMON_START_TIMEOUT = 120.0


@dataclass
class Target:
    """A cluster a scenario can run on.

    ``kubeconfig`` is the file kubectl and scripts get; ``kept`` says whether
    the cluster outlives the run; ``cluster`` names the cluster file it was
    started from when known; ``description`` is one line for the learner.
    """

    client: KubeClient
    kubeconfig: Path
    description: str
    kept: bool
    cluster: str | None = None

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """An authenticated request to the API server (service proxy, fault endpoints)."""
        return await self.client.request(method, path, **kwargs)


@contextlib.asynccontextmanager
async def kubeconfig_target(kubeconfig: Path, *, description: str, kept: bool = True,
                            cluster: str | None = None) -> AsyncIterator[Target]:
    """Any cluster a kubeconfig reaches (the daemon's, or a real one)."""
    client = KubeClient.from_kubeconfig(str(kubeconfig))
    try:
        yield Target(client=client, kubeconfig=kubeconfig, description=description, kept=kept,
                     cluster=cluster)
    finally:
        await client.close()


@contextlib.asynccontextmanager
async def open_target(*, home: str | Path | None = None, cluster: str = "default",
                      keep: bool = False) -> AsyncIterator[Target]:
    """The daemon of ``home`` if one runs, else (see the module docstring) a new cluster."""
    daemon_home = DaemonHome.resolve(home)
    running = find_daemon(daemon_home)
    if running is not None and running.info is not None:
        info = running.info
        async with kubeconfig_target(Path(info.kubeconfig), cluster=info.cluster,
                                     description=f"the sandbox daemon of {daemon_home.path} "
                                                 f"(pid {info.pid})") as target:
            yield target
        return
    if keep:
        info = start_daemon(daemon_home, cluster=daemon_home.recorded_cluster() or cluster_ref(cluster),
                            port=0, web_port=0, timeout=DAEMON_START_TIMEOUT)
        async with kubeconfig_target(Path(info.kubeconfig), cluster=info.cluster,
                                     description=f"a new sandbox daemon in {daemon_home.path} "
                                                 f"(pid {info.pid}); it keeps running") as target:
            yield target
        return
    async with ephemeral_target(cluster) as target:
        yield target


@contextlib.asynccontextmanager
async def ephemeral_target(cluster: str | Path = "default") -> AsyncIterator[Target]:
    """An in-process cluster serving REST on a free loopback port, gone on exit."""
    home = Path(tempfile.mkdtemp(prefix="sandbox-scenario-"))
    try:
        async with InProcessCluster.start(cluster, home=home) as running, \
                ApiServer(running, home=home, port=0) as server:
            name = running.config.name
            async with kubeconfig_target(server.kubeconfig_path, kept=False, cluster=name,
                                         description=f"an ephemeral in-process cluster "
                                                     f"({name}, {server.url})") as target:
                yield target
    finally:
        shutil.rmtree(home, ignore_errors=True)
