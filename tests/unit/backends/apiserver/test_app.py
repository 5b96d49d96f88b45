"""The app's pipeline: version, health, discovery and OpenAPI routes, errors as Status."""

from __future__ import annotations

import pytest
from apiserver_helpers import api_client

from sandbox.backends.inprocess.apiserver import create_app
from sandbox.store import Store

AGGREGATED = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
              "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
              "application/json")


@pytest.fixture
def app(store: Store):
    return create_app(store=store)


async def test_version_reports_kubernetes_1_31(app) -> None:
    async with api_client(app) as c:
        r = await c.get("/version")
    assert r.json()["major"] == "1" and r.json()["minor"] == "31"
    assert r.json()["gitVersion"] == "v1.31.0-sandbox"


async def test_health_endpoints_and_verbose_checks(app) -> None:
    async with api_client(app) as c:
        plain = [await c.get(p) for p in ("/healthz", "/livez", "/readyz", "/readyz/ping")]
        verbose = await c.get("/readyz?verbose")
        app.state.api.state.shutdown.set()
        stopping = await c.get("/readyz")
        alive = await c.get("/livez")
    assert [r.text for r in plain] == ["ok"] * 4
    assert "[+]shutdown ok" in verbose.text and verbose.text.endswith("readyz check passed\n")
    assert stopping.status_code == 500 and "[-]shutdown failed" in stopping.text
    assert alive.status_code == 200


async def test_discovery_is_served_legacy_and_aggregated(app) -> None:
    async with api_client(app) as c:
        core = await c.get("/api/v1")
        legacy = await c.get("/apis")
        aggregated = await c.get("/apis", headers={"accept": AGGREGATED})
        group = await c.get("/apis/apps")
    assert core.json()["kind"] == "APIResourceList"
    assert legacy.json()["kind"] == "APIGroupList"
    assert aggregated.headers["content-type"] == (
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
    assert group.json()["kind"] == "APIGroup"


async def test_unchanged_documents_answer_304(app) -> None:
    async with api_client(app) as c:
        first = await c.get("/openapi/v3")
        again = await c.get("/openapi/v3", headers={"if-none-match": first.headers["etag"]})
    assert first.status_code == 200 and "api/v1" in first.json()["paths"]
    assert again.status_code == 304


async def test_openapi_v2_is_json_or_protobuf_as_asked(app) -> None:
    async with api_client(app) as c:
        as_json = await c.get("/openapi/v2")
        as_proto = await c.get("/openapi/v2", headers={
            "accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"})
    assert as_json.json()["swagger"] == "2.0"
    assert "protobuf" in as_proto.headers["content-type"]


async def test_writes_to_non_resource_paths_are_404(app) -> None:
    async with api_client(app) as c:
        r = await c.post("/version", json={})
    assert r.status_code == 404 and r.json()["kind"] == "Status"


async def test_an_unexpected_failure_is_a_500_status(app, store: Store, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(store, "list", broken)
    async with api_client(app) as c:
        r = await c.get("/api/v1/pods")
    assert r.status_code == 500
    assert r.json()["reason"] == "InternalError"
