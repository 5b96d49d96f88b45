"""Discovery documents: what kubectl needs to resolve names, URLs, scopes and verbs."""

from __future__ import annotations

import gzip
import hashlib
import json

import pytest
from discovery_helpers import registry_with_tfjob

from sandbox.api.builtin_kinds import builtin_registry
from sandbox.api.errors import NotFound
from sandbox.backends.inprocess.apiserver.discovery import (
    aggregated,
    aggregated_content_type,
    api_group,
    api_groups,
    core_resources,
    core_versions,
    discovery_document,
    group_resources,
    negotiate_discovery,
    version_priority,
)

KUBECTL_127_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
)
KUBECTL_133_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
)
CLIENT_GO_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList;q=0.9,"
    "application/json;q=0.8"
)


def _entries(resource_list: dict) -> dict[str, dict]:
    return {entry["name"]: entry for entry in resource_list["resources"]}


def _aggregated_resources(doc: dict, group: str, version: str) -> dict[str, dict]:
    item = next(i for i in doc["items"] if i["metadata"]["name"] == group)
    listed = next(v for v in item["versions"] if v["version"] == version)
    return {r["resource"]: r for r in listed["resources"]}


# Legacy discovery ------------------------------------------------------------


def test_api_lists_the_core_version_and_the_server_address() -> None:
    assert core_versions(server_address="127.0.0.1:6443") == {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}
        ],
    }


def test_core_resource_list_names_pods_like_kube_apiserver() -> None:
    doc = core_resources(builtin_registry())
    assert (doc["kind"], doc["groupVersion"]) == ("APIResourceList", "v1")
    pods = _entries(doc)["pods"]
    assert pods == {
        "name": "pods",
        "singularName": "pod",
        "namespaced": True,
        "kind": "Pod",
        "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        "shortNames": ["po"],
        "categories": ["all"],
        # kube-apiserver 1.31 reports exactly this hash for v1 Pod.
        "storageVersionHash": "xPOwRZ+Yhw8=",
    }
    assert _entries(doc)["nodes"]["namespaced"] is False


def test_subresources_are_separate_entries_with_their_own_kind_and_verbs() -> None:
    core = _entries(core_resources(builtin_registry()))
    assert core["pods/log"] == {
        "name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod", "verbs": ["get"],
    }
    assert core["pods/status"]["verbs"] == ["get", "patch", "update"]
    assert core["pods/exec"]["kind"] == "PodExecOptions"
    assert core["nodes/proxy"]["kind"] == "NodeProxyOptions"
    assert (core["pods/eviction"]["group"], core["pods/eviction"]["version"],
            core["pods/eviction"]["kind"]) == ("policy", "v1", "Eviction")
    assert "group" not in core["pods/status"]

    apps = _entries(group_resources(builtin_registry(), "apps", "v1"))
    assert apps["deployments/scale"] == {
        "name": "deployments/scale",
        "singularName": "",
        "namespaced": True,
        "group": "autoscaling",
        "version": "v1",
        "kind": "Scale",
        "verbs": ["get", "patch", "update"],
    }


def test_unserved_group_version_is_not_found() -> None:
    with pytest.raises(NotFound) as caught:
        group_resources(builtin_registry(), "kubeflow.org", "v1")
    assert caught.value.status["code"] == 404
    with pytest.raises(NotFound):
        api_group(builtin_registry(), "kubeflow.org")


def test_group_list_has_no_core_group_and_keeps_kube_apiserver_order() -> None:
    groups = [g["name"] for g in api_groups(registry_with_tfjob())["groups"]]
    assert "" not in groups
    assert groups.index("apps") < groups.index("events.k8s.io") < groups.index("batch")
    # Custom groups follow the built-in ones.
    assert groups.index("kubeflow.org") > groups.index("coordination.k8s.io")


