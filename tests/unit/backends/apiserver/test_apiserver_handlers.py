"""The REST verbs over the store: CRUD, patches, DeleteOptions, lists, selectors, dry runs."""

from __future__ import annotations

import json

import pytest
from apiserver_helpers import api_client, config_map, deployment, pod, widget, widget_crd

from sandbox.backends.inprocess.apiserver import create_app
from sandbox.store import Store

CMS = "/api/v1/namespaces/default/configmaps"


@pytest.fixture
def app(store: Store):
    return create_app(store=store)


async def test_create_answers_201_with_the_stored_object(app, store: Store) -> None:
    async with api_client(app) as c:
        r = await c.post(CMS, json=config_map("a"))
    assert r.status_code == 201
    body = r.json()
    assert body["metadata"]["uid"] and body["metadata"]["resourceVersion"]
    assert store.get("v1", "ConfigMap", "a", namespace="default")["data"] == {"key": "value"}


async def test_a_body_without_content_type_or_kind_is_json_of_the_urls_kind(app) -> None:
    async with api_client(app) as c:
        r = await c.post(CMS, content=json.dumps({"metadata": {"name": "a"}, "data": {"x": "1"}}),
                         headers={"content-type": ""})
    assert r.status_code == 201
    assert (r.json()["kind"], r.json()["apiVersion"]) == ("ConfigMap", "v1")


async def test_yaml_bodies_are_accepted(app) -> None:
    async with api_client(app) as c:
        r = await c.post(CMS, content=b"metadata: {name: y}\ndata: {k: v}\n",
                         headers={"content-type": "application/yaml"})
    assert r.status_code == 201 and r.json()["data"] == {"k": "v"}


async def test_undecodable_protobuf_bodies_are_refused_with_415(app) -> None:
    async with api_client(app) as c:
        r = await c.post(CMS, content=b"k8s\x00...",
                         headers={"content-type": "application/vnd.kubernetes.protobuf"})
    assert r.status_code == 415
    assert r.json()["reason"] == "UnsupportedMediaType"


async def test_create_twice_is_409_already_exists(app) -> None:
    async with api_client(app) as c:
        await c.post(CMS, json=config_map("a"))
        r = await c.post(CMS, json=config_map("a"))
    assert r.status_code == 409
    assert r.json()["message"] == 'configmaps "a" already exists'


async def test_create_in_a_missing_namespace_is_404(app) -> None:
    async with api_client(app) as c:
        r = await c.post("/api/v1/namespaces/nope/configmaps", json=config_map("a", namespace="nope"))
    assert r.status_code == 404
    assert r.json()["message"] == 'namespaces "nope" not found'


async def test_invalid_object_is_422_with_causes(app) -> None:
    bad = pod("bad")
    bad["spec"]["containers"] = []
    async with api_client(app) as c:
        r = await c.post("/api/v1/namespaces/default/pods", json=bad)
    assert r.status_code == 422
    assert r.json()["message"] == 'Pod "bad" is invalid: spec.containers: Required value'
    assert r.json()["details"]["causes"][0]["field"] == "spec.containers"


async def test_a_body_of_another_api_version_is_400(app) -> None:
    obj = config_map("a")
    obj["apiVersion"] = "v2"
    async with api_client(app) as c:
        r = await c.post(CMS, json=obj)
    assert r.status_code == 400
    assert "does not match the expected API version (v1)" in r.json()["message"]


async def test_cluster_scoped_objects_live_outside_namespaces(app) -> None:
    async with api_client(app) as c:
        r = await c.post("/api/v1/namespaces", json={"metadata": {"name": "team"}})
        assert r.status_code == 201
        got = await c.get("/api/v1/namespaces/team")
        bad_scope = await c.get("/api/v1/namespaces/team/nodes/x")
    assert got.json()["status"]["phase"] == "Active"
    assert bad_scope.status_code == 404


async def test_get_missing_is_404_status_naming_the_resource(app) -> None:
    async with api_client(app) as c:
        r = await c.get(f"{CMS}/nope")
    assert r.status_code == 404
    assert r.json() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'configmaps "nope" not found', "reason": "NotFound", "code": 404,
        "details": {"name": "nope", "kind": "configmaps"},
    }


async def test_unknown_resources_and_paths_are_plain_404(app) -> None:
    async with api_client(app) as c:
        for path in ("/api/v1/namespaces/default/widgets", "/apis/nope.io/v1/things", "/metrics"):
            r = await c.get(path)
            assert r.status_code == 404, path
            assert r.json()["message"] == "the server could not find the requested resource"


