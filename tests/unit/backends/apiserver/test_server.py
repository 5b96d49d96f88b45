"""ApiServer: HTTPS on a free loopback port, the kubeconfig, users, and a clean stop."""

from __future__ import annotations

import asyncio
import base64
import ssl
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import yaml

from sandbox.backends.inprocess.apiserver.server import ApiServer
from sandbox.client.memory import MemoryClient
from sandbox.cluster.apiendpoint import ApiEndpoint
from sandbox.store import Store


def _cluster() -> SimpleNamespace:
    store = Store()
    return SimpleNamespace(store=store, client=MemoryClient(store), clock=store.clock,
                           api_endpoint=ApiEndpoint())


def _client(server: ApiServer, token: str) -> httpx.AsyncClient:
    config = yaml.safe_load(server.kubeconfig_path.read_text())
    ca = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"])
    context = ssl.create_default_context(cadata=ca.decode())
    return httpx.AsyncClient(base_url=config["clusters"][0]["cluster"]["server"], verify=context,
                             headers={"Authorization": f"Bearer {token}"})


async def test_serves_https_with_the_kubeconfigs_ca_and_token(tmp_path: Path) -> None:
    cluster = _cluster()
    async with ApiServer(cluster, home=tmp_path) as server:
        assert server.url.startswith("https://127.0.0.1:")
        config = yaml.safe_load(server.kubeconfig_path.read_text())
        token = config["users"][0]["user"]["token"]
        async with _client(server, token) as c:
            r = await c.get("/api/v1/namespaces")
        assert r.status_code == 200 and r.json()["kind"] == "NamespaceList"
        assert (cluster.api_endpoint.host, cluster.api_endpoint.port) == ("127.0.0.1", server.port)
        assert cluster.api_endpoint.ca_crt == server.pki.ca_data()
    assert not cluster.api_endpoint.serving


async def test_added_users_authenticate_and_are_subject_to_rbac(tmp_path: Path) -> None:
    async with ApiServer(_cluster(), home=tmp_path) as server:
        token = server.add_user("alice", groups=("devs",))
        async with _client(server, token) as c:
            r = await c.get("/api/v1/namespaces/default/pods")
        async with _client(server, "wrong") as c:
            unauthorized = await c.get("/api/v1/namespaces/default/pods")
    assert r.status_code == 403 and 'User "alice"' in r.json()["message"]
    assert unauthorized.status_code == 401


async def test_a_restart_keeps_the_ca_and_the_admin_token(tmp_path: Path) -> None:
    async with ApiServer(_cluster(), home=tmp_path) as first:
        ca, token = first.pki.ca_data(), first.admin_token
    async with ApiServer(_cluster(), home=tmp_path) as second:
        assert (second.pki.ca_data(), second.admin_token) == (ca, token)


async def test_stop_ends_open_watches(tmp_path: Path) -> None:
    cluster = _cluster()
    server = ApiServer(cluster, home=tmp_path)
    await server.start()
    async with _client(server, server.admin_token) as c, \
            c.stream("GET", "/api/v1/namespaces?watch=true") as r:
        lines = r.aiter_lines()
        assert '"ADDED"' in await anext(lines)
        stopping = asyncio.create_task(server.stop())
        async with asyncio.timeout(5):
            rest = [line async for line in lines]
        await stopping
    assert all('"ADDED"' in line for line in rest if line)
    assert cluster.store.watcher_count() == 0


async def test_a_taken_port_fails_with_the_address(tmp_path: Path) -> None:
    async with ApiServer(_cluster(), home=tmp_path) as first:
        with pytest.raises(OSError, match=f"127.0.0.1:{first.port}"):
            await ApiServer(_cluster(), home=tmp_path / "other", port=first.port).start()