def test_preferred_version_is_the_highest_served_version() -> None:
    registry = registry_with_tfjob(versions=("v1beta1", "v1", "v1alpha1"), storage="v1beta1")
    kubeflow = next(g for g in api_groups(registry)["groups"] if g["name"] == "kubeflow.org")
    assert [v["version"] for v in kubeflow["versions"]] == ["v1", "v1beta1", "v1alpha1"]
    assert kubeflow["preferredVersion"] == {"groupVersion": "kubeflow.org/v1", "version": "v1"}
    assert api_group(registry, "kubeflow.org") == {"kind": "APIGroup", "apiVersion": "v1", **kubeflow}


def test_version_priority_is_kubernetes_version_order() -> None:
    versions = ["v1alpha1", "foo", "v2", "v1beta2", "v1", "v1beta1", "v10"]
    assert sorted(versions, key=version_priority) == [
        "v10", "v2", "v1", "v1beta2", "v1beta1", "v1alpha1", "foo",
    ]


def test_custom_resources_appear_and_disappear_with_their_crd() -> None:
    registry = registry_with_tfjob()
    tfjobs = _entries(group_resources(registry, "kubeflow.org", "v1"))
    assert tfjobs["tfjobs"]["shortNames"] == ["tfj"]
    assert tfjobs["tfjobs"]["categories"] == ["all", "kubeflow"]
    assert set(tfjobs) == {"tfjobs", "tfjobs/scale", "tfjobs/status"}
    before = discovery_document(registry, "/apis", accept=KUBECTL_133_ACCEPT)

    registry.unregister("kubeflow.org", "TFJob")

    assert "kubeflow.org" not in {g["name"] for g in api_groups(registry)["groups"]}
    with pytest.raises(NotFound):
        discovery_document(registry, "/apis/kubeflow.org/v1")
    after = discovery_document(registry, "/apis", accept=KUBECTL_133_ACCEPT)
    assert b"kubeflow.org" in before.body
    assert b"kubeflow.org" not in after.body
    assert before.etag != after.etag


# Aggregated discovery -----------------------------------------------------------


def test_aggregated_core_list_has_one_unnamed_group() -> None:
    doc = aggregated(builtin_registry(), core=True, version="v2")
    assert (doc["kind"], doc["apiVersion"]) == ("APIGroupDiscoveryList", "apidiscovery.k8s.io/v2")
    assert [item["metadata"]["name"] for item in doc["items"]] == [""]
    (version,) = doc["items"][0]["versions"]
    assert (version["version"], version["freshness"]) == ("v1", "Current")
    pods = _aggregated_resources(doc, "", "v1")["pods"]
    assert pods["responseKind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert (pods["scope"], pods["singularResource"], pods["shortNames"], pods["categories"]) == (
        "Namespaced", "pod", ["po"], ["all"],
    )
    log = next(s for s in pods["subresources"] if s["subresource"] == "log")
    assert log == {"subresource": "log", "responseKind": {"group": "", "version": "v1", "kind": "Pod"},
                   "verbs": ["get"]}


