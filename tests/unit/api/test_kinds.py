"""The kinds registry resolves names the way kubectl does, and learns CRD kinds."""

from __future__ import annotations

import pytest

from sandbox.api.builtin_kinds import builtin_registry
from sandbox.api.kinds import UnknownKind, resource_types_from_crd, split_api_version


def test_split_api_version() -> None:
    assert split_api_version("apps/v1") == ("apps", "v1")
    assert split_api_version("v1") == ("", "v1")


@pytest.mark.parametrize(
    ("typed", "kind", "group"),
    [
        ("po", "Pod", ""),
        ("pods", "Pod", ""),
        ("Pod", "Pod", ""),
        ("deploy", "Deployment", "apps"),
        ("deployments.apps", "Deployment", "apps"),
        ("deployments.v1.apps", "Deployment", "apps"),
        ("sts", "StatefulSet", "apps"),
        ("cj", "CronJob", "batch"),
        ("crd", "CustomResourceDefinition", "apiextensions.k8s.io"),
        ("pg", "PodGroup", "scheduling.x-k8s.io"),
        ("ev", "Event", ""),  # the core group wins over events.k8s.io, as in kubectl
    ],
)
def test_resolve_like_kubectl(typed: str, kind: str, group: str) -> None:
    rt = builtin_registry().resolve(typed)
    assert (rt.kind, rt.group) == (kind, group)


def test_unknown_names_fail_with_kubectls_message() -> None:
    with pytest.raises(UnknownKind) as err:
        builtin_registry().resolve("foos")
    assert err.value.message == 'the server doesn\'t have a resource type "foos"'
    with pytest.raises(UnknownKind) as err2:
        builtin_registry().get("kubeflow.org/v1", "TFJob")
    assert err2.value.message == 'no matches for kind "TFJob" in version "kubeflow.org/v1"'


def test_resource_type_names() -> None:
    registry = builtin_registry()
    deploy = registry.get("apps/v1", "Deployment")
    assert deploy.resource == "deployments.apps"
    assert deploy.list_kind == "DeploymentList"
    assert deploy.has_status and "scale" in deploy.subresources
    assert registry.by_resource("", "v1", "pods").kind == "Pod"
    assert not registry.get("v1", "Namespace").namespaced
    assert {rt.kind for rt in registry.by_category("all")} >= {"Pod", "Deployment", "Job", "Service"}


def test_crd_versions_become_resource_types() -> None:
    crd = {
        "spec": {
            "group": "kubeflow.org",
            "scope": "Namespaced",
            "names": {"kind": "Notebook", "plural": "notebooks", "singular": "notebook"},
            "versions": [
                {"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                 "selectableFields": [{"jsonPath": ".spec.owner"}]},
                {"name": "v1beta1", "served": True, "storage": False},
                {"name": "v1alpha1", "served": False, "storage": False},
            ],
        }
    }
    types = resource_types_from_crd(crd)
    assert [t.version for t in types] == ["v1", "v1beta1"]
    assert types[0].has_status and not types[1].has_status
    assert types[0].selectable_fields == ("spec.owner",)
    assert not types[0].builtin
    registry = builtin_registry()
    for rt in types:
        registry.register(rt)
    assert registry.storage_type("kubeflow.org", "Notebook").version == "v1"
    assert [rt.version for rt in registry.versions("kubeflow.org", "Notebook")] == ["v1", "v1beta1"]
    assert len(registry.unregister("kubeflow.org", "Notebook")) == 2
    assert ("kubeflow.org/v1", "Notebook") not in registry
