"""``pods/proxy`` and ``services/proxy``: requests reach a server on a pod IP and come back.

The "pods" here are objects in the store whose ``status.podIP`` is a loopback
address where the test itself listens (a small HTTP server on the test's
loop), which is exactly what a kubelet-run pod looks like to the API server.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from apiserver_helpers import api_client, auth_app

from sandbox.backends.inprocess.apiserver import create_app
from sandbox.store import Store

PODS = "/api/v1/namespaces/default/pods"
SERVICES = "/api/v1/namespaces/default/services"


class Upstream:
    """A tiny HTTP/1.1 server on one loopback IP: echoes requests, redirects, streams."""

    def __init__(self, ip: str) -> None:
        self.ip = ip
        self.port = 0
        self.requests: list[dict[str, Any]] = []
        self.release = asyncio.Event()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.ip, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            line, *fields = head.split("\r\n")
            method, target, _ = line.split(" ")
            headers = {k.lower(): v.strip() for k, _, v in
                       (f.partition(":") for f in fields if f)}
            body = await reader.readexactly(int(headers.get("content-length") or 0))
            self.requests.append({"method": method, "target": target, "headers": headers,
                                  "body": body.decode()})
            if target.startswith("/redirect"):
                writer.write(b"HTTP/1.1 301 Moved Permanently\r\nLocation: /moved/\r\n"
                             b"Content-Length: 0\r\nConnection: close\r\n\r\n")
            elif target.startswith("/stream"):
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                             b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                             b"6\r\nfirst\n\r\n")
                await writer.drain()
                await self.release.wait()
                writer.write(b"7\r\nsecond\n\r\n0\r\n\r\n")
            else:
                answer = json.dumps({"served_by": self.ip, "method": method, "target": target,
                                     "body": body.decode()}).encode()
                status = b"201 Created" if method == "POST" else b"200 OK"
                writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
                             b"X-Upstream: yes\r\nConnection: close\r\nContent-Length: "
                             + str(len(answer)).encode() + b"\r\n\r\n" + answer)
            await writer.drain()
        finally:
            writer.close()


@asynccontextmanager
async def upstreams(*ips: str) -> AsyncIterator[list[Upstream]]:
    servers = [Upstream(ip) for ip in ips]
    for server in servers:
        await server.start()
    try:
        yield servers
    finally:
        for server in servers:
            await server.stop()


def running_pod(store: Store, name: str, ip: str | None, *, port: int | None = None,
                phase: str = "Running", labels: dict[str, str] | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "main", "image": "python:3.11"}
    if port is not None:
        container["ports"] = [{"name": "http", "containerPort": port}]
    pod = store.create("v1", "Pod", {
        "metadata": {"name": name, "namespace": "default", "labels": labels or {"app": "web"}},
        "spec": {"containers": [container]},
    })
    status: dict[str, Any] = {"phase": phase}
    if ip:
        status["podIP"] = ip
    pod["status"] = status
    return store.replace("v1", "Pod", pod, subresource="status")


def service(store: Store, ports: list[dict[str, Any]], name: str = "web") -> None:
    store.create("v1", "Service", {
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"selector": {"app": "web"}, "ports": ports},
    })


def endpoints(store: Store, subsets: list[dict[str, Any]], name: str = "web") -> None:
    store.create("v1", "Endpoints", {"metadata": {"name": name, "namespace": "default"},
                                     "subsets": subsets})


@pytest.fixture
def app(store: Store) -> Any:
    return create_app(store=store)


# pods/proxy -------------------------------------------------------------------------


async def test_pod_proxy_passes_method_path_query_body_and_answer(app, store: Store) -> None:
    async with upstreams("127.77.0.1") as [pod_server]:
        running_pod(store, "web", "127.77.0.1")
        base = f"{PODS}/web:{pod_server.port}/proxy"
        async with api_client(app) as c:
            got = await c.get(f"{base}/a/b/?x=1&y=two", headers={"X-Custom": "kept"})
            posted = await c.post(f"{base}/predict", content=b'{"instances": [1]}',
                                  headers={"Content-Type": "application/json"})
            deleted = await c.delete(f"{base}/models/m")
            root = await c.put(f"{base}", content=b"x")
    assert got.status_code == 200 and got.headers["x-upstream"] == "yes"
    assert got.json() == {"served_by": "127.77.0.1", "method": "GET", "target": "/a/b/?x=1&y=two",
                          "body": ""}
    first = pod_server.requests[0]["headers"]
    assert first["x-custom"] == "kept" and first["host"] == f"127.77.0.1:{pod_server.port}"
    assert posted.status_code == 201
    assert posted.json()["body"] == '{"instances": [1]}'
    assert pod_server.requests[1]["headers"]["content-type"] == "application/json"
    assert deleted.json()["method"] == "DELETE" and deleted.json()["target"] == "/models/m"
    assert root.json()["target"] == "/" and root.json()["body"] == "x"


async def test_pod_proxy_defaults_to_the_first_container_port_and_reads_port_names(
    app, store: Store
) -> None:
    async with upstreams("127.77.0.2") as [pod_server]:
        running_pod(store, "web", "127.77.0.2", port=pod_server.port)
        async with api_client(app) as c:
            default = await c.get(f"{PODS}/web/proxy/")
            named = await c.get(f"{PODS}/http:web:http/proxy/x")
            unknown = await c.get(f"{PODS}/web:metrics/proxy/")
    assert default.json()["target"] == "/"
    assert named.json()["target"] == "/x"
    assert unknown.status_code == 400
    assert unknown.json()["message"] == 'pod "web" has no container port named "metrics"'


async def test_a_redirect_stays_under_the_proxy_path(app, store: Store) -> None:
    async with upstreams("127.77.0.3") as [pod_server]:
        running_pod(store, "web", "127.77.0.3")
        async with api_client(app) as c:
            r = await c.get(f"{PODS}/web:{pod_server.port}/proxy/redirect")
    assert r.status_code == 301
    assert r.headers["location"] == f"{PODS}/web:{pod_server.port}/proxy/moved/"


async def test_a_pod_answer_streams_as_it_comes(store: Store) -> None:
    app = create_app(store=store)
    async with upstreams("127.77.0.4") as [pod_server]:
        running_pod(store, "web", "127.77.0.4")
        async with api_client(app, streaming=True) as c, \
                c.stream("GET", f"{PODS}/web:{pod_server.port}/proxy/stream") as r:
            chunks = r.aiter_text()
            assert r.status_code == 200 and "transfer-encoding" not in r.headers
            assert await asyncio.wait_for(anext(chunks), 2) == "first\n"  # before the pod ends
            pod_server.release.set()
            assert "".join([chunk async for chunk in chunks]) == "second\n"


@pytest.mark.parametrize(("ip", "phase", "code", "message"), [
    (None, "Pending", 400, 'address not allowed: pod "web" has no IP address yet (phase Pending)'),
    ("127.77.0.5", "Succeeded", 503,
     'pod "web" is not running (phase Succeeded): nothing listens on 127.77.0.5'),
])
async def test_a_pod_without_a_live_address_is_refused(
    app, store: Store, ip: str | None, phase: str, code: int, message: str
) -> None:
    running_pod(store, "web", ip, phase=phase)
    async with api_client(app) as c:
        r = await c.get(f"{PODS}/web:8080/proxy/")
    assert r.status_code == code
    assert r.json()["message"] == message and r.json()["kind"] == "Status"


async def test_a_refused_connection_is_503_in_kubernetes_words(app, store: Store) -> None:
    async with upstreams("127.77.0.6") as [closed]:
        port = closed.port
    running_pod(store, "web", "127.77.0.6")
    async with api_client(app) as c:
        r = await c.get(f"{PODS}/web:{port}/proxy/")
    assert r.status_code == 503 and r.json()["reason"] == "ServiceUnavailable"
    assert r.json()["message"] == (
        f"error trying to reach service: dial tcp 127.77.0.6:{port}: connect: connection refused")


async def test_bad_names_and_missing_pods_are_kubernetes_errors(app, store: Store) -> None:
    async with api_client(app) as c:
        invalid = await c.get(f"{PODS}/a:b:c:d/proxy/")
        scheme = await c.get(f"{PODS}/ftp:web:80/proxy/")
        missing = await c.get(f"{PODS}/nope:80/proxy/")
        node = await c.get("/api/v1/nodes/node-1/proxy/")
    assert invalid.status_code == 400 and invalid.json()["message"] == 'invalid pod request "a:b:c:d"'
    assert scheme.status_code == 400
    assert missing.status_code == 404 and missing.json()["message"] == 'pods "nope" not found'
    assert node.status_code == 400
    assert node.json()["message"].startswith("nodes/proxy is not supported by kf-sandbox")


# services/proxy ---------------------------------------------------------------------


async def test_service_proxy_round_robins_over_ready_endpoints(app, store: Store) -> None:
    async with upstreams("127.77.1.1", "127.77.1.2") as [one, two]:
        service(store, [{"name": "http", "port": 80, "targetPort": "http"}])
        # Each address gets its own subset: the ports differ (test servers on port 0).
        endpoints(store, [
            {"addresses": [{"ip": "127.77.1.1"}], "ports": [{"name": "http", "port": one.port}]},
            {"addresses": [{"ip": "127.77.1.2"}], "ports": [{"name": "http", "port": two.port}],
             "notReadyAddresses": [{"ip": "127.77.1.9"}]},
        ])
        async with api_client(app) as c:
            by_number = [(await c.get(f"{SERVICES}/web:80/proxy/")).json()["served_by"]
                         for _ in range(4)]
            by_name = await c.get(f"{SERVICES}/web:http/proxy/p?q=1")
            by_default = await c.get(f"{SERVICES}/http:web:/proxy/")
    assert by_number == ["127.77.1.1", "127.77.1.2", "127.77.1.1", "127.77.1.2"]
    assert by_name.json()["target"] == "/p?q=1"
    assert by_default.status_code == 200


async def test_an_unnamed_service_port_maps_to_the_unnamed_endpoint_port(
    app, store: Store
) -> None:
    async with upstreams("127.77.1.3") as [pod_server]:
        service(store, [{"port": 80, "targetPort": pod_server.port}])
        endpoints(store, [{"addresses": [{"ip": "127.77.1.3"}],
                           "ports": [{"port": pod_server.port}]}])
        async with api_client(app) as c:
            r = await c.post(f"{SERVICES}/web:80/proxy/v1/models/m:predict", content=b"{}")
    assert r.status_code == 201 and r.json()["target"] == "/v1/models/m:predict"


async def test_service_proxy_errors_are_kubernetes_statuses(app, store: Store) -> None:
    service(store, [{"name": "http", "port": 80}])
    endpoints(store, [{"notReadyAddresses": [{"ip": "127.77.1.4"}],
                       "ports": [{"name": "http", "port": 8080}]}])
    service(store, [{"port": 80}], name="empty")
    endpoints(store, [], name="empty")
    service(store, [{"port": 80}], name="lonely")
    async with api_client(app) as c:
        not_ready = await c.get(f"{SERVICES}/web:80/proxy/")
        empty = await c.get(f"{SERVICES}/empty/proxy/")
        wrong_port = await c.get(f"{SERVICES}/web:81/proxy/")
        no_endpoints_object = await c.get(f"{SERVICES}/lonely/proxy/")
        missing = await c.get(f"{SERVICES}/nope/proxy/")
    assert (not_ready.status_code, not_ready.json()["message"]) == (
        503, 'no endpoints available for service "web"')
    assert (empty.status_code, empty.json()["message"]) == (
        503, 'no endpoints available for service "empty"')
    assert (wrong_port.status_code, wrong_port.json()["message"]) == (
        503, 'no service port 81 found for service "web"')
    assert no_endpoints_object.status_code == 404
    assert no_endpoints_object.json()["message"] == 'endpoints "lonely" not found'
    assert missing.status_code == 404 and missing.json()["message"] == 'services "nope" not found'


# RBAC -------------------------------------------------------------------------------


async def test_proxy_is_authorized_as_the_proxy_subresource_with_the_method_verb(
    store: Store, tmp_path: Path
) -> None:
    setup = auth_app(store, tmp_path)
    async with upstreams("127.77.2.1") as [pod_server]:
        running_pod(store, "web", "127.77.2.1")
        url = f"{PODS}/web:{pod_server.port}/proxy/x"
        async with api_client(setup.app, token=setup.alice) as c:
            denied = await c.get(url)
            store.create("rbac.authorization.k8s.io/v1", "Role", {
                "metadata": {"name": "proxy-reader", "namespace": "default"},
                "rules": [{"apiGroups": [""], "resources": ["pods/proxy"], "verbs": ["get"]}]})
            store.create("rbac.authorization.k8s.io/v1", "RoleBinding", {
                "metadata": {"name": "alice-proxy", "namespace": "default"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                            "name": "proxy-reader"},
                "subjects": [{"kind": "User", "name": "alice",
                              "apiGroup": "rbac.authorization.k8s.io"}]})
            allowed = await c.get(url)
            post = await c.post(url, content=b"{}")
    assert denied.status_code == 403
    assert 'cannot get resource "pods/proxy"' in denied.json()["message"]
    assert allowed.status_code == 200
    assert post.status_code == 403
    assert 'cannot create resource "pods/proxy"' in post.json()["message"]


async def test_the_edit_role_may_proxy_to_services(store: Store, tmp_path: Path) -> None:
    setup = auth_app(store, tmp_path)
    store.create("rbac.authorization.k8s.io/v1", "RoleBinding", {
        "metadata": {"name": "alice-edit", "namespace": "default"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "edit"},
        "subjects": [{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}]})
    async with upstreams("127.77.2.2") as [pod_server]:
        service(store, [{"port": 80}])
        endpoints(store, [{"addresses": [{"ip": "127.77.2.2"}],
                           "ports": [{"port": pod_server.port}]}])
        async with api_client(setup.app, token=setup.alice) as c:
            r = await c.post(f"{SERVICES}/web/proxy/", content=b"hi")
    assert r.status_code == 201, r.text
    assert r.json()["body"] == "hi"



async def test_the_callers_credentials_never_reach_the_pod(store: Store, tmp_path: Path) -> None:
    setup = auth_app(store, tmp_path)
    async with upstreams("127.77.2.3") as [pod_server]:
        running_pod(store, "web", "127.77.2.3")
        async with api_client(setup.app, token=setup.admin) as c:
            r = await c.get(f"{PODS}/web:{pod_server.port}/proxy/", headers={
                "Impersonate-User": "root", "Impersonate-Group": "system:masters"})
    assert r.status_code == 200, r.text
    seen = pod_server.requests[0]["headers"]
    assert not {"authorization", "impersonate-user", "impersonate-group"} & set(seen)
    assert seen["x-forwarded-for"] == "127.0.0.1"


async def test_a_chunked_body_reaches_the_pod_with_a_length(app, store: Store) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"part one, "
        yield b"part two"

    async with upstreams("127.77.0.7") as [pod_server]:
        running_pod(store, "web", "127.77.0.7")
        async with api_client(app) as c:
            r = await c.post(f"{PODS}/web:{pod_server.port}/proxy/upload", content=body(),
                             headers={"Connection": "x-hop", "X-Hop": "1"})
    assert r.json()["body"] == "part one, part two"
    seen = pod_server.requests[0]["headers"]
    assert seen["content-length"] == "18" and "transfer-encoding" not in seen
    assert "x-hop" not in seen