def test_aggregated_group_list_describes_scopes_and_scale() -> None:
    doc = aggregated(registry_with_tfjob(), core=False, version="v2")
    assert "" not in {item["metadata"]["name"] for item in doc["items"]}
    deployments = _aggregated_resources(doc, "apps", "v1")["deployments"]
    scale = next(s for s in deployments["subresources"] if s["subresource"] == "scale")
    assert scale["responseKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    assert _aggregated_resources(doc, "rbac.authorization.k8s.io", "v1")["clusterroles"]["scope"] == "Cluster"
    tfjobs = _aggregated_resources(doc, "kubeflow.org", "v1")["tfjobs"]
    assert tfjobs["responseKind"] == {"group": "kubeflow.org", "version": "v1", "kind": "TFJob"}
    assert [s["subresource"] for s in tfjobs["subresources"]] == ["scale", "status"]


def test_aggregated_versions_are_listed_preferred_first() -> None:
    registry = registry_with_tfjob(versions=("v1alpha1", "v1"), storage="v1alpha1")
    doc = aggregated(registry, core=False, version="v2")
    item = next(i for i in doc["items"] if i["metadata"]["name"] == "kubeflow.org")
    assert [v["version"] for v in item["versions"]] == ["v1", "v1alpha1"]


def test_aggregated_v2beta1_has_the_same_shape_as_v2() -> None:
    registry = registry_with_tfjob()
    v2 = aggregated(registry, core=False, version="v2")
    v2beta1 = aggregated(registry, core=False, version="v2beta1")
    assert v2beta1["apiVersion"] == "apidiscovery.k8s.io/v2beta1"
    assert {**v2beta1, "apiVersion": v2["apiVersion"]} == v2
    with pytest.raises(ValueError):
        aggregated(registry, core=False, version="v3")


# Negotiation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (KUBECTL_127_ACCEPT, "v2beta1"),
        (KUBECTL_133_ACCEPT, "v2"),
        (CLIENT_GO_ACCEPT, "v2"),
        # The preferred clause wins, whatever the order of the list.
        ("application/json;q=0.5,application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", "v2"),
        ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;q=0.5,application/json", None),
        # Protobuf and unknown versions are skipped: the next clause decides.
        ("application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
         "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList", "v2beta1"),
        ("application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList,application/json", None),
        ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;q=0", None),
        ("application/json", None),
        ("*/*", None),
        ("", None),
        (None, None),
    ],
)
def test_negotiation_answers_only_in_a_form_the_client_listed(accept: str | None, expected: str | None) -> None:
    assert negotiate_discovery(accept) == expected


def test_aggregated_content_type_is_exactly_what_kubectl_expects() -> None:
    assert aggregated_content_type("v2") == (
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    )


# Serving ------------------------------------------------------------------------------------


def test_document_for_apis_is_negotiated() -> None:
    registry = registry_with_tfjob()
    old = discovery_document(registry, "/apis", accept=KUBECTL_127_ACCEPT)
    assert old.content_type == aggregated_content_type("v2beta1")
    assert json.loads(old.body) == aggregated(registry, core=False, version="v2beta1")
    legacy = discovery_document(registry, "/apis/", accept="application/json")
    assert legacy.content_type == "application/json"
    assert json.loads(legacy.body) == api_groups(registry)
    core = discovery_document(registry, "/api", accept=KUBECTL_133_ACCEPT)
    assert json.loads(core.body) == aggregated(registry, core=True, version="v2")


def test_documents_for_each_legacy_path() -> None:
    registry = registry_with_tfjob()
    assert json.loads(discovery_document(registry, "/api", server_address="10.0.0.1:443").body) == core_versions(
        server_address="10.0.0.1:443"
    )
    assert json.loads(discovery_document(registry, "/api/v1").body) == core_resources(registry)
    assert json.loads(discovery_document(registry, "/apis/kubeflow.org").body) == api_group(registry, "kubeflow.org")
    assert json.loads(discovery_document(registry, "/apis/kubeflow.org/v1").body) == group_resources(
        registry, "kubeflow.org", "v1"
    )
    for path in ("/api/v2", "/apis/apps/v1/deployments", "/healthz"):
        with pytest.raises(NotFound):
            discovery_document(registry, path)


def test_documents_are_cached_per_registry_state() -> None:
    registry = builtin_registry()
    first = discovery_document(registry, "/api/v1")
    assert discovery_document(builtin_registry(), "/api/v1") is first
    for rt in registry_with_tfjob().all():
        registry.register(rt)
    assert discovery_document(registry, "/api/v1") is not first
    assert discovery_document(registry, "/api/v1").etag == first.etag


def test_document_carries_a_hash_etag_and_gzip_form() -> None:
    doc = discovery_document(builtin_registry(), "/apis")
    assert doc.hash == hashlib.sha512(doc.body).hexdigest().upper()
    assert doc.etag == f'"{doc.hash}"'
    assert gzip.decompress(doc.gzipped) == doc.body
