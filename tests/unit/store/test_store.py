"""The store's API-server semantics: identity, versions, conflicts, status, deletion."""

from __future__ import annotations

import pytest

from sandbox.api.errors import AlreadyExists, BadRequest, Conflict, Forbidden, Invalid, NotFound
from sandbox.clock import FakeClock
from sandbox.store import Store


def configmap(name: str = "cfg", namespace: str = "default", **data: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace}, "data": dict(data)}


def deployment(name: str = "web", replicas: int = 1) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [
                    {"name": "main", "image": "nginx:1.25", "env": [{"name": "A", "value": "1"}]},
                    {"name": "sidecar", "image": "busybox:1.36"},
                ]},
            },
        },
    }


def test_create_assigns_identity_and_versions(store: Store) -> None:
    created = store.create("v1", "ConfigMap", configmap(a="1"))
    meta = created["metadata"]
    assert len(meta["uid"]) == 36
    assert meta["creationTimestamp"] == "2026-01-01T00:00:00Z"
    assert meta["generation"] == 1
    assert int(meta["resourceVersion"]) == store.resource_version
    again = store.get("v1", "ConfigMap", "cfg", namespace="default")
    assert again == created


def test_resource_versions_are_one_global_increasing_counter(store: Store) -> None:
    a = store.create("v1", "ConfigMap", configmap("a"))
    b = store.create("apps/v1", "Deployment", deployment())
    c = store.patch("v1", "ConfigMap", "a", {"data": {"x": "y"}}, namespace="default")
    rvs = [int(o["metadata"]["resourceVersion"]) for o in (a, b, c)]
    assert rvs == sorted(rvs) and len(set(rvs)) == 3


def test_generate_name_adds_a_five_character_suffix(store: Store) -> None:
    obj = configmap("")
    obj["metadata"] = {"generateName": "run-", "namespace": "default"}
    created = store.create("v1", "ConfigMap", obj)
    name = created["metadata"]["name"]
    assert name.startswith("run-") and len(name) == len("run-") + 5


def test_create_of_an_existing_name_is_already_exists(store: Store) -> None:
    store.create("v1", "ConfigMap", configmap())
    with pytest.raises(AlreadyExists) as err:
        store.create("v1", "ConfigMap", configmap())
    assert err.value.status["message"] == 'configmaps "cfg" already exists'
    assert err.value.status["code"] == 409


def test_get_missing_is_not_found_with_kubernetes_status(store: Store) -> None:
    with pytest.raises(NotFound) as err:
        store.get("apps/v1", "Deployment", "nope", namespace="default")
    assert err.value.status == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'deployments.apps "nope" not found', "reason": "NotFound", "code": 404,
        "details": {"name": "nope", "kind": "deployments", "group": "apps"},
    }


def test_stale_resource_version_is_a_conflict(store: Store) -> None:
    first = store.create("v1", "ConfigMap", configmap(a="1"))
    first["data"]["a"] = "2"
    store.replace("v1", "ConfigMap", first)
    first["data"]["a"] = "3"
    with pytest.raises(Conflict) as err:
        store.replace("v1", "ConfigMap", first)
    assert "the object has been modified" in err.value.message


def test_update_without_resource_version_is_unconditional(store: Store) -> None:
    store.create("v1", "ConfigMap", configmap(a="1"))
    updated = store.replace("v1", "ConfigMap", configmap(a="2"))
    assert updated["data"] == {"a": "2"}


def test_generation_moves_on_spec_changes_only(store: Store) -> None:
    created = store.create("apps/v1", "Deployment", deployment())
    assert created["metadata"]["generation"] == 1
    labelled = store.patch("apps/v1", "Deployment", "web", {"metadata": {"labels": {"x": "y"}}},
                           namespace="default")
    assert labelled["metadata"]["generation"] == 1
    status = store.patch("apps/v1", "Deployment", "web", {"status": {"replicas": 1}},
                         namespace="default", subresource="status")
    assert status["metadata"]["generation"] == 1
    scaled = store.patch("apps/v1", "Deployment", "web", {"spec": {"replicas": 3}}, namespace="default")
    assert scaled["metadata"]["generation"] == 2