async def test_update_with_a_stale_resource_version_is_409_conflict(app) -> None:
    async with api_client(app) as c:
        created = (await c.post(CMS, json=config_map("a"))).json()
        stale = dict(created, data={"k": "1"})
        assert (await c.put(f"{CMS}/a", json=stale)).status_code == 200
        r = await c.put(f"{CMS}/a", json=dict(created, data={"k": "2"}))
    assert r.status_code == 409
    assert r.json()["message"].startswith('Operation cannot be fulfilled on configmaps "a"')


async def test_update_whose_body_names_another_object_is_400(app) -> None:
    async with api_client(app) as c:
        await c.post(CMS, json=config_map("a"))
        r = await c.put(f"{CMS}/a", json=config_map("b"))
    assert r.status_code == 400
    assert r.json()["message"] == "the name of the object (b) does not match the name on the URL (a)"


async def test_dry_run_create_is_answered_but_not_stored(app, store: Store) -> None:
    async with api_client(app) as c:
        r = await c.post(f"{CMS}?dryRun=All", json=config_map("a"))
        bad = await c.post(f"{CMS}?dryRun=Some", json=config_map("b"))
    assert r.status_code == 201 and r.json()["metadata"]["name"] == "a"
    assert store.list("v1", "ConfigMap", namespace="default")["items"] == []
    assert bad.status_code == 400


async def test_field_manager_defaults_to_the_user_agents_program(app) -> None:
    async with api_client(app) as c:
        r = await c.post(CMS, json=config_map("a"), headers={"user-agent": "kubectl/v1.31.9 (linux)"})
        named = await c.post(f"{CMS}?fieldManager=mine", json=config_map("b"))
    assert r.json()["metadata"]["managedFields"][0]["manager"] == "kubectl"
    assert named.json()["metadata"]["managedFields"][0]["manager"] == "mine"


# Field validation ---------------------------------------------------------------------


async def test_strict_field_validation_refuses_unknown_fields_like_kube_apiserver(app) -> None:
    obj = pod("p")
    obj["spec"]["foo"] = 1
    async with api_client(app) as c:
        r = await c.post("/api/v1/namespaces/default/pods?fieldValidation=Strict", json=obj)
    assert r.status_code == 400
    assert r.json()["message"] == (
        'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.foo"'
    )


async def test_warn_field_validation_stores_and_warns(app) -> None:
    obj = pod("p")
    obj["spec"]["foo"] = 1
    async with api_client(app) as c:
        r = await c.post("/api/v1/namespaces/default/pods?fieldValidation=Warn", json=obj)
        ignored = await c.post("/api/v1/namespaces/default/pods?fieldValidation=Ignore",
                               json=dict(obj, metadata={"name": "q"}))
    assert r.status_code == 201
    assert r.headers["warning"] == '299 - "unknown field \\"spec.foo\\""'
    assert ignored.status_code == 201 and "warning" not in ignored.headers


async def test_strict_validation_ignores_strategic_merge_directives(app) -> None:
    async with api_client(app) as c:
        await c.post("/api/v1/namespaces/default/pods", json=pod("p", containers=("a", "b")))
        r = await c.patch(
            "/api/v1/namespaces/default/pods/p?fieldValidation=Strict",
            json={"spec": {"$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
                           "containers": [{"name": "a", "image": "python:3.12"}]}},
            headers={"content-type": "application/strategic-merge-patch+json"})
    assert r.status_code == 200, r.text
    images = [c["image"] for c in r.json()["spec"]["containers"]]
    assert images == ["python:3.12", "python:3.11"]
    assert "$setElementOrder/containers" not in r.json()["spec"]


async def test_strict_validation_of_custom_resources_uses_the_crd_schema(app) -> None:
    async with api_client(app) as c:
        await c.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=widget_crd())
        bad = widget("w")
        bad["spec"]["bogus"] = True
        r = await c.post("/apis/example.com/v1/namespaces/default/widgets?fieldValidation=Strict",
                         json=bad)
    assert r.status_code == 400
    assert r.json()["message"].endswith('strict decoding error: unknown field "spec.bogus"')


