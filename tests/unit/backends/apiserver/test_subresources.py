"""Subresources: status, scale (built-in and CRD), binding, eviction, finalize, streaming ones."""

from __future__ import annotations

import base64

import pytest
from apiserver_helpers import api_client, deployment, pod, widget, widget_crd

from sandbox.backends.inprocess.apiserver import create_app
from sandbox.store import Store

DEPLOY = "/apis/apps/v1/namespaces/default/deployments/web"
WIDGET = "/apis/example.com/v1/namespaces/default/widgets/w"


@pytest.fixture
def app(store: Store):
    return create_app(store=store)


async def test_status_put_and_patch_write_status_only(app) -> None:
    async with api_client(app) as c:
        created = (await c.post("/apis/apps/v1/namespaces/default/deployments",
                                json=deployment("web"))).json()
        created["status"] = {"replicas": 7}
        created["spec"]["replicas"] = 5
        put = await c.put(f"{DEPLOY}/status", json=created)
        patched = await c.patch(f"{DEPLOY}/status", json={"status": {"readyReplicas": 3}},
                                headers={"content-type": "application/merge-patch+json"})
        got = await c.get(f"{DEPLOY}/status")
    assert put.status_code == 200
    assert put.json()["status"]["replicas"] == 7 and put.json()["spec"]["replicas"] == 1
    assert patched.json()["status"]["readyReplicas"] == 3
    assert got.json()["kind"] == "Deployment"


async def test_scale_of_a_deployment_reads_and_sets_replicas(app, store: Store) -> None:
    async with api_client(app) as c:
        await c.post("/apis/apps/v1/namespaces/default/deployments", json=deployment("web"))
        scale = (await c.get(f"{DEPLOY}/scale")).json()
        patched = await c.patch(f"{DEPLOY}/scale", json={"spec": {"replicas": 3}},
                                headers={"content-type": "application/merge-patch+json"})
        scale["spec"]["replicas"] = 4
        stale = dict(scale, metadata=dict(scale["metadata"]))
        put = await c.put(f"{DEPLOY}/scale", json=stale)
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["status"]["selector"] == "app=web"
    assert patched.status_code == 200 and patched.json()["spec"]["replicas"] == 3
    assert store.get("apps/v1", "Deployment", "web", namespace="default")["spec"]["replicas"] == 3
    assert put.status_code == 409  # the Scale's resourceVersion is from before the patch


async def test_scale_refuses_negative_replicas_with_422(app) -> None:
    async with api_client(app) as c:
        await c.post("/apis/apps/v1/namespaces/default/deployments", json=deployment("web"))
        r = await c.patch(f"{DEPLOY}/scale", json={"spec": {"replicas": -1}},
                          headers={"content-type": "application/merge-patch+json"})
    assert r.status_code == 422
    assert r.json()["message"] == (
        'Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: '
        "must be greater than or equal to 0"
    )


async def test_scale_of_a_custom_resource_follows_the_crds_paths(app, store: Store) -> None:
    async with api_client(app) as c:
        await c.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=widget_crd())
        await c.post("/apis/example.com/v1/namespaces/default/widgets", json=widget("w", replicas=2))
        await c.patch(f"{WIDGET}/status", json={"status": {"replicas": 2, "selector": "app=w"}},
                      headers={"content-type": "application/merge-patch+json"})
        scale = (await c.get(f"{WIDGET}/scale")).json()
        r = await c.patch(f"{WIDGET}/scale", json=[{"op": "replace", "path": "/spec/replicas",
                                                     "value": 5}],
                          headers={"content-type": "application/json-patch+json"})
    assert scale["spec"] == {"replicas": 2}
    assert scale["status"] == {"replicas": 2, "selector": "app=w"}
    assert r.json()["spec"]["replicas"] == 5
    assert store.get("example.com/v1", "Widget", "w", namespace="default")["spec"]["replicas"] == 5


async def test_a_kind_without_the_subresource_is_404(app) -> None:
    async with api_client(app) as c:
        await c.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                     json=widget_crd(scale=False))
        await c.post("/apis/example.com/v1/namespaces/default/widgets", json=widget("w"))
        r = await c.get(f"{WIDGET}/scale")
        cm = await c.get("/api/v1/namespaces/default/configmaps/x/status")
    assert r.status_code == 404 and cm.status_code == 404