def test_main_update_ignores_status_and_status_update_ignores_the_rest(store: Store) -> None:
    store.create("apps/v1", "Deployment", deployment())
    with_status = store.patch("apps/v1", "Deployment", "web",
                              {"spec": {"replicas": 5}, "status": {"replicas": 7}},
                              namespace="default")
    assert with_status["spec"]["replicas"] == 5
    assert "replicas" not in (with_status.get("status") or {})
    status_write = store.patch("apps/v1", "Deployment", "web",
                               {"spec": {"replicas": 9}, "status": {"replicas": 7}},
                               namespace="default", subresource="status")
    assert status_write["spec"]["replicas"] == 5
    assert status_write["status"]["replicas"] == 7


def test_no_op_write_keeps_the_resource_version(store: Store) -> None:
    created = store.create("v1", "ConfigMap", configmap(a="1"))
    again = store.patch("v1", "ConfigMap", "cfg", {"data": {"a": "1"}}, namespace="default")
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_invalid_objects_are_rejected_with_field_paths_and_nothing_is_stored(store: Store) -> None:
    bad = deployment()
    bad["spec"]["replicas"] = -1
    with pytest.raises(Invalid) as err:
        store.create("apps/v1", "Deployment", bad)
    assert err.value.message == (
        'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: '
        "must be greater than or equal to 0"
    )
    assert err.value.status["details"]["causes"][0]["field"] == "spec.replicas"
    with pytest.raises(NotFound):
        store.get("apps/v1", "Deployment", "web", namespace="default")


def test_defaults_are_applied_on_create(store: Store) -> None:
    created = store.create("apps/v1", "Deployment", deployment())
    assert created["spec"]["strategy"]["type"] == "RollingUpdate"
    container = created["spec"]["template"]["spec"]["containers"][0]
    assert container["imagePullPolicy"] == "IfNotPresent"


def test_creating_in_a_missing_namespace_fails_like_kubernetes(store: Store) -> None:
    with pytest.raises(NotFound) as err:
        store.create("v1", "ConfigMap", configmap(namespace="nope"))
    assert err.value.message == 'namespaces "nope" not found'


def test_creating_in_a_terminating_namespace_is_forbidden(store: Store) -> None:
    store.create("v1", "Namespace", {"metadata": {"name": "team"}})
    deleted = store.delete("v1", "Namespace", "team")
    assert deleted["status"]["phase"] == "Terminating"
    with pytest.raises(Forbidden) as err:
        store.create("v1", "ConfigMap", configmap(namespace="team"))
    assert "because it is being terminated" in err.value.message


def test_namespace_is_removed_once_finalized(store: Store) -> None:
    store.create("v1", "Namespace", {"metadata": {"name": "team"}})
    ns = store.delete("v1", "Namespace", "team")
    assert ns["spec"]["finalizers"] == ["kubernetes"]
    ns["spec"]["finalizers"] = []
    store.replace("v1", "Namespace", ns, subresource="finalize")
    with pytest.raises(NotFound):
        store.get("v1", "Namespace", "team")


def test_finalizers_hold_an_object_until_removed(store: Store) -> None:
    obj = configmap()
    obj["metadata"]["finalizers"] = ["example.com/hold"]
    store.create("v1", "ConfigMap", obj)
    held = store.delete("v1", "ConfigMap", "cfg", namespace="default")
    assert held["metadata"]["deletionTimestamp"]
    assert store.get("v1", "ConfigMap", "cfg", namespace="default")["metadata"]["deletionTimestamp"]
    with pytest.raises(Invalid):
        store.patch("v1", "ConfigMap", "cfg",
                    {"metadata": {"finalizers": ["example.com/hold", "new"]}}, namespace="default")
    store.patch("v1", "ConfigMap", "cfg", {"metadata": {"finalizers": None}}, namespace="default")
    with pytest.raises(NotFound):
        store.get("v1", "ConfigMap", "cfg", namespace="default")