# Patches ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("content_type", "patch"), [
    ("application/merge-patch+json", {"data": {"key": "patched"}}),
    ("application/strategic-merge-patch+json", {"data": {"key": "patched"}}),
    ("application/json-patch+json", [{"op": "replace", "path": "/data/key", "value": "patched"}]),
])
async def test_each_patch_type_changes_the_object(app, content_type: str, patch) -> None:
    async with api_client(app) as c:
        await c.post(CMS, json=config_map("a"))
        r = await c.patch(f"{CMS}/a", content=json.dumps(patch), headers={"content-type": content_type})
    assert r.status_code == 200
    assert r.json()["data"]["key"] == "patched"


async def test_server_side_apply_creates_with_201_then_updates_with_200(app) -> None:
    body = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {key: one}\n"
    headers = {"content-type": "application/apply-patch+yaml"}
    async with api_client(app) as c:
        created = await c.patch(f"{CMS}/a?fieldManager=me&force=false", content=body, headers=headers)
        updated = await c.patch(f"{CMS}/a?fieldManager=me", content=body.replace("one", "two"),
                                headers=headers)
        anonymous = await c.patch(f"{CMS}/a", content=body, headers=headers)
    assert created.status_code == 201
    assert updated.status_code == 200 and updated.json()["data"]["key"] == "two"
    assert anonymous.status_code == 400
    assert "requires fieldManager" in anonymous.json()["message"]


async def test_strategic_merge_patch_on_a_custom_resource_is_415(app) -> None:
    async with api_client(app) as c:
        await c.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=widget_crd())
        await c.post("/apis/example.com/v1/namespaces/default/widgets", json=widget("w"))
        r = await c.patch("/apis/example.com/v1/namespaces/default/widgets/w",
                          json={"spec": {"size": 2}},
                          headers={"content-type": "application/strategic-merge-patch+json"})
        merged = await c.patch("/apis/example.com/v1/namespaces/default/widgets/w",
                               json={"spec": {"size": 2}},
                               headers={"content-type": "application/merge-patch+json"})
    assert r.status_code == 415
    assert r.json()["message"] == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    )
    assert merged.status_code == 200 and merged.json()["spec"]["size"] == 2


async def test_a_patch_without_a_patch_content_type_is_415(app) -> None:
    async with api_client(app) as c:
        await c.post(CMS, json=config_map("a"))
        r = await c.patch(f"{CMS}/a", json={"data": {}})
    assert r.status_code == 415


async def test_force_is_only_for_apply_patches(app) -> None:
    async with api_client(app) as c:
        await c.post(CMS, json=config_map("a"))
        r = await c.patch(f"{CMS}/a?force=true", json={"data": {}},
                          headers={"content-type": "application/merge-patch+json"})
    assert r.status_code == 400
    assert r.json()["message"] == "force: Forbidden: may not be specified for non-apply patch"


# Deletion ------------------------------------------------------------------------------------


async def test_delete_answers_the_deleted_object(app, store: Store) -> None:
    async with api_client(app) as c:
        await c.post(CMS, json=config_map("a"))
        r = await c.delete(f"{CMS}/a")
    assert r.status_code == 200
    assert r.json()["kind"] == "ConfigMap" and r.json()["metadata"]["name"] == "a"
    assert store.list("v1", "ConfigMap", namespace="default")["items"] == []


async def test_delete_options_in_the_body_set_the_propagation_policy(app, store: Store) -> None:
    async with api_client(app) as c:
        await c.post("/apis/apps/v1/namespaces/default/deployments", json=deployment("web"))
        r = await c.request("DELETE", "/apis/apps/v1/namespaces/default/deployments/web",
                            json={"kind": "DeleteOptions", "apiVersion": "v1",
                                  "propagationPolicy": "Orphan"})
    assert r.status_code == 200
    assert r.json()["metadata"]["finalizers"] == ["orphan"]
    assert r.json()["metadata"]["deletionTimestamp"]


