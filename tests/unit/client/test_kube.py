"""KubeClient on the wire: URLs from discovery, query parameters, bodies, errors.

A small fake API server behind ``httpx.MockTransport`` (httpx's own
transport for tests) records every request and answers from canned
discovery documents; each test states what the client must send or raise.
Behaviour against a real API server is the contract suite's business
(``tests/contract``).
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from sandbox.api.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    Gone,
    InternalError,
    Invalid,
    NotFound,
    ServiceUnavailable,
)
from sandbox.client import Client
from sandbox.client.kube import KubeClient

CORE = {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
    {"name": "pods", "kind": "Pod", "namespaced": True},
    {"name": "pods/status", "kind": "Pod", "namespaced": True},
    {"name": "pods/log", "kind": "Pod", "namespaced": True},
    {"name": "nodes", "kind": "Node", "namespaced": False},
    {"name": "configmaps", "kind": "ConfigMap", "namespaced": True},
]}
APPS = {"kind": "APIResourceList", "groupVersion": "apps/v1", "resources": [
    {"name": "deployments", "kind": "Deployment", "namespaced": True},
    {"name": "deployments/status", "kind": "Deployment", "namespaced": True},
]}

Handler = Callable[[httpx.Request], httpx.Response]


class FakeServer:
    """Discovery from ``groups``; any other request goes to ``answer`` (default: echo 200)."""

    def __init__(self, answer: Handler | None = None) -> None:
        self.groups: dict[str, dict[str, Any]] = {"/api/v1": CORE, "/apis/apps/v1": APPS}
        self.requests: list[httpx.Request] = []
        self.answer = answer or (lambda request: httpx.Response(200, json={"kind": "Echo"}))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path in self.groups:
            return httpx.Response(200, json=self.groups[request.url.path])
        if request.url.path.startswith("/apis/") and request.url.path.count("/") == 3:
            return httpx.Response(404, json=status(404, "NotFound", "the server could not find the requested resource"))
        return self.answer(request)

    @property
    def calls(self) -> list[httpx.Request]:
        """Requests other than discovery."""
        return [r for r in self.requests if r.url.path not in self.groups]

    def discovery_fetches(self, path: str) -> int:
        return sum(1 for r in self.requests if r.url.path == path)


def status(code: int, reason: str, message: str, **details: Any) -> dict[str, Any]:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    if details:
        body["details"] = details
    return body


def make_client(server: FakeServer, **kwargs: Any) -> KubeClient:
    return KubeClient(server="https://k8s.test:6443", transport=httpx.MockTransport(server), **kwargs)


def query(request: httpx.Request) -> dict[str, str]:
    return dict(request.url.params)


def test_kube_client_implements_the_protocol() -> None:
    assert isinstance(make_client(FakeServer()), Client)


def test_repr_shows_the_server_and_namespace() -> None:
    client = make_client(FakeServer(), namespace="team")
    assert repr(client) == "KubeClient(server='https://k8s.test:6443', namespace='team')"


# URLs -------------------------------------------------------------------------------------


async def test_urls_follow_group_version_scope_and_namespace() -> None:
    server = FakeServer()
    async with make_client(server, namespace="team") as client:
        await client.get("v1", "Pod", "web")
        await client.get("v1", "Pod", "web", namespace="prod")
        await client.get("v1", "Node", "node-1", namespace="ignored")
        await client.get("apps/v1", "Deployment", "api", namespace="prod")
        await client.list("v1", "Pod")
        await client.list("v1", "Pod", namespace="prod")
        await client.list("v1", "Node", namespace="ignored")
        await client.replace_status({"apiVersion": "apps/v1", "kind": "Deployment",
                                     "metadata": {"name": "api", "namespace": "prod"}})
    assert [(r.method, r.url.path) for r in server.calls] == [
        ("GET", "/api/v1/namespaces/team/pods/web"),
        ("GET", "/api/v1/namespaces/prod/pods/web"),
        ("GET", "/api/v1/nodes/node-1"),
        ("GET", "/apis/apps/v1/namespaces/prod/deployments/api"),
        ("GET", "/api/v1/pods"),
        ("GET", "/api/v1/namespaces/prod/pods"),
        ("GET", "/api/v1/nodes"),
        ("PUT", "/apis/apps/v1/namespaces/prod/deployments/api/status"),
    ]


async def test_names_are_escaped_in_paths() -> None:
    server = FakeServer()
    async with make_client(server) as client:
        await client.get("v1", "ConfigMap", "a/b c")
    assert server.calls[0].url.raw_path == b"/api/v1/namespaces/default/configmaps/a%2Fb%20c"


async def test_create_posts_to_the_namespace_of_the_object_or_the_default() -> None:
    server = FakeServer()
    async with make_client(server, namespace="team") as client:
        await client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}})
        await client.create({"apiVersion": "v1", "kind": "ConfigMap",
                             "metadata": {"name": "b", "namespace": "prod"}})
        await client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}},
                            namespace="other", dry_run=True, field_manager="me")
    assert [(r.method, r.url.path) for r in server.calls] == [
        ("POST", "/api/v1/namespaces/team/configmaps"),
        ("POST", "/api/v1/namespaces/prod/configmaps"),
        ("POST", "/api/v1/namespaces/other/configmaps"),
    ]
    assert query(server.calls[0]) == {"fieldManager": "sandbox"}
    assert query(server.calls[2]) == {"fieldManager": "me", "dryRun": "All"}
    assert json.loads(server.calls[1].content)["metadata"]["name"] == "b"


# Discovery --------------------------------------------------------------------------------


async def test_discovery_is_fetched_once_per_group_version() -> None:
    server = FakeServer()
    async with make_client(server) as client:
        await client.get("v1", "Pod", "a")
        await client.get("v1", "ConfigMap", "b")
        await client.get("apps/v1", "Deployment", "c")
        await client.get("apps/v1", "Deployment", "d")
    assert server.discovery_fetches("/api/v1") == 1
    assert server.discovery_fetches("/apis/apps/v1") == 1


async def test_a_kind_missing_from_the_cache_is_looked_up_again() -> None:
    server = FakeServer()
    async with make_client(server) as client:
        with pytest.raises(NotFound) as err:
            await client.get("example.com/v1", "Widget", "w")
        assert err.value.message == 'no matches for kind "Widget" in version "example.com/v1"'
        # A CRD registers the kind later: the next call finds it.
        server.groups["/apis/example.com/v1"] = {"resources": [
            {"name": "widgets", "kind": "Widget", "namespaced": True}]}
        await client.get("example.com/v1", "Widget", "w")
    assert server.calls[-1].url.path == "/apis/example.com/v1/namespaces/default/widgets/w"


async def test_subresources_in_discovery_do_not_shadow_their_kind() -> None:
    server = FakeServer()
    server.groups["/api/v1"] = {"resources": [
        {"name": "pods/status", "kind": "Pod", "namespaced": True},
        {"name": "pods", "kind": "Pod", "namespaced": True},
    ]}
    async with make_client(server) as client:
        await client.get("v1", "Pod", "web")
    assert server.calls[0].url.path == "/api/v1/namespaces/default/pods/web"


# Query parameters and bodies ------------------------------------------------------------------


async def test_list_parameters_and_selector_dicts_become_selector_strings() -> None:
    server = FakeServer()
    async with make_client(server) as client:
        await client.list("v1", "Pod", namespace="x", label_selector={
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db", "cache"]}],
        }, field_selector="status.phase=Running", limit=10, continue_="tok", resource_version="0")
        await client.list("v1", "Pod", label_selector={})
    assert query(server.calls[0]) == {
        "labelSelector": "app=web,tier notin (cache,db)",
        "fieldSelector": "status.phase=Running",
        "limit": "10", "continue": "tok", "resourceVersion": "0",
    }
    assert query(server.calls[1]) == {}


@pytest.mark.parametrize(("patch_type", "content_type"), [
    ("json", "application/json-patch+json"),
    ("merge", "application/merge-patch+json"),
    ("strategic", "application/strategic-merge-patch+json"),
])
async def test_each_patch_type_has_its_content_type(patch_type: str, content_type: str) -> None:
    server = FakeServer()
    async with make_client(server) as client:
        await client.patch("v1", "Pod", "web", {"x": 1}, patch_type=patch_type)  # type: ignore[arg-type]
    request = server.calls[0]
    assert (request.method, request.headers["content-type"]) == ("PATCH", content_type)
    assert query(request) == {"fieldManager": "sandbox"}  # force only goes with apply
    assert json.loads(request.content) == {"x": 1}


async def test_server_side_apply_sends_field_manager_and_force() -> None:
    server = FakeServer()
    async with make_client(server) as client:
        await client.patch("apps/v1", "Deployment", "api", {"spec": {}}, patch_type="apply",
                           field_manager="kubectl", force=True, dry_run=True)
    request = server.calls[0]
    assert request.headers["content-type"] == "application/apply-patch+yaml"
    assert query(request) == {"fieldManager": "kubectl", "force": "true", "dryRun": "All"}
    assert yaml.safe_load(request.content) == {"spec": {}}


async def test_patch_status_goes_to_the_status_subresource() -> None:
    server = FakeServer()
    async with make_client(server) as client:
        await client.patch_status("apps/v1", "Deployment", "api", {"status": {"replicas": 1}})
    assert server.calls[0].url.path == "/apis/apps/v1/namespaces/default/deployments/api/status"


async def test_delete_sends_delete_options_and_returns_the_servers_object() -> None:
    server = FakeServer(lambda r: httpx.Response(200, json={"kind": "Pod", "metadata": {"name": "web"}}))
    async with make_client(server) as client:
        answer = await client.delete("v1", "Pod", "web", propagation_policy="Foreground",
                                     grace_period_seconds=0, preconditions={"uid": "u1"},
                                     dry_run=True)
        await client.delete("v1", "Pod", "web")
    assert answer == {"kind": "Pod", "metadata": {"name": "web"}}
    first, second = server.calls
    assert (first.method, first.headers["content-type"]) == ("DELETE", "application/json")
    assert json.loads(first.content) == {
        "kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground",
        "gracePeriodSeconds": 0, "preconditions": {"uid": "u1"}, "dryRun": ["All"]}
    assert json.loads(second.content) == {"kind": "DeleteOptions", "apiVersion": "v1"}


async def test_requests_carry_the_bearer_token_and_ask_for_json() -> None:
    server = FakeServer()
    async with make_client(server, token="s3cret") as client:
        await client.get("v1", "Pod", "web")
    for request in server.requests:
        assert request.headers["authorization"] == "Bearer s3cret"
        assert request.headers["accept"] == "application/json"
        assert request.headers["user-agent"].startswith("kf-sandbox/")


# Watch ------------------------------------------------------------------------------------


def ndjson(*events: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(e).encode() + b"\n" for e in events)


async def test_watch_streams_events_and_sends_its_parameters() -> None:
    body = ndjson(
        {"type": "ADDED", "object": {"metadata": {"name": "a", "resourceVersion": "5"}}},
        {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "6"}}},
    ) + b"\n" + ndjson({"type": "DELETED", "object": {"metadata": {"name": "a", "resourceVersion": "7"}}})
    server = FakeServer(lambda r: httpx.Response(200, content=body))
    async with make_client(server) as client:
        events = [e async for e in client.watch(
            "v1", "Pod", namespace="x", resource_version="4", label_selector="app=web",
            field_selector="metadata.name=a", allow_bookmarks=True, timeout_seconds=2.5)]
    assert [(e.type, e.resource_version) for e in events] == [
        ("ADDED", "5"), ("BOOKMARK", "6"), ("DELETED", "7")]
    assert server.calls[0].url.path == "/api/v1/namespaces/x/pods"
    assert query(server.calls[0]) == {
        "watch": "true", "resourceVersion": "4", "labelSelector": "app=web",
        "fieldSelector": "metadata.name=a", "allowWatchBookmarks": "true", "timeoutSeconds": "3"}


async def test_an_expired_watch_raises_gone_whether_as_event_or_answer() -> None:
    expired = status(410, "Expired", "too old resource version: 1 (124)")
    as_event = FakeServer(lambda r: httpx.Response(200, content=ndjson({"type": "ERROR", "object": expired})))
    as_answer = FakeServer(lambda r: httpx.Response(410, json=expired))
    for server in (as_event, as_answer):
        async with make_client(server) as client:
            with pytest.raises(Gone) as err:
                async for _ in client.watch("v1", "Pod", resource_version="1"):
                    pass
        assert err.value.message == "too old resource version: 1 (124)"


async def test_other_watch_errors_are_yielded_as_error_events() -> None:
    failure = status(500, "InternalError", "etcd went away")
    server = FakeServer(lambda r: httpx.Response(200, content=ndjson({"type": "ERROR", "object": failure})))
    async with make_client(server) as client:
        events = [e async for e in client.watch("v1", "Pod")]
    assert [(e.type, e.object["message"]) for e in events] == [("ERROR", "etcd went away")]


async def test_a_malformed_watch_line_is_an_internal_error() -> None:
    server = FakeServer(lambda r: httpx.Response(200, content=b"<html>proxy error</html>\n"))
    async with make_client(server) as client:
        with pytest.raises(InternalError, match="malformed watch event"):
            async for _ in client.watch("v1", "Pod"):
                pass


# Logs -------------------------------------------------------------------------------------


async def test_logs_send_kubectls_parameters() -> None:
    server = FakeServer(lambda r: httpx.Response(200, text="a\nb\n", headers={"content-type": "text/plain"}))
    async with make_client(server) as client:
        text = await client.logs("web", namespace="x", container="main", previous=True, tail_lines=2,
                                 since_seconds=60, timestamps=True)
        lines = [line async for line in client.follow_logs("web", namespace="x", tail_lines=0)]
    assert text == "a\nb\n"
    assert lines == ["a", "b"]
    first, second = server.calls
    assert first.url.path == "/api/v1/namespaces/x/pods/web/log"
    assert query(first) == {"container": "main", "tailLines": "2", "sinceSeconds": "60",
                            "timestamps": "true", "previous": "true"}
    assert query(second) == {"tailLines": "0", "follow": "true"}


# Errors ------------------------------------------------------------------------------------


async def test_status_answers_become_the_matching_errors() -> None:
    answers = {
        "missing": (404, status(404, "NotFound", 'pods "missing" not found', name="missing", kind="pods")),
        "stale": (409, status(409, "Conflict", "Operation cannot be fulfilled")),
        "dup": (409, status(409, "AlreadyExists", 'pods "dup" already exists')),
        "bad": (422, status(422, "Invalid", 'Pod "bad" is invalid: spec.containers: Required value',
                            name="bad", kind="Pod", causes=[{"reason": "FieldValueRequired",
                                                              "message": "Required value",
                                                              "field": "spec.containers"}])),
        "secret": (403, status(403, "Forbidden", 'pods "secret" is forbidden: User "bob" cannot get')),
    }
    def answer(request: httpx.Request) -> httpx.Response:
        code, body = answers[request.url.path.rsplit("/", 1)[-1]]
        return httpx.Response(code, json=body)

    expected = {"missing": NotFound, "stale": Conflict, "dup": AlreadyExists, "bad": Invalid,
                "secret": Forbidden}
    async with make_client(FakeServer(answer)) as client:
        for name, cls in expected.items():
            with pytest.raises(cls) as err:
                await client.get("v1", "Pod", name)
            assert err.value.message == answers[name][1]["message"]
            if cls is Invalid:
                assert [e.field for e in err.value.errors] == ["spec.containers"]  # type: ignore[attr-defined]


async def test_answers_without_a_status_get_client_gos_generic_messages() -> None:
    server = FakeServer(lambda r: httpx.Response(
        {"GET": 404, "POST": 409, "PUT": 409, "DELETE": 502}[r.method], text="upstream trouble"))
    async with make_client(server) as client:
        with pytest.raises(NotFound) as not_found:
            await client.get("v1", "Pod", "web")
        with pytest.raises(AlreadyExists) as exists:
            await client.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}})
        with pytest.raises(Conflict) as conflict:
            await client.replace({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}})
        with pytest.raises(InternalError) as internal:
            await client.delete("apps/v1", "Deployment", "api")
    assert not_found.value.message == "the server could not find the requested resource (get pods web)"
    assert exists.value.message == "the server reported a conflict (post pods)"
    assert conflict.value.message == "the server reported a conflict (put pods web)"
    assert internal.value.message == (
        'an error on the server ("upstream trouble") has prevented the request from succeeding '
        "(delete deployments.apps api)")


async def test_an_unreachable_server_is_service_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with KubeClient(server="https://127.0.0.1:1", transport=httpx.MockTransport(refuse)) as client:
        with pytest.raises(ServiceUnavailable) as err:
            await client.get("v1", "Pod", "web")
    assert err.value.message == "cannot reach the API server at https://127.0.0.1:1: connection refused"


# Construction -----------------------------------------------------------------------------


async def test_from_kubeconfig_uses_the_contexts_server_token_and_namespace(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump({
        "clusters": [{"name": "c", "cluster": {"server": "https://k8s.test:6443"}}],
        "users": [{"name": "u", "user": {"token": "t0k"}}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u", "namespace": "team"}}],
        "current-context": "ctx",
    }))
    server = FakeServer()
    async with KubeClient.from_kubeconfig(path, transport=httpx.MockTransport(server)) as client:
        assert client.server == "https://k8s.test:6443"
        await client.get("v1", "Pod", "web")
    request = server.calls[0]
    assert str(request.url) == "https://k8s.test:6443/api/v1/namespaces/team/pods/web"
    assert request.headers["authorization"] == "Bearer t0k"


def test_tls_material_is_loaded_from_data(tmp_path: Path) -> None:
    ca_pem, cert_pem, key_pem = make_ca_and_client_cert()
    client = KubeClient(server="https://127.0.0.1:6443", ca_data=ca_pem, client_cert=(cert_pem, key_pem))
    assert client.server == "https://127.0.0.1:6443"
    with pytest.raises(ssl.SSLError):
        KubeClient(server="https://127.0.0.1:6443", ca_data=b"-----BEGIN CERTIFICATE-----\nnope\n")


def make_ca_and_client_cert() -> tuple[bytes, bytes, bytes]:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def cert(subject: str, key: ec.EllipticCurvePrivateKey, issuer: str,
             issuer_key: ec.EllipticCurvePrivateKey, *, ca: bool) -> x509.Certificate:
        now = datetime.datetime.now(datetime.UTC)
        return (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                .sign(issuer_key, hashes.SHA256()))

    ca_key = ec.generate_private_key(ec.SECP256R1())
    client_key = ec.generate_private_key(ec.SECP256R1())
    ca = cert("sandbox-ca", ca_key, "sandbox-ca", ca_key, ca=True)
    client = cert("admin", client_key, "sandbox-ca", ca_key, ca=False)
    pem = serialization.Encoding.PEM
    return (
        ca.public_bytes(pem),
        client.public_bytes(pem),
        client_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )


# Raw requests ------------------------------------------------------------------------------


async def test_request_is_an_authenticated_raw_call_that_leaves_errors_to_the_caller(
    tmp_path: Path,
) -> None:
    from sandbox.backends.inprocess.apiserver import create_app
    from sandbox.backends.inprocess.apiserver.auth import Authenticator, TokenFile
    from sandbox.backends.inprocess.apiserver.bootstrap import ensure_default_rbac
    from sandbox.store import Store

    store = Store()
    ensure_default_rbac(store)
    tokens = TokenFile(tmp_path / "tokens.csv")
    token = tokens.add_user("kubernetes-admin", groups=("system:masters",))
    app = create_app(store=store, authenticator=Authenticator(tokens=tokens, store=store))
    async with KubeClient(server="https://apiserver.test", token=token,
                          transport=httpx.ASGITransport(app)) as client:
        assert client.server == "https://apiserver.test"
        created = await client.request(
            "POST", "/api/v1/namespaces/default/configmaps",
            json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})
        listed = await client.request("GET", "/api/v1/namespaces/default/configmaps",
                                      params={"fieldSelector": "metadata.name=x"})
        missing = await client.request("GET", "/api/v1/namespaces/default/configmaps/nope")
        faults = await client.request("POST", "/sandbox/v1/faults/pause-controller",
                                      content=b'{"controller": "deployment", "seconds": 5}',
                                      headers={"Content-Type": "application/json"})
    async with KubeClient(server="https://apiserver.test",
                          transport=httpx.ASGITransport(app)) as anonymous:
        unauthorized = await anonymous.request("GET", "/api/v1/namespaces")
    assert created.status_code == 201 and created.json()["metadata"]["name"] == "x"
    assert [i["metadata"]["name"] for i in listed.json()["items"]] == ["x"]
    assert missing.status_code == 404
    assert missing.json()["message"] == 'configmaps "nope" not found'
    assert faults.status_code == 404  # an app without a cluster serves no faults
    assert unauthorized.status_code == 401


async def test_request_passes_a_timeout_and_refuses_two_bodies() -> None:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503, text="busy")

    client = make_client(FakeServer(record), token="t0k")
    r = await client.request("GET", "/api/v1/namespaces/default/services/web:80/proxy/",
                             timeout=2.5)
    assert r.status_code == 503 and r.text == "busy"
    assert seen[0].headers["authorization"] == "Bearer t0k"
    assert seen[0].extensions["timeout"]["read"] == 2.5
    with pytest.raises(ValueError):
        await client.request("POST", "/x", json={}, content=b"{}")
    await client.close()


async def test_request_to_an_unreachable_server_is_service_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with KubeClient(server="https://127.0.0.1:1", transport=httpx.MockTransport(refuse)) as client:
        with pytest.raises(ServiceUnavailable) as err:
            await client.request("GET", "/version")
    assert err.value.message == "cannot reach the API server at https://127.0.0.1:1: connection refused"