def test_propagation_policy_is_recorded_as_a_finalizer(store: Store) -> None:
    store.create("apps/v1", "Deployment", deployment("a"))
    store.create("apps/v1", "Deployment", deployment("b"))
    a = store.delete("apps/v1", "Deployment", "a", namespace="default", propagation_policy="Foreground")
    b = store.delete("apps/v1", "Deployment", "b", namespace="default", propagation_policy="Orphan")
    assert a["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert b["metadata"]["finalizers"] == ["orphan"]
    with pytest.raises(BadRequest):
        store.delete("v1", "Namespace", "default", propagation_policy="Sometimes")


def test_delete_preconditions(store: Store) -> None:
    created = store.create("v1", "ConfigMap", configmap())
    with pytest.raises(Conflict) as err:
        store.delete("v1", "ConfigMap", "cfg", namespace="default", preconditions={"uid": "other"})
    assert "Precondition failed: UID in precondition: other" in err.value.message
    with pytest.raises(Conflict):
        store.delete("v1", "ConfigMap", "cfg", namespace="default",
                     preconditions={"resourceVersion": "1"})
    gone = store.delete("v1", "ConfigMap", "cfg", namespace="default",
                        preconditions={"uid": created["metadata"]["uid"]})
    assert gone["metadata"]["name"] == "cfg"


def test_bound_pods_terminate_gracefully_unbound_pods_at_once(store: Store) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
           "spec": {"containers": [{"name": "c", "image": "python:3.11"}]}}
    store.create("v1", "Pod", pod)
    store.delete("v1", "Pod", "p", namespace="default")
    with pytest.raises(NotFound):
        store.get("v1", "Pod", "p", namespace="default")
    bound = dict(pod, spec=dict(pod["spec"], nodeName="worker-1"))
    store.create("v1", "Pod", bound)
    terminating = store.delete("v1", "Pod", "p", namespace="default")
    assert terminating["metadata"]["deletionGracePeriodSeconds"] == 30
    assert terminating["metadata"]["deletionTimestamp"] == "2026-01-01T00:00:30Z"
    store.delete("v1", "Pod", "p", namespace="default", grace_period_seconds=0)
    with pytest.raises(NotFound):
        store.get("v1", "Pod", "p", namespace="default")


def test_dry_run_stores_nothing(store: Store) -> None:
    rv = store.resource_version
    result = store.create("v1", "ConfigMap", configmap(), dry_run=True)
    assert result["metadata"]["uid"]
    assert store.resource_version == rv
    with pytest.raises(NotFound):
        store.get("v1", "ConfigMap", "cfg", namespace="default")


def test_strategic_merge_patch_merges_deployment_containers_by_name(store: Store) -> None:
    store.create("apps/v1", "Deployment", deployment())
    patched = store.patch(
        "apps/v1", "Deployment", "web",
        {"spec": {"template": {"spec": {"containers": [
            {"name": "main", "env": [{"name": "B", "value": "2"}]},
            {"name": "sidecar", "image": "busybox:1.37"},
        ]}}}},
        namespace="default", patch_type="strategic",
    )
    containers = patched["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["main", "sidecar"]
    assert containers[0]["image"] == "nginx:1.25"
    # Kubernetes' order rule: a new item goes before server-only items that
    # follow no patch item.
    assert containers[0]["env"] == [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}]
    assert containers[1]["image"] == "busybox:1.37"