async def test_binding_assigns_a_node(app, store: Store) -> None:
    async with api_client(app) as c:
        await c.post("/api/v1/namespaces/default/pods", json=pod("p"))
        r = await c.post("/api/v1/namespaces/default/pods/p/binding",
                         json={"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"},
                               "target": {"kind": "Node", "name": "node-1"}})
        again = await c.post("/api/v1/namespaces/default/pods/p/binding",
                             json={"target": {"kind": "Node", "name": "node-2"}})
    assert r.status_code == 201 and r.json()["status"] == "Success"
    assert store.get("v1", "Pod", "p", namespace="default")["spec"]["nodeName"] == "node-1"
    assert again.status_code == 409


async def test_eviction_deletes_the_pod(app, store: Store) -> None:
    async with api_client(app) as c:
        await c.post("/api/v1/namespaces/default/pods", json=pod("p"))
        r = await c.post("/api/v1/namespaces/default/pods/p/eviction",
                         json={"apiVersion": "policy/v1", "kind": "Eviction",
                               "metadata": {"name": "p", "namespace": "default"}})
    assert r.status_code == 201
    assert store.list("v1", "Pod", namespace="default")["items"] == []


async def test_finalize_sets_a_namespaces_finalizers(app, store: Store) -> None:
    async with api_client(app) as c:
        ns = (await c.post("/api/v1/namespaces", json={"metadata": {"name": "team"}})).json()
        ns["spec"] = {"finalizers": []}
        r = await c.put("/api/v1/namespaces/team/finalize", json=ns)
        wrong = await c.post("/api/v1/namespaces/team/finalize", json=ns)
    assert r.status_code == 200 and r.json()["spec"]["finalizers"] == []
    assert wrong.status_code == 405


@pytest.mark.parametrize("sub", ["exec", "attach", "portforward"])
async def test_streaming_subresources_say_they_are_not_supported(app, sub: str) -> None:
    async with api_client(app) as c:
        await c.post("/api/v1/namespaces/default/pods", json=pod("p"))
        r = await c.post(f"/api/v1/namespaces/default/pods/p/{sub}?command=ls")
    assert r.status_code == 400
    assert r.json()["message"].startswith(f"pods/{sub} is not supported by kf-sandbox")


async def test_token_request_hands_out_the_service_accounts_token(app, store: Store) -> None:
    account = store.create("v1", "ServiceAccount", {"metadata": {"name": "robot",
                                                                 "namespace": "default"}})
    url = "/api/v1/namespaces/default/serviceaccounts/robot/token"
    async with api_client(app) as c:
        early = await c.post(url, json={"spec": {}})
        store.create("v1", "Secret", {
            "metadata": {"name": "robot-token", "namespace": "default",
                         "annotations": {"kubernetes.io/service-account.name": "robot",
                                         "kubernetes.io/service-account.uid":
                                             account["metadata"]["uid"]}},
            "type": "kubernetes.io/service-account-token",
            "data": {"token": base64.b64encode(b"robot-secret").decode()}})
        r = await c.post(url, json={"apiVersion": "authentication.k8s.io/v1",
                                    "kind": "TokenRequest",
                                    "spec": {"audiences": None, "expirationSeconds": 600}})
        missing = await c.post("/api/v1/namespaces/default/serviceaccounts/nope/token", json={})
    assert early.status_code == 500 and "has no token Secret yet" in early.json()["message"]
    assert r.status_code == 201
    assert r.json()["status"]["token"] == "robot-secret"
    assert r.json()["spec"]["expirationSeconds"] == 600
    assert r.json()["spec"]["audiences"] == ["https://kubernetes.default.svc.cluster.local"]
    assert missing.status_code == 404


async def test_a_scale_patch_is_not_a_precondition_on_the_workloads_version(app, store) -> None:
    async with api_client(app) as c:
        await c.post("/apis/apps/v1/namespaces/default/deployments", json=deployment("web"))
    sent: list[dict] = []

    async def receive() -> dict:
        # A controller writes the Deployment while the request body is still arriving.
        store.patch("apps/v1", "Deployment", "web", {"status": {"replicas": 1}},
                    namespace="default", subresource="status")
        return {"type": "http.request", "body": b'{"spec":{"replicas":2}}', "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await app({"type": "http", "method": "PATCH", "path": f"{DEPLOY}/scale", "query_string": b"",
               "headers": [(b"content-type", b"application/merge-patch+json")]}, receive, send)
    assert sent[0]["status"] == 200
    assert store.get("apps/v1", "Deployment", "web", namespace="default")["spec"]["replicas"] == 2
    async with api_client(app) as c:
        stale = await c.patch(f"{DEPLOY}/scale",
                              json={"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 3}},
                              headers={"content-type": "application/merge-patch+json"})
    assert stale.status_code == 409
