"""The client contract: one suite, every client (DESIGN.md principle 2).

The ``backend`` fixture yields a client of a fresh cluster and the pieces a
test needs to stage situations no client can (compacting the watch history,
writing log lines, moving the clock):

- ``memory``: :class:`~sandbox.client.memory.MemoryClient` over a Store;
- ``kube``: :class:`~sandbox.client.kube.KubeClient` over HTTP to the API
  server's ASGI app on the same Store, in this process, no socket;
- ``kube-https`` (slow): KubeClient from the generated kubeconfig against a
  real ``ApiServer`` listening with TLS on port 0.

A behaviour that differs between them is a bug in one of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from contract_helpers import Backend, FakeLogSource

from sandbox.backends.inprocess.apiserver.app import create_app
from sandbox.backends.inprocess.apiserver.server import ApiServer
from sandbox.client.kube import KubeClient
from sandbox.client.memory import MemoryClient
from sandbox.clock import FakeClock
from sandbox.store import Store
from sandbox.testing.asgi import StreamingASGITransport


@dataclass
class _BareCluster:
    """What ``ApiServer`` reads of a cluster: its store, clock and (log-serving) client.

    No controllers, scheduler or kubelets run, so the server answers exactly
    what the store does, as the other backends see it.
    """

    store: Store
    client: MemoryClient
    clock: FakeClock


@pytest.fixture(scope="session")
def apiserver_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One home for every HTTPS server of the session: the CA and keys are made once."""
    return tmp_path_factory.mktemp("apiserver")


@pytest.fixture(params=["memory", "kube", pytest.param("kube-https", marks=pytest.mark.slow)])
async def backend(
    request: pytest.FixtureRequest, clock: FakeClock, store: Store
) -> AsyncIterator[Backend]:
    logs = FakeLogSource()
    if request.param == "memory":
        client = MemoryClient(store, logs=logs)
        yield Backend("memory", client, store, clock, logs)
        await client.close()
        return
    if request.param == "kube":
        app = create_app(store=store, log_source=logs, clock=clock)
        async with KubeClient(server="http://apiserver.test", transport=StreamingASGITransport(app),
                              clock=clock) as kube:
            yield Backend("kube", kube, store, clock, logs)
        return
    home = request.getfixturevalue("apiserver_home")
    server = ApiServer(
        _BareCluster(store, MemoryClient(store, logs=logs), clock), home=home)
    await server.start()
    try:
        async with KubeClient.from_kubeconfig(server.kubeconfig_path, clock=clock) as kube:
            assert kube.server.startswith("https://127.0.0.1:")
            yield Backend("kube-https", kube, store, clock, logs)
    finally:
        await server.stop()