def test_kubectl_reapply_body_with_set_element_order(store: Store) -> None:
    store.create("apps/v1", "Deployment", deployment())
    body = {"metadata": {"labels": {"tier": "front"}},
            "spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "main"}, {"name": "sidecar"}],
                "containers": [{"image": "nginx:1.26", "name": "main"}]}}}}
    patched = store.patch("apps/v1", "Deployment", "web", body, namespace="default",
                          patch_type="strategic")
    assert patched["metadata"]["labels"] == {"tier": "front"}
    assert patched["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26"


def test_json_and_merge_patches(store: Store) -> None:
    store.create("v1", "ConfigMap", configmap(a="1", b="2"))
    merged = store.patch("v1", "ConfigMap", "cfg", {"data": {"a": None, "c": "3"}}, namespace="default")
    assert merged["data"] == {"b": "2", "c": "3"}
    jsonp = store.patch("v1", "ConfigMap", "cfg", [{"op": "replace", "path": "/data/b", "value": "9"}],
                        namespace="default", patch_type="json")
    assert jsonp["data"]["b"] == "9"


def test_server_side_apply_creates_then_merges(store: Store) -> None:
    created = store.patch("v1", "ConfigMap", "applied", configmap("applied", a="1"),
                          namespace="default", patch_type="apply", field_manager="kubectl")
    assert created["data"] == {"a": "1"}
    assert created["metadata"]["managedFields"][0]["manager"] == "kubectl"
    updated = store.patch("v1", "ConfigMap", "applied", configmap("applied", b="2"),
                          namespace="default", patch_type="apply", field_manager="kubectl")
    assert updated["data"] == {"b": "2"}
    with pytest.raises(BadRequest):
        store.patch("v1", "ConfigMap", "applied", configmap("applied"), namespace="default",
                    patch_type="apply")


def test_list_with_limit_and_continue_pages_through_everything(store: Store) -> None:
    for i in range(25):
        store.create("v1", "ConfigMap", configmap(f"cm-{i:02d}"))
    names: list[str] = []
    token = None
    pages = 0
    while True:
        page = store.list("v1", "ConfigMap", namespace="default", limit=10, continue_=token)
        names += [o["metadata"]["name"] for o in page["items"]]
        pages += 1
        token = page["metadata"].get("continue")
        if not token:
            break
    assert pages == 3
    assert names == [f"cm-{i:02d}" for i in range(25)]


def test_list_has_kind_and_resource_version_and_filters(store: Store) -> None:
    a = configmap("a")
    a["metadata"]["labels"] = {"tier": "front"}
    store.create("v1", "ConfigMap", a)
    store.create("v1", "ConfigMap", configmap("b"))
    listed = store.list("v1", "ConfigMap", label_selector="tier=front")
    assert listed["kind"] == "ConfigMapList"
    assert listed["metadata"]["resourceVersion"] == str(store.resource_version)
    assert [o["metadata"]["name"] for o in listed["items"]] == ["a"]
    by_name = store.list("v1", "ConfigMap", field_selector="metadata.name=b")
    assert [o["metadata"]["name"] for o in by_name["items"]] == ["b"]
    with pytest.raises(BadRequest):
        store.list("v1", "ConfigMap", field_selector="spec.nodeName=x")


def test_cluster_scoped_objects_drop_the_namespace(store: Store) -> None:
    created = store.create("v1", "Namespace", {"metadata": {"name": "team", "namespace": "x"}})
    assert "namespace" not in created["metadata"]
    assert created["status"]["phase"] == "Active"


def test_bootstrap_namespaces_exist(clock: FakeClock) -> None:
    store = Store(clock=clock)
    names = {n["metadata"]["name"] for n in store.list("v1", "Namespace")["items"]}
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names


def unbound_pod() -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "python:3.11"}]}}


def test_a_binding_assigns_a_pod_to_a_node_once(store: Store) -> None:
    store.create("v1", "Pod", unbound_pod())
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"},
               "target": {"apiVersion": "v1", "kind": "Node", "name": "worker-1"}}
    assert store.create("v1", "Binding", binding, namespace="default")["status"] == "Success"
    pod = store.get("v1", "Pod", "p", namespace="default")
    assert pod["spec"]["nodeName"] == "worker-1"
    assert pod["status"]["conditions"][0]["type"] == "PodScheduled"
    assert pod["status"]["conditions"][0]["status"] == "True"
    with pytest.raises(Conflict) as err:
        store.create("v1", "Binding", binding, namespace="default")
    assert 'pod p is already assigned to node "worker-1"' in err.value.message


def test_a_pod_spec_is_immutable_except_images(store: Store) -> None:
    store.create("v1", "Pod", unbound_pod())
    image = store.patch("v1", "Pod", "p", {"spec": {"containers": [{"name": "c", "image": "python:3.12"}]}},
                        namespace="default", patch_type="strategic")
    assert image["spec"]["containers"][0]["image"] == "python:3.12"
    with pytest.raises(Invalid) as err:
        store.patch("v1", "Pod", "p", {"spec": {"nodeName": "worker-1"}}, namespace="default")
    assert "pod updates may not change fields other than" in err.value.message
    with pytest.raises(Invalid):
        store.patch("v1", "Pod", "p", {"spec": {"containers": [{"name": "c", "command": ["x"]}]}},
                    namespace="default", patch_type="strategic")


def test_a_deployment_selector_is_immutable(store: Store) -> None:
    store.create("apps/v1", "Deployment", deployment())
    with pytest.raises(Invalid) as err:
        store.patch("apps/v1", "Deployment", "web",
                    {"spec": {"selector": {"matchLabels": {"app": "other"}},
                              "template": {"metadata": {"labels": {"app": "other"}}}}},
                    namespace="default")
    assert "spec.selector: Invalid value:" in err.value.message
    assert "field is immutable" in err.value.message


def test_an_immutable_configmap_refuses_data_changes(store: Store) -> None:
    obj = configmap(a="1")
    obj["immutable"] = True
    store.create("v1", "ConfigMap", obj)
    with pytest.raises(Invalid) as err:
        store.patch("v1", "ConfigMap", "cfg", {"data": {"a": "2"}}, namespace="default")
    assert "data: Forbidden: field is immutable when `immutable` is set" in err.value.message