async def test_delete_options_in_the_query_and_preconditions(app) -> None:
    async with api_client(app) as c:
        await c.post("/apis/apps/v1/namespaces/default/deployments", json=deployment("web"))
        stale = await c.request("DELETE", "/apis/apps/v1/namespaces/default/deployments/web",
                                json={"preconditions": {"resourceVersion": "1"}})
        foreground = await c.delete(
            "/apis/apps/v1/namespaces/default/deployments/web?propagationPolicy=Foreground")
        dry = await c.delete(f"{CMS}/x?dryRun=All")
    assert stale.status_code == 409
    assert stale.json()["message"].startswith("Precondition failed: ResourceVersion in precondition: 1")
    assert foreground.json()["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert dry.status_code == 404


async def test_deletecollection_deletes_what_the_selector_matches(app, store: Store) -> None:
    async with api_client(app) as c:
        for name, tier in (("a", "web"), ("b", "web"), ("c", "db")):
            await c.post(CMS, json=config_map(name, labels={"tier": tier}))
        r = await c.delete(f"{CMS}?labelSelector=tier%3Dweb")
    assert r.status_code == 200
    assert r.json()["kind"] == "ConfigMapList"
    assert sorted(i["metadata"]["name"] for i in r.json()["items"]) == ["a", "b"]
    left = store.list("v1", "ConfigMap", namespace="default")["items"]
    assert [i["metadata"]["name"] for i in left] == ["c"]


async def test_verbs_a_resource_does_not_serve_are_405(app) -> None:
    async with api_client(app) as c:
        r = await c.get("/api/v1/namespaces/default/bindings")
        ns = await c.delete("/api/v1/namespaces")
        everywhere = await c.post("/api/v1/configmaps", json=config_map("a"))
    assert r.status_code == 405 and r.json()["reason"] == "MethodNotAllowed"
    assert ns.status_code == 405
    assert everywhere.status_code == 405  # across namespaces: list and watch only


# Lists ---------------------------------------------------------------------------------------


async def test_list_has_kind_version_and_items_with_kind(app) -> None:
    async with api_client(app) as c:
        await c.post(CMS, json=config_map("a"))
        r = await c.get(CMS)
        everywhere = await c.get("/api/v1/configmaps")
    body = r.json()
    assert body["kind"] == "ConfigMapList" and body["metadata"]["resourceVersion"]
    assert body["items"][0]["kind"] == "ConfigMap"
    assert [i["metadata"]["name"] for i in everywhere.json()["items"]] == ["a"]


async def test_pagination_with_limit_and_continue(app) -> None:
    async with api_client(app) as c:
        for name in "abcde":
            await c.post(CMS, json=config_map(name))
        first = (await c.get(f"{CMS}?limit=2")).json()
        second = (await c.get(f"{CMS}?limit=2&continue={first['metadata']['continue']}")).json()
        bad = await c.get(f"{CMS}?limit=2&continue=garbage")
    assert [i["metadata"]["name"] for i in first["items"]] == ["a", "b"]
    assert first["metadata"]["remainingItemCount"] == 3
    assert [i["metadata"]["name"] for i in second["items"]] == ["c", "d"]
    assert bad.status_code == 400


async def test_label_and_field_selectors_filter_lists(app) -> None:
    async with api_client(app) as c:
        await c.post(CMS, json=config_map("a", labels={"app": "x"}))
        await c.post(CMS, json=config_map("b", labels={"app": "y"}))
        by_label = (await c.get(CMS, params={"labelSelector": "app in (y)"})).json()
        by_field = (await c.get(CMS, params={"fieldSelector": "metadata.name=a"})).json()
        unsupported = await c.get(CMS, params={"fieldSelector": "data.key=value"})
    assert [i["metadata"]["name"] for i in by_label["items"]] == ["b"]
    assert [i["metadata"]["name"] for i in by_field["items"]] == ["a"]
    assert unsupported.status_code == 400


async def test_resource_version_match_exact_on_an_old_version_is_410(app) -> None:
    async with api_client(app) as c:
        await c.post(CMS, json=config_map("a"))
        await c.post(CMS, json=config_map("b"))
        r = await c.get(CMS, params={"resourceVersion": "1", "resourceVersionMatch": "Exact"})
    assert r.status_code == 410 and r.json()["reason"] == "Expired"


async def test_yaml_answers_when_yaml_is_accepted(app) -> None:
    async with api_client(app) as c:
        await c.post(CMS, json=config_map("a"))
        r = await c.get(f"{CMS}/a", headers={"accept": "application/yaml"})
    assert r.headers["content-type"] == "application/yaml"
    assert "kind: ConfigMap" in r.text


async def test_only_protobuf_accepted_is_406(app) -> None:
    async with api_client(app) as c:
        r = await c.get(CMS, headers={"accept": "application/vnd.kubernetes.protobuf"})
        fallback = await c.get(CMS, headers={"accept": "application/vnd.kubernetes.protobuf,application/json"})
    assert r.status_code == 406
    assert fallback.status_code == 200
