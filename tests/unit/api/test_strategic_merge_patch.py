"""Strategic merge patch on built-in kinds, driven by hand-written schemas like Kubernetes'."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.api.errors import BadRequest, InternalError, UnsupportedMediaType
from sandbox.api.patch import (
    apply_merge_patch,
    apply_strategic_merge_patch,
    strategic_merge_unsupported,
)

# Schemas shaped like Kubernetes' OpenAPI v3, $refs resolved ------------------------------

STRING = {"type": "string"}
INT = {"type": "integer"}
STRING_MAP = {"type": "object", "additionalProperties": STRING}


def obj(**props: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props}


def merge_list(key: str, items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items,
            "x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": key}


META = obj(
    name=STRING, labels=STRING_MAP, annotations=STRING_MAP,
    finalizers={"type": "array", "items": STRING, "x-kubernetes-patch-strategy": "merge"},
)
CONTAINER = obj(
    name=STRING, image=STRING,
    args={"type": "array", "items": STRING},
    ports=merge_list("containerPort", obj(containerPort=INT, name=STRING, protocol=STRING)),
    env=merge_list("name", obj(name=STRING, value=STRING)),
)
VOLUME = obj(name=STRING, emptyDir=obj(medium=STRING), hostPath=obj(path=STRING))
POD_SPEC = obj(
    containers=merge_list("name", CONTAINER),
    volumes={**merge_list("name", VOLUME), "x-kubernetes-patch-strategy": "merge,retainKeys"},
    hostAliases=merge_list("ip", obj(ip=STRING, hostnames={"type": "array", "items": STRING})),
    tolerations={"type": "array", "items": obj(key=STRING), "x-kubernetes-list-type": "atomic"},
    schedulingGates={"type": "array", "items": STRING, "x-kubernetes-list-type": "set"},
)
STRATEGY = {**obj(type=STRING, rollingUpdate=obj(maxSurge=INT, maxUnavailable=INT)),
            "x-kubernetes-patch-strategy": "retainKeys"}
DEPLOYMENT = obj(
    apiVersion=STRING, kind=STRING, metadata=META,
    spec=obj(
        replicas=INT, strategy=STRATEGY,
        # Kubernetes wraps a referenced type in allOf when the field has a description.
        template={"allOf": [obj(metadata=META, spec=POD_SPEC)], "description": "pod template"},
    ),
    status=obj(conditions=merge_list("type", obj(type=STRING, status=STRING))),
)


def deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {"spec": {
                "containers": [
                    {"name": "main", "image": "nginx:1.25",
                     "ports": [{"containerPort": 80, "name": "http"}],
                     "env": [{"name": "MODE", "value": "prod"}]},
                    {"name": "sidecar", "image": "busybox", "args": ["sleep", "1d"]},
                ],
                "volumes": [{"name": "data", "hostPath": {"path": "/srv"}}],
            }},
        },
    }


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]


def containers(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in pod_spec(obj)["containers"]}


def smp(patch: dict[str, Any], obj: dict[str, Any] | None = None) -> dict[str, Any]:
    return apply_strategic_merge_patch(obj or deployment(), patch, DEPLOYMENT)


def template(spec: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"template": {"spec": spec}}}


# Lists merged by key ------------------------------------------------------------------------


def test_changing_one_containers_image_keeps_the_other_container_and_fields() -> None:
    patched = smp(template({"containers": [{"name": "main", "image": "nginx:1.26"}]}))
    assert [c["name"] for c in pod_spec(patched)["containers"]] == ["main", "sidecar"]
    main = containers(patched)["main"]
    assert main["image"] == "nginx:1.26"
    assert main["ports"] == [{"containerPort": 80, "name": "http"}]
    assert containers(patched)["sidecar"] == deployment()["spec"]["template"]["spec"]["containers"][1]


def test_adding_an_env_var_to_one_container_merges_env_by_name() -> None:
    patched = smp(template({"containers": [{"name": "main", "env": [{"name": "DEBUG", "value": "1"}]}]}))
    assert containers(patched)["main"]["env"] == [
        {"name": "DEBUG", "value": "1"}, {"name": "MODE", "value": "prod"},
    ]
    changed = smp(template({"containers": [{"name": "main", "env": [{"name": "MODE", "value": "dev"}]}]}))
    assert containers(changed)["main"]["env"] == [{"name": "MODE", "value": "dev"}]


def test_patch_delete_removes_a_container_by_name() -> None:
    patched = smp(template({"containers": [{"$patch": "delete", "name": "sidecar"}]}))
    assert [c["name"] for c in pod_spec(patched)["containers"]] == ["main"]


def test_ports_merge_by_container_port() -> None:
    patched = smp(template({"containers": [{"name": "main", "ports": [
        {"containerPort": 443, "name": "https"}, {"containerPort": 80, "protocol": "TCP"},
    ]}]}))
    assert containers(patched)["main"]["ports"] == [
        {"containerPort": 443, "name": "https"},
        {"containerPort": 80, "name": "http", "protocol": "TCP"},
    ]


def test_a_new_item_without_an_order_goes_before_server_only_items_as_in_kubernetes() -> None:
    patched = smp(template({"containers": [{"name": "new", "image": "x"}]}))
    assert [c["name"] for c in pod_spec(patched)["containers"]] == ["new", "main", "sidecar"]


def test_set_element_order_puts_the_merged_list_in_the_given_order() -> None:
    patched = smp(template({
        "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "new"}, {"name": "main"}],
        "containers": [{"name": "new", "image": "x"}],
    }))
    assert [c["name"] for c in pod_spec(patched)["containers"]] == ["sidecar", "new", "main"]
    assert "$setElementOrder/containers" not in pod_spec(patched)


def test_set_element_order_interleaves_server_only_items_like_kubernetes() -> None:
    live = deployment()
    pod_spec(live)["containers"].append({"name": "third", "image": "z"})
    patched = smp(template({
        "$setElementOrder/containers": [{"name": "third"}, {"name": "main"}],
        "containers": [{"name": "third", "image": "z2"}],
    }), live)
    # sidecar is server-only: it stays ahead of third, which it preceded in the live list.
    assert [c["name"] for c in pod_spec(patched)["containers"]] == ["sidecar", "third", "main"]
    assert containers(patched)["third"]["image"] == "z2"


def test_set_element_order_alone_reorders_without_changes() -> None:
    patched = smp(template({"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "main"}]}))
    assert [c["name"] for c in pod_spec(patched)["containers"]] == ["sidecar", "main"]


def test_the_exact_body_kubectl_sends_on_reapply_works() -> None:
    live = deployment()
    pod_spec(live)["containers"] = pod_spec(live)["containers"][:1]
    body = {
        "metadata": {
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"kind":"Deployment"}\n'},
            "labels": {"tier": "front"},
        },
        "spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "main"}],
            "containers": [{"image": "nginx:1.26", "name": "main"}],
        }}},
    }
    patched = smp(body, live)
    assert patched["metadata"]["labels"] == {"app": "web", "tier": "front"}
    assert len(pod_spec(patched)["containers"]) == 1
    assert containers(patched)["main"]["image"] == "nginx:1.26"
    assert containers(patched)["main"]["ports"] == [{"containerPort": 80, "name": "http"}]
    assert not any(k.startswith("$") for k in pod_spec(patched))


def test_the_kubectl_body_merges_containers_even_without_a_schema() -> None:
    body = {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "main"}, {"name": "sidecar"}],
        "containers": [{"image": "nginx:1.26", "name": "main"}],
    }}}}
    patched = apply_strategic_merge_patch(deployment(), body, None)
    assert containers(patched)["main"]["ports"] == [{"containerPort": 80, "name": "http"}]
    assert containers(patched)["main"]["image"] == "nginx:1.26"


def test_an_order_list_that_contradicts_the_patch_is_a_500_like_kubernetes() -> None:
    with pytest.raises(InternalError, match="doesn't match \\$setElementOrder list"):
        smp(template({
            "$setElementOrder/containers": [{"name": "main"}],
            "containers": [{"name": "sidecar", "image": "x"}],
        }))


def test_a_list_element_without_its_merge_key_is_a_500_with_kubernetes_words() -> None:
    with pytest.raises(InternalError) as caught:
        smp(template({"containers": [{"image": "x"}]}))
    assert caught.value.message == "map: map[image:x] does not contain declared merge key: name"


def test_patch_replace_in_a_list_replaces_the_list() -> None:
    patched = smp(template({"containers": [{"$patch": "replace"}, {"name": "only", "image": "x"}]}))
    assert pod_spec(patched)["containers"] == [{"name": "only", "image": "x"}]


# Primitive lists ----------------------------------------------------------------------------


def test_primitive_lists_with_merge_strategy_merge_as_a_set() -> None:
    live = deployment()
    live["metadata"]["finalizers"] = ["a", "b"]
    patched = smp({"metadata": {"finalizers": ["b", "c"]}}, live)
    assert patched["metadata"]["finalizers"] == ["a", "b", "c"]


def test_delete_from_primitive_list_removes_values() -> None:
    live = deployment()
    live["metadata"]["finalizers"] = ["a", "b", "c"]
    patched = smp({"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}}, live)
    assert patched["metadata"]["finalizers"] == ["a", "c"]
    with pytest.raises(BadRequest, match="invalid patch format of primitive list"):
        smp({"metadata": {"$deleteFromPrimitiveList/finalizers": "b"}}, live)


def test_list_type_set_merges_and_list_type_atomic_replaces() -> None:
    live = deployment()
    pod_spec(live)["schedulingGates"] = ["a"]
    pod_spec(live)["tolerations"] = [{"key": "a"}]
    patched = smp(template({"schedulingGates": ["b"], "tolerations": [{"key": "b"}]}), live)
    # A new value goes ahead of server-only values it has no live position to follow.
    assert pod_spec(patched)["schedulingGates"] == ["b", "a"]
    assert pod_spec(patched)["tolerations"] == [{"key": "b"}]


def test_lists_without_a_patch_strategy_are_replaced() -> None:
    patched = smp(template({"containers": [{"name": "sidecar", "args": ["echo"]}]}))
    assert containers(patched)["sidecar"]["args"] == ["echo"]


# retainKeys ---------------------------------------------------------------------------------


def test_retain_keys_switches_a_deployment_strategy_from_rolling_update_to_recreate() -> None:
    patched = smp({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}})
    assert patched["spec"]["strategy"] == {"type": "Recreate"}
    with_null = smp({"spec": {"strategy": {
        "$retainKeys": ["type"], "rollingUpdate": None, "type": "Recreate",
    }}})
    assert with_null["spec"]["strategy"] == {"type": "Recreate"}


def test_retain_keys_on_volumes_switches_the_volume_source() -> None:
    patched = smp(template({"volumes": [
        {"$retainKeys": ["emptyDir", "name"], "emptyDir": {}, "name": "data"},
    ]}))
    assert pod_spec(patched)["volumes"] == [{"name": "data", "emptyDir": {}}]


@pytest.mark.parametrize("strategy", [
    {"$retainKeys": "type", "type": "Recreate"},
    {"$retainKeys": ["type"], "rollingUpdate": {"maxSurge": 2}},
])
def test_malformed_retain_keys_are_400(strategy: dict[str, Any]) -> None:
    with pytest.raises(BadRequest) as caught:
        smp({"spec": {"strategy": strategy}})
    assert caught.value.message == "invalid patch format of retainKeys"


# Objects ----------------------------------------------------------------------------------


def test_null_deletes_a_field() -> None:
    patched = smp({"metadata": {"labels": {"app": None}}, "spec": {"replicas": None}})
    assert patched["metadata"]["labels"] == {}
    assert "replicas" not in patched["spec"]


def test_patch_replace_on_an_object_replaces_it() -> None:
    patched = smp({"metadata": {"labels": {"$patch": "replace", "only": "this"}}})
    assert patched["metadata"]["labels"] == {"only": "this"}


def test_patch_delete_on_an_object_removes_it() -> None:
    patched = smp({"spec": {"strategy": {"$patch": "delete"}}})
    assert "strategy" not in patched["spec"]


def test_patch_merge_is_the_default_and_accepted() -> None:
    patched = smp({"metadata": {"labels": {"$patch": "merge", "tier": "front"}}})
    assert patched["metadata"]["labels"] == {"app": "web", "tier": "front"}


def test_an_unknown_patch_directive_value_is_a_500() -> None:
    with pytest.raises(InternalError, match="unknown patch type: frob"):
        smp({"metadata": {"labels": {"$patch": "frob"}}})


def test_without_a_schema_objects_merge_and_lists_are_replaced() -> None:
    patched = apply_strategic_merge_patch(deployment(), template({"containers": [{"name": "x"}]}))
    assert pod_spec(patched)["containers"] == [{"name": "x"}]
    assert pod_spec(patched)["volumes"] == deployment()["spec"]["template"]["spec"]["volumes"]


def test_a_cyclic_schema_is_walked_only_along_the_data() -> None:
    node: dict[str, Any] = {"type": "object", "properties": {}}
    node["properties"]["child"] = node
    node["properties"]["items"] = merge_list("name", node)
    live = {"child": {"child": {"items": [{"name": "a", "v": 1}]}}}
    patched = apply_strategic_merge_patch(
        live, {"child": {"child": {"items": [{"name": "b"}]}}}, node
    )
    assert patched["child"]["child"]["items"] == [{"name": "b"}, {"name": "a", "v": 1}]


def test_dollar_fields_that_are_not_directives_are_ordinary_fields() -> None:
    crd_schema = {"properties": {"$ref": "#/definitions/a"}}
    patched = apply_strategic_merge_patch({"schema": crd_schema}, {"schema": {"properties": {"$ref": "#/b"}}})
    assert patched == {"schema": {"properties": {"$ref": "#/b"}}}


def test_a_patch_that_is_not_an_object_is_400() -> None:
    with pytest.raises(BadRequest, match="cannot unmarshal array"):
        apply_strategic_merge_patch(deployment(), [], DEPLOYMENT)


def test_inputs_are_never_mutated() -> None:
    live = deployment()
    patch = {"metadata": {"labels": {"$patch": "replace", "a": "b"}},
             "spec": {"template": {"spec": {
                 "$setElementOrder/containers": [{"name": "main"}, {"name": "sidecar"}],
                 "containers": [{"name": "main", "$patch": "delete"}]}}}}
    before = copy.deepcopy((live, patch))
    apply_strategic_merge_patch(live, patch, DEPLOYMENT)
    assert (live, patch) == before


def test_strategic_merge_on_a_custom_resource_is_kubernetes_415() -> None:
    err = strategic_merge_unsupported("tfjobs.kubeflow.org", "kubeflow.org/v1", "TFJob")
    assert isinstance(err, UnsupportedMediaType)
    assert err.code == 415
    assert err.message == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    )


# Properties ---------------------------------------------------------------------------------

names = st.sampled_from(["a", "b", "c", "d"])
container_patches = st.lists(
    st.fixed_dictionaries({"name": names}, optional={"image": st.sampled_from(["x", "y"])}),
    max_size=4, unique_by=lambda c: c["name"],
)
scalars = st.one_of(st.booleans(), st.integers(-3, 3), st.text(max_size=2))
keys = st.text(alphabet="abc", min_size=1, max_size=2)
list_free = st.recursive(scalars, lambda inner: st.dictionaries(keys, inner, max_size=3), max_leaves=8)
list_free_docs = st.dictionaries(keys, list_free, max_size=4)


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.just(deployment()), list_free_docs))
def test_an_empty_patch_is_the_identity(doc: dict[str, Any]) -> None:
    assert apply_strategic_merge_patch(doc, {}, DEPLOYMENT) == doc


@settings(max_examples=60, deadline=None)
@given(list_free_docs, list_free_docs)
def test_without_lists_and_schema_it_is_a_merge_patch(doc: dict[str, Any], patch: dict[str, Any]) -> None:
    assert apply_strategic_merge_patch(doc, patch) == apply_merge_patch(doc, patch)


@settings(max_examples=100, deadline=None)
@given(container_patches)
def test_merging_containers_is_idempotent_and_keeps_names_unique(patch: list[dict[str, Any]]) -> None:
    once = smp(template({"containers": patch}))
    twice = smp(template({"containers": patch}), once)
    assert once == twice
    merged = [c["name"] for c in pod_spec(once)["containers"]]
    assert len(merged) == len(set(merged))
    assert set(merged) == {"main", "sidecar"} | {c["name"] for c in patch}
    for change in patch:
        assert containers(once)[change["name"]].items() >= change.items()
